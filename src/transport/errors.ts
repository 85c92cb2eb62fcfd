// Errors the peer transport raises, each with a stable `code`, and the one mapping from a gRPC
// status (as seen by the calling side) to those codes.

import { Metadata, status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';

export type TransportErrorCode =
  /** The peer could not be reached (connection refused, reset, keepalive timeout): retry later. */
  | 'UNAVAILABLE'
  /** The call's deadline passed before an answer arrived (the command may still be applied). */
  | 'DEADLINE_EXCEEDED'
  /** The peer refused us: wrong cluster secret, wrong cluster id, or a sender id we may not use. */
  | 'REFUSED'
  /** The peer found our request malformed (a bug on one side, or mismatched versions). */
  | 'INVALID_ARGUMENT'
  /** The peer id is not in the current membership given to setPeers(). */
  | 'UNKNOWN_PEER'
  /** The transport (or the server) has been closed. */
  | 'CLOSED'
  /** A snapshot's trailer disagrees with what arrived: pairs, bytes or checksum. */
  | 'CORRUPT_SNAPSHOT'
  /** A snapshot stream ended before its trailer, or carried chunks out of order. */
  | 'SNAPSHOT_INCOMPLETE'
  /** The remote handler failed with its own error; `remoteCode` carries that error's code. */
  | 'REMOTE'
  /** Anything else (a gRPC status with no better meaning here); `status` says which. */
  | 'INTERNAL';

export class TransportError extends Error {
  readonly code: TransportErrorCode;
  /** The gRPC status of the failed call, when the error came from one. */
  readonly status: status | undefined;
  /** The `code` of the error a remote handler threw (e.g. 'PROPOSAL_DROPPED'), when it threw one. */
  readonly remoteCode: string | undefined;

  constructor(code: TransportErrorCode, message: string, options: { status?: status; remoteCode?: string } = {}) {
    super(message);
    this.name = 'TransportError';
    this.code = code;
    this.status = options.status;
    this.remoteCode = options.remoteCode;
  }
}

/**
 * Trailing-metadata key under which the server puts the `code` of an error its handler threw, so the
 * caller can tell a handler's UNAVAILABLE (no leader) from the transport's (no connection).
 */
export const REMOTE_CODE_KEY = 'x-raftchat-error-code';

/** Maps a failed call's status to a TransportError. The one place this mapping lives. */
export function fromServiceError(err: ServiceError): TransportError {
  const remote = err.metadata instanceof Metadata ? err.metadata.get(REMOTE_CODE_KEY)[0] : undefined;
  return fromStatus(err.code, err.details || err.message, typeof remote === 'string' ? remote : undefined);
}

/**
 * The same mapping for a status that arrived as data (a ForwardOutcome) rather than as the end of a
 * call, so a command forwarded on the stream fails exactly as it would have over unary Forward.
 */
export function fromStatus(code: status, details: string, remoteCode: string | undefined): TransportError {
  if (remoteCode !== undefined && remoteCode !== '') {
    const mapped: TransportErrorCode =
      remoteCode === 'UNAVAILABLE' ? 'UNAVAILABLE' : remoteCode === 'DEADLINE_EXCEEDED' ? 'DEADLINE_EXCEEDED' : 'REMOTE';
    return new TransportError(mapped, details, { status: code, remoteCode });
  }
  return new TransportError(codeForStatus(code), details, { status: code });
}

function codeForStatus(code: status): TransportErrorCode {
  switch (code) {
    case status.UNAVAILABLE:
      return 'UNAVAILABLE';
    case status.DEADLINE_EXCEEDED:
      return 'DEADLINE_EXCEEDED';
    case status.UNAUTHENTICATED:
    case status.PERMISSION_DENIED:
    case status.FAILED_PRECONDITION:
      return 'REFUSED';
    case status.INVALID_ARGUMENT:
      return 'INVALID_ARGUMENT';
    case status.DATA_LOSS:
      return 'CORRUPT_SNAPSHOT';
    case status.CANCELLED:
      return 'CLOSED';
    default:
      return 'INTERNAL';
  }
}
