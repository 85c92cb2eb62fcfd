// Merges what each replica says about itself (GetStatus asked of every server) with the leader's
// view of the membership (match index, lag, reachability), into one row per member.
import type { GetStatusResponse, Member } from '../../gen/chat/v1/chat.js';

/** One server's answer to GetStatus, or why it gave none. */
export interface ServerReport {
  server: string;
  status?: GetStatusResponse;
  error?: string;
}

export interface MemberRow {
  id: string;
  /** The member's own role, `unreachable` when it did not answer, `unknown` when not asked. */
  role: string;
  voter: boolean | undefined;
  term: number | undefined;
  commitIndex: number | undefined;
  appliedIndex: number | undefined;
  /** Leader's view. */
  matchIndex: number | undefined;
  lag: number | undefined;
  /** Leader's view when there is a leader, else whether this client reached it. */
  reachable: boolean;
  clientAddress: string;
}

export interface ClusterView {
  leaderId: string;
  term: number;
  clusterId: string;
  rows: MemberRow[];
}

/** The report whose view of the members is the most authoritative: the leader of the highest term. */
export function leaderReport(reports: readonly ServerReport[]): GetStatusResponse | undefined {
  const answered = reports.flatMap((r) => (r.status === undefined ? [] : [r.status]));
  const leaders = answered.filter((s) => s.role === 'leader').sort((a, b) => b.term - a.term);
  return leaders[0];
}

export function mergeClusterView(reports: readonly ServerReport[]): ClusterView {
  const answered = reports.flatMap((r) => (r.status === undefined ? [] : [{ server: r.server, status: r.status }]));
  const leader = leaderReport(reports);
  const newest = [...answered].sort((a, b) => b.status.term - a.status.term)[0]?.status;
  const members: Member[] = leader?.members ?? newest?.members ?? [];
  const own = new Map(answered.map(({ status }) => [status.nodeId, status]));
  const reachedAddresses = new Set(answered.map(({ server }) => server));
  const rows = members.map((member): MemberRow => {
    const self = own.get(member.id);
    return {
      id: member.id,
      role: self?.role ?? (reports.some((r) => r.server === member.clientAddress) ? 'unreachable' : 'unknown'),
      voter: member.voter,
      term: self?.term,
      commitIndex: self?.commitIndex,
      appliedIndex: self?.appliedIndex,
      matchIndex: leader === undefined ? undefined : member.matchIndex,
      lag: leader === undefined ? undefined : member.lag,
      reachable: leader === undefined ? self !== undefined || reachedAddresses.has(member.clientAddress) : member.reachable,
      clientAddress: member.clientAddress,
    };
  });
  // Servers we were told about that are not (or not yet) members, and servers that did not answer.
  const listed = new Set(members.map((m) => m.id));
  const listedAddresses = new Set(members.map((m) => m.clientAddress));
  for (const report of reports) {
    const status = report.status;
    if (status !== undefined && listed.has(status.nodeId)) continue;
    if (status === undefined && listedAddresses.has(report.server)) continue;
    rows.push({
      id: status?.nodeId ?? '?',
      role: status?.role ?? 'unreachable',
      voter: undefined,
      term: status?.term,
      commitIndex: status?.commitIndex,
      appliedIndex: status?.appliedIndex,
      matchIndex: undefined,
      lag: undefined,
      reachable: status !== undefined,
      clientAddress: report.server,
    });
  }
  return {
    leaderId: leader?.nodeId ?? newest?.leaderId ?? '',
    term: leader?.term ?? newest?.term ?? 0,
    clusterId: leader?.clusterId ?? newest?.clusterId ?? '',
    rows,
  };
}
