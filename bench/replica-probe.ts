// What each replica's own /metrics says about a measured window: fsyncs per second and how long they
// took, entries per fsync (group commit), bytes per entry, the apply time, the event-loop lag, and the
// memory split (V8 heap, off-heap buffers, the rest: LevelDB and malloc). Read before and after a
// point; the difference is the point's.
import { parseExposition, type Family } from '../test/metrics/support/exposition.js';

/** Counter and gauge readings from one scrape. */
export interface ReplicaReading {
  fsyncs: number;
  fsyncSeconds: number;
  appends: number;
  appendSeconds: number;
  logBytes: number;
  appliedEntries: number;
  applies: number;
  applySeconds: number;
  proposals: number;
  proposalSeconds: number;
  /** SendMessage calls this replica's gRPC server handled, and their total time (interceptors and handler). */
  sendCalls: number;
  sendCallSeconds: number;
  /**
   * nodejs_eventloop_lag_p99_seconds less nodejs_eventloop_lag_min_seconds, since the previous scrape
   * (prom-client resets them on each): its monitor times a 10 ms timer, so even an idle loop reads ~10 ms.
   */
  eventLoopLagP99Ms: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
  rssMiB: number;
}

/** One replica over a window. */
export interface ReplicaWindow {
  fsyncs_per_s: number;
  fsync_mean_ms: number;
  /** Entries written per synced log write: the group-commit factor. */
  entries_per_fsync: number;
  /** Raft log bytes per entry (the encoded command and its framing). */
  bytes_per_entry: number;
  /** From a Ready handing entries over to them being durable (queueing behind earlier writes included). */
  append_durable_mean_ms: number;
  apply_batch_mean_ms: number;
  entries_per_apply: number;
  /**
   * From a client's write reaching Replica.propose to its result: on the leader, commit and apply;
   * on a follower, the forward to the leader and back as well.
   */
  propose_mean_ms: number;
  /** SendMessage as this replica's gRPC server saw it, from the call's start to its status. */
  send_call_mean_ms: number;
  event_loop_lag_p99_ms: number;
  heap_used_mib: number;
  heap_total_mib: number;
  external_mib: number;
  rss_mib: number;
}

const MiB = 2 ** 20;

function sum(families: Map<string, Family>, name: string, sampleName = name): number {
  return (families.get(name)?.samples ?? []).filter((s) => s.name === sampleName).reduce((total, s) => total + s.value, 0);
}

function sendHandling(families: Map<string, Family>, suffix: '_count' | '_sum'): number {
  const name = `grpc_server_handling_seconds${suffix}`;
  return (families.get('grpc_server_handling_seconds')?.samples ?? [])
    .filter((s) => s.name === name && s.labels['grpc_method'] === 'SendMessage')
    .reduce((total, s) => total + s.value, 0);
}

/** Scrapes one replica's /metrics; undefined when it does not answer within a second. */
export async function readReplica(url: string): Promise<ReplicaReading | undefined> {
  let text: string;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    if (!response.ok) return undefined;
    text = await response.text();
  } catch {
    return undefined;
  }
  const f = parseExposition(text);
  return {
    fsyncs: sum(f, 'raftchat_storage_fsync_duration_seconds', 'raftchat_storage_fsync_duration_seconds_count'),
    fsyncSeconds: sum(f, 'raftchat_storage_fsync_duration_seconds', 'raftchat_storage_fsync_duration_seconds_sum'),
    appends: sum(f, 'raftchat_raft_append_durable_duration_seconds', 'raftchat_raft_append_durable_duration_seconds_count'),
    appendSeconds: sum(f, 'raftchat_raft_append_durable_duration_seconds', 'raftchat_raft_append_durable_duration_seconds_sum'),
    logBytes: sum(f, 'raftchat_storage_log_written_bytes_total'),
    appliedEntries: sum(f, 'raftchat_raft_applied_entries_total'),
    applies: sum(f, 'raftchat_raft_apply_duration_seconds', 'raftchat_raft_apply_duration_seconds_count'),
    applySeconds: sum(f, 'raftchat_raft_apply_duration_seconds', 'raftchat_raft_apply_duration_seconds_sum'),
    proposals: sum(f, 'raftchat_raft_proposal_commit_duration_seconds', 'raftchat_raft_proposal_commit_duration_seconds_count'),
    proposalSeconds: sum(f, 'raftchat_raft_proposal_commit_duration_seconds', 'raftchat_raft_proposal_commit_duration_seconds_sum'),
    sendCalls: sendHandling(f, '_count'),
    sendCallSeconds: sendHandling(f, '_sum'),
    eventLoopLagP99Ms: (sum(f, 'nodejs_eventloop_lag_p99_seconds') - sum(f, 'nodejs_eventloop_lag_min_seconds')) * 1000,
    heapUsedMiB: sum(f, 'nodejs_heap_size_used_bytes') / MiB,
    heapTotalMiB: sum(f, 'nodejs_heap_size_total_bytes') / MiB,
    externalMiB: sum(f, 'nodejs_external_memory_bytes') / MiB,
    rssMiB: sum(f, 'process_resident_memory_bytes') / MiB,
  };
}

/** Reads every replica at once (by member id); replicas that do not answer are left out. */
export async function readReplicas(urls: ReadonlyMap<string, string>): Promise<Map<string, ReplicaReading>> {
  const readings = await Promise.all([...urls].map(async ([id, url]) => [id, await readReplica(url)] as const));
  return new Map(readings.filter((r): r is readonly [string, ReplicaReading] => r[1] !== undefined));
}

const round = (n: number, digits = 2): number => (Number.isFinite(n) ? Number(n.toFixed(digits)) : 0);
const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);

/** The window between two readings of each replica. */
export function windowOf(before: ReadonlyMap<string, ReplicaReading>, after: ReadonlyMap<string, ReplicaReading>, seconds: number): Record<string, ReplicaWindow> {
  const out: Record<string, ReplicaWindow> = {};
  for (const [id, b] of before) {
    const a = after.get(id);
    if (a === undefined) continue;
    const fsyncs = a.fsyncs - b.fsyncs;
    const entries = a.appliedEntries - b.appliedEntries;
    const applies = a.applies - b.applies;
    out[id] = {
      fsyncs_per_s: round(fsyncs / seconds, 0),
      fsync_mean_ms: round(ratio(a.fsyncSeconds - b.fsyncSeconds, fsyncs) * 1000),
      entries_per_fsync: round(ratio(entries, fsyncs), 1),
      bytes_per_entry: round(ratio(a.logBytes - b.logBytes, entries), 0),
      append_durable_mean_ms: round(ratio(a.appendSeconds - b.appendSeconds, a.appends - b.appends) * 1000),
      apply_batch_mean_ms: round(ratio(a.applySeconds - b.applySeconds, applies) * 1000),
      entries_per_apply: round(ratio(entries, applies), 1),
      propose_mean_ms: round(ratio(a.proposalSeconds - b.proposalSeconds, a.proposals - b.proposals) * 1000),
      send_call_mean_ms: round(ratio(a.sendCallSeconds - b.sendCallSeconds, a.sendCalls - b.sendCalls) * 1000),
      event_loop_lag_p99_ms: round(a.eventLoopLagP99Ms, 1),
      heap_used_mib: round(a.heapUsedMiB, 0),
      heap_total_mib: round(a.heapTotalMiB, 0),
      external_mib: round(a.externalMiB, 0),
      rss_mib: round(a.rssMiB, 0),
    };
  }
  return out;
}
