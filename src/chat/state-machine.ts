// The chat state machine: applies committed commands to the keyspace, deterministically. It computes
// the writes and results of a batch of log entries; the caller commits the writes atomically with
// the applied index, so a restart neither loses nor re-applies a command. Entries are applied in log
// order, each once (Raft paper §5.3), so every replica walks through the same sequence of states.
import type { Command, CommandResult } from '../gen/raftchat/command/v1/command.js';
import type { Keyspace } from '../storage/keyspace.js';
import { applyDeleteAccount, applyRegister, applyRevokeSessions } from './apply-account.js';
import type { ApplyContext, ApplyEvents } from './apply-context.js';
import { applyDeleteMessages, applyMarkRead, applySend } from './apply-message.js';
import { CodecError, decodeCommand } from './codec.js';
import { StateMachineError } from './errors.js';
import { PendingWrites, type KeyspaceOp } from './pending-writes.js';
import { errorResult } from './results.js';

/** One committed log entry carrying a chat command. */
export interface CommandEntry {
  index: number;
  data: Uint8Array;
}

export interface AppliedBatch {
  /** The writes to commit, one per key, in key order; nothing has been written yet. */
  ops: KeyspaceOp[];
  /** Each entry's result, by log index. */
  results: Map<number, CommandResult>;
  events: ApplyEvents;
}

/**
 * Stateless: everything it knows is in the keyspace and the entries. No clock and no randomness, so
 * every replica that applies the same entries over the same state computes the same ops and results.
 */
export class ChatStateMachine {
  /**
   * Applies `entries` (strictly increasing indexes) in order over `keyspace`; later entries see the
   * writes of earlier ones. A command that cannot be decoded or is of an unknown kind gets an
   * INVALID_ARGUMENT result and writes nothing. Rejects only when the keyspace cannot be read or is
   * corrupt: then the replica must stop.
   */
  async applyBatch(keyspace: Keyspace, entries: readonly CommandEntry[]): Promise<AppliedBatch> {
    const writes = new PendingWrites(keyspace);
    const events: ApplyEvents = { messages: [], deletedAccounts: [], revokedUsers: [] };
    const results = new Map<number, CommandResult>();
    let previousIndex = 0;
    for (const entry of entries) {
      if (!Number.isSafeInteger(entry.index) || entry.index <= previousIndex) {
        throw new StateMachineError('INVALID_BATCH', `entry index ${entry.index} does not follow ${previousIndex}`);
      }
      previousIndex = entry.index;
      results.set(entry.index, await applyEntry({ writes, events, index: entry.index }, entry.data));
    }
    return { ops: writes.ops(), results, events };
  }
}

async function applyEntry(ctx: ApplyContext, data: Uint8Array): Promise<CommandResult> {
  let command: Command;
  try {
    command = decodeCommand(data);
  } catch (err) {
    if (err instanceof CodecError) return errorResult('INVALID_ARGUMENT', `entry ${ctx.index}: ${err.message}`);
    throw err;
  }
  const kind = command.kind;
  switch (kind?.$case) {
    case 'register':
      return applyRegister(ctx, kind.value);
    case 'deleteAccount':
      return applyDeleteAccount(ctx, kind.value);
    case 'send':
      return applySend(ctx, kind.value);
    case 'markRead':
      return applyMarkRead(ctx, kind.value);
    case 'deleteMessages':
      return applyDeleteMessages(ctx, kind.value);
    case 'revokeSessions':
      return applyRevokeSessions(ctx, kind.value);
    case undefined:
      return errorResult('INVALID_ARGUMENT', `entry ${ctx.index}: not a command this version knows`);
  }
}
