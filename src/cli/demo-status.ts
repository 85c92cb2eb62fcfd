// The demo's live view of the cluster: polls every replica's own status twice a second, renders the
// status table, and reports leader changes (with how long the cluster went without a leader).
import { RaftchatClient, type GetStatusResponse } from '../client/index.js';
import type { DemoCluster } from './demo-cluster.js';
import { formatTable } from './output.js';

export const STATUS_INTERVAL_MS = 500;
const STATUS_DEADLINE_MS = 400;

/** What the demo did to a replica on purpose; "up" otherwise. */
export type ReplicaFault = 'paused' | 'partitioned';

export interface ReplicaView {
  id: string;
  pid: number | undefined;
  fault: ReplicaFault | undefined;
  status: GetStatusResponse | undefined;
}

export class StatusBoard {
  private readonly clients: RaftchatClient[];
  private views: ReplicaView[];
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private leader: { id: string; term: number } | undefined;
  private leaderlessSinceMs: number | undefined;
  readonly faults = new Map<number, ReplicaFault>();

  constructor(
    private readonly cluster: DemoCluster,
    /** Told about leader changes, e.g. "leader: n3 (term 7), elected 840 ms after n1 was lost". */
    private readonly onEvent: (line: string) => void,
    /** Called after every poll, e.g. to redraw the screen. */
    private readonly onRefresh: () => void = () => undefined,
  ) {
    this.clients = cluster.clientAddresses.map((server) => new RaftchatClient({ servers: [server], deadlineMs: STATUS_DEADLINE_MS }));
    this.views = cluster.specs.map((s) => ({ id: s.id, pid: undefined, fault: undefined, status: undefined }));
  }

  start(): void {
    this.timer = setInterval(() => void this.poll(), STATUS_INTERVAL_MS);
    void this.poll();
  }

  stop(): void {
    clearInterval(this.timer);
    for (const client of this.clients) client.close();
  }

  /** The leader as of the last poll. */
  currentLeader(): { id: string; index: number; term: number } | undefined {
    if (this.leader === undefined) return undefined;
    const index = this.cluster.specs.findIndex((s) => s.id === this.leader!.id);
    return { ...this.leader, index };
  }

  /** Polls now (rather than at the next tick) and returns the fresh views. */
  async refresh(): Promise<readonly ReplicaView[]> {
    // A poll already under way may have asked before the latest change: wait for it, then ask again.
    await this.polling;
    await this.poll();
    return this.views;
  }

  table(): string[] {
    return formatTable(
      ['ID', 'STATE', 'ROLE', 'TERM', 'LEADER', 'COMMIT', 'APPLIED', 'PID', 'ADDRESS'],
      this.views.map((v, i) => [
        v.id,
        v.pid === undefined ? 'down' : (v.fault ?? (v.status === undefined ? 'no answer' : 'up')),
        v.status?.role,
        v.status?.term,
        v.status === undefined ? undefined : v.status.leaderId || '(none)',
        v.status?.commitIndex,
        v.status?.appliedIndex,
        v.pid,
        this.cluster.clientAddresses[i],
      ]),
    );
  }

  private poll(): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => (this.polling = undefined));
    return this.polling;
  }

  private async pollOnce(): Promise<void> {
    const pids = this.cluster.pids();
    const statuses = await Promise.all(
      this.clients.map((client, i) =>
        pids[i] === undefined || this.isFrozen(i)
          ? Promise.resolve(undefined)
          : client.statusOf(this.cluster.clientAddresses[i]!, { deadlineMs: STATUS_DEADLINE_MS }).catch(() => undefined),
      ),
    );
    this.views = this.cluster.specs.map((s, i) => ({ id: s.id, pid: pids[i], fault: this.faults.get(i), status: statuses[i] }));
    this.noticeLeader(statuses);
    this.onRefresh();
  }

  /** A SIGSTOPped replica cannot answer; asking would only wait out the deadline. */
  private isFrozen(index: number): boolean {
    const fault = this.faults.get(index);
    return fault === 'paused' || (fault === 'partitioned' && this.cluster.lab === undefined);
  }

  /** The leader is the replica that says it leads in the highest term (a deposed one may lag). */
  private noticeLeader(statuses: ReadonlyArray<GetStatusResponse | undefined>): void {
    let best: GetStatusResponse | undefined;
    for (const s of statuses) if (s?.role === 'leader' && (best === undefined || s.term > best.term)) best = s;
    const now = Date.now();
    if (best === undefined) {
      if (this.leader !== undefined) {
        this.onEvent(`no leader: ${this.leader.id} (term ${this.leader.term}) is gone; the others will elect one`);
        this.leader = undefined;
        this.leaderlessSinceMs = now;
      }
      return;
    }
    if (this.leader?.id === best.nodeId && this.leader.term === best.term) return;
    const gapMs = this.leaderlessSinceMs === undefined ? undefined : now - this.leaderlessSinceMs;
    const after = gapMs === undefined ? '' : `, after ${gapMs} ms without a leader`;
    this.onEvent(`new leader: ${best.nodeId} (term ${best.term})${after}`);
    this.leader = { id: best.nodeId, term: best.term };
    this.leaderlessSinceMs = undefined;
  }
}
