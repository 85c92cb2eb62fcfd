// One simulated replica: a durable part (its MemoryStorage and its state machine) that survives a
// crash, and a volatile part (the RawNode) that a crash throws away and a restart rebuilds.
import {
  EntryType,
  MemoryStorage,
  RawNode,
  decodeConfChange,
  maySendBeforePersist,
  mulberry32,
  type Entry,
  type NodeId,
  type Ready,
  type Role,
} from '../../src/raft/index.js';
import type { Scenario } from './scenario.js';
import { ListStateMachine } from './state-machine.js';
import { violated } from './violation.js';

const decoder = new TextDecoder();

/** The points in Ready handling where the sim may crash a replica (its durable state stays put). */
export type CrashPoint = 'sent-before-persist' | 'before-persist' | 'after-persist' | 'after-send' | 'mid-apply' | 'before-advance';

/** What the cluster does with the parts of a Ready that leave the replica. */
export interface ReadyHooks {
  /** True: crash the replica here, before the next part of the Ready is handled. */
  crashAt(replica: SimReplica, point: CrashPoint): boolean;
  onReady(replica: SimReplica, ready: Ready): void;
  onPersisted(replica: SimReplica, ready: Ready): void;
  send(replica: SimReplica, ready: Ready): void;
  onApplied(replica: SimReplica, entry: Entry, command: string, replayed: boolean): void;
  afterApply(replica: SimReplica, ready: Ready): void;
}

/** The state machine command an entry carries, as the sim writes it in traces and checks. */
export function commandOf(entry: Entry): string {
  if (entry.type === EntryType.ConfChange) {
    const change = decodeConfChange(entry.data);
    return `cc:${change.type}:${change.nodeId}`;
  }
  return entry.data.length === 0 ? '' : decoder.decode(entry.data);
}

export class SimReplica {
  /** Durable: survives crashes. */
  readonly storage: MemoryStorage;
  sm: ListStateMachine = ListStateMachine.empty();
  /** Volatile: undefined while crashed or stopped. */
  node: RawNode | undefined;
  incarnation = 0;
  /** Volatile views of the node, kept from its Ready softState and hardState. */
  role: Role = 'follower';
  leaderId: NodeId = '';
  term = 0;
  /** Highest commit index already reported to the checker (durable knowledge, survives crashes). */
  commitReported = 0;
  /**
   * After a restart the node re-delivers committed entries from its snapshot on (so configuration
   * changes are re-applied); entries up to here were applied before and are replayed, not re-applied.
   */
  replayThrough = 0;
  /** Removed from the configuration and shut down for good. */
  retired = false;
  /** Step at which a crashed replica comes back. */
  restartAtStep = -1;

  constructor(
    readonly id: NodeId,
    storage: MemoryStorage,
  ) {
    this.storage = storage;
  }

  get live(): boolean {
    return this.node !== undefined;
  }

  /** Build the RawNode from durable state only (a boot or a restart after a crash). */
  start(scenario: Scenario, randomSeed: number): RawNode {
    const snapshot = this.storage.snapshot();
    if (snapshot.metadata.index > this.sm.appliedIndex) {
      this.sm = ListStateMachine.fromSnapshot(snapshot.metadata.index, snapshot.data);
    }
    this.replayThrough = this.sm.appliedIndex;
    this.incarnation++;
    this.role = 'follower';
    this.leaderId = '';
    this.term = this.storage.initialState().hardState.term;
    const node = new RawNode({
      id: this.id,
      storage: this.storage,
      electionTicks: scenario.electionTicks,
      heartbeatTicks: scenario.heartbeatTicks,
      applied: snapshot.metadata.index,
      maxBytesPerMessage: scenario.maxBytesPerMessage,
      maxInflightMessages: scenario.maxInflightMessages,
      preVote: scenario.preVote,
      checkQuorum: scenario.checkQuorum,
      deferCommitBroadcast: scenario.deferCommitBroadcast,
      random: mulberry32(randomSeed),
    });
    this.node = node;
    return node;
  }

  /** Lose everything volatile: the node, its unpersisted entries, its in-memory messages. */
  crash(): void {
    this.node = undefined;
    this.role = 'follower';
    this.leaderId = '';
  }

  /**
   * Handle every Ready the node has, in the order the core demands (types.ts Ready): persist, then
   * send (a leader may send first), then apply, then advance. A crash may strike between any two of those steps.
   */
  drain(hooks: ReadyHooks): void {
    let node = this.node;
    while (node !== undefined && node.hasReady()) {
      const ready = node.ready();
      // As the replica does: a leader's messages may leave before its own write (thesis §10.2.1).
      const sendEarly = maySendBeforePersist(ready, this.role);
      hooks.onReady(this, ready);
      if (sendEarly) {
        hooks.send(this, ready);
        if (hooks.crashAt(this, 'sent-before-persist')) return this.crash();
      }
      if (hooks.crashAt(this, 'before-persist')) return this.crash();
      this.persist(ready);
      hooks.onPersisted(this, ready);
      if (hooks.crashAt(this, 'after-persist')) return this.crash();
      if (!sendEarly) hooks.send(this, ready);
      if (hooks.crashAt(this, 'after-send')) return this.crash();
      for (const entry of ready.committedEntries) {
        this.applyEntry(node, entry, hooks);
        if (hooks.crashAt(this, 'mid-apply')) return this.crash();
      }
      hooks.afterApply(this, ready);
      if (hooks.crashAt(this, 'before-advance')) return this.crash();
      node.advance(ready);
      node = this.node;
    }
  }

  private persist(ready: Ready): void {
    if (ready.snapshot !== undefined) {
      if (ready.snapshot.metadata.index < this.sm.appliedIndex) {
        violated(
          'applied-monotonic',
          `${this.id} was given a snapshot at ${ready.snapshot.metadata.index} below its applied ${this.sm.appliedIndex}`,
        );
      }
      this.storage.applySnapshot(ready.snapshot);
      // The state machine is replaced in the same durable step as the snapshot it came from.
      if (ready.snapshot.metadata.index > this.sm.appliedIndex) {
        this.sm = ListStateMachine.fromSnapshot(ready.snapshot.metadata.index, ready.snapshot.data);
      }
    }
    if (ready.entries.length > 0) this.storage.append(ready.entries);
    if (ready.hardState !== undefined) this.storage.setHardState(ready.hardState);
  }

  private applyEntry(node: RawNode, entry: Entry, hooks: ReadyHooks): void {
    const command = commandOf(entry);
    const replayed = entry.index <= this.sm.appliedIndex;
    if (replayed) {
      // Only a restart may hand back entries already applied, and they must be the same ones.
      if (entry.index > this.replayThrough) {
        violated('applied-monotonic', `${this.id} was given ${entry.index} to apply again (applied ${this.sm.appliedIndex})`);
      }
      const before = this.sm.commandAt(entry.index);
      if (before !== command) {
        violated('state-machine-safety', `${this.id} re-applies '${command}' at ${entry.index}, where it applied '${before}'`);
      }
    } else {
      if (entry.index !== this.sm.appliedIndex + 1) {
        violated('applied-monotonic', `${this.id} was given ${entry.index} to apply after ${this.sm.appliedIndex}`);
      }
      this.sm.apply(entry.index, command);
    }
    if (entry.type === EntryType.ConfChange) node.applyConfChange(decodeConfChange(entry.data));
    hooks.onApplied(this, entry, command, replayed);
  }
}
