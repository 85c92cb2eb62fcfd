// The chaos checker's rules, as a pure function of what was observed: the workload's send outcomes
// and subscriber deliveries, and each replica's copy of the workload's inboxes and state digest.
// Reading a live cluster into these observations is checker-collect.ts's job.
import type { SendRecord, SubscriberRecord } from './workload-records.js';
import type {
  CheckReport,
  DigestMismatch,
  DivergentInbox,
  DuplicatedRequest,
  LostMessage,
  MisplacedMessage,
  SubscriberExtra,
  SubscriberGap,
  UnexpectedMessage,
} from './checker-report.js';

export interface ObservedMessage {
  id: number;
  sender: string;
  recipient: string;
  body: string;
}

export interface ReplicaObservation {
  replica: string;
  /** Each workload user's inbox on this replica, in the order the replica listed it. */
  inboxes: ReadonlyMap<string, readonly ObservedMessage[]>;
  digest: { appliedIndex: number; digest: string } | undefined;
  /** Set when the replica could not be read; its inboxes are then not checked. */
  error?: string;
}

export interface Observations {
  sends: readonly SendRecord[];
  subscribers: readonly SubscriberRecord[];
  replicas: readonly ReplicaObservation[];
}

/**
 * Checks, on every replica: each acknowledged send is stored exactly once, under its acknowledged
 * id, in its recipient's inbox; an uncertain send at most once; a refused send never; nothing else
 * is stored; every inbox is in id order and equal to the same inbox on the reference replica (the
 * first readable one); digests are equal at equal applied indexes. And for every subscriber: it
 * received every message addressed to it up to its newest acknowledged one, and nothing else.
 */
export function checkObservations(observations: Observations): CheckReport {
  const byRequest = new Map(observations.sends.map((s) => [s.requestId, s]));
  const readable = observations.replicas.filter((r) => r.error === undefined);
  const reference = readable[0];
  const lost: LostMessage[] = [];
  const duplicates: DuplicatedRequest[] = [];
  const misplaced: MisplacedMessage[] = [];
  const unexpected: UnexpectedMessage[] = [];
  for (const replica of readable) {
    checkReplicaContents(replica, observations.sends, byRequest, { lost, duplicates, misplaced, unexpected });
  }
  const divergent = reference === undefined ? [] : checkInboxOrder(reference, readable);
  const digestMismatches = checkDigests(readable);
  const { gaps, extras } = reference === undefined ? { gaps: [], extras: [] } : checkSubscribers(reference, observations);
  const subscriberFailures = observations.subscribers
    .filter((s) => s.failure !== undefined)
    .map((s) => ({ user: s.user, failure: s.failure! }));
  const unreadable = observations.replicas
    .filter((r) => r.error !== undefined)
    .map((r) => ({ replica: r.replica, error: r.error! }));
  if (reference === undefined && observations.replicas.length === 0) unreadable.push({ replica: '(none)', error: 'no replica was observed' });

  const storedBodies = new Set(reference === undefined ? [] : [...allMessages(reference)].map((m) => m.body));
  const appliedIndexes = new Set(readable.map((r) => r.digest?.appliedIndex));
  const report: CheckReport = {
    ok: false,
    counts: {
      acknowledged: observations.sends.filter((s) => s.outcome === 'acknowledged').length,
      uncertain: observations.sends.filter((s) => s.outcome === 'uncertain').length,
      uncertainApplied: observations.sends.filter((s) => s.outcome === 'uncertain' && storedBodies.has(s.requestId)).length,
      rejected: observations.sends.filter((s) => s.outcome === 'rejected').length,
      replicas: observations.replicas.length,
      subscribers: observations.subscribers.length,
      storedMessages: reference === undefined ? 0 : [...allMessages(reference)].length,
      appliedIndex: appliedIndexes.size === 1 ? [...appliedIndexes][0] : undefined,
    },
    lost,
    duplicates,
    misplaced,
    unexpected,
    divergent,
    digestMismatches,
    unreadable,
    subscriberGaps: gaps,
    subscriberExtras: extras,
    subscriberFailures,
  };
  report.ok = [lost, duplicates, misplaced, unexpected, divergent, digestMismatches, unreadable, gaps, extras, subscriberFailures].every(
    (list) => list.length === 0,
  );
  return report;
}

function* allMessages(replica: ReplicaObservation): Iterable<ObservedMessage> {
  for (const inbox of replica.inboxes.values()) yield* inbox;
}

function checkReplicaContents(
  replica: ReplicaObservation,
  sends: readonly SendRecord[],
  byRequest: ReadonlyMap<string, SendRecord>,
  out: { lost: LostMessage[]; duplicates: DuplicatedRequest[]; misplaced: MisplacedMessage[]; unexpected: UnexpectedMessage[] },
): void {
  // The workload makes each message's body its request id, so a read finds which send stored it.
  const stored = new Map<string, ObservedMessage[]>();
  for (const m of allMessages(replica)) {
    const list = stored.get(m.body);
    if (list === undefined) stored.set(m.body, [m]);
    else list.push(m);
  }
  for (const [body, copies] of stored) {
    const send = byRequest.get(body);
    if (send === undefined) {
      for (const m of copies) out.unexpected.push({ replica: replica.replica, id: m.id, recipient: m.recipient, body, why: 'no send had this request id' });
      continue;
    }
    if (copies.length > 1) out.duplicates.push({ replica: replica.replica, requestId: body, ids: copies.map((m) => m.id) });
    if (send.outcome === 'rejected') {
      for (const m of copies) {
        out.unexpected.push({ replica: replica.replica, id: m.id, recipient: m.recipient, body, why: `the send was refused with ${send.errorCode ?? '?'}` });
      }
    }
    if (send.outcome === 'acknowledged' && copies.length === 1) {
      const m = copies[0]!;
      if (m.id !== send.id || m.sender !== send.sender || m.recipient !== send.recipient) {
        out.misplaced.push({ replica: replica.replica, requestId: body, acknowledgedId: send.id ?? 0, found: { id: m.id, sender: m.sender, recipient: m.recipient } });
      }
    }
  }
  for (const send of sends) {
    if (send.outcome === 'acknowledged' && !stored.has(send.requestId)) {
      out.lost.push({ replica: replica.replica, id: send.id ?? 0, requestId: send.requestId, recipient: send.recipient });
    }
  }
}

/** Every inbox strictly in id order on every replica, and the same ids and bodies as the reference. */
function checkInboxOrder(reference: ReplicaObservation, replicas: readonly ReplicaObservation[]): DivergentInbox[] {
  const divergent: DivergentInbox[] = [];
  for (const replica of replicas) {
    const users = new Set([...reference.inboxes.keys(), ...replica.inboxes.keys()]);
    for (const user of users) {
      const inbox = replica.inboxes.get(user) ?? [];
      const unordered = inbox.findIndex((m, i) => i > 0 && m.id <= inbox[i - 1]!.id);
      if (unordered > 0) {
        divergent.push({ replica: replica.replica, user, detail: `id ${inbox[unordered]!.id} listed after id ${inbox[unordered - 1]!.id}` });
        continue;
      }
      if (replica === reference) continue;
      const expected = reference.inboxes.get(user) ?? [];
      const length = Math.max(inbox.length, expected.length);
      for (let i = 0; i < length; i++) {
        const mine = inbox[i];
        const theirs = expected[i];
        if (mine?.id === theirs?.id && mine?.body === theirs?.body) continue;
        divergent.push({
          replica: replica.replica,
          user,
          detail: `message #${i + 1} is ${describe(mine)} here but ${describe(theirs)} on ${reference.replica} (${inbox.length} vs ${expected.length} messages)`,
        });
        break;
      }
    }
  }
  return divergent;
}

function describe(m: ObservedMessage | undefined): string {
  return m === undefined ? 'absent' : `id ${m.id} "${m.body}"`;
}

/** Digests must be equal at equal applied indexes — and after settling, the indexes must be equal too. */
function checkDigests(replicas: readonly ReplicaObservation[]): DigestMismatch[] {
  const withDigest = replicas.filter((r) => r.digest !== undefined);
  const reference = withDigest[0];
  if (reference === undefined) return [];
  const ref = reference.digest!;
  return withDigest
    .filter((r) => r.digest!.appliedIndex !== ref.appliedIndex || r.digest!.digest !== ref.digest)
    .map((r) => ({
      replica: r.replica,
      appliedIndex: r.digest!.appliedIndex,
      digest: r.digest!.digest,
      referenceReplica: reference.replica,
      referenceAppliedIndex: ref.appliedIndex,
      referenceDigest: ref.digest,
    }));
}

/**
 * A subscriber must have received every stored message addressed to it up to the newest one
 * acknowledged to any sender (later ones may have committed after it was stopped), and only
 * messages that are stored in its inbox.
 */
function checkSubscribers(reference: ReplicaObservation, observations: Observations): { gaps: SubscriberGap[]; extras: SubscriberExtra[] } {
  const gaps: SubscriberGap[] = [];
  const extras: SubscriberExtra[] = [];
  for (const subscriber of observations.subscribers) {
    const inbox = reference.inboxes.get(subscriber.user) ?? [];
    const stored = new Map(inbox.map((m) => [m.id, m]));
    const ceiling = Math.max(
      0,
      ...observations.sends.filter((s) => s.outcome === 'acknowledged' && s.recipient === subscriber.user).map((s) => s.id ?? 0),
    );
    const received = new Set(subscriber.delivered.map((m) => m.id));
    const missingIds = inbox.filter((m) => m.id <= ceiling && !received.has(m.id)).map((m) => m.id);
    if (missingIds.length > 0) gaps.push({ user: subscriber.user, missingIds });
    for (const m of subscriber.delivered) {
      if (m.recipient !== subscriber.user) extras.push({ user: subscriber.user, id: m.id, why: `addressed to ${m.recipient}` });
      else if (stored.get(m.id)?.body !== m.body) extras.push({ user: subscriber.user, id: m.id, why: `not in ${subscriber.user}'s inbox on ${reference.replica}` });
    }
  }
  return { gaps, extras };
}
