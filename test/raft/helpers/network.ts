// An in-memory cluster of RawNodes for tests: each node has a MemoryStorage as its disk, a tiny
// state machine (the list of applied payloads) and a mailbox; the network can drop, partition and
// crash. Every Ready is handled by the contract in src/raft/types.ts: persist, send, apply, advance.
import {
  ConfChangeType, EntryType, MemoryStorage, MessageType, RawNode, decodeConfChange, mulberry32,
  type ConfChange, type ConfState, type Config, type Entry, type Message, type NodeId, type ReadState,
} from '../../../src/raft/index.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface ClusterOptions {
  electionTicks?: number;
  heartbeatTicks?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  maxBytesPerMessage?: number;
  maxInflightMessages?: number;
  maxCommittedBytesPerReady?: number;
  maxUncommittedBytes?: number;
  seed?: number;
}

/** One replica: its durable storage survives crash(); everything else is rebuilt on restart(). */
export class TestNode {
  readonly id: NodeId;
  storage: MemoryStorage;
  raw: RawNode;
  /** The state machine: payloads of applied Normal entries, in order (the no-op excluded). */
  values: string[] = [];
  /** Every applied entry's (index, term, payload), to compare replicas. */
  appliedEntries: Entry[] = [];
  appliedIndex = 0;
  confState: ConfState;
  readStates: ReadState[] = [];
  up = true;

  constructor(id: NodeId, storage: MemoryStorage, private readonly makeConfig: (id: NodeId, storage: MemoryStorage, applied: number) => Config) {
    this.id = id;
    this.storage = storage;
    this.confState = storage.initialState().confState;
    this.raw = new RawNode(makeConfig(id, storage, 0));
  }

  /** Rebuild the node from its storage; the state machine restarts from the last snapshot. */
  restart(): void {
    const snap = this.storage.snapshot();
    this.values = snap.data.length > 0 ? (JSON.parse(decoder.decode(snap.data)) as string[]) : [];
    this.appliedEntries = [];
    this.appliedIndex = snap.metadata.index;
    this.confState = snap.metadata.confState;
    this.readStates = [];
    this.raw = new RawNode(this.makeConfig(this.id, this.storage, this.appliedIndex));
    this.up = true;
  }
}

export class Network {
  readonly nodes = new Map<NodeId, TestNode>();
  /** Messages sent and not yet delivered, in send order. */
  inFlight: Message[] = [];
  private readonly cut = new Set<string>();
  /** Leaders seen per term, for the election-safety check. */
  readonly leadersByTerm = new Map<number, NodeId>();
  /** Every (index → term, data) any replica applied: all replicas must agree (state machine safety). */
  readonly appliedByIndex = new Map<number, string>();
  dropFilter: ((m: Message) => boolean) | undefined;
  readonly options: Required<Omit<ClusterOptions, 'maxCommittedBytesPerReady' | 'maxUncommittedBytes'>> & ClusterOptions;
  delivered = 0;

  constructor(voters: NodeId[], options: ClusterOptions = {}, learners: NodeId[] = []) {
    this.options = {
      electionTicks: 10, heartbeatTicks: 1, preVote: false, checkQuorum: false,
      maxBytesPerMessage: 1 << 20, maxInflightMessages: 256, seed: 1, ...options,
    };
    for (const id of [...voters, ...learners]) {
      this.addNodeWithStorage(id, MemoryStorage.bootstrap({ voters, learners }));
    }
  }

  private config(id: NodeId, storage: MemoryStorage, applied: number): Config {
    let seed = this.options.seed;
    for (let i = 0; i < id.length; i++) seed = (seed * 31 + id.charCodeAt(i)) >>> 0;
    const o = this.options;
    return {
      id, storage, applied,
      electionTicks: o.electionTicks, heartbeatTicks: o.heartbeatTicks,
      maxBytesPerMessage: o.maxBytesPerMessage, maxInflightMessages: o.maxInflightMessages,
      ...(o.maxCommittedBytesPerReady !== undefined ? { maxCommittedBytesPerReady: o.maxCommittedBytesPerReady } : {}),
      ...(o.maxUncommittedBytes !== undefined ? { maxUncommittedBytes: o.maxUncommittedBytes } : {}),
      preVote: o.preVote, checkQuorum: o.checkQuorum, random: mulberry32(seed),
    };
  }

  addNodeWithStorage(id: NodeId, storage: MemoryStorage): TestNode {
    const node = new TestNode(id, storage, (i, s, a) => this.config(i, s, a));
    this.nodes.set(id, node);
    return node;
  }

  /** A brand-new, empty replica waiting to be added by a conf change. */
  addEmptyNode(id: NodeId): TestNode {
    return this.addNodeWithStorage(id, new MemoryStorage());
  }

  node(id: NodeId): TestNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  raw(id: NodeId): RawNode {
    return this.node(id).raw;
  }

  // ---- faults ----

  partition(groups: NodeId[][]): void {
    this.cut.clear();
    for (const a of groups) for (const b of groups) {
      if (a === b) continue;
      for (const x of a) for (const y of b) this.cut.add(`${x}>${y}`);
    }
  }

  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) {
      if (other === id) continue;
      this.cut.add(`${id}>${other}`);
      this.cut.add(`${other}>${id}`);
    }
  }

  cutOneWay(from: NodeId, to: NodeId): void {
    this.cut.add(`${from}>${to}`);
  }

  heal(): void {
    this.cut.clear();
  }

  /** Lose everything not durable: unsent messages, the unstable log, volatile state. */
  crash(id: NodeId): void {
    const n = this.node(id);
    n.up = false;
    this.inFlight = this.inFlight.filter((m) => m.to !== id && m.from !== id);
  }

  restart(id: NodeId): void {
    this.node(id).restart();
  }

  // ---- driving ----

  /** Handle every pending Ready of `id` by the persistence contract. */
  processReady(id: NodeId): void {
    const n = this.node(id);
    if (!n.up) return;
    while (n.raw.hasReady()) {
      const rd = n.raw.ready();
      // 1. persist
      if (rd.snapshot !== undefined) n.storage.applySnapshot(rd.snapshot);
      n.storage.append(rd.entries);
      if (rd.hardState !== undefined) n.storage.setHardState(rd.hardState);
      // 2. send
      for (const m of rd.messages) this.inFlight.push(m);
      // 3. apply
      if (rd.snapshot !== undefined) {
        const data = rd.snapshot.data;
        n.values = data.length > 0 ? (JSON.parse(decoder.decode(data)) as string[]) : [];
        n.appliedIndex = rd.snapshot.metadata.index;
        n.confState = rd.snapshot.metadata.confState;
      }
      for (const e of rd.committedEntries) this.apply(n, e);
      // 4. reads
      for (const rs of rd.readStates) n.readStates.push(rs);
      n.raw.advance(rd);
    }
    this.checkSafety();
  }

  private apply(n: TestNode, e: Entry): void {
    if (e.index !== n.appliedIndex + 1) {
      throw new Error(`${n.id} applied ${e.index} after ${n.appliedIndex}: out of order or twice`);
    }
    n.appliedIndex = e.index;
    const key = `${e.term}:${e.type}:${decoder.decode(e.data)}`;
    const seen = this.appliedByIndex.get(e.index);
    if (seen !== undefined && seen !== key) {
      throw new Error(`state machine safety: index ${e.index} applied as ${seen} and as ${key} (${n.id})`);
    }
    this.appliedByIndex.set(e.index, key);
    n.appliedEntries.push(e);
    if (e.type === EntryType.ConfChange) {
      n.confState = n.raw.applyConfChange(decodeConfChange(e.data));
    } else if (e.data.length > 0) {
      n.values.push(decoder.decode(e.data));
    }
  }

  processAll(): void {
    for (const id of this.nodes.keys()) this.processReady(id);
  }

  private blocked(m: Message): boolean {
    if (this.cut.has(`${m.from}>${m.to}`)) return true;
    const to = this.nodes.get(m.to);
    if (to === undefined || !to.up) return true;
    const from = this.nodes.get(m.from);
    if (from !== undefined && !from.up) return true;
    return this.dropFilter !== undefined && this.dropFilter(m);
  }

  /** Deliver messages (and the messages they cause) until the network is quiet. */
  deliver(maxRounds = 10_000): void {
    this.processAll();
    for (let round = 0; round < maxRounds; round++) {
      if (this.inFlight.length === 0) return;
      const batch = this.inFlight;
      this.inFlight = [];
      for (const m of batch) {
        if (this.blocked(m)) {
          // Like the transport: a snapshot that could not be delivered is reported as failed.
          const sender = this.nodes.get(m.from);
          if (m.type === MessageType.Snap && sender !== undefined && sender.up) sender.raw.reportSnapshot(m.to, false);
          continue;
        }
        this.delivered++;
        this.node(m.to).raw.step(m);
        // Like the transport: once the snapshot's bytes have arrived, report success to the sender.
        const sender = this.nodes.get(m.from);
        if (m.type === MessageType.Snap && sender !== undefined && sender.up) sender.raw.reportSnapshot(m.to, true);
      }
      this.processAll();
    }
    throw new Error(`network did not go quiet within ${maxRounds} rounds`);
  }

  /** Drop everything in flight. */
  dropAll(): void {
    this.inFlight = [];
  }

  tick(id: NodeId, times = 1): void {
    const n = this.node(id);
    if (!n.up) return;
    for (let i = 0; i < times; i++) n.raw.tick();
    this.processReady(id);
  }

  /** `rounds` times: tick every live node once, then deliver until quiet. */
  run(rounds: number): void {
    for (let r = 0; r < rounds; r++) {
      for (const n of this.nodes.values()) if (n.up) n.raw.tick();
      this.deliver();
    }
  }

  /** Make `id` campaign and deliver the election. */
  elect(id: NodeId): void {
    this.raw(id).campaign();
    this.deliver();
  }

  propose(id: NodeId, value: string): { index: number; term: number } {
    const r = this.raw(id).propose(encoder.encode(value));
    this.processReady(id);
    return r;
  }

  proposeConfChange(id: NodeId, type: ConfChangeType, target: NodeId): { index: number; term: number } {
    const cc: ConfChange = { type, nodeId: target, context: new Uint8Array() };
    const r = this.raw(id).proposeConfChange(cc);
    this.processReady(id);
    return r;
  }

  /** Snapshot `id`'s state machine at its applied index and compact its log up to `index`. */
  compact(id: NodeId, index: number): void {
    const n = this.node(id);
    if (index > n.appliedIndex) throw new Error(`compact ${id} at ${index}: applied only ${n.appliedIndex}`);
    const valuesAt = n.values; // the test state machine is at appliedIndex; snapshot there
    n.storage.createSnapshot(n.appliedIndex, n.confState, encoder.encode(JSON.stringify(valuesAt)));
    n.storage.compact(index);
  }

  leaders(): NodeId[] {
    const out: NodeId[] = [];
    for (const n of this.nodes.values()) if (n.up && n.raw.status().softState.role === 'leader') out.push(n.id);
    return out;
  }

  /** The leader with the highest term among live nodes, or undefined. */
  leader(): NodeId | undefined {
    let best: NodeId | undefined;
    let bestTerm = -1;
    for (const id of this.leaders()) {
      const t = this.raw(id).status().hardState.term;
      if (t > bestTerm) { best = id; bestTerm = t; }
    }
    return best;
  }

  /** Election safety and log matching over every live node; throws on a violation. */
  checkSafety(): void {
    for (const n of this.nodes.values()) {
      if (!n.up) continue;
      const st = n.raw.status();
      if (st.softState.role === 'leader') {
        const seen = this.leadersByTerm.get(st.hardState.term);
        if (seen !== undefined && seen !== n.id) {
          throw new Error(`election safety: ${seen} and ${n.id} both led term ${st.hardState.term}`);
        }
        this.leadersByTerm.set(st.hardState.term, n.id);
      }
    }
  }

  messagesOfType(type: MessageType): Message[] {
    return this.inFlight.filter((m) => m.type === type);
  }
}

export function bytes(s: string): Uint8Array {
  return encoder.encode(s);
}

export function text(b: Uint8Array): string {
  return decoder.decode(b);
}
