// The benchmark's results: the JSON document (`--json FILE`) and the tables printed on stdout,
// with each figure's load average beside it (other clusters share this machine's cores).
import { formatTable } from '../src/cli/output.js';
import type { CatchupResult, FillResult, MemorySplit } from './phases/catchup.js';
import type { FailoverTrial } from './phases/failover.js';
import type { PointResult } from './phases/throughput.js';
import type { MachineInfo } from './probe.js';
import type { ReplicaWindow } from './replica-probe.js';

export interface BenchReport {
  started_at: string;
  quick: boolean;
  replica_runtime: string;
  settings: { warmup_s: number; measure_s: number; runs: number; prime_s: number; body_bytes: number; users: number; replicas: number };
  throughput: PointResult[];
  /** Leader changes seen during the steady-load points (should be none). */
  leader_changes_during_steady_load: number;
  failover_ms: number[];
  failover: { trials: FailoverTrial[]; min_ms: number; median_ms: number; max_ms: number } | undefined;
  fill: FillResult | undefined;
  catchup: CatchupResult | undefined;
  memory: {
    rss_mib_holding_messages: Record<string, number> | undefined;
    /** The same moment by each replica's /metrics: V8 heap used/reserved, off-heap buffers, RSS. */
    split_holding_messages: Record<string, MemorySplit> | undefined;
    /** The same, read again after the cluster rested this many seconds. */
    settle_s: number | undefined;
    rss_mib_holding_messages_settled: Record<string, number> | undefined;
    split_holding_messages_settled: Record<string, MemorySplit> | undefined;
    messages: number | undefined;
    rss_mib_peak_at_c256: Record<string, number> | undefined;
  };
  reads: PointResult | undefined;
  machine: MachineInfo;
  errors: string[];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const maxOf = (record: Record<string, number> | undefined): number | undefined =>
  record === undefined || Object.keys(record).length === 0 ? undefined : Math.max(...Object.values(record));

export function formatReport(report: BenchReport): string[] {
  const lines: string[] = [];
  const m = report.machine;
  lines.push(`raftchat benchmark, ${report.started_at}${report.quick ? ' (--quick)' : ''}`);
  const speed = m.cpu_speed_ms === undefined ? '' : `; one core's fixed loop ${m.cpu_speed_ms.before} ms before the run, ${m.cpu_speed_ms.after} ms after (higher: a busier host, slower cores)`;
  lines.push(`machine: ${m.cpus} × ${m.model}, ${m.memoryGiB} GiB, node ${m.node}, ${m.os}${speed}`);
  lines.push(`cluster: ${report.settings.replicas} replicas (${report.replica_runtime}), fsync on; body ${report.settings.body_bytes} B, ${report.settings.users} users; ${report.settings.warmup_s} s warm-up + ${report.settings.measure_s} s per point${report.settings.runs > 1 ? `, ${report.settings.runs} runs of each` : ''}; primed ${report.settings.prime_s} s before the first`);
  lines.push('');
  const points = [...report.throughput, ...(report.reads === undefined ? [] : [report.reads])];
  lines.push(
    ...formatTable(
      ['OP', 'C', 'OPS/S', 'P50 MS', 'P95 MS', 'P99 MS', 'ERRORS', 'ELECTIONS', 'CLIENT CPU%', 'LEADER CPU%', 'FOLLOWER CPU% (avg)', 'CPU MS/OP (CLUSTER/CLIENT)', 'LOAD 1M'],
      points.map((p) => {
        const followers = Object.entries(p.replica_cpu_pct).filter(([id]) => id !== p.leader).map(([, v]) => v);
        const followerAvg = followers.length === 0 ? undefined : Math.round(followers.reduce((a, b) => a + b, 0) / followers.length);
        return [
          p.mode === 'send' ? 'SendMessage' : 'ListMessages',
          p.concurrency,
          p.ops_per_s,
          p.p50_ms,
          p.p95_ms,
          p.p99_ms,
          p.errors,
          p.leader_changes,
          p.client_cpu_pct,
          p.replica_cpu_pct[p.leader],
          followerAvg,
          `${p.cluster_cpu_ms_per_op}/${p.client_cpu_ms_per_op}`,
          `${p.load_avg_1m.before}→${p.load_avg_1m.after}`,
        ];
      }),
    ),
  );
  const repeated = points.filter((p) => p.runs !== undefined);
  if (repeated.length > 0) {
    lines.push(`each point ran ${report.settings.runs} times; the table gives the medians, the runs were (ops/s, p50, p99 ms):`);
    for (const p of repeated) {
      const runs = p.runs!.map((r) => `${r.ops_per_s}/s ${r.p50_ms} ${r.p99_ms}`).join(' | ');
      lines.push(`  ${p.mode === 'send' ? 'send' : 'list'} C=${p.concurrency}: ${runs}`);
    }
  }
  lines.push(`leader changes during the steady-load points: ${report.leader_changes_during_steady_load}`);
  lines.push('per replica, from its /metrics over the measured window (leader | followers averaged):');
  for (const p of points) lines.push(`  ${p.mode === 'send' ? 'send' : 'list'} C=${p.concurrency}: ${describeReplicas(p)}`);
  lines.push('');
  if (report.failover !== undefined) {
    const f = report.failover;
    lines.push(`failover (SIGKILL the leader under C=16; kill → first acknowledged write): min ${f.min_ms} ms, median ${f.median_ms} ms, max ${f.max_ms} ms`);
    lines.push(`  trials: ${f.trials.map((t) => `${t.killed}→${t.new_leader} ${t.failover_ms} ms (load ${t.load_avg_1m})`).join('; ')}`);
  }
  if (report.fill !== undefined) {
    const fill = report.fill;
    const short = fill.budget_exhausted ? ` — time budget ran out before ${fill.messages_target}` : '';
    lines.push(`fill: ${fill.sent} messages in ${fill.seconds} s (${fill.ops_per_s}/s at C=256); applied index ${fill.applied_index}${short}`);
    const every = Math.max(1, Math.ceil(fill.rss_growth.length / 8));
    const samples = fill.rss_growth.filter((_, i) => i % every === 0 || i === fill.rss_growth.length - 1);
    lines.push(`  max replica RSS while filling (messages sent: MiB): ${samples.map((g) => `${g.sent}: ${g.max_rss_mib}`).join(', ')}`);
  }
  if (report.catchup !== undefined) {
    const c = report.catchup;
    const snap = c.snapshot === undefined ? 'no snapshot line in the joiner log' : `snapshot ${c.snapshot.pairs} pairs, ${(c.snapshot.bytes / 1e6).toFixed(1)} MB in ${c.snapshot.receive_ms} ms = ${c.snapshot.mb_per_s} MB/s, installed in ${c.snapshot.install_ms ?? '?'} ms`;
    lines.push(`catch-up (${c.messages} messages, applied index ${c.applied_index}): voter after ${(c.to_voter_ms / 1000).toFixed(2)} s (member after ${c.to_learner_ms ?? '?'} ms); ${snap}; joiner RSS ${c.joiner_rss_mib ?? '?'} MiB (load ${c.load_avg_1m})`);
    lines.push(`  snapshots received ${c.snapshots_received}, snapshot streams refused ${c.snapshot_attempts_refused}, elections during the join ${c.elections_during_join}`);
  }
  const mem = report.memory;
  const split = (record: Record<string, MemorySplit>): string =>
    Object.entries(record)
      .map(([id, m]) => `${id} heap ${m.heap_used_mib} used/${m.heap_total_mib} reserved, buffers ${m.external_mib}, rest ${Math.max(0, m.rss_mib - m.heap_total_mib - m.external_mib)} of ${m.rss_mib}`)
      .join('; ');
  if (mem.rss_mib_holding_messages !== undefined) {
    lines.push(`memory: RSS holding ${mem.messages} messages, right after the fill: max ${maxOf(mem.rss_mib_holding_messages)} MiB (${fmtRecord(mem.rss_mib_holding_messages)})`);
  }
  if (mem.split_holding_messages !== undefined) lines.push(`  where it is (MiB): ${split(mem.split_holding_messages)}`);
  if (mem.rss_mib_holding_messages_settled !== undefined) {
    lines.push(`memory: RSS holding ${mem.messages} messages, after ${mem.settle_s} s at rest: max ${maxOf(mem.rss_mib_holding_messages_settled)} MiB (${fmtRecord(mem.rss_mib_holding_messages_settled)})`);
  }
  if (mem.split_holding_messages_settled !== undefined) lines.push(`  where it is (MiB): ${split(mem.split_holding_messages_settled)}`);
  if (mem.rss_mib_peak_at_c256 !== undefined) {
    lines.push(`memory: peak RSS during C=256: max ${maxOf(mem.rss_mib_peak_at_c256)} MiB (${fmtRecord(mem.rss_mib_peak_at_c256)})`);
  }
  for (const error of report.errors) lines.push(`ERROR: ${error}`);
  return lines;
}

/** One line of what the replicas' own metrics say about a point. */
function describeReplicas(p: PointResult): string {
  const leader = p.replicas[p.leader];
  const followers = Object.entries(p.replicas).filter(([id]) => id !== p.leader).map(([, w]) => w);
  if (leader === undefined || followers.length === 0) return 'no readings';
  const avg = (key: keyof ReplicaWindow): number => Math.round((followers.reduce((t, w) => t + w[key], 0) / followers.length) * 100) / 100;
  const followerAvg = Object.fromEntries((Object.keys(leader) as Array<keyof ReplicaWindow>).map((key) => [key, avg(key)])) as unknown as ReplicaWindow;
  const side = (w: ReplicaWindow): string =>
    `${w.fsyncs_per_s} fsyncs/s × ${w.fsync_mean_ms} ms, ${w.entries_per_fsync} entries/fsync, apply ${w.apply_batch_mean_ms} ms/batch, ` +
    `loop lag p99 ${w.event_loop_lag_p99_ms} ms, heap ${w.heap_used_mib}/${w.heap_total_mib} MiB of RSS ${w.rss_mib}`;
  // Where the client's time went, per replica that served SendMessage (at C=1 a single one).
  const served = Object.entries(p.replicas)
    .filter(([, w]) => w.send_call_mean_ms > 0)
    .map(([id, w]) => `${id}${id === p.leader ? ' (leader)' : ''} ${w.send_call_mean_ms} ms in the call, ${w.propose_mean_ms} ms of it proposing`);
  const calls = served.length === 0 ? '' : `; SendMessage mean: ${served.join(', ')}`;
  return `${leader.bytes_per_entry} B/entry; ${side(leader)} | ${side(followerAvg)}${calls}`;
}

function fmtRecord(record: Record<string, number>): string {
  return Object.entries(record)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}
