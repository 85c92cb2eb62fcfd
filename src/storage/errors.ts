// Errors the storage layer raises, each with a stable `code` that callers switch on. 'CORRUPT' and
// 'IO' are fatal: the replica must stop rather than serve or acknowledge from a disk it cannot trust.

export type StorageErrorCode =
  /** Stored bytes fail their checksum, or the log has a gap or an entry out of order. */
  | 'CORRUPT'
  /** A read or write failed in the engine or the OS (ENOSPC, EROFS, EIO...). */
  | 'IO'
  /** Another process holds the database lock (a second replica on the same volume). */
  | 'LOCKED'
  /** A received snapshot's checksum differs from the one its sender computed. */
  | 'CHECKSUM_MISMATCH'
  /** bootstrap() on a store that already has a cluster identity. */
  | 'ALREADY_BOOTSTRAPPED'
  /** beginInstall() while another installation is in progress. */
  | 'INSTALL_IN_PROGRESS'
  /** The store was closed, or failed earlier with an 'IO' error and refuses further writes. */
  | 'CLOSED';

export class StorageError extends Error {
  readonly code: StorageErrorCode;
  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageError';
    this.code = code;
  }
}

/** The engine's error code (abstract-level sets `code` such as LEVEL_IO_ERROR), if any. */
export function engineErrorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/** Wraps an engine failure during `action` on the database at `location` as an 'IO' StorageError. */
export function ioError(location: string, action: string, err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new StorageError('IO', `${action} failed on ${location}: ${reason}`, { cause: err });
}
