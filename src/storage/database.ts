// The engine behind a ReplicaStore: the one file that names classic-level. Everything else speaks
// the abstract-level interface, so a RocksDB binding can be dropped in here where it measures faster.
import type { AbstractBatchOptions, AbstractLevel, AbstractSublevel } from 'abstract-level';
import { ClassicLevel } from 'classic-level';
import { StorageError, engineErrorCode } from './errors.js';

/** The root database: utf8 keys and binary values by default; sublevels choose their own encodings. */
export type Database = AbstractLevel<string | Buffer | Uint8Array, string, Uint8Array>;

/** A sublevel of the root database with keys K and values V. */
export type Sublevel<K, V> = AbstractSublevel<Database, string | Buffer | Uint8Array, K, V>;

/** Opens (creating if missing) the database at `location`. */
export async function openDatabase(location: string): Promise<Database> {
  const db: Database = new ClassicLevel<string, Uint8Array>(location, {
    keyEncoding: 'utf8',
    valueEncoding: 'view',
  });
  try {
    await db.open();
  } catch (err) {
    // abstract-level wraps the engine's failure; the reason sits in `cause`.
    const reason = err instanceof Error && err.cause !== undefined ? err.cause : err;
    const code = engineErrorCode(reason);
    const message = reason instanceof Error ? reason.message : String(reason);
    if (code === 'LEVEL_LOCKED') {
      throw new StorageError('LOCKED', `database ${location} is in use by another process: ${message}`, { cause: err });
    }
    if (code === 'LEVEL_CORRUPTION') {
      throw new StorageError('CORRUPT', `database ${location} is corrupt: ${message}`, { cause: err });
    }
    throw new StorageError('IO', `cannot open database ${location}: ${message}`, { cause: err });
  }
  if (!db.supports.explicitSnapshots) {
    await db.close();
    throw new StorageError('IO', `database ${location}: the engine lacks explicit snapshots, which snapshots need`);
  }
  return db;
}

/**
 * Batch options with the engine's `sync` flag (fsync before the write resolves), which classic-level
 * and the RocksDB bindings accept but abstract-level's types do not name. Always write through a batch:
 * some bindings ignore `sync` on a single put.
 */
export function batchOptions<K, V>(
  sync: boolean,
  encodings: Omit<AbstractBatchOptions<K, V>, 'sync'> = {},
): AbstractBatchOptions<K, V> {
  const options: AbstractBatchOptions<K, V> & { sync: boolean } = { ...encodings, sync };
  return options;
}
