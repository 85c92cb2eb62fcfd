// Test support for the chat state machine: a real classic-level keyspace in a temp dir, command
// builders, and a driver that applies batches and commits their ops the way the replica does.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import type { Command, CommandResult, StoredMessage } from '../../src/gen/raftchat/command/v1/command.js';
import { ChatStateMachine, encodeCommand, type AppliedBatch } from '../../src/chat/index.js';
import type { Database } from '../../src/storage/database.js';
import type { Keyspace } from '../../src/storage/keyspace.js';

export class ChatHarness {
  readonly machine = new ChatStateMachine();
  /** The next log index to hand out: ids of stored messages. */
  nextIndex = 1;

  private constructor(
    private readonly directory: string,
    private readonly db: Database,
    readonly keyspace: Keyspace,
  ) {}

  static async open(): Promise<ChatHarness> {
    const directory = await mkdtemp(join(tmpdir(), 'raftchat-chat-'));
    const db: Database = new ClassicLevel<string, Uint8Array>(directory, { keyEncoding: 'utf8', valueEncoding: 'view' });
    await db.open();
    const keyspace = db.sublevel<string, Uint8Array>('kv', { keyEncoding: 'utf8', valueEncoding: 'view' });
    return new ChatHarness(directory, db, keyspace);
  }

  async close(): Promise<void> {
    await this.db.close();
    await rm(this.directory, { recursive: true, force: true });
  }

  /** Applies the commands as one batch at the next indexes and commits the ops; returns the batch. */
  async applyBatch(commands: Array<Command | Uint8Array>): Promise<AppliedBatch & { indexes: number[] }> {
    const entries = commands.map((command) => ({
      index: this.nextIndex++,
      data: command instanceof Uint8Array ? command : encodeCommand(command),
    }));
    const batch = await this.machine.applyBatch(this.keyspace, entries);
    await this.keyspace.batch(batch.ops);
    return { ...batch, indexes: entries.map((e) => e.index) };
  }

  /** Applies one command in a batch of its own and returns its result. */
  async apply(command: Command | Uint8Array): Promise<CommandResult> {
    const batch = await this.applyBatch([command]);
    return batch.results.get(batch.indexes[0]!)!;
  }

  /** Every key and value, in key order. */
  async contents(): Promise<Array<[string, string]>> {
    const pairs: Array<[string, string]> = [];
    for await (const [key, value] of this.keyspace.iterator()) pairs.push([key, Buffer.from(value).toString('hex')]);
    return pairs;
  }
}

// ---- command builders --------------------------------------------------------------------------

export function register(username: string, createdAtUnixMs = 1_000): Command {
  return {
    kind: {
      $case: 'register',
      value: { username, passwordHash: new Uint8Array([1, 2, 3]), salt: new Uint8Array([4, 5]), createdAtUnixMs },
    },
  };
}

export function deleteAccount(username: string): Command {
  return { kind: { $case: 'deleteAccount', value: { username } } };
}

export function send(sender: string, recipient: string, body: string, requestId = '', sentAtUnixMs = 2_000): Command {
  return { kind: { $case: 'send', value: { sender, recipient, body, requestId, sentAtUnixMs } } };
}

export function markRead(username: string, ids: number[]): Command {
  return { kind: { $case: 'markRead', value: { username, ids } } };
}

export function deleteMessages(username: string, ids: number[]): Command {
  return { kind: { $case: 'deleteMessages', value: { username, ids } } };
}

export function revoke(username: string, sessionId: string, expiresAtUnixMs: number, atUnixMs: number): Command {
  return { kind: { $case: 'revokeSessions', value: { username, sessionId, expiresAtUnixMs, atUnixMs } } };
}

// ---- result accessors (fail loudly when the result is of another kind) --------------------------

export function sent(result: CommandResult | undefined): { message: StoredMessage; duplicate: boolean } {
  if (result?.kind?.$case !== 'send' || result.kind.value.message === undefined) {
    throw new Error(`expected a send result, got ${JSON.stringify(result)}`);
  }
  return { message: result.kind.value.message, duplicate: result.kind.value.duplicate };
}

export function counted(result: CommandResult | undefined): number {
  if (result?.kind?.$case !== 'count') throw new Error(`expected a count result, got ${JSON.stringify(result)}`);
  return result.kind.value.count;
}

/** The error code of an error result, or undefined for a success. */
export function errorCode(result: CommandResult | undefined): string | undefined {
  return result?.kind?.$case === 'error' ? result.kind.value.code : undefined;
}

export function errorMessage(result: CommandResult | undefined): string {
  return result?.kind?.$case === 'error' ? result.kind.value.message : '';
}
