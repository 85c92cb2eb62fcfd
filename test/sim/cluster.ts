// The simulated cluster: replicas, the network between them, and the clock. One step is one unit of
// logical time: messages due now arrive, every live node ticks, then the fault scheduler, the
// membership driver and the clients act, and the safety invariants are checked.
import {
  ConfChangeType,
  MessageType,
  RaftError,
  type Entry,
  type Message,
  type NodeId,
  type PeerMessageRefusal,
  type Ready,
} from '../../src/raft/index.js';
import { SafetyChecker, type LeaderView } from './checker.js';
import { Clients } from './clients.js';
import { SimNetwork } from './network.js';
import type { PeerFuzzer } from './peer-fuzz.js';
import { SimReplica, type CrashPoint, type ReadyHooks } from './replica.js';
import type { Rng } from './rng.js';
import type { Scenario } from './scenario.js';
import { bootstrapStorage, emptyStorage } from './storage.js';
import { describeMessage, type Trace } from './trace.js';
import { violated } from './violation.js';

export type Phase = 'chaos' | 'quiet';

/** What happened in a run, to see that a seed exercised something. */
export interface RunStats {
  elections: number;
  crashes: number;
  snapshotsInstalled: number;
  confChangesApplied: number;
  readsAnswered: number;
  messagesDelivered: number;
}

export class SimCluster implements ReadyHooks {
  readonly replicas = new Map<NodeId, SimReplica>();
  readonly network: SimNetwork;
  readonly checker: SafetyChecker;
  readonly clients: Clients;
  now = 0;
  phase: Phase = 'chaos';
  readonly stats: RunStats = {
    elections: 0,
    crashes: 0,
    snapshotsInstalled: 0,
    confChangesApplied: 0,
    readsAnswered: 0,
    messagesDelivered: 0,
  };
  private nextNodeNumber = 1;
  /** Callbacks due at a step: snapshot reports, unreachable reports. */
  private readonly scheduled = new Map<number, Array<() => void>>();

  constructor(
    readonly rng: Rng,
    readonly scenario: Scenario,
    readonly trace: Trace,
    /** The buggy peer of the peer fuzz, when on: it sees every message sent. */
    readonly fuzzer?: PeerFuzzer,
  ) {
    this.network = new SimNetwork(rng);
    this.network.faults = scenario.network;
    this.checker = new SafetyChecker(() => this.leaderViews());
    this.clients = new Clients(this);
    const voters: NodeId[] = [];
    for (let i = 0; i < scenario.initialVoters; i++) voters.push(this.freshId());
    for (const id of voters) {
      const replica = new SimReplica(id, bootstrapStorage(voters, scenario.bootstrapAtIndexZero));
      this.replicas.set(id, replica);
      replica.start(scenario, rng.childSeed());
    }
  }

  freshId(): NodeId {
    return `n${this.nextNodeNumber++}`;
  }

  /** A new, empty replica that will join once a leader adds it. */
  addBlankReplica(id: NodeId): SimReplica {
    const replica = new SimReplica(id, emptyStorage());
    this.replicas.set(id, replica);
    replica.start(this.scenario, this.rng.childSeed());
    this.log(() => `${id} created empty`);
    return replica;
  }

  log(text: () => string): void {
    if (this.trace.enabled) this.trace.add(this.now, text());
  }

  liveReplicas(): SimReplica[] {
    const out: SimReplica[] = [];
    for (const replica of this.replicas.values()) if (replica.node !== undefined) out.push(replica);
    return out;
  }

  /** The live leader of the newest term, if any. */
  leader(): SimReplica | undefined {
    let best: SimReplica | undefined;
    for (const replica of this.replicas.values()) {
      if (replica.node !== undefined && replica.role === 'leader' && (best === undefined || replica.term > best.term)) {
        best = replica;
      }
    }
    return best;
  }

  private leaderViews(): LeaderView[] {
    const views: LeaderView[] = [];
    for (const replica of this.replicas.values()) {
      if (replica.node !== undefined && replica.role === 'leader') {
        views.push({ id: replica.id, term: replica.term, log: replica.storage });
      }
    }
    return views;
  }

  schedule(afterSteps: number, action: () => void): void {
    const at = this.now + Math.max(1, afterSteps);
    let due = this.scheduled.get(at);
    if (due === undefined) {
      due = [];
      this.scheduled.set(at, due);
    }
    due.push(action);
  }

  /** Advance logical time by one step (the fault scheduler and drivers act from the caller). */
  advanceTime(): void {
    this.now++;
    const { delivered, lost } = this.network.arrivals(this.now);
    for (const message of lost) this.onLost(message);
    for (const message of delivered) this.deliver(message);
    const due = this.scheduled.get(this.now);
    if (due !== undefined) {
      this.scheduled.delete(this.now);
      for (const action of due) action();
    }
    for (const replica of this.replicas.values()) {
      if (replica.node === undefined && !replica.retired && replica.restartAtStep === this.now) this.restart(replica);
    }
    for (const replica of this.replicas.values()) {
      if (replica.node === undefined || this.rng.chance(this.scenario.tickSkipProbability)) continue;
      replica.node.tick();
      if (this.scenario.deferCommitBroadcast && replica.node.hasCommitToBroadcast()
        && this.rng.chance(this.scenario.commitBroadcastProbability)) {
        replica.node.broadcastCommit();
      }
      replica.drain(this);
    }
  }

  private deliver(message: Message): void {
    const replica = this.replicas.get(message.to);
    if (replica?.node === undefined) {
      this.onLost(message);
      return;
    }
    this.stats.messagesDelivered++;
    this.log(() => `deliver ${describeMessage(message)}`);
    const refusal = this.stepInto(replica, message);
    // The core's peer check must pass everything a correct node sends; a response from a member that
    // has since been removed is the one thing it drops (as etcd-io/raft does).
    if (refusal !== undefined && refusal.code !== 'not-a-member') {
      violated('correct-refused', `${replica.id} refused ${describeMessage(message)}: ${refusal.code} (${refusal.reason})`);
    }
    if (message.type === MessageType.Snap) {
      const ok = !this.rng.chance(this.scenario.snapshotFailureProbability);
      this.reportSnapshotLater(message, ok);
    }
  }

  /** Step `message` into a live replica and handle its Readys; returns the core's refusal, if any. */
  stepInto(replica: SimReplica, message: Message): PeerMessageRefusal | undefined {
    const node = replica.node;
    if (node === undefined) return undefined;
    let refusal: PeerMessageRefusal | undefined;
    try {
      refusal = node.step(message);
    } catch (error) {
      // The core may refuse some messages with a RaftError; that is not a fault.
      if (!(error instanceof RaftError)) throw error;
      this.log(() => `${replica.id} refused ${MessageType[message.type]}: ${error.code}`);
    }
    if (refusal !== undefined) this.log(() => `${replica.id} dropped ${MessageType[message.type] ?? message.type}: ${refusal.code}`);
    replica.drain(this);
    return refusal;
  }

  private onLost(message: Message): void {
    if (message.type === MessageType.Snap) this.reportSnapshotLater(message, false);
  }

  /** The transport tells the sender how streaming its snapshot went, a few steps later. */
  private reportSnapshotLater(message: Message, ok: boolean): void {
    const sender = this.replicas.get(message.from);
    if (sender === undefined) return;
    const incarnation = sender.incarnation;
    this.schedule(1 + this.rng.int(3), () => {
      if (sender.node === undefined || sender.incarnation !== incarnation) return;
      this.log(() => `${sender.id} reportSnapshot(${message.to}, ${ok})`);
      sender.node.reportSnapshot(message.to, ok);
      sender.drain(this);
    });
  }

  crash(replica: SimReplica, why: string): void {
    this.stats.crashes++;
    replica.crash();
    replica.restartAtStep = this.now + 1 + this.rng.int(this.scenario.restartDelayStepsMax);
    this.clients.onCrash(replica);
    this.log(() => `${replica.id} CRASH (${why}), restart at ${replica.restartAtStep}`);
  }

  restart(replica: SimReplica): void {
    replica.start(this.scenario, this.rng.childSeed());
    this.log(() => `${replica.id} RESTART term ${replica.term} applied ${replica.sm.appliedIndex}`);
    replica.drain(this);
  }

  /** Shut a removed member down for good. */
  retire(replica: SimReplica): void {
    if (replica.node !== undefined) replica.crash();
    replica.retired = true;
    this.clients.onCrash(replica);
    this.log(() => `${replica.id} RETIRED`);
  }

  crashedCount(): number {
    let count = 0;
    for (const replica of this.replicas.values()) if (!replica.retired && replica.node === undefined) count++;
    return count;
  }

  /** Compact a replica's log up to what it applied, keeping its state machine in the snapshot. */
  compact(replica: SimReplica): void {
    const node = replica.node;
    if (node === undefined) return;
    const status = node.status();
    const applied = Math.min(status.applied, replica.sm.appliedIndex);
    if (applied <= replica.storage.snapshot().metadata.index) return;
    // A joiner replaying the log from index 1 learns the membership only from the first conf
    // change it applies; a snapshot before that could not say who the voters are.
    if (status.confState.voters.length === 0) return;
    replica.storage.createSnapshot(applied, status.confState, replica.sm.snapshotData(applied));
    const compactTo = applied - this.scenario.compactKeepEntries;
    if (compactTo > replica.storage.firstIndex() - 1) replica.storage.compact(compactTo);
    this.log(() => `${replica.id} snapshot at ${applied}, compacted to ${compactTo}`);
  }

  // ---- ReadyHooks: what the cluster does with each part of a replica's Ready ----

  crashAt(replica: SimReplica, point: CrashPoint): boolean {
    if (this.phase !== 'chaos' || !this.rng.chance(this.scenario.crashInReadyProbability)) return false;
    if (this.crashedCount() >= this.scenario.maxCrashedAtOnce) return false;
    this.stats.crashes++;
    replica.restartAtStep = this.now + 1 + this.rng.int(this.scenario.restartDelayStepsMax);
    this.clients.onCrash(replica);
    this.log(() => `${replica.id} CRASH at ${point}, restart at ${replica.restartAtStep}`);
    return true;
  }

  onReady(replica: SimReplica, ready: Ready): void {
    if (ready.softState !== undefined) {
      replica.role = ready.softState.role;
      replica.leaderId = ready.softState.leaderId;
    }
    if (ready.hardState !== undefined) replica.term = ready.hardState.term;
  }

  onPersisted(replica: SimReplica, ready: Ready): void {
    const storage = replica.storage;
    if (ready.snapshot !== undefined) {
      const { index, term } = ready.snapshot.metadata;
      this.stats.snapshotsInstalled++;
      this.log(() => `${replica.id} installed snapshot (${index}, t${term})`);
      this.checker.onSnapshotInstalled(replica.id, index, term);
      if (index > replica.commitReported) replica.commitReported = index;
      this.clients.onSnapshotInstalled(replica);
    }
    if (ready.entries.length > 0) this.checker.onAppended(replica.id, ready.entries, storage);
    if (ready.hardState === undefined) return this.noteLeader(replica, ready);
    const commit = ready.hardState.commit;
    if (commit > storage.lastIndex()) {
      violated('commit-within-log', `${replica.id} commit ${commit} beyond its last index ${storage.lastIndex()}`);
    }
    if (commit > replica.commitReported) {
      for (let i = Math.max(replica.commitReported + 1, storage.firstIndex()); i <= commit; i++) {
        this.checker.onCommitted(replica.id, i, storage.term(i));
      }
      replica.commitReported = commit;
    }
    this.noteLeader(replica, ready);
  }

  private noteLeader(replica: SimReplica, ready: Ready): void {
    if (ready.softState?.role === 'leader') {
      this.stats.elections++;
      this.log(() => `${replica.id} LEADER of term ${replica.term}`);
      this.checker.onLeader(replica.id, replica.term, replica.storage);
    }
  }

  send(replica: SimReplica, ready: Ready): void {
    for (const message of ready.messages) {
      this.fuzzer?.record(message);
      const outcome = this.network.send(message, this.now);
      if (outcome === 'queued') continue;
      this.log(() => `${outcome} ${describeMessage(message)}`);
      this.onLost(message);
      if (outcome === 'cut' && this.rng.chance(this.scenario.unreachableReportProbability)) {
        const incarnation = replica.incarnation;
        this.schedule(1, () => {
          if (replica.node === undefined || replica.incarnation !== incarnation) return;
          replica.node.reportUnreachable(message.to);
          replica.drain(this);
        });
      }
    }
  }

  onApplied(replica: SimReplica, entry: Entry, command: string, replayed: boolean): void {
    if (replayed) return;
    this.checker.onApplied(replica.id, entry.index, command);
    this.clients.onApplied(replica, entry.index, command);
    if (command.startsWith('cc:')) {
      this.stats.confChangesApplied++;
      this.log(() => `${replica.id} applied conf change ${command} at ${entry.index}`);
      this.onConfChangeApplied(command);
    }
  }

  afterApply(replica: SimReplica, ready: Ready): void {
    this.stats.readsAnswered += ready.readStates.length;
    if (ready.readStates.length > 0) this.clients.onReadStates(replica, ready.readStates);
  }

  /** A removed member is shut down a little after its removal is committed (it may not learn of it). */
  private onConfChangeApplied(command: string): void {
    const [, type, id] = command.split(':');
    if (type !== String(ConfChangeType.RemoveNode) || id === undefined) return;
    const removed = this.replicas.get(id);
    if (removed === undefined || removed.retired) return;
    this.schedule(this.rng.int(4 * this.scenario.electionTicks), () => {
      if (!removed.retired) this.retire(removed);
    });
  }
}
