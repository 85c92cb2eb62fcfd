// What a chaos workload observed: every send with its outcome, every subscriber's deliveries, and
// the timing questions asked of them afterwards (longest stretch without an acknowledged write).

/**
 * `acknowledged`: the cluster answered with the message; it must exist exactly once from now on.
 * `uncertain`: the send failed after it may have been proposed (a deadline, a lost connection, a
 * leader change); it may exist, but at most once. `rejected`: the cluster refused it outright with
 * an answer that means nothing was done (INVALID_ARGUMENT, NOT_FOUND, …); it must never exist.
 */
export type SendOutcome = 'acknowledged' | 'uncertain' | 'rejected';

export interface SendRecord {
  /** Unique per logical send and reused by every retry; also the message body, so a read finds it. */
  requestId: string;
  sender: string;
  recipient: string;
  /** The replica the worker tried first (its rotated server list starts there). */
  firstServer: string;
  startedAtMs: number;
  endedAtMs: number;
  outcome: SendOutcome;
  /** The message id the cluster acknowledged (acknowledged sends only). */
  id?: number;
  /** The gRPC code name of the final error (uncertain and rejected sends). */
  errorCode?: string;
  errorMessage?: string;
}

export interface DeliveredMessage {
  id: number;
  sender: string;
  recipient: string;
  body: string;
}

/** One live subscriber: a watch() on one user's inbox from the beginning (after_id 0). */
export interface SubscriberRecord {
  user: string;
  /** In delivery order. watch() promises each id once; the checker only needs "at least once". */
  delivered: DeliveredMessage[];
  /** Set when the watch ended with an error rather than by being stopped. */
  failure?: string;
}

export interface WorkloadUser {
  username: string;
  /** A session token valid on every replica (tokens are signed with the cluster secret). */
  token: string;
}

export interface WorkloadResult {
  users: WorkloadUser[];
  sends: SendRecord[];
  subscribers: SubscriberRecord[];
  startedAtMs: number;
  stoppedAtMs: number;
}

export interface WorkloadCounters {
  started: number;
  acknowledged: number;
  uncertain: number;
  rejected: number;
  inFlight: number;
  /** Messages delivered to subscribers so far, over all of them. */
  delivered: number;
  /** When the last acknowledgement arrived (0 before the first). */
  lastAcknowledgedAtMs: number;
}

/** The acknowledged sends in the order their acknowledgements arrived. */
export function acknowledgedByTime(sends: readonly SendRecord[]): SendRecord[] {
  return sends.filter((s) => s.outcome === 'acknowledged').sort((a, b) => a.endedAtMs - b.endedAtMs);
}

export interface AckGap {
  /** The acknowledgement that opened the gap (or the window's start). */
  fromMs: number;
  /** The first acknowledgement after it (or the window's end, if none came). */
  toMs: number;
  gapMs: number;
}

/**
 * The longest stretch within [fromMs, toMs] during which no write was acknowledged — under a
 * steady load, the longest time the cluster refused (or stalled) writes. The window's edges count
 * as acknowledgements, so a window with none at all is one gap of its full length.
 */
export function longestAckGap(sends: readonly SendRecord[], fromMs: number, toMs: number): AckGap {
  const times = acknowledgedByTime(sends)
    .map((s) => s.endedAtMs)
    .filter((t) => t >= fromMs && t <= toMs);
  const points = [fromMs, ...times, toMs];
  let best: AckGap = { fromMs, toMs: fromMs, gapMs: 0 };
  for (let i = 1; i < points.length; i++) {
    const gapMs = points[i]! - points[i - 1]!;
    if (gapMs > best.gapMs) best = { fromMs: points[i - 1]!, toMs: points[i]!, gapMs };
  }
  return best;
}

/**
 * The first acknowledgement of a send that began at or after `sinceMs` — a write issued after a
 * fault, so a reply already on its way from a replica that was then killed does not count.
 */
export function firstAckAfter(sends: readonly SendRecord[], sinceMs: number): SendRecord | undefined {
  return acknowledgedByTime(sends).find((s) => s.startedAtMs >= sinceMs);
}
