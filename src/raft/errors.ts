// Errors the core raises, each with a stable `code` that callers switch on.

export type RaftErrorCode =
  /** The requested index is below the first index: it was compacted into a snapshot. */
  | 'COMPACTED'
  /** The requested index is beyond the last index. */
  | 'UNAVAILABLE'
  /** The storage cannot produce a snapshot right now; the leader retries later. */
  | 'SNAPSHOT_TEMPORARILY_UNAVAILABLE'
  /** This node is not the leader (or is transferring leadership): propose elsewhere. */
  | 'PROPOSAL_DROPPED'
  /** A configuration change is already in flight, or the leader has not committed in its term. */
  | 'CONF_CHANGE_PENDING'
  /** The conf change is invalid for the current configuration (e.g. removing the last voter). */
  | 'CONF_CHANGE_INVALID'
  /** Too many uncommitted bytes pending: back off. */
  | 'PROPOSAL_BACKPRESSURE'
  /** Leadership transfer refused (target unknown, a learner, or one already in progress). */
  | 'TRANSFER_REFUSED';

export class RaftError extends Error {
  readonly code: RaftErrorCode;
  constructor(code: RaftErrorCode, message: string) {
    super(message);
    this.name = 'RaftError';
    this.code = code;
  }
}

/** A broken invariant: the node must stop rather than continue wrong (TigerBeetle-style). */
export class InvariantError extends Error {
  readonly code = 'INVARIANT';
  constructor(message: string) {
    super(message);
    this.name = 'InvariantError';
  }
}

/** Crash loudly when `condition` is false. Cheap enough to leave on in production. */
export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new InvariantError(typeof message === 'string' ? message : message());
}
