// The checker's verdict: every kind of violation it looks for, listed with enough detail to start
// debugging from (which replica, which message id, which request id), and a printable form.

export interface LostMessage {
  replica: string;
  id: number;
  requestId: string;
  recipient: string;
}

export interface DuplicatedRequest {
  replica: string;
  requestId: string;
  ids: number[];
}

/** An acknowledged send stored once, but not as acknowledged (another id, sender or inbox). */
export interface MisplacedMessage {
  replica: string;
  requestId: string;
  acknowledgedId: number;
  found: { id: number; sender: string; recipient: string };
}

/** A stored message no send explains: a refused send that was applied anyway, or a phantom. */
export interface UnexpectedMessage {
  replica: string;
  id: number;
  recipient: string;
  body: string;
  why: string;
}

/** A user's inbox that differs between replicas, or is not in id order on one. */
export interface DivergentInbox {
  replica: string;
  user: string;
  detail: string;
}

export interface DigestMismatch {
  replica: string;
  appliedIndex: number;
  digest: string;
  referenceReplica: string;
  referenceAppliedIndex: number;
  referenceDigest: string;
}

export interface UnreadableReplica {
  replica: string;
  error: string;
}

export interface SubscriberGap {
  user: string;
  /** Committed ids addressed to the user, at or below its newest acknowledged one, never delivered. */
  missingIds: number[];
}

export interface SubscriberExtra {
  user: string;
  id: number;
  why: string;
}

export interface SubscriberFailure {
  user: string;
  failure: string;
}

export interface CheckCounts {
  acknowledged: number;
  uncertain: number;
  /** Uncertain sends found stored (once) on the reference replica. */
  uncertainApplied: number;
  rejected: number;
  replicas: number;
  subscribers: number;
  /** Workload messages stored on the reference replica. */
  storedMessages: number;
  /** The applied index every replica agreed on, when they did. */
  appliedIndex: number | undefined;
}

export interface CheckReport {
  ok: boolean;
  counts: CheckCounts;
  lost: LostMessage[];
  duplicates: DuplicatedRequest[];
  misplaced: MisplacedMessage[];
  unexpected: UnexpectedMessage[];
  divergent: DivergentInbox[];
  digestMismatches: DigestMismatch[];
  unreadable: UnreadableReplica[];
  subscriberGaps: SubscriberGap[];
  subscriberExtras: SubscriberExtra[];
  subscriberFailures: SubscriberFailure[];
}

/** At most this many lines per kind of violation; the count says how many there were. */
const MAX_LINES_PER_KIND = 10;

/** A human-readable report: a one-line verdict with the counts, then each violation kind found. */
export function formatReport(report: CheckReport): string {
  const c = report.counts;
  const applied = c.appliedIndex === undefined ? 'replicas did not agree on an applied index' : `applied index ${c.appliedIndex}`;
  const lines = [
    `${report.ok ? 'PASS' : 'FAIL'}: ${c.acknowledged} acknowledged, ${c.uncertain} uncertain (${c.uncertainApplied} applied), ` +
      `${c.rejected} rejected sends; ${c.storedMessages} messages on each of ${c.replicas} replicas; ` +
      `${c.subscribers} subscribers; ${applied}`,
  ];
  const section = <T>(title: string, items: readonly T[], line: (item: T) => string): void => {
    if (items.length === 0) return;
    lines.push(`  ${title} (${items.length}):`);
    for (const item of items.slice(0, MAX_LINES_PER_KIND)) lines.push(`    ${line(item)}`);
    if (items.length > MAX_LINES_PER_KIND) lines.push(`    … and ${items.length - MAX_LINES_PER_KIND} more`);
  };
  section('unreadable replicas', report.unreadable, (u) => `${u.replica}: ${u.error}`);
  section('lost acknowledged messages', report.lost, (l) => `${l.replica}: id ${l.id} (request ${l.requestId}, to ${l.recipient}) is missing`);
  section('duplicated request ids', report.duplicates, (d) => `${d.replica}: request ${d.requestId} stored as ids ${d.ids.join(', ')}`);
  section(
    'misplaced acknowledged messages',
    report.misplaced,
    (m) => `${m.replica}: request ${m.requestId} acknowledged as id ${m.acknowledgedId}, stored as id ${m.found.id} from ${m.found.sender} to ${m.found.recipient}`,
  );
  section('unexpected messages', report.unexpected, (u) => `${u.replica}: id ${u.id} to ${u.recipient} body "${u.body}": ${u.why}`);
  section('divergent inboxes', report.divergent, (d) => `${d.replica}: ${d.user}: ${d.detail}`);
  section(
    'digest mismatches',
    report.digestMismatches,
    (d) => `${d.replica}: ${d.digest.slice(0, 16)}… at applied index ${d.appliedIndex}, but ${d.referenceReplica} has ${d.referenceDigest.slice(0, 16)}… at ${d.referenceAppliedIndex}`,
  );
  section('subscriber gaps', report.subscriberGaps, (g) => `${g.user}: never received ids ${abbreviate(g.missingIds)}`);
  section('subscriber extras', report.subscriberExtras, (e) => `${e.user}: received id ${e.id}: ${e.why}`);
  section('subscriber failures', report.subscriberFailures, (f) => `${f.user}: ${f.failure}`);
  return lines.join('\n');
}

function abbreviate(ids: readonly number[]): string {
  const shown = ids.slice(0, 20).join(', ');
  return ids.length > 20 ? `${shown}, … (${ids.length} in all)` : shown;
}
