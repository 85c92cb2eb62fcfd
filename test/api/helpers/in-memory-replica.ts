// A ReplicaApi that stands in for Raft only: every proposal is applied at once, in order, by the real
// ChatStateMachine over a real classic-level keyspace, and its events are emitted like a replica's.
import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { encodeCommand } from '../../../src/chat/codec.js';
import { ChatStateMachine } from '../../../src/chat/state-machine.js';
import type { Command, CommandResult, MemberInfo } from '../../../src/gen/raftchat/command/v1/command.js';
import { openDatabase, type Database } from '../../../src/storage/database.js';
import { keyspaceLevel } from '../../../src/storage/layout.js';
import {
  ReplicaError,
  type ChatKeyspace,
  type MemberStatus,
  type ProposeOptions,
  type ReplicaApi,
  type ReplicaEvents,
  type ReplicaStatus,
} from '../../../src/node/types.js';

export class InMemoryReplica implements ReplicaApi {
  readonly nodeId = 'n0';
  readonly clusterId = 'test-cluster';
  readonly events = new EventEmitter<ReplicaEvents>();
  /** When set, every propose and readBarrier rejects with it (a replica without a quorum). */
  failWith: ReplicaError | undefined;
  caughtUp = true;
  /** Runs inside every readBarrier before it resolves: lets a test apply commands at that moment. */
  duringReadBarrier: (() => Promise<void>) | undefined;
  /** Every command proposed, in order (for assertions on what the API sent). */
  readonly proposed: Command[] = [];
  /** The deadline of every proposal and read barrier, in order. */
  readonly deadlines: number[] = [];
  members: MemberStatus[] = [member('n0')];

  private appliedIndex = 0;
  private applying: Promise<unknown> = Promise.resolve();
  private readonly machine = new ChatStateMachine();

  private constructor(
    private readonly db: Database,
    private readonly dir: string,
    private readonly space: ChatKeyspace,
  ) {}

  static async open(): Promise<InMemoryReplica> {
    const dir = await mkdtemp(join(tmpdir(), 'raftchat-api-'));
    const db = await openDatabase(join(dir, 'db'));
    return new InMemoryReplica(db, dir, keyspaceLevel(db, 0));
  }

  async close(): Promise<void> {
    await this.db.close();
    await rm(this.dir, { recursive: true, force: true });
  }

  keyspace(): ChatKeyspace {
    return this.space;
  }

  async propose(command: Command, options: ProposeOptions): Promise<{ index: number; result: CommandResult }> {
    this.checkAvailable(options);
    this.proposed.push(command);
    // One at a time, like a log: each command sees the writes of every earlier one.
    const applied = this.applying.then(() => this.apply(command));
    this.applying = applied.catch(() => undefined);
    return applied;
  }

  async readBarrier(options: ProposeOptions): Promise<void> {
    this.checkAvailable(options);
    await this.duringReadBarrier?.();
    await this.applying;
  }

  status(): ReplicaStatus {
    return {
      nodeId: this.nodeId,
      clusterId: this.clusterId,
      incarnation: 'in-memory',
      role: 'leader',
      term: 3,
      leaderId: this.nodeId,
      commitIndex: this.appliedIndex,
      appliedIndex: this.appliedIndex,
      firstIndex: 1,
      lastIndex: this.appliedIndex,
      snapshotIndex: 0,
      members: this.members,
    };
  }

  async addMember(info: MemberInfo, options: ProposeOptions & { asLearner?: boolean }): Promise<MemberStatus[]> {
    this.checkAvailable(options);
    if (this.members.some((m) => m.id === info.id)) throw new ReplicaError('FAILED_PRECONDITION', `${info.id} is already a member`);
    this.members = [...this.members, { ...member(info.id), peerAddress: info.peerAddress, clientAddress: info.clientAddress, voter: false }];
    return this.members;
  }

  async removeMember(id: string, options: ProposeOptions): Promise<MemberStatus[]> {
    this.checkAvailable(options);
    if (!this.members.some((m) => m.id === id)) throw new ReplicaError('NOT_FOUND', `${id} is not a member`);
    this.members = this.members.filter((m) => m.id !== id);
    return this.members;
  }

  async transferLeadership(toId: string, options: ProposeOptions): Promise<string> {
    this.checkAvailable(options);
    return toId === '' ? this.nodeId : toId;
  }

  async digest(): Promise<{ appliedIndex: number; digest: string; accounts: number; messages: number }> {
    const hash = createHash('sha256');
    let accounts = 0;
    let messages = 0;
    for await (const [key, value] of this.space.iterator()) {
      hash.update(key).update(value);
      if (key.startsWith('a/')) accounts++;
      if (key.startsWith('m/')) messages++;
    }
    return { appliedIndex: this.appliedIndex, digest: hash.digest('hex'), accounts, messages };
  }

  isCaughtUp(): boolean {
    return this.caughtUp;
  }

  private checkAvailable(options: ProposeOptions): void {
    this.deadlines.push(options.deadlineMs);
    if (this.failWith !== undefined) throw this.failWith;
    if (!Number.isFinite(options.deadlineMs) || options.deadlineMs <= Date.now()) {
      throw new ReplicaError('DEADLINE_EXCEEDED', 'the deadline passed before the command was proposed');
    }
  }

  private async apply(command: Command): Promise<{ index: number; result: CommandResult }> {
    const index = this.appliedIndex + 1;
    const { ops, results, events } = await this.machine.applyBatch(this.space, [{ index, data: encodeCommand(command) }]);
    await this.space.batch(ops);
    this.appliedIndex = index;
    for (const message of events.messages) this.events.emit('message', message);
    for (const user of events.deletedAccounts) this.events.emit('accountDeleted', user);
    for (const user of events.revokedUsers) this.events.emit('sessionsRevoked', user);
    const result = results.get(index);
    if (result === undefined) throw new Error(`no result for index ${index}`);
    return { index, result };
  }
}

function member(id: string): MemberStatus {
  return { id, peerAddress: `${id}:7000`, clientAddress: `${id}:6000`, voter: true, matchIndex: 0, reachable: true, lag: 0, progressState: 'replicate', incarnation: '' };
}
