// The simulated network between replicas: every message is dropped, delayed, duplicated or reordered
// by the seed, and links can be cut in any shape (both ways or one way) and healed.
import type { Message, NodeId } from '../../src/raft/index.js';
import type { Rng } from './rng.js';

export interface NetworkFaults {
  dropProbability: number;
  duplicateProbability: number;
  /** A message arrives 1..maxDelaySteps steps after it is sent; differing delays reorder. */
  maxDelaySteps: number;
  /** Deliver the messages arriving in one step in a random order (else in the order sent). */
  reorder: boolean;
  /** Chance a copy of a message turns up again much later (a stale retransmission). */
  lateDuplicateProbability: number;
}

/** The quiet phase's network: every link in order (as a TCP stream is), one step of latency. */
export const CALM_NETWORK: NetworkFaults = {
  dropProbability: 0,
  duplicateProbability: 0,
  maxDelaySteps: 1,
  reorder: false,
  lateDuplicateProbability: 0,
};

/** How late a late duplicate may arrive, in steps. */
const LATE_DUPLICATE_STEPS_MAX = 200;

export type SendOutcome = 'queued' | 'dropped' | 'cut';

/**
 * What the receiver gets: its own message and entry objects, as off a wire, so neither side can
 * change the other's log by mutating what it holds. Byte payloads are shared (nobody writes them).
 */
export function copyMessage(message: Message): Message {
  const copy: Message = { ...message, entries: message.entries.map((entry) => ({ ...entry })) };
  if (message.snapshot !== undefined) {
    const { metadata, data } = message.snapshot;
    const { voters, learners } = metadata.confState;
    copy.snapshot = { metadata: { ...metadata, confState: { voters: [...voters], learners: [...learners] } }, data };
  }
  return copy;
}

export class SimNetwork {
  faults: NetworkFaults = CALM_NETWORK;
  /** Messages in flight, bucketed by the step they arrive at. */
  private readonly arriving = new Map<number, Message[]>();
  /** Cut links, as `from>to`. */
  private readonly cutLinks = new Set<string>();
  private inFlightCount = 0;

  constructor(private readonly rng: Rng) {}

  send(message: Message, nowStep: number): SendOutcome {
    if (this.isCut(message.from, message.to)) return 'cut';
    if (this.rng.chance(this.faults.dropProbability)) return 'dropped';
    const copies = this.rng.chance(this.faults.duplicateProbability) ? 2 : 1;
    for (let i = 0; i < copies; i++) this.enqueue(message, nowStep + 1 + this.rng.int(this.faults.maxDelaySteps));
    if (this.rng.chance(this.faults.lateDuplicateProbability)) {
      this.enqueue(message, nowStep + 1 + this.rng.int(LATE_DUPLICATE_STEPS_MAX));
    }
    return 'queued';
  }

  private enqueue(message: Message, arriveStep: number): void {
    let bucket = this.arriving.get(arriveStep);
    if (bucket === undefined) {
      bucket = [];
      this.arriving.set(arriveStep, bucket);
    }
    bucket.push(copyMessage(message));
    this.inFlightCount++;
  }

  /**
   * The messages that arrive at `nowStep` (in a random order when reordering). A message whose
   * link was cut while it was in flight is lost, as a packet on a cut wire is.
   */
  arrivals(nowStep: number): { delivered: Message[]; lost: Message[] } {
    const bucket = this.arriving.get(nowStep);
    if (bucket === undefined) return { delivered: [], lost: [] };
    this.arriving.delete(nowStep);
    this.inFlightCount -= bucket.length;
    const delivered: Message[] = [];
    const lost: Message[] = [];
    for (const message of this.faults.reorder ? this.rng.shuffled(bucket) : bucket) {
      (this.isCut(message.from, message.to) ? lost : delivered).push(message);
    }
    return { delivered, lost };
  }

  get inFlight(): number {
    return this.inFlightCount;
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return this.cutLinks.size > 0 && this.cutLinks.has(`${from}>${to}`);
  }

  cutOneWay(from: NodeId, to: NodeId): void {
    this.cutLinks.add(`${from}>${to}`);
  }

  /** Cut every link between the two sides, both ways. */
  partition(sideA: readonly NodeId[], sideB: readonly NodeId[]): void {
    for (const a of sideA) {
      for (const b of sideB) {
        this.cutLinks.add(`${a}>${b}`);
        this.cutLinks.add(`${b}>${a}`);
      }
    }
  }

  heal(): void {
    this.cutLinks.clear();
  }

  get cutLinkCount(): number {
    return this.cutLinks.size;
  }
}
