// What each command's apply function works with: the batch's pending writes (read-your-writes over
// the keyspace), the events it has produced so far, and the log index of the command being applied.
import type { StoredMessage } from '../gen/raftchat/command/v1/command.js';
import type { PendingWrites } from './pending-writes.js';

/** What a batch did that live listeners care about; emitted by the caller once the batch is durable. */
export interface ApplyEvents {
  /** Messages stored, in log order (duplicates of an earlier send are not stored, so not here). */
  messages: StoredMessage[];
  /** Accounts deleted, in log order. */
  deletedAccounts: string[];
  /** Users whose sessions were revoked (one or all), in log order. */
  revokedUsers: string[];
}

export interface ApplyContext {
  readonly writes: PendingWrites;
  readonly events: ApplyEvents;
  /** The log index of the command: a stored message's id. */
  readonly index: number;
}
