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
import { ACCOUNT_PREFIX, COUNTER_PREFIX, DEDUP_EPOCH_PREFIX } from './keys.js';
import { PendingWrites, type KeyspaceOp } from './pending-writes.js';
import { DEFAULT_MAX_CACHED_KEYS, ReadCache } from './read-cache.js';
import { keysRead } from './read-set.js';
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
 * No clock and no randomness, so every replica that applies the same entries over the same state
 * computes the same ops and results. The only state it keeps is a cache of hot records (accounts,
 * unread counters, dedup epochs) that mirrors the keyspace exactly: it makes apply cheaper, never different.
 */
export class ChatStateMachine {
  private readonly cache: ReadCache;
  /** The keyspace the cache mirrors; another one (a snapshot was installed) empties the cache. */
  private cachedKeyspace: Keyspace | undefined;

  constructor({ maxCachedKeys = DEFAULT_MAX_CACHED_KEYS }: ChatStateMachineOptions = {}) {
    this.cache = new ReadCache(isHotKey, maxCachedKeys);
  }

  /**
   * Applies `entries` (strictly increasing indexes) in order over `keyspace`; later entries see the
   * writes of earlier ones. A command that cannot be decoded or is of an unknown kind gets an
   * INVALID_ARGUMENT result and writes nothing. Rejects only when the keyspace cannot be read or is
   * corrupt: then the replica must stop.
   *
   * Contract: the caller commits the returned `ops` to `keyspace` before it calls applyBatch again,
   * or calls reset() — the cache already holds what the ops write. The keyspace must change only
   * through these ops; one replaced by a snapshot installation is a new Keyspace object (the store's
   * next generation), which the machine notices, but resetting after an installation costs nothing.
   */
  async applyBatch(keyspace: Keyspace, entries: readonly CommandEntry[]): Promise<AppliedBatch> {
    if (keyspace !== this.cachedKeyspace) this.reset();
    this.cachedKeyspace = keyspace;
    const writes = new PendingWrites(keyspace, this.cache);
    const events: ApplyEvents = { messages: [], deletedAccounts: [], revokedUsers: [] };
    const results = new Map<number, CommandResult>();
    const decoded = entries.map((entry) => decodeEntry(entry));
    await writes.prefetch(decoded.flatMap((command) => (command instanceof CodecError ? [] : keysRead(command))));
    let previousIndex = 0;
    for (const [i, entry] of entries.entries()) {
      if (!Number.isSafeInteger(entry.index) || entry.index <= previousIndex) {
        throw new StateMachineError('INVALID_BATCH', `entry index ${entry.index} does not follow ${previousIndex}`);
      }
      previousIndex = entry.index;
      results.set(entry.index, await applyEntry({ writes, events, index: entry.index }, decoded[i]!));
    }
    writes.writeThrough();
    return { ops: writes.ops(), results, events };
  }

  /** Forgets every cached record: call when the keyspace changed other than by committed ops. */
  reset(): void {
    this.cache.clear();
    this.cachedKeyspace = undefined;
  }
}

export interface ChatStateMachineOptions {
  /** Records (accounts, unread counters) kept in memory between batches. Default 16384. */
  maxCachedKeys?: number;
}

/** Read by nearly every command and few in number: worth keeping between batches. */
function isHotKey(key: string): boolean {
  return key.startsWith(ACCOUNT_PREFIX) || key.startsWith(COUNTER_PREFIX) || key.startsWith(DEDUP_EPOCH_PREFIX);
}

function decodeEntry(entry: CommandEntry): Command | CodecError {
  try {
    return decodeCommand(entry.data);
  } catch (err) {
    if (err instanceof CodecError) return err;
    throw err;
  }
}

async function applyEntry(ctx: ApplyContext, command: Command | CodecError): Promise<CommandResult> {
  if (command instanceof CodecError) return errorResult('INVALID_ARGUMENT', `entry ${ctx.index}: ${command.message}`);
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
