// Failures of the state machine itself (not of a command): the replica must stop rather than go on
// applying, because every replica would go on from the same wrong state.

export type StateMachineErrorCode =
  /** The keyspace contradicts itself (an unread counter that does not match its inbox). */
  | 'CORRUPT_STATE'
  /** The caller broke applyBatch's contract (indexes not strictly increasing). */
  | 'INVALID_BATCH';

export class StateMachineError extends Error {
  readonly code: StateMachineErrorCode;
  constructor(code: StateMachineErrorCode, message: string) {
    super(message);
    this.name = 'StateMachineError';
    this.code = code;
  }
}
