// Catch-up: fill the cluster to N messages as fast as it takes them, read every replica's memory,
// then add a brand-new replica (`chatd serve --join`) and time it from start to voter. A replica
// that joins a compacted log gets the state as a snapshot (Raft §7), so the transfer rate is the
// snapshot's bytes over its transfer time, read from the joiner's and the leader's logs.
import { readFile } from 'node:fs/promises';
import { poll } from '../cluster.js';
import type { BenchContext } from '../context.js';
import { loadAverage1m, round, rssNow } from '../probe.js';
import { readReplicas } from '../replica-probe.js';

export interface FillResult {
  messages_target: number;
  /** The leader's applied index afterwards: every message, account and membership change is one entry. */
  applied_index: number;
  sent: number;
  seconds: number;
  ops_per_s: number;
  /** True when the time budget ran out before the target: the cluster holds fewer messages. */
  budget_exhausted: boolean;
  /** Largest replica RSS as the cluster filled: shows whether memory grows with the data. */
  rss_growth: Array<{ sent: number; max_rss_mib: number }>;
}

export interface CatchupResult {
  messages: number;
  applied_index: number;
  /** From spawning the joiner to the leader listing it as a voter. */
  to_voter_ms: number;
  /** From spawning the joiner to the leader listing it as a member at all (learner). */
  to_learner_ms: number | undefined;
  snapshot: { pairs: number; bytes: number; receive_ms: number; mb_per_s: number; install_ms: number | undefined } | undefined;
  leader_send: { elapsed_ms: number; bytes: number | undefined } | undefined;
  joiner_rss_mib: number | undefined;
  /** Whole snapshots the joiner received (more than one: a transfer was wasted). */
  snapshots_received: number;
  /** Snapshot streams the joiner refused (logged by the sending leader). */
  snapshot_attempts_refused: number;
  /** Term rises while the replica joined: a leader change restarts the transfer. */
  elections_during_join: number;
  load_avg_1m: number;
}

const FILL_ATTEMPT_DEADLINE_MS = 10_000;
const RSS_SAMPLE_INTERVAL_MS = 10_000;
const JOIN_TIMEOUT_MS = 15 * 60_000;

export async function fillCluster(ctx: BenchContext): Promise<FillResult> {
  const { cluster, load, progress, settings } = ctx;
  const before = (await cluster.waitForLeader(10_000)).status.appliedIndex;
  const need = Math.max(0, settings.catchupMessages - before);
  const startedMs = Date.now();
  let sent = 0;
  const rssGrowth: FillResult['rss_growth'] = [];
  let lastSampleMs = 0;
  if (need > 0) {
    const run = load.run(
      {
        mode: 'send',
        concurrency: settings.fillConcurrency,
        warmupMs: 0,
        durationMs: settings.fillBudgetMs,
        targetOps: need,
        deadlineMs: FILL_ATTEMPT_DEADLINE_MS,
        retryOnError: true,
      },
      (p) => {
        const elapsedMs = Date.now() - startedMs;
        const rate = p.acked / (elapsedMs / 1000);
        const etaS = rate > 0 ? Math.round((need - p.acked) / rate) : NaN;
        const maxRss = Math.max(0, ...Object.values(rssNow(cluster.pids())));
        if (elapsedMs - lastSampleMs >= RSS_SAMPLE_INTERVAL_MS) {
          rssGrowth.push({ sent: p.acked, max_rss_mib: maxRss });
          lastSampleMs = elapsedMs;
        }
        progress.tick(`filling: ${p.acked}/${need} (${Math.round(rate)}/s, ${p.errors} errors, ~${etaS} s left, max RSS ${maxRss} MiB)`);
      },
    );
    // The run ends by itself at targetOps, or when the budget runs out.
    const result = await run.result;
    sent = result.ops;
  }
  const seconds = (Date.now() - startedMs) / 1000;
  const applied = await cluster.waitForConvergence(120_000);
  return {
    messages_target: settings.catchupMessages,
    applied_index: applied,
    sent,
    seconds: round(seconds, 1),
    ops_per_s: round(sent / Math.max(seconds, 1e-3), 0),
    budget_exhausted: sent < need,
    rss_growth: rssGrowth,
  };
}

/** RSS of every replica now, once the cluster holds the filled data and is idle. */
export function idleMemory(ctx: BenchContext): Record<string, number> {
  return rssNow(ctx.cluster.pids());
}

/** Where each replica's memory is, by its own /metrics: V8 heap used and reserved, off-heap buffers, RSS (MiB). */
export async function memorySplit(ctx: BenchContext): Promise<Record<string, MemorySplit>> {
  const out: Record<string, MemorySplit> = {};
  for (const [id, r] of await readReplicas(ctx.cluster.metricsUrls())) {
    out[id] = { heap_used_mib: round(r.heapUsedMiB, 0), heap_total_mib: round(r.heapTotalMiB, 0), external_mib: round(r.externalMiB, 0), rss_mib: round(r.rssMiB, 0) };
  }
  return out;
}

export interface MemorySplit {
  heap_used_mib: number;
  heap_total_mib: number;
  external_mib: number;
  rss_mib: number;
}

export async function measureCatchup(ctx: BenchContext, messages: number): Promise<CatchupResult> {
  const { cluster, progress } = ctx;
  const leader = await cluster.waitForLeader(10_000);
  const leaderSpec = cluster.local.specs[leader.index]!;
  const termBefore = leader.status.term;
  const loadAvg = loadAverage1m();
  const id = 'joiner';
  const startedMs = Date.now();
  const joiner = await cluster.join(id, leaderSpec.clientAddress);
  let learnerAtMs: number | undefined;
  const voterAtMs = await poll(`${id} to become a voter`, JOIN_TIMEOUT_MS, async () => {
    if (joiner.child.exitCode !== null) throw new Error(`${id} exited with code ${joiner.child.exitCode}; see ${joiner.logFile}`);
    const current = await cluster.waitForLeader(5_000);
    const member = current.status.members.find((m) => m.id === id);
    if (member !== undefined) learnerAtMs ??= Date.now();
    progress.tick(`${id}: ${member === undefined ? 'not a member yet' : member.voter ? 'voter' : `learner, ${member.progressState}, lag ${member.lag}`} after ${((Date.now() - startedMs) / 1000).toFixed(1)} s`);
    return member?.voter === true ? Date.now() : undefined;
  });
  const termAfter = (await cluster.waitForLeader(5_000)).status.term;
  const joinerLog = await readLogLines(joiner.logFile);
  // The snapshot that counted is the last one received before "snapshot installed"; earlier ones
  // were discarded (e.g. sent by a leader that lost its term meanwhile).
  const installedAt = joinerLog.findIndex((l) => l['msg'] === 'snapshot installed');
  const installed = installedAt < 0 ? undefined : joinerLog[installedAt];
  const receivedLines = joinerLog.filter((l) => l['msg'] === 'snapshot received' && typeof l['bytes'] === 'number');
  const received = installedAt < 0 ? receivedLines.at(-1) : joinerLog.slice(0, installedAt).filter((l) => receivedLines.includes(l)).at(-1);
  const leaderLogs = await Promise.all(cluster.local.specs.map((s) => readLogLines(s.logFile)));
  const sentLine = leaderLogs
    .flat()
    .filter((l) => l['msg'] === 'snapshot sent to peer' && l['peer'] === id)
    .sort((a, b) => Number(a['time']) - Number(b['time']))
    .at(-1);
  const refusedAttempts = leaderLogs.flat().filter((l) => l['msg'] === 'snapshot to peer failed; raft will retry' && l['peer'] === id).length;
  const receiveMs = received === undefined ? undefined : Number(received['ms']);
  const bytes = received === undefined ? undefined : Number(received['bytes']);
  const pid = joiner.child.pid;
  return {
    messages,
    applied_index: leader.status.appliedIndex,
    to_voter_ms: voterAtMs - startedMs,
    to_learner_ms: learnerAtMs === undefined ? undefined : learnerAtMs - startedMs,
    snapshot:
      received === undefined || receiveMs === undefined || bytes === undefined
        ? undefined
        : {
            pairs: Number(received['pairs']),
            bytes,
            receive_ms: receiveMs,
            mb_per_s: round(bytes / 1e6 / Math.max(receiveMs / 1000, 1e-3), 1),
            install_ms: installed === undefined ? undefined : Number(installed['time']) - Number(received['time']),
          },
    leader_send:
      sentLine === undefined
        ? undefined
        : { elapsed_ms: Number(sentLine['elapsedMs']), bytes: typeof sentLine['bytes'] === 'number' ? sentLine['bytes'] : undefined },
    joiner_rss_mib: pid === undefined ? undefined : rssNow(new Map([[id, pid]]))[id],
    snapshots_received: receivedLines.length,
    snapshot_attempts_refused: refusedAttempts,
    elections_during_join: termAfter - termBefore,
    load_avg_1m: loadAvg,
  };
}

/** The JSON lines of a pino log (anything else in the file is skipped). */
async function readLogLines(file: string): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const lines: Array<Record<string, unknown>> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A line cut short by a kill.
    }
  }
  return lines;
}
