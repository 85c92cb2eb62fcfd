// The peer fuzz (issue #7): an authenticated but buggy peer inside the simulation. It records real
// messages as the network carries them and, at random steps of the chaos phase, injects exact replays
// (any age, to any node) and malformed mutations of them; every invariant is checked as usual.
import { MessageType, type Message, type PeerMessageRefusal } from '../../src/raft/index.js';
import type { SimCluster } from './cluster.js';
import { copyMessage } from './network.js';
import { GENERIC_MUTATIONS, MUTATIONS, retargetable } from './peer-mutations.js';
import type { SimReplica } from './replica.js';
import { Rng } from './rng.js';
import { describeMessage } from './trace.js';
import { violated } from './violation.js';

export interface PeerFuzzStats {
  /** Exact copies delivered to their addressee. */
  replays: number;
  /** Exact copies delivered to a node they are not addressed to (must be refused). */
  misaddressed: number;
  /** Copies readdressed to another node, where that is no lie (peer-mutations.ts retargetable). */
  retargeted: number;
  /** Malformed messages, by mutation class. */
  mutations: Record<string, number>;
  /** Injected messages the core refused, by refusal code. */
  refusals: Record<string, number>;
}

export interface PeerFuzzOptions {
  /**
   * Fail a run when a malformed message is stepped rather than refused, or a replay is refused.
   * Off only to measure what the invariants alone catch (the teeth test bypasses the check).
   */
  checkRefusals: boolean;
}

/** Per message type: a uniform sample of the whole history, and the newest few. */
const SAMPLE_PER_TYPE = 32;
const RECENT_PER_TYPE = 16;
/** Decorrelates the fuzzer's stream from the cluster's, which stays as it would be without it. */
const FUZZ_SEED_SALT = 0x5bd1e995;

interface Recorded {
  sample: Message[];
  recent: Message[];
  seen: number;
}

export class PeerFuzzer {
  private readonly rng: Rng;
  private readonly byType = new Map<MessageType, Recorded>();
  /** Chance, per chaos step, of a burst of one to three injections (drawn per seed). */
  readonly injectionProbability: number;
  readonly stats: PeerFuzzStats = emptyFuzzStats();

  constructor(seed: number, private readonly options: PeerFuzzOptions) {
    this.rng = new Rng((seed ^ FUZZ_SEED_SALT) >>> 0);
    this.injectionProbability = this.rng.pick([0.05, 0.2, 0.5, 1]);
  }

  /** Keep a copy of a message a replica sent (reservoir sampling keeps old ones as likely as new). */
  record(message: Message): void {
    let recorded = this.byType.get(message.type);
    if (recorded === undefined) {
      recorded = { sample: [], recent: [], seen: 0 };
      this.byType.set(message.type, recorded);
    }
    const copy = copyMessage(message);
    recorded.seen++;
    if (recorded.sample.length < SAMPLE_PER_TYPE) {
      recorded.sample.push(copy);
    } else {
      const slot = this.rng.int(recorded.seen);
      if (slot < SAMPLE_PER_TYPE) recorded.sample[slot] = copy;
    }
    recorded.recent.push(copy);
    if (recorded.recent.length > RECENT_PER_TYPE) recorded.recent.shift();
  }

  /** One chaos step's worth of the buggy peer. */
  act(cluster: SimCluster): void {
    if (!this.rng.chance(this.injectionProbability)) return;
    const burst = 1 + this.rng.int(3);
    for (let i = 0; i < burst; i++) this.injectOne(cluster);
  }

  private pickRecorded(): Message | undefined {
    if (this.byType.size === 0) return undefined;
    // Type first, so rare messages (TimeoutNow, Snap, TransferLeader) get their share.
    const recorded = this.rng.pick([...this.byType.values()]);
    return this.rng.pick(this.rng.chance(0.5) ? recorded.sample : recorded.recent);
  }

  private injectOne(cluster: SimCluster): void {
    const original = this.pickRecorded();
    if (original === undefined) return;
    const roll = this.rng.float();
    if (roll < 0.3) this.replay(cluster, original);
    else if (roll < 0.4) this.misaddress(cluster, original);
    else if (roll < 0.55 && retargetable(original)) this.retarget(cluster, original);
    else this.mutate(cluster, original);
  }

  /** A late duplicate of any age: a correct message, refused only if its sender has left. */
  private replay(cluster: SimCluster, original: Message): void {
    const target = liveReplica(cluster, original.to);
    if (target === undefined) return;
    this.stats.replays++;
    const refusal = this.inject(cluster, target, copyMessage(original), 'replay');
    if (this.options.checkRefusals && refusal !== undefined && refusal.code !== 'not-a-member') {
      violated('correct-refused', `${target.id} refused a replay of ${describeMessage(original)}: ${refusal.code} (${refusal.reason})`);
    }
  }

  private misaddress(cluster: SimCluster, original: Message): void {
    const target = this.otherLiveReplica(cluster, [original.to]);
    if (target === undefined) return;
    this.stats.misaddressed++;
    const refusal = this.inject(cluster, target, copyMessage(original), 'misaddressed');
    if (this.options.checkRefusals && refusal?.code !== 'misdirected') {
      violated('malformed-accepted', `${target.id} took ${describeMessage(original)}, addressed to ${original.to}`);
    }
  }

  private retarget(cluster: SimCluster, original: Message): void {
    const target = this.otherLiveReplica(cluster, [original.to, original.from]);
    if (target === undefined) return;
    this.stats.retargeted++;
    this.inject(cluster, target, { ...copyMessage(original), to: target.id }, 'retarget');
  }

  private mutate(cluster: SimCluster, original: Message): void {
    const target = liveReplica(cluster, original.to);
    const node = target?.node;
    const applicable = MUTATIONS.filter((mutation) => mutation.appliesTo(original));
    if (target === undefined || node === undefined || applicable.length === 0) return;
    const specific = applicable.filter((mutation) => !GENERIC_MUTATIONS.has(mutation.name));
    const mutation = this.rng.pick(specific.length > 0 && this.rng.chance(0.6) ? specific : applicable);
    const message = copyMessage(original);
    mutation.apply(message, this.rng);
    this.stats.mutations[mutation.name] = (this.stats.mutations[mutation.name] ?? 0) + 1;
    const before = node.status();
    const leading = before.softState.role === 'leader' && before.hardState.term === message.term;
    const refusal = this.inject(cluster, target, message, `mutate(${mutation.name})`);
    if (this.options.checkRefusals && refusal === undefined && (mutation.refused === 'always' || leading)) {
      violated('malformed-accepted', `${target.id} took ${describeMessage(message)} (${mutation.name} of ${describeMessage(original)})`);
    }
  }

  private inject(cluster: SimCluster, target: SimReplica, message: Message, how: string): PeerMessageRefusal | undefined {
    cluster.log(() => `FUZZ ${how} into ${target.id}: ${describeMessage(message)}`);
    const refusal = cluster.stepInto(target, message);
    if (refusal !== undefined) this.stats.refusals[refusal.code] = (this.stats.refusals[refusal.code] ?? 0) + 1;
    return refusal;
  }

  private otherLiveReplica(cluster: SimCluster, excluded: readonly string[]): SimReplica | undefined {
    const candidates = cluster.liveReplicas().filter((replica) => !excluded.includes(replica.id));
    return candidates.length === 0 ? undefined : this.rng.pick(candidates);
  }
}

function liveReplica(cluster: SimCluster, id: string): SimReplica | undefined {
  const replica = cluster.replicas.get(id);
  return replica?.node === undefined ? undefined : replica;
}

/** Sum two runs' fuzz stats (for a multi-seed summary). */
export function addFuzzStats(total: PeerFuzzStats, run: PeerFuzzStats): void {
  total.replays += run.replays;
  total.misaddressed += run.misaddressed;
  total.retargeted += run.retargeted;
  for (const [name, count] of Object.entries(run.mutations)) total.mutations[name] = (total.mutations[name] ?? 0) + count;
  for (const [code, count] of Object.entries(run.refusals)) total.refusals[code] = (total.refusals[code] ?? 0) + count;
}

export function emptyFuzzStats(): PeerFuzzStats {
  return { replays: 0, misaddressed: 0, retargeted: 0, mutations: {}, refusals: {} };
}
