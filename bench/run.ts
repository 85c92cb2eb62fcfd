// `npm run bench`: starts a local 5-replica cluster (fsync on, one process per replica, from dist/)
// and measures write throughput and latency, linearizable reads, failover, a new replica's
// catch-up and memory. Prints tables on stdout, progress on stderr; `--json FILE` keeps the figures.
// It measures and reports; it never fails on a figure.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { RaftchatClient } from '../src/client/index.js';
import { BenchCluster, chatdEntry } from './cluster.js';
import { sleep, type BenchContext, type BenchSettings } from './context.js';
import { LoadDriver } from './load/driver.js';
import type { LoadUser } from './load/protocol.js';
import { fillCluster, idleMemory, measureCatchup, memorySplit } from './phases/catchup.js';
import { measureFailover } from './phases/failover.js';
import { combineRuns, measurePoint, type PointResult } from './phases/throughput.js';
import { cpuSpeedMs, machineInfo } from './probe.js';
import { ProgressLine } from './progress.js';
import { formatReport, median, type BenchReport } from './report.js';

const REPLICAS = 5;
/** This process's node flags as started (tsx's loader among them), before run() swaps them for the replicas'. */
const ownExecArgv = [...process.execArgv];
const PHASES = ['throughput', 'reads', 'failover', 'catchup'] as const;
type Phase = (typeof PHASES)[number];

interface Flags {
  quick?: boolean;
  json?: string;
  messages?: string;
  fillBudgetS?: string;
  settleS?: string;
  warmupS?: string;
  measureS?: string;
  runs?: string;
  primeS?: string;
  phases: string;
  concurrency?: string;
  keepData?: boolean;
  cpuProf?: string;
  logLevel: string;
  replicaNodeArgs?: string;
}

function settingsFrom(flags: Flags): BenchSettings {
  const quick = flags.quick === true;
  const number = (text: string | undefined, fallback: number): number => {
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`expected a positive number, got "${text}"`);
    return value;
  };
  return {
    quick,
    warmupMs: number(flags.warmupS, quick ? 1 : 5) * 1000,
    measureMs: number(flags.measureS, quick ? 3 : 20) * 1000,
    runs: Math.round(number(flags.runs, quick ? 1 : 3)),
    primeMs: (flags.primeS === '0' ? 0 : number(flags.primeS, quick ? 2 : 15)) * 1000,
    concurrencies: (flags.concurrency ?? '1,16,64,256').split(',').map((c) => number(c, 1)),
    readConcurrency: 64,
    failoverTrials: quick ? 3 : 5,
    failoverConcurrency: 16,
    catchupMessages: number(flags.messages, quick ? 30_000 : 1_000_000),
    fillConcurrency: 256,
    fillBudgetMs: number(flags.fillBudgetS, 24 * 3600) * 1000,
    settleMs: number(flags.settleS, quick ? 5 : 30) * 1000,
    bodyBytes: 200,
    users: 16,
    deadlineMs: 10_000,
  };
}

/** Registers the benchmark's accounts and logs each in once; tokens are valid on every replica. */
async function setupUsers(addresses: readonly string[], count: number): Promise<LoadUser[]> {
  const users: LoadUser[] = [];
  for (let i = 0; i < count; i++) {
    const client = new RaftchatClient({ servers: [...addresses], deadlineMs: 30_000 });
    try {
      const username = `bench${i}`;
      const password = `bench-password-${i}`;
      await client.register({ username, password });
      const { token } = await client.login({ username, password });
      users.push({ username, token });
    } finally {
      client.close();
    }
  }
  return users;
}

async function main(flags: Flags): Promise<void> {
  const settings = settingsFrom(flags);
  const phases = new Set(flags.phases.split(',').map((p) => p.trim()) as Phase[]);
  for (const p of phases) if (!PHASES.includes(p)) throw new Error(`unknown phase "${p}" (phases: ${PHASES.join(',')})`);
  const progress = new ProgressLine();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'raftchat-bench-'));
  progress.phase('timing a fixed loop on one core (how fast this host runs right now)');
  const speedBefore = cpuSpeedMs();
  const { built } = chatdEntry();
  const report: BenchReport = {
    started_at: new Date().toISOString(),
    quick: settings.quick,
    replica_runtime: built ? 'node dist/cli/chatd.js' : 'tsx src/cli/chatd.ts (no dist/ build)',
    settings: { warmup_s: settings.warmupMs / 1000, measure_s: settings.measureMs / 1000, runs: settings.runs, prime_s: settings.primeMs / 1000, body_bytes: settings.bodyBytes, users: settings.users, replicas: REPLICAS },
    throughput: [],
    leader_changes_during_steady_load: 0,
    failover_ms: [],
    failover: undefined,
    fill: undefined,
    catchup: undefined,
    memory: {
      rss_mib_holding_messages: undefined,
      split_holding_messages: undefined,
      settle_s: undefined,
      rss_mib_holding_messages_settled: undefined,
      split_holding_messages_settled: undefined,
      messages: undefined,
      rss_mib_peak_at_c256: undefined,
    },
    reads: undefined,
    machine: machineInfo(),
    errors: [],
  };

  progress.phase(`starting ${REPLICAS} replicas (${report.replica_runtime}) in ${dataDir}`);
  // LocalCluster starts replicas with this process's node flags. A built replica must run as plain
  // `node dist/cli/chatd.js` — without the tsx loader this script needs (a loader thread and
  // module hooks in every replica) — so the flags replicas see are replaced for the whole run;
  // the load generator is given the original ones. Node refuses --cpu-prof in NODE_OPTIONS, so
  // it goes in the same way, for the first start only (a replica restarted later runs without).
  const extraNodeArgs = flags.replicaNodeArgs === undefined ? [] : flags.replicaNodeArgs.split(' ').filter((a) => a !== '');
  const replicaExecArgv = [...(built ? withoutTsx(ownExecArgv) : ownExecArgv), ...extraNodeArgs];
  if (flags.cpuProf !== undefined) process.execArgv = [...replicaExecArgv, '--cpu-prof', `--cpu-prof-dir=${path.resolve(flags.cpuProf)}`];
  else process.execArgv = replicaExecArgv;
  let cluster: BenchCluster;
  try {
    cluster = await BenchCluster.start({ replicas: REPLICAS, dataDir, extraServeArgs: ['--log-level', flags.logLevel] });
  } finally {
    process.execArgv = replicaExecArgv;
  }
  let load: LoadDriver | undefined;
  const cleanup = async (): Promise<void> => {
    load?.close();
    await cluster.stop();
    if (flags.keepData !== true) await rm(dataDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    progress.phase('interrupted: stopping the cluster');
    void cleanup().finally(() => process.exit(130));
  });

  try {
    progress.phase(`registering ${settings.users} users`);
    const users = await setupUsers(cluster.clientAddresses, settings.users);
    // Worker w sends to replica w mod 5, the way a gRPC client keeps one connection to one replica.
    // The leader comes last, so the single worker of C=1 is on a follower — where four clients in
    // five are, each write forwarded to the leader — rather than on whichever replica won the election.
    const leader = await cluster.waitForLeader(10_000);
    const addresses = [...cluster.clientAddresses];
    addresses.push(...addresses.splice(leader.index, 1));
    load = await LoadDriver.start(addresses, users, settings.bodyBytes, ownExecArgv);
    const ctx: BenchContext = { settings, cluster, load, progress };
    const attempt = async (name: string, body: () => Promise<void>): Promise<void> => {
      try {
        await body();
      } catch (error) {
        report.errors.push(`${name}: ${(error as Error).message}`);
        progress.phase(`${name} failed: ${(error as Error).message}`);
      }
    };

    // Each point runs `runs` times and reports the medians (single runs on this VM move ±5–15 %).
    // Rounds go through every point in turn, so a slow spell of the machine does not fall on one point.
    const runsOf = new Map<string, PointResult[]>();
    const measure = async (name: string, mode: 'send' | 'list', c: number, round: number): Promise<void> => {
      await attempt(`${name} C=${c}${settings.runs > 1 ? ` (run ${round}/${settings.runs})` : ''}`, async () => {
        const of = settings.runs > 1 ? `, run ${round} of ${settings.runs}` : '';
        progress.phase(`${name} at C=${c}${of}: ${settings.warmupMs / 1000} s warm-up + ${settings.measureMs / 1000} s`);
        const point = await measurePoint(ctx, mode, c);
        runsOf.set(`${mode}/${c}`, [...(runsOf.get(`${mode}/${c}`) ?? []), point]);
        progress.phase(describePoint(point));
      });
    };
    if ((phases.has('throughput') || phases.has('reads')) && settings.primeMs > 0) {
      // A replica just started runs its hot paths unoptimized until V8 has seen them often enough:
      // the first point measured on a fresh cluster read up to a third slower than the same point
      // later. A replica in service has long been past that, so the cluster is primed first, unmeasured.
      await attempt('priming', async () => {
        progress.phase(`priming the cluster (JIT warm-up): SendMessage at C=16 for ${settings.primeMs / 1000} s, not measured`);
        await load!.run({ mode: 'send', concurrency: 16, warmupMs: settings.primeMs, durationMs: 1_000, deadlineMs: settings.deadlineMs, retryOnError: false }, () => {}).result;
      });
    }
    for (let round = 1; round <= settings.runs; round++) {
      if (phases.has('throughput')) for (const c of settings.concurrencies) await measure('SendMessage', 'send', c, round);
      if (phases.has('reads')) await measure('linearizable ListMessages (limit 10)', 'list', settings.readConcurrency, round);
    }
    for (const c of settings.concurrencies) {
      const runs = runsOf.get(`send/${c}`);
      if (runs === undefined) continue;
      const point = combineRuns(runs);
      report.throughput.push(point);
      if (c === 256) report.memory.rss_mib_peak_at_c256 = point.rss_peak_mib;
    }
    const reads = runsOf.get(`list/${settings.readConcurrency}`);
    if (reads !== undefined) report.reads = combineRuns(reads);
    report.leader_changes_during_steady_load = [...report.throughput, ...(report.reads ? [report.reads] : [])].reduce((n, p) => n + p.leader_changes, 0);
    if (phases.has('failover')) {
      await attempt('failover', async () => {
        progress.phase(`failover: ${settings.failoverTrials} trials of SIGKILL to the leader under C=${settings.failoverConcurrency}`);
        const trials = await measureFailover(ctx);
        const ms = trials.map((t) => t.failover_ms);
        report.failover_ms = ms;
        report.failover = { trials, min_ms: Math.min(...ms), median_ms: median(ms), max_ms: Math.max(...ms) };
      });
    }
    if (phases.has('catchup')) {
      await attempt('catch-up', async () => {
        progress.phase(`filling the cluster to ${settings.catchupMessages} messages at C=${settings.fillConcurrency}`);
        report.fill = await fillCluster(ctx);
        report.memory.messages = report.fill.applied_index;
        report.memory.rss_mib_holding_messages = idleMemory(ctx);
        report.memory.split_holding_messages = await memorySplit(ctx);
        // V8 returns the heap that the load grew only after a while without it (its memory reducer).
        progress.phase(`resting ${settings.settleMs / 1000} s, then reading memory again`);
        await sleep(settings.settleMs);
        report.memory.settle_s = settings.settleMs / 1000;
        report.memory.rss_mib_holding_messages_settled = idleMemory(ctx);
        report.memory.split_holding_messages_settled = await memorySplit(ctx);
        progress.phase(`a new replica joins the cluster holding ${report.fill.applied_index} entries`);
        report.catchup = await measureCatchup(ctx, report.fill.applied_index);
      });
    }
  } finally {
    progress.phase('stopping the cluster');
    await cleanup();
  }

  report.machine.cpu_speed_ms = { before: speedBefore, after: cpuSpeedMs() };
  for (const line of formatReport(report)) process.stdout.write(`${line}\n`);
  if (flags.json !== undefined) {
    await writeFile(flags.json, `${JSON.stringify(report, null, 2)}\n`);
    progress.phase(`figures written to ${flags.json}`);
  }
}

/** Node flags without tsx's loader (`--import tsx`, `--import=…tsx…`, `--require …tsx…`). */
function withoutTsx(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if ((arg === '--import' || arg === '--require' || arg === '-r') && argv[i + 1]?.includes('tsx') === true) i++;
    else if (!((arg.startsWith('--import=') || arg.startsWith('--require=')) && arg.includes('tsx'))) out.push(arg);
  }
  return out;
}

function describePoint(p: PointResult): string {
  return `  → ${p.ops_per_s}/s, p50 ${p.p50_ms} ms, p99 ${p.p99_ms} ms, ${p.errors} errors, client CPU ${p.client_cpu_pct}%, load ${p.load_avg_1m.after}`;
}

const program = new Command('bench')
  .description('raftchat benchmark: a local 5-replica cluster under load')
  .option('--quick', 'a short run for development: a few seconds per point, 30k messages for catch-up')
  .option('--json <file>', 'also write the figures as JSON')
  .option('--runs <n>', 'run every throughput and read point n times and report the medians (default 3; 1 with --quick)')
  .option('--prime-s <s>', 'unmeasured load before the first point, so every point sees warmed-up replicas (default 15; 2 with --quick; 0 for none)')
  .option('--settle-s <s>', 'rest after the fill before reading memory a second time (default 30; 5 with --quick)')
  .option('--messages <n>', 'messages the cluster holds for catch-up and memory (default 1,000,000; 30,000 with --quick)')
  .option('--fill-budget-s <s>', 'stop filling after this long even if short of --messages (the report says how many it holds)')
  .option('--warmup-s <s>', 'warm-up per point')
  .option('--measure-s <s>', 'measured time per point')
  .option('--phases <list>', `which phases, comma-separated (${PHASES.join(',')})`, PHASES.join(','))
  .option('--concurrency <list>', 'SendMessage points, comma-separated in-flight counts', '1,16,64,256')
  .option('--keep-data', 'keep the replicas\' data directory and logs')
  .option('--cpu-prof <dir>', 'write a V8 CPU profile of every replica into dir (node --cpu-prof)')
  .option('--replica-node-args <args>', 'extra node flags for every replica, e.g. "--max-old-space-size=128"')
  .option('--log-level <level>', 'replica log level (info keeps the snapshot lines catch-up reads)', 'info')
  .action(async (flags: Flags) => {
    await main(flags);
  });

await program.parseAsync(process.argv);
