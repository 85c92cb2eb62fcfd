// One replica: drives the Raft core through its Ready loop (persist, then send, then apply, then
// advance), owns the proposal and read waiters, serves snapshots, and promotes caught-up learners.

import { EventEmitter } from 'node:events';
import { createHash, randomInt, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  RawNode,
  MemoryStorage,
  RaftError,
  ConfChangeType,
  EntryType,
  decodeConfChange,
  encodeConfChange,
  mulberry32,
  maySendBeforePersist,
} from '../raft/index.js';
import type { ConfChange, ConfState, Entry, Message, Ready, SoftState, Snapshot } from '../raft/types.js';
import { MessageType } from '../raft/types.js';
import { ReplicaStore } from '../storage/index.js';
import type { SnapshotInstaller } from '../storage/index.js';
import { ChatStateMachine, encodeCommand, encodeResult, decodeResult, countKind } from '../chat/index.js';
import type { Command, CommandResult, MemberInfo } from '../gen/raftchat/command/v1/command.js';
import { PeerTransport, TransportError, startPeerServer } from '../transport/index.js';
import type { IncomingSnapshot, PeerServer } from '../transport/index.js';
import type { ReplicaConfig } from './config.js';
import type { ReplicaMetrics } from '../metrics/index.js';
import { ProposalWaiters, ReadBarriers } from './waiters.js';
import { loadTls } from './tls.js';
import { LostTailDetector } from './lost-tail.js';
import {
  type MemberTable,
  decodeMemberInfo,
  decodeMemberTable,
  describeMembers,
  encodeMemberInfo,
  encodeMemberTable,
  peerAddresses,
} from './members.js';
import {
  ReplicaError,
  type ChatKeyspace,
  type MemberStatus,
  type ProposeOptions,
  type ReplicaApi,
  type ReplicaEvents,
  type ReplicaRole,
  type ReplicaStatus,
} from './types.js';

interface Applied {
  index: number;
  result: CommandResult | undefined;
}

interface StagedSnapshot {
  index: number;
  installer: SnapshotInstaller;
  members: MemberTable;
  checksum: Uint8Array;
  /** The Ready generation when the MsgSnap was stepped: a later Ready without it means refused. */
  steppedAtReady: number;
}

/** A synced log write slower than this is logged: commits wait for it. */
const SLOW_FSYNC_MS = 100;

/** Entries within this many of the leader's commit index count as caught up (learner promotion). */
const PROMOTION_MAX_LAG_ENTRIES = 100;

export class Replica implements ReplicaApi {
  readonly events = new EventEmitter<ReplicaEvents>();
  readonly nodeId: string;
  readonly clusterId: string;
  readonly incarnation: string;

  private readonly raftStorage: MemoryStorage;
  private raft!: RawNode;
  private transport!: PeerTransport;
  private peerServer: PeerServer | undefined;
  private readonly stateMachine = new ChatStateMachine();
  private readonly proposals = new ProposalWaiters<Applied>();
  private readonly reads: ReadBarriers;
  private readonly leaderWatchers = new Set<() => void>();

  private members: MemberTable;
  private confState: ConfState;
  private appliedIndex: number;
  private appliedTerm: number;
  private snapshotIndex: number;
  private softState: SoftState = { leaderId: '', role: 'follower' };
  private staged: StagedSnapshot | undefined;

  private tickTimer: NodeJS.Timeout | undefined;
  /** Armed while a commit index waits to be sent on its own (config.commitBroadcastDelayMs). */
  private commitBroadcastTimer: NodeJS.Timeout | undefined;
  private ticks = 0;
  private pumping = false;
  private pumpDone: Promise<void> = Promise.resolve();
  private readyGeneration = 0;
  private stopping = false;
  private fatalError: Error | undefined;
  private promoting = false;
  private readonly lostTail = new LostTailDetector();
  /** The commit index of the last Ready's hard state, written with the next apply batch. */
  private commitIndex = 0;

  /** Heartbeats out per peer, for the round-trip histogram: one outstanding at a time. */
  private readonly heartbeatSentAt = new Map<string, number>();
  /** Snapshots being streamed per peer: when they started and how many bytes they carry. */
  private readonly snapshotsOut = new Map<string, { startedAt: number; bytes: () => number }>();

  private constructor(
    private readonly config: ReplicaConfig,
    private readonly store: ReplicaStore,
    private readonly log: Logger,
    state: Awaited<ReturnType<ReplicaStore['load']>>,
    private readonly metrics: ReplicaMetrics | undefined,
  ) {
    this.nodeId = config.id;
    this.clusterId = state.clusterId;
    this.incarnation = state.incarnation;
    this.members = new Map(state.members.map((m) => [m.id, m]));
    this.confState = state.confState;
    this.appliedIndex = state.appliedIndex;
    this.appliedTerm = state.appliedTerm;
    this.snapshotIndex = state.snapshot.index;
    this.raftStorage = new MemoryStorage();
    // The mirror starts at the compaction point, but with the configuration as of the applied
    // index: entries between the two are not re-applied, so their changes must already count.
    this.raftStorage.applySnapshot({
      metadata: { index: state.snapshot.index, term: state.snapshot.term, confState: state.confState },
      data: new Uint8Array(),
    });
    this.raftStorage.append(state.entries);
    this.raftStorage.setHardState(state.hardState);
    this.reads = new ReadBarriers((ctx) => {
      this.raft.readIndex(ctx);
      this.schedule();
    });
  }

  /** Opens (or creates) the replica's data, starts Raft and the peer port. */
  static async start(config: ReplicaConfig, log: Logger, metrics?: ReplicaMetrics): Promise<Replica> {
    // A failed write anywhere (a snapshot being installed included) stops the replica (see die()).
    let onStorageFailure: (err: Error) => void = () => undefined;
    const store = await ReplicaStore.open(config.dataDir, {
      logger: log.child({ component: 'storage' }),
      ...(metrics !== undefined ? { onWrite: metrics.storageWriteObserver } : {}),
      onFailure: (err) => onStorageFailure(err),
    });
    try {
      let state = await store.load();
      if (state.clusterId === '') {
        await Replica.bootstrap(config, store, log);
        state = await store.load();
      }
      const replica = new Replica(config, store, log, state, metrics);
      onStorageFailure = (err) => replica.die(err);
      metrics?.setPendingProposalsSource(() => replica.proposals.size);
      await replica.startRaft();
      return replica;
    } catch (err) {
      await store.close().catch(() => undefined);
      throw err;
    }
  }

  private static async bootstrap(config: ReplicaConfig, store: ReplicaStore, log: Logger): Promise<void> {
    const incarnation = randomUUID();
    const self: MemberInfo = {
      id: config.id,
      peerAddress: config.advertisePeerAddress,
      clientAddress: config.advertiseClientAddress,
      incarnation,
      learnerOnly: false,
    };
    let clusterId: string;
    let members: MemberInfo[];
    let voters: string[];
    switch (config.bootstrap) {
      case 'initial': {
        members = config.initialMembers.map((m) => ({ ...m, incarnation: m.id === config.id ? incarnation : '', learnerOnly: false }));
        if (!members.some((m) => m.id === config.id)) {
          throw new ReplicaError('INVALID_ARGUMENT', `--initial-cluster does not name this replica (${config.id})`);
        }
        voters = members.map((m) => m.id);
        clusterId = staticClusterId(config.initialMembers.map((m) => `${m.id}=${m.peerAddress}`));
        break;
      }
      case 'single':
        members = [self];
        voters = [config.id];
        clusterId = config.clusterId || randomUUID();
        break;
      case 'join':
        if (config.clusterId === '') {
          throw new ReplicaError('INVALID_ARGUMENT', 'a joining replica needs the cluster id (--cluster-id, or --join to ask a member)');
        }
        members = [...config.joinMembers.map((m) => ({ ...m, incarnation: m.incarnation ?? '', learnerOnly: false })), self];
        voters = [];
        clusterId = config.clusterId;
        break;
    }
    await store.bootstrap({ clusterId, incarnation, confState: { voters, learners: [] }, members });
    log.info({ clusterId, voters, bootstrap: config.bootstrap }, 'initialized an empty data directory');
  }

  private async startRaft(): Promise<void> {
    const raftLog = this.log.child({ component: 'raft' });
    const tls = loadTls(this.config.tls);
    await tls.ready;
    this.raft = new RawNode({
      id: this.nodeId,
      storage: this.raftStorage,
      applied: this.appliedIndex,
      electionTicks: this.config.electionTicks,
      heartbeatTicks: this.config.heartbeatTicks,
      maxBytesPerMessage: this.config.maxBytesPerMessage,
      maxInflightMessages: this.config.maxInflightMessages,
      // Small enough that heartbeats never wait long behind one apply (a big one starves CheckQuorum).
      maxCommittedBytesPerReady: 1 << 20,
      preVote: true,
      checkQuorum: true,
      deferCommitBroadcast: this.config.commitBroadcastDelayMs > 0,
      random: mulberry32(randomInt(2 ** 32)),
      logger: {
        debug: (o, m) => raftLog.debug(o, m),
        info: (o, m) => raftLog.info(o, m),
        warn: (o, m) => raftLog.warn(o, m),
      },
    });
    this.transport = new PeerTransport({
      selfId: this.nodeId,
      clusterId: this.clusterId,
      peerSecret: this.config.clusterSecret,
      logger: this.log.child({ component: 'transport' }),
      maxBatchBytes: this.config.maxBytesPerMessage * 4,
      ...(tls.peerChannel !== undefined ? { credentials: tls.peerChannel } : {}),
      snapshotSource: (msg) => this.snapshotSource(msg),
      onUnreachable: (peer) => {
        this.raft.reportUnreachable(peer);
        this.schedule();
      },
      onSnapshotDone: (peer, ok) => {
        const out = this.snapshotsOut.get(peer);
        this.snapshotsOut.delete(peer);
        if (ok && out !== undefined) this.metrics?.snapshotSent(out.bytes(), (Date.now() - out.startedAt) / 1000);
        if (ok) {
          this.raft.reportSnapshot(peer, true);
          this.schedule();
          return;
        }
        // Back off before raft retries: the follower stays paused in snapshot state meanwhile, so a
        // follower that refuses (busy installing another, out of disk) is not hammered.
        this.log.warn({ peer, retryInMs: this.electionTimeoutMs() }, 'snapshot transfer failed; retrying after a pause');
        setTimeout(() => {
          if (this.stopping || this.fatalError !== undefined) return;
          this.raft.reportSnapshot(peer, false);
          this.schedule();
        }, this.electionTimeoutMs()).unref();
      },
    });
    this.transport.setPeers(peerAddresses(this.members, this.nodeId));
    this.peerServer = await startPeerServer({
      selfId: this.nodeId,
      maxBatchBytes: this.config.maxBytesPerMessage * 4,
      address: this.config.peerAddress,
      // With mTLS a caller's certificate must name its address in our member table (issue #7).
      ...(tls.peerServer !== undefined ? { credentials: tls.peerServer, peerAddressOf: (id: string) => this.members.get(id)?.peerAddress } : {}),
      clusterId: this.clusterId,
      peerSecret: this.config.clusterSecret,
      logger: this.log.child({ component: 'peer-server' }),
      handlers: {
        onMessages: (messages) => this.receive(messages),
        onSnapshot: (incoming) => this.receiveSnapshot(incoming),
        onForward: (command, deadlineMs) => this.handleForward(command, deadlineMs),
      },
    });
    this.tickTimer = setInterval(() => this.tick(), this.config.tickIntervalMs);
    // A single voter needs no election timeout to know it wins.
    if (this.confState.voters.length === 1 && this.confState.voters[0] === this.nodeId) this.raft.campaign();
    this.schedule();
    this.log.info(
      { clusterId: this.clusterId, applied: this.appliedIndex, voters: this.confState.voters, learners: this.confState.learners },
      'replica started',
    );
  }

  // ---- the Ready loop -------------------------------------------------------------------------

  /** Runs the Ready loop soon; calls made in the same turn share one Ready (group commit). */
  private schedule(): void {
    if (this.pumping || this.stopping || this.fatalError !== undefined) return;
    this.pumping = true;
    this.pumpDone = new Promise<void>((resolve) => setImmediate(() => void this.pump().finally(resolve)));
  }

  private async pump(): Promise<void> {
    try {
      while (!this.stopping && this.raft.hasReady()) {
        const rd = this.raft.ready();
        this.readyGeneration++;
        await this.handleReady(rd);
        this.raft.advance(rd);
      }
      this.armCommitBroadcast();
    } catch (err) {
      this.die(err as Error);
    } finally {
      this.pumping = false;
    }
  }

  /**
   * A commit index the last Readys did not carry to every follower goes out on its own after
   * commitBroadcastDelayMs, unless an App with entries or a heartbeat takes it first. With one
   * write at a time the next write's App carries it: one message each way per follower fewer.
   */
  private armCommitBroadcast(): void {
    // With no delay the core sends the commit index itself (deferCommitBroadcast is off).
    if (this.config.commitBroadcastDelayMs === 0) return;
    if (this.commitBroadcastTimer !== undefined || this.stopping || !this.raft.hasCommitToBroadcast()) return;
    this.commitBroadcastTimer = setTimeout(() => {
      this.commitBroadcastTimer = undefined;
      if (this.stopping || this.fatalError !== undefined) return;
      this.raft.broadcastCommit();
      this.schedule();
    }, this.config.commitBroadcastDelayMs);
  }

  private async handleReady(rd: Ready): Promise<void> {
    const roleBefore = this.softState.role;
    if (rd.softState !== undefined) this.onSoftState(rd.softState);
    if (rd.snapshot !== undefined) await this.installSnapshot(rd.snapshot);
    else if (this.staged !== undefined && this.staged.steppedAtReady < this.readyGeneration) await this.abortStaged('raft did not take it');
    // Thesis §10.2.1: a leader sends its new entries while it writes them itself.
    const sendEarly = maySendBeforePersist(rd, roleBefore);
    if (sendEarly) this.sendMessages(rd.messages);
    // A hard state whose commit index alone moved gets no write of its own: it rides in the batch
    // that applies the entries it commits (as etcd-io/raft, it is never synced). One engine write per
    // Ready fewer on the leader's commit path.
    const commitOnly = rd.hardState !== undefined && rd.entries.length === 0 && !rd.mustSync && rd.committedEntries.length > 0;
    if (rd.hardState !== undefined) this.commitIndex = rd.hardState.commit;
    if (commitOnly) this.raftStorage.setHardState(rd.hardState!);
    if (rd.entries.length > 0 || (rd.hardState !== undefined && !commitOnly)) {
      // §5.1: the vote, the term and the entries are durable before any message says so.
      const startedAt = performance.now();
      const written = await this.store.persist({ hardState: rd.hardState, entries: rd.entries }, { sync: rd.mustSync });
      if (rd.entries.length > 0) this.metrics?.observeAppendToDurableSeconds((performance.now() - startedAt) / 1000);
      if (written.synced && written.durationMs >= SLOW_FSYNC_MS) {
        this.log.warn(
          { durationMs: Math.round(written.durationMs), entries: written.entryCount, bytes: written.bytes },
          'slow disk: a synced log write took longer than 100 ms; every commit waits for it — check the volume\'s latency (raftchat_storage_fsync_duration_seconds)',
        );
      }
      if (rd.entries.length > 0) this.raftStorage.append(rd.entries);
      if (rd.hardState !== undefined) this.raftStorage.setHardState(rd.hardState);
    }
    if (!sendEarly) this.sendMessages(rd.messages);
    if (rd.committedEntries.length > 0) await this.apply(rd.committedEntries);
    for (const rs of rd.readStates) this.reads.answered(rs.requestCtx, rs.index, this.appliedIndex);
    if (this.appliedIndex - this.snapshotIndex >= this.config.snapshotEveryEntries) await this.compact();
  }

  private sendMessages(messages: Message[]): void {
    if (messages.length === 0) return;
    if (this.metrics !== undefined) this.noteHeartbeats(messages);
    this.transport.send(messages);
  }

  private onSoftState(soft: SoftState): void {
    const previous = this.softState;
    this.softState = soft;
    this.metrics?.observeLeader(soft.leaderId);
    if (previous.leaderId !== soft.leaderId || previous.role !== soft.role) {
      this.log.info({ role: this.role(), leaderId: soft.leaderId, term: this.raft.status().hardState.term }, 'role changed');
      this.events.emit('role', this.role(), soft.leaderId);
      for (const wake of this.leaderWatchers) wake();
      if (previous.leaderId !== soft.leaderId) this.reads.retryInFlight();
    }
  }

  /** Applies committed entries in order, exactly once: chat commands in batches, conf changes singly. */
  private async apply(entries: Entry[]): Promise<void> {
    let batch: Entry[] = [];
    for (const entry of entries) {
      if (entry.index <= this.appliedIndex) continue; // already in a snapshot we installed
      if (entry.type === EntryType.ConfChange) {
        await this.applyCommands(batch);
        batch = [];
        await this.applyConfChange(entry);
      } else {
        batch.push(entry);
      }
    }
    await this.applyCommands(batch);
  }

  private async applyCommands(entries: Entry[]): Promise<void> {
    if (entries.length === 0) return;
    const startedAt = performance.now();
    const commands = entries.filter((e) => e.data.length > 0).map((e) => ({ index: e.index, data: e.data }));
    const { ops, results, events } = await this.stateMachine.applyBatch(this.store.keyspace(), commands);
    const last = entries[entries.length - 1]!;
    // The results are decided here: the entries are committed (durable on a quorum) and applying is
    // deterministic, so a crash before the batch below is written applies them again, to the same
    // results, on restart. Their proposers are answered now; the applied index, which reads wait
    // for, moves only once the keyspace holds the batch.
    for (const e of entries) this.proposals.applied(e.index, e.term, () => ({ index: e.index, result: results.get(e.index) }));
    await this.store.applyBatch(ops, last.index, last.term, { commit: this.commitIndex });
    this.appliedIndex = last.index;
    this.appliedTerm = last.term;
    this.metrics?.observeApplySeconds((performance.now() - startedAt) / 1000, entries.length);
    for (const message of events.messages) this.events.emit('message', message);
    for (const user of events.deletedAccounts) this.events.emit('accountDeleted', user);
    for (const user of events.revokedUsers) this.events.emit('sessionsRevoked', user);
    this.reads.applied(this.appliedIndex);
  }

  private async applyConfChange(entry: Entry): Promise<void> {
    const change = decodeConfChange(entry.data);
    const members = new Map(this.members);
    if (change.type === ConfChangeType.RemoveNode) members.delete(change.nodeId);
    else if (change.context.length > 0) members.set(change.nodeId, decodeMemberInfo(change.context));
    const confState = this.raft.applyConfChange(change);
    await this.store.applyBatch([], entry.index, entry.term, { confState, members: [...members.values()], commit: this.commitIndex });
    this.members = members;
    this.confState = confState;
    this.appliedIndex = entry.index;
    this.appliedTerm = entry.term;
    this.transport.setPeers(peerAddresses(members, this.nodeId));
    this.log.info(
      { change: ConfChangeType[change.type], member: change.nodeId, index: entry.index, voters: confState.voters, learners: confState.learners },
      'membership changed',
    );
    this.proposals.applied(entry.index, entry.term, () => ({ index: entry.index, result: undefined }));
    this.reads.applied(this.appliedIndex);
    if (change.type === ConfChangeType.RemoveNode && change.nodeId === this.nodeId) {
      this.log.warn({}, 'this replica was removed from the cluster; it no longer votes or serves writes');
    }
  }

  /** Log compaction (§7): keep a tail for followers slightly behind; the rest lives in the keyspace. */
  private async compact(): Promise<void> {
    const compactIndex = this.appliedIndex - this.config.compactionKeepEntries;
    if (compactIndex <= this.raftStorage.firstIndex() - 1) return;
    // A joiner given the log from index 1 (not a snapshot) knows the membership only once it applies
    // a conf change; a snapshot taken before could not tell a follower that restores it who votes.
    if (this.confState.voters.length === 0) return;
    const term = this.raftStorage.term(compactIndex);
    await this.store.compactLog(compactIndex, term, this.confState);
    this.raftStorage.createSnapshot(this.appliedIndex, this.confState, encodeMemberTable(this.members));
    this.raftStorage.compact(compactIndex);
    this.snapshotIndex = this.appliedIndex;
    this.log.debug({ compactIndex, applied: this.appliedIndex }, 'log compacted');
  }

  // ---- snapshots --------------------------------------------------------------------------------

  /**
   * The leader sends the keyspace as it is now, read through one database snapshot, and rewrites
   * the MsgSnap's metadata to match it: the index it claims is the index its bytes reflect.
   */
  private async snapshotSource(msg: Message) {
    const snap = await this.store.openSnapshot();
    this.snapshotsOut.set(msg.to, { startedAt: Date.now(), bytes: () => snap.bytes });
    msg.snapshot = {
      metadata: { index: snap.appliedIndex, term: snap.appliedTerm, confState: snap.confState },
      data: encodeMemberTable(new Map(snap.members.map((m) => [m.id, m]))),
    };
    this.log.info({ to: msg.to, index: snap.appliedIndex }, 'sending snapshot');
    return {
      chunks: snap.chunks(this.config.snapshotChunkBytes),
      checksum: () => snap.checksum(),
      close: () => snap.close(),
    };
  }

  /**
   * Stages an incoming snapshot beside the live keyspace, then steps its MsgSnap into raft. Raft may
   * still refuse it (stale); the next Ready then comes without it and the staging is discarded.
   */
  private async receiveSnapshot(incoming: IncomingSnapshot): Promise<void> {
    const snapshot = incoming.message.snapshot;
    if (snapshot === undefined) throw new ReplicaError('INVALID_ARGUMENT', 'snapshot header without metadata');
    if (this.staged !== undefined) await this.abortStaged('a newer snapshot arrived');
    const installer = await this.store.beginInstall();
    const startedAt = Date.now();
    try {
      for await (const pairs of incoming.chunks) await installer.write(pairs);
    } catch (err) {
      await installer.abort();
      throw err;
    }
    this.staged = {
      index: snapshot.metadata.index,
      installer,
      members: decodeMemberTable(snapshot.data),
      checksum: incoming.checksum(),
      steppedAtReady: this.readyGeneration,
    };
    this.log.info(
      { from: incoming.from, index: snapshot.metadata.index, pairs: installer.pairs, bytes: installer.bytes, ms: Date.now() - startedAt },
      'snapshot received',
    );
    this.metrics?.snapshotReceived(installer.bytes, (Date.now() - startedAt) / 1000);
    this.step(incoming.message);
  }

  private async installSnapshot(snapshot: Snapshot): Promise<void> {
    const staged = this.staged;
    if (staged === undefined || staged.index !== snapshot.metadata.index) {
      throw new Error(`raft asked to install snapshot ${snapshot.metadata.index} but ${staged?.index ?? 'none'} is staged`);
    }
    this.staged = undefined;
    const members = [...staged.members.values()];
    await staged.installer.finish({ metadata: snapshot.metadata, members, checksum: staged.checksum });
    // The keyspace was replaced: nothing the state machine remembers of the old one may be used.
    this.stateMachine.reset();
    this.raftStorage.applySnapshot(snapshot);
    this.members = staged.members;
    this.confState = snapshot.metadata.confState;
    this.appliedIndex = snapshot.metadata.index;
    this.appliedTerm = snapshot.metadata.term;
    this.snapshotIndex = snapshot.metadata.index;
    this.transport.setPeers(peerAddresses(this.members, this.nodeId));
    this.proposals.skippedThrough(this.appliedIndex);
    this.reads.applied(this.appliedIndex);
    this.log.info({ index: this.appliedIndex, voters: this.confState.voters }, 'snapshot installed');
    this.events.emit('snapshotInstalled', this.appliedIndex);
  }

  private async abortStaged(reason: string): Promise<void> {
    const staged = this.staged;
    this.staged = undefined;
    if (staged === undefined) return;
    this.log.info({ index: staged.index, reason }, 'staged snapshot discarded');
    await staged.installer.abort();
  }

  // ---- inputs -----------------------------------------------------------------------------------

  private tick(): void {
    if (this.stopping || this.fatalError !== undefined) return;
    this.raft.tick();
    this.ticks++;
    if (this.reads.pending > 0 && this.ticks % (2 * this.config.electionTicks) === 0) this.reads.retryInFlight();
    if (this.softState.role === 'leader' && this.ticks % this.config.heartbeatTicks === 0) void this.promoteLearners();
    this.schedule();
  }

  private receive(messages: Message[]): void {
    for (const m of messages) {
      if (m.type === MessageType.HeartbeatResp && this.metrics !== undefined) {
        const sentAt = this.heartbeatSentAt.get(m.from);
        if (sentAt !== undefined) {
          this.heartbeatSentAt.delete(m.from);
          this.metrics.observePeerRoundTripSeconds(m.from, (performance.now() - sentAt) / 1000);
        }
      }
      this.step(m);
    }
  }

  /** Heartbeat round trips measure the peer link (and the peer's event loop), not the disk. */
  private noteHeartbeats(messages: Message[]): void {
    const now = performance.now();
    for (const m of messages) {
      if (m.type !== MessageType.Heartbeat) continue;
      const sentAt = this.heartbeatSentAt.get(m.to);
      // A heartbeat unanswered for long was lost: start timing afresh rather than report the loss as latency.
      if (sentAt === undefined || now - sentAt > 10 * this.electionTimeoutMs()) this.heartbeatSentAt.set(m.to, now);
    }
  }

  private step(message: Message): void {
    if (this.stopping || this.fatalError !== undefined) return;
    try {
      const refused = this.raft.step(message);
      if (refused !== undefined) {
        this.metrics?.peerMessageRefused(refused.code);
        if (refused.code === 'beyond-log') {
          const { hardState, lastIndex } = this.raft.status();
          const lost = this.lostTail.refusedHeartbeat(message, { id: this.nodeId, term: hardState.term, lastIndex });
          if (lost !== undefined) {
            this.die(lost);
            return;
          }
        }
      }
    } catch (err) {
      if (err instanceof RaftError) {
        this.log.debug({ err, type: MessageType[message.type], from: message.from }, 'message dropped');
        return;
      }
      this.die(err as Error);
      return;
    }
    this.schedule();
  }

  private async handleForward(command: Uint8Array, deadlineMs: number): Promise<{ index: number; result: Uint8Array }> {
    if (this.softState.role !== 'leader') throw new NotLeaderError(this.softState.leaderId);
    const applied = await this.proposeLocal(command, deadlineMs);
    return { index: applied.index, result: encodeResult(applied.result ?? { kind: undefined }) };
  }

  // ---- ReplicaApi -------------------------------------------------------------------------------

  keyspace(): ChatKeyspace {
    return this.store.keyspace();
  }

  async propose(command: Command, options: ProposeOptions): Promise<{ index: number; result: CommandResult }> {
    const startedAt = performance.now();
    try {
      const outcome = await this.proposeOnce(encodeCommand(command), options);
      this.metrics?.proposalCommitted((performance.now() - startedAt) / 1000);
      return outcome;
    } catch (err) {
      this.metrics?.proposalFailed(err instanceof ReplicaError ? err.code : 'other');
      throw err;
    }
  }

  private async proposeOnce(data: Uint8Array, options: ProposeOptions): Promise<{ index: number; result: CommandResult }> {
    for (;;) {
      this.checkRunning();
      if (this.softState.role === 'leader') {
        const applied = await this.proposeLocal(data, options.deadlineMs);
        return { index: applied.index, result: applied.result ?? { kind: undefined } };
      }
      const leader = this.softState.leaderId;
      if (leader === '' || !this.members.has(leader)) {
        await this.waitForLeaderChange(options.deadlineMs);
        continue;
      }
      try {
        this.metrics?.forwardedWrite();
        const forwarded = await this.transport.forward(leader, data, options.deadlineMs);
        return { index: forwarded.index, result: decodeResult(forwarded.result) };
      } catch (err) {
        // Ask again only when the command certainly was not proposed (or certainly lost):
        // anything else may still commit, so the caller decides (sends carry a request id).
        if (neverApplied(err) && Date.now() < options.deadlineMs) {
          if (this.softState.leaderId === leader) {
            await this.waitForLeaderChange(Math.min(options.deadlineMs, Date.now() + this.electionTimeoutMs())).catch(() => undefined);
          }
          continue;
        }
        throw toReplicaError(err);
      }
    }
  }

  private proposeLocal(data: Uint8Array, deadlineMs: number): Promise<Applied> {
    this.checkRunning();
    if (this.proposals.size >= this.config.maxPendingProposals) {
      throw new ReplicaError('RESOURCE_EXHAUSTED', `${this.proposals.size} proposals already waiting to commit; retry later`);
    }
    let placed: { index: number; term: number };
    try {
      placed = this.raft.propose(data);
    } catch (err) {
      throw toReplicaError(err);
    }
    this.schedule();
    return this.proposals.wait(placed.index, placed.term, deadlineMs, () => this.commitTimeout(placed.index));
  }

  private commitTimeout(index: number): ReplicaError {
    if (this.softState.role !== 'leader' || !this.hasQuorum()) {
      return new ReplicaError('UNAVAILABLE', `entry ${index} was not committed in time: no quorum reachable; it may still commit, retry with the same request id`);
    }
    return new ReplicaError('DEADLINE_EXCEEDED', `entry ${index} was not committed before the deadline; it may still commit`);
  }

  async readBarrier(options: ProposeOptions): Promise<void> {
    this.checkRunning();
    const waiting = this.reads.wait(options.deadlineMs, () =>
      new ReplicaError('UNAVAILABLE', 'could not confirm the leader\'s commit index in time: no quorum reachable; retry'),
    );
    this.reads.flush();
    return waiting;
  }

  status(): ReplicaStatus {
    const s = this.raft.status();
    const members = describeMembers(this.members, this.confState);
    if (s.softState.role === 'leader') {
      for (const m of members) {
        const p = s.progress.get(m.id);
        if (p === undefined) continue;
        m.matchIndex = m.id === this.nodeId ? s.lastIndex : p.match;
        m.lag = Math.max(0, s.lastIndex - m.matchIndex);
        m.reachable = m.id === this.nodeId || p.recentActive;
        m.progressState = m.id === this.nodeId ? 'leader' : p.state;
      }
    } else {
      for (const m of members) m.reachable = m.id === this.nodeId || (m.id === s.softState.leaderId);
    }
    return {
      nodeId: this.nodeId,
      clusterId: this.clusterId,
      incarnation: this.incarnation,
      role: this.role(),
      term: s.hardState.term,
      leaderId: s.softState.leaderId,
      commitIndex: s.hardState.commit,
      appliedIndex: this.appliedIndex,
      firstIndex: s.firstIndex,
      lastIndex: s.lastIndex,
      snapshotIndex: this.snapshotIndex,
      members,
    };
  }

  async addMember(member: MemberInfo, options: ProposeOptions & { asLearner?: boolean }): Promise<MemberStatus[]> {
    if (member.id === '' || member.peerAddress === '') throw new ReplicaError('INVALID_ARGUMENT', 'a member needs an id and a peer address');
    if (this.confState.voters.includes(member.id) || this.confState.learners.includes(member.id)) {
      const known = this.members.get(member.id);
      if (member.incarnation === '' || known === undefined || known.incarnation === member.incarnation) {
        if (member.incarnation !== '' && known?.incarnation === member.incarnation) return this.status().members; // a retried request
        throw new ReplicaError('FAILED_PRECONDITION', `${member.id} is already a member`);
      }
      // Same name, new volume: the old member's votes and log are gone. Remove it first, so it is
      // never counted as a voter that remembers what it acknowledged (it does not), then re-add.
      this.log.warn({ member: member.id, was: known.incarnation, now: member.incarnation }, 'member came back with an empty volume: replacing it');
      await this.proposeConfChange({ type: ConfChangeType.RemoveNode, nodeId: member.id, context: new Uint8Array() }, options.deadlineMs);
    }
    const info: MemberInfo = { ...member, learnerOnly: options.asLearner === true };
    await this.proposeConfChange({ type: ConfChangeType.AddLearner, nodeId: member.id, context: encodeMemberInfo(info) }, options.deadlineMs);
    return this.status().members;
  }

  async removeMember(id: string, options: ProposeOptions): Promise<MemberStatus[]> {
    if (!this.confState.voters.includes(id) && !this.confState.learners.includes(id)) {
      throw new ReplicaError('NOT_FOUND', `${id} is not a member`);
    }
    await this.proposeConfChange({ type: ConfChangeType.RemoveNode, nodeId: id, context: new Uint8Array() }, options.deadlineMs);
    return this.status().members;
  }

  /** Conf changes are proposed on the leader only; callers reach it through any replica's API. */
  private async proposeConfChange(change: ConfChange, deadlineMs: number): Promise<void> {
    this.checkRunning();
    for (;;) {
      if (this.softState.role === 'leader') break;
      if (Date.now() >= deadlineMs) throw new ReplicaError('UNAVAILABLE', 'no leader to change the membership; retry');
      if (this.softState.leaderId !== '') {
        throw new ReplicaError('FAILED_PRECONDITION', `membership changes are made on the leader: ask ${this.leaderClientAddress()}`);
      }
      await this.waitForLeaderChange(deadlineMs);
    }
    let placed: { index: number; term: number };
    try {
      placed = this.raft.proposeConfChange(change);
    } catch (err) {
      throw toReplicaError(err);
    }
    this.schedule();
    await this.proposals.wait(placed.index, placed.term, deadlineMs, () => this.commitTimeout(placed.index));
  }

  async transferLeadership(toId: string, options: ProposeOptions): Promise<string> {
    this.checkRunning();
    let target = toId;
    if (target === '') target = this.pickTransferTarget();
    if (target === '') throw new ReplicaError('FAILED_PRECONDITION', 'no other voter to transfer leadership to');
    if (!this.confState.voters.includes(target)) throw new ReplicaError('FAILED_PRECONDITION', `${target} is not a voter`);
    if (this.softState.leaderId === target) return target;
    try {
      this.raft.transferLeadership(target);
    } catch (err) {
      throw toReplicaError(err);
    }
    this.schedule();
    while (this.softState.leaderId !== target) {
      if (Date.now() >= options.deadlineMs) {
        throw new ReplicaError('DEADLINE_EXCEEDED', `leadership did not move to ${target} in time (it may be behind or unreachable)`);
      }
      await this.waitForLeaderChange(options.deadlineMs);
    }
    return target;
  }

  /** The most caught-up other voter in the leader's view; on a follower, itself if it votes. */
  private pickTransferTarget(): string {
    const s = this.raft.status();
    if (s.softState.role !== 'leader') return this.confState.voters.includes(this.nodeId) ? this.nodeId : '';
    let best = '';
    let bestMatch = -1;
    for (const id of this.confState.voters) {
      if (id === this.nodeId) continue;
      const p = s.progress.get(id);
      if (p !== undefined && p.recentActive && p.match > bestMatch) {
        best = id;
        bestMatch = p.match;
      }
    }
    return best;
  }

  async digest(): Promise<{ appliedIndex: number; digest: string; accounts: number; messages: number }> {
    const d = await this.store.digest(countKind);
    return { appliedIndex: d.appliedIndex, digest: d.digest, accounts: d.counts['accounts'] ?? 0, messages: d.counts['messages'] ?? 0 };
  }

  isCaughtUp(): boolean {
    const s = this.raft.status();
    return s.softState.leaderId !== '' && this.appliedIndex >= s.hardState.commit;
  }

  // ---- membership upkeep ------------------------------------------------------------------------

  /** The leader promotes a learner once its log is within reach of the commit index. */
  private async promoteLearners(): Promise<void> {
    if (this.promoting || this.confState.learners.length === 0) return;
    const s = this.raft.status();
    for (const id of this.confState.learners) {
      const p = s.progress.get(id);
      const info = this.members.get(id);
      if (p === undefined || info === undefined || info.learnerOnly) continue;
      // Only a learner that is really replicating: match 0 early in a cluster's life is "close" too.
      if (!p.recentActive || p.state !== 'replicate' || p.match === 0) continue;
      if (p.match + PROMOTION_MAX_LAG_ENTRIES < s.hardState.commit) continue;
      this.promoting = true;
      try {
        this.log.info({ member: id, match: p.match, commit: s.hardState.commit }, 'promoting caught-up learner to voter');
        await this.proposeConfChange(
          { type: ConfChangeType.AddNode, nodeId: id, context: encodeMemberInfo(info) },
          Date.now() + 4 * this.electionTimeoutMs(),
        );
      } catch (err) {
        this.log.debug({ err, member: id }, 'learner promotion deferred');
      } finally {
        this.promoting = false;
      }
      return;
    }
  }

  // ---- lifecycle --------------------------------------------------------------------------------

  /**
   * Stops the replica. With `transferLeadership`, a leader first hands over to the most caught-up
   * voter (thesis §3.10) so the cluster does not wait out an election timeout.
   */
  async stop(options: { transferLeadership?: boolean; timeoutMs?: number } = {}): Promise<void> {
    if (this.stopping) return;
    if (options.transferLeadership === true && this.softState.role === 'leader' && this.fatalError === undefined) {
      const target = this.pickTransferTarget();
      if (target !== '') {
        try {
          await this.transferLeadership(target, { deadlineMs: Date.now() + (options.timeoutMs ?? 3 * this.electionTimeoutMs()) });
          this.log.info({ to: target }, 'leadership handed over before stopping');
        } catch (err) {
          this.log.warn({ err, to: target }, 'leadership transfer before stopping failed; stopping anyway');
        }
      }
    }
    this.stopping = true;
    clearInterval(this.tickTimer);
    clearTimeout(this.commitBroadcastTimer);
    await this.pumpDone;
    const stopped = new ReplicaError('STOPPED', 'the replica is stopping; retry on another replica');
    this.proposals.failAll(stopped);
    this.reads.failAll(stopped);
    for (const wake of this.leaderWatchers) wake();
    await this.peerServer?.close();
    this.transport.close();
    await this.abortStaged('stopping').catch(() => undefined);
    await this.store.close();
    this.log.info({ applied: this.appliedIndex }, 'replica stopped');
  }

  /** A fatal error (disk, corruption, broken invariant): stop at once, loudly. */
  private die(err: Error): void {
    if (this.fatalError !== undefined) return;
    this.fatalError = err;
    this.log.fatal({ err }, 'replica stopping on a fatal error: no further writes are accepted here; fix the cause and restart it');
    const error = new ReplicaError('UNAVAILABLE', 'this replica hit a fatal error and is stopping; retry on another replica');
    this.proposals.failAll(error);
    this.reads.failAll(error);
    this.events.emit('fatal', err);
  }

  get fatal(): Error | undefined {
    return this.fatalError;
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private role(): ReplicaRole {
    if (this.softState.role === 'follower' && !this.confState.voters.includes(this.nodeId)) return 'learner';
    return this.softState.role;
  }

  private hasQuorum(): boolean {
    const s = this.raft.status();
    if (s.softState.role !== 'leader') return false;
    let reachable = 0;
    for (const id of this.confState.voters) if (id === this.nodeId || s.progress.get(id)?.recentActive) reachable++;
    return reachable > this.confState.voters.length / 2;
  }

  private electionTimeoutMs(): number {
    return this.config.electionTicks * this.config.tickIntervalMs;
  }

  private leaderClientAddress(): string {
    return this.members.get(this.softState.leaderId)?.clientAddress ?? this.softState.leaderId;
  }

  private waitForLeaderChange(deadlineMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.leaderWatchers.delete(done);
        if (this.stopping) reject(new ReplicaError('STOPPED', 'the replica is stopping; retry on another replica'));
        else resolve();
      };
      const timer = setTimeout(() => {
        this.leaderWatchers.delete(done);
        reject(new ReplicaError('UNAVAILABLE', 'no leader elected before the deadline: the cluster may have lost its quorum; retry'));
      }, Math.max(0, deadlineMs - Date.now()));
      this.leaderWatchers.add(done);
    });
  }

  private checkRunning(): void {
    if (this.fatalError !== undefined) throw new ReplicaError('UNAVAILABLE', 'this replica stopped on a fatal error; use another replica');
    if (this.stopping) throw new ReplicaError('STOPPED', 'the replica is stopping; retry on another replica');
  }
}

/** Thrown to a forwarding follower: this replica is not (or no longer) the leader. */
class NotLeaderError extends Error {
  readonly code = 'NOT_LEADER';
  constructor(leaderId: string) {
    super(`not the leader (leader: ${leaderId || 'unknown'})`);
  }
}

/** A forward that failed before the leader proposed the command, or whose entry was overwritten. */
function neverApplied(err: unknown): boolean {
  if (!(err instanceof TransportError)) return false;
  if (err.remoteCode === 'NOT_LEADER' || err.remoteCode === 'PROPOSAL_DROPPED') return true;
  if (err.code === 'UNKNOWN_PEER' || err.code === 'CLOSED') return true;
  return err.code === 'UNAVAILABLE' && err.status === undefined;
}

function toReplicaError(err: unknown): Error {
  if (err instanceof ReplicaError) return err;
  if (err instanceof RaftError) {
    switch (err.code) {
      case 'PROPOSAL_DROPPED':
        return new ReplicaError('UNAVAILABLE', 'not the leader, or leadership is moving; retry');
      case 'PROPOSAL_BACKPRESSURE':
        return new ReplicaError('RESOURCE_EXHAUSTED', 'too many uncommitted proposals; retry later');
      case 'CONF_CHANGE_PENDING':
        return new ReplicaError('FAILED_PRECONDITION', 'another membership change is in progress; retry when it completes');
      case 'CONF_CHANGE_INVALID':
      case 'TRANSFER_REFUSED':
        return new ReplicaError('FAILED_PRECONDITION', err.message);
      default:
        return new ReplicaError('UNAVAILABLE', err.message);
    }
  }
  if (err instanceof TransportError) {
    if (err.code === 'DEADLINE_EXCEEDED') return new ReplicaError('DEADLINE_EXCEEDED', err.message);
    if (err.remoteCode === 'RESOURCE_EXHAUSTED') return new ReplicaError('RESOURCE_EXHAUSTED', err.message);
    if (err.remoteCode === 'UNAVAILABLE') return new ReplicaError('UNAVAILABLE', err.message);
  }
  return new ReplicaError('UNAVAILABLE', `could not reach the leader: ${(err as Error).message}; retry`);
}

/** Every member of a static cluster derives the same id from the same member list. */
function staticClusterId(members: string[]): string {
  return `static-${createHash('sha256').update([...members].sort().join(',')).digest('hex').slice(0, 16)}`;
}
