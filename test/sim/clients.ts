// The simulated clients: each has at most one proposal outstanding, sends it to the replica it
// believes leads, and retries elsewhere when it is refused, lost or unanswered. A proposal counts as
// acknowledged when the replica it was proposed to applies it at the index the core promised.
import { RaftError, type NodeId, type ReadState } from '../../src/raft/index.js';
import type { SimCluster } from './cluster.js';
import type { SimReplica } from './replica.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Attempt {
  replicaId: NodeId;
  incarnation: number;
  index: number;
  sinceStep: number;
}

interface Client {
  readonly id: number;
  seq: number;
  attempt: number;
  /** The command being proposed, until it is acknowledged. */
  command: string | undefined;
  inFlight: Attempt | undefined;
  retryAtStep: number;
}

interface PendingRead {
  replicaId: NodeId;
  incarnation: number;
  /** Highest index acknowledged to any client when the read was issued. */
  acknowledgedBefore: number;
  issuedAtStep: number;
}

export class Clients {
  private readonly clients: Client[] = [];
  /** Per replica: index → client waiting for that index to be applied there. */
  private readonly waiters = new Map<NodeId, Map<number, Client>>();
  private readonly reads = new Map<string, PendingRead>();
  private nextReadId = 1;
  acknowledgedCount = 0;

  constructor(private readonly cluster: SimCluster) {
    for (let i = 0; i < cluster.scenario.clientCount; i++) {
      this.clients.push({ id: i, seq: 0, attempt: 0, command: undefined, inFlight: undefined, retryAtStep: 0 });
    }
  }

  /** True while some client still waits for a proposal to be acknowledged. */
  get anyPending(): boolean {
    return this.clients.some((client) => client.command !== undefined);
  }

  pendingSummary(): string {
    return this.clients
      .filter((client) => client.command !== undefined)
      .map((client) => `c${client.id}#${client.seq}.${client.attempt}@${client.inFlight?.replicaId ?? '-'}:${client.inFlight?.index ?? '-'}`)
      .join(' ');
  }

  act(newWork: boolean): void {
    const { rng, scenario, now } = this.cluster;
    for (const client of this.clients) {
      if (client.command === undefined) {
        if (!newWork || !rng.chance(scenario.proposalProbability / scenario.clientCount)) continue;
        client.seq++;
        client.attempt = 0;
        client.command = '';
      }
      if (client.inFlight !== undefined) {
        if (now - client.inFlight.sinceStep < scenario.clientTimeoutSteps) continue;
        this.abandon(client, 'timed out');
      }
      if (now >= client.retryAtStep) this.submit(client);
    }
    if (newWork && rng.chance(scenario.readProbability)) this.read();
    if (now % 64 === 0) this.expireReads();
  }

  /** Send the client's command to the replica some live replica names as leader (or any replica). */
  private submit(client: Client): void {
    const { rng, now } = this.cluster;
    const live = this.cluster.liveReplicas().filter((replica) => !replica.retired);
    if (live.length === 0) return;
    const asked = rng.pick(live);
    const named = this.cluster.replicas.get(asked.leaderId);
    const target = named?.node !== undefined ? named : asked;
    const node = target.node;
    if (node === undefined) return;
    client.attempt++;
    // Each attempt is its own command: a retry after a timeout may commit twice, and deduplication
    // is the state machine's business (the chat layer's request ids), not Raft's.
    client.command = `p${client.id}.${client.seq}.${client.attempt}`;
    const command = client.command;
    try {
      const { index } = node.propose(encoder.encode(command));
      client.inFlight = { replicaId: target.id, incarnation: target.incarnation, index, sinceStep: now };
      this.waitersOf(target.id).set(index, client);
      this.cluster.log(() => `${target.id} propose ${command} -> ${index}`);
    } catch (error) {
      if (!(error instanceof RaftError)) throw error;
      this.cluster.log(() => `${target.id} refused ${command}: ${error.code}`);
      client.retryAtStep = now + 1 + rng.int(this.cluster.scenario.electionTicks);
      return;
    }
    target.drain(this.cluster);
  }

  private waitersOf(replicaId: NodeId): Map<number, Client> {
    let waiters = this.waiters.get(replicaId);
    if (waiters === undefined) {
      waiters = new Map();
      this.waiters.set(replicaId, waiters);
    }
    return waiters;
  }

  private abandon(client: Client, why: string): void {
    const inFlight = client.inFlight;
    if (inFlight !== undefined) this.waiters.get(inFlight.replicaId)?.delete(inFlight.index);
    client.inFlight = undefined;
    client.retryAtStep = this.cluster.now + 1 + this.cluster.rng.int(3);
    this.cluster.log(() => `client c${client.id} gives up on ${client.command}: ${why}`);
  }

  onApplied(replica: SimReplica, index: number, command: string): void {
    const waiters = this.waiters.get(replica.id);
    const client = waiters?.get(index);
    if (waiters === undefined || client === undefined) return;
    waiters.delete(index);
    this.settle(client, replica, index, command);
  }

  private settle(client: Client, replica: SimReplica, index: number, command: string): void {
    if (client.inFlight?.incarnation !== replica.incarnation) return;
    if (command === client.command) {
      this.cluster.checker.onAcknowledged(index, command);
      this.acknowledgedCount++;
      this.cluster.log(() => `ACK ${command} at ${index} by ${replica.id}`);
      client.command = undefined;
      client.inFlight = undefined;
    } else {
      // Another entry won this index: the proposal was lost to a new leader (README: propose).
      this.abandon(client, `index ${index} holds '${command}'`);
    }
  }

  /** A snapshot jumped the replica's state machine past some waiters' indexes. */
  onSnapshotInstalled(replica: SimReplica): void {
    const waiters = this.waiters.get(replica.id);
    if (waiters === undefined) return;
    for (const [index, client] of waiters) {
      const command = replica.sm.commandAt(index);
      if (command === undefined) continue;
      waiters.delete(index);
      this.settle(client, replica, index, command);
    }
  }

  /** A crashed replica answers nobody: its clients see the connection drop and retry. */
  onCrash(replica: SimReplica): void {
    const waiters = this.waiters.get(replica.id);
    if (waiters === undefined) return;
    this.waiters.delete(replica.id);
    for (const client of waiters.values()) this.abandon(client, `${replica.id} crashed`);
  }

  private read(): void {
    const { rng, now, checker } = this.cluster;
    const live = this.cluster.liveReplicas().filter((replica) => !replica.retired);
    if (live.length === 0) return;
    // Half the reads go to a replica that believes it leads: a client keeps using the leader it
    // knows, and a deposed leader that has not noticed yet is exactly where a stale read would come from.
    const leaders = live.filter((replica) => replica.role === 'leader');
    const target = leaders.length > 0 && rng.chance(0.5) ? rng.pick(leaders) : rng.pick(live);
    const node = target.node;
    if (node === undefined) return;
    const ctx = `r${this.nextReadId++}`;
    try {
      node.readIndex(encoder.encode(ctx));
    } catch (error) {
      if (!(error instanceof RaftError)) throw error;
      return;
    }
    this.reads.set(ctx, {
      replicaId: target.id,
      incarnation: target.incarnation,
      acknowledgedBefore: checker.maxAcknowledgedIndex,
      issuedAtStep: now,
    });
    this.cluster.log(() => `${target.id} readIndex ${ctx} (acknowledged so far ${checker.maxAcknowledgedIndex})`);
    target.drain(this.cluster);
  }

  onReadStates(replica: SimReplica, readStates: readonly ReadState[]): void {
    for (const readState of readStates) {
      const ctx = decoder.decode(readState.requestCtx);
      const pending = this.reads.get(ctx);
      if (pending === undefined || pending.replicaId !== replica.id || pending.incarnation !== replica.incarnation) continue;
      this.reads.delete(ctx);
      this.cluster.log(() => `${replica.id} read ${ctx} at ${readState.index}`);
      this.cluster.checker.onReadState(replica.id, readState.index, pending.acknowledgedBefore, ctx);
    }
  }

  /** Unanswered reads (their message was lost) are given up after a while. */
  private expireReads(): void {
    const horizon = this.cluster.now - this.cluster.scenario.clientTimeoutSteps;
    for (const [ctx, read] of this.reads) if (read.issuedAtStep < horizon) this.reads.delete(ctx);
  }
}
