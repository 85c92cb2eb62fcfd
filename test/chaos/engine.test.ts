// The chaos engine: its fault budget (pure), the Kubernetes target against a fake API server that
// speaks the real pods REST wire format, and the local target against a real five-replica cluster
// with the verifying workload running alongside.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { pino, type Logger } from 'pino';
import {
  budgetState,
  decideKill,
  defaultFaultBudget,
  stillPending,
  withPendingVictims,
  type ReplicaHealth,
} from '../../src/chaos/engine-budget.js';
import { ChaosObserveError, runChaos, waitForAllReady, type ChaosRound } from '../../src/chaos/engine.js';
import { runVerifiedChaos } from '../../src/chaos/engine-verify.js';
import { KubernetesTarget } from '../../src/chaos/target-kubernetes.js';
import { LocalTarget, parseServeCommandLine } from '../../src/chaos/target-local.js';
import { findLeaderId } from '../../src/chaos/target-probe.js';
import type { ChaosTarget } from '../../src/chaos/target-types.js';
import { parseDurationMs } from '../../src/cli/commands/chaos.js';
import { UsageError } from '../../src/cli/commands/errors.js';
import { runChatctl } from '../../src/cli/commands/program.js';
import { LocalCluster, type ReplicaEvent } from '../../src/cli/local.js';
import { FakeApiServer, matchesSelector, pod } from './engine-fake-apiserver.js';
import { chatdEntryOption } from '../support/chatd-command.js';

interface LogLine {
  event?: string;
  msg: string;
  victim?: string;
  dryRun?: boolean;
  reason?: string;
  budget?: { down: number; faultBudget: number; remaining: number };
}

/** A pino logger whose JSON lines are kept for the test to read. */
function capturedLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as LogLine);
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

function replica(name: string, ready = true, extra: Partial<ReplicaHealth> = {}): ReplicaHealth {
  return { name, ready, leader: false, incarnation: `${name}-1`, ...extra };
}

const alwaysFirst = (): number => 0;

describe('chaos engine: the fault budget', () => {
  it('defaults to the most replicas a majority survives: ⌊(n−1)/2⌋', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(defaultFaultBudget), [0, 0, 1, 1, 2, 2, 3]);
  });

  it('kills a ready replica while fewer than the budget are down, counting not-ready ones', () => {
    const replicas = [replica('n0'), replica('n1', false), replica('n2'), replica('n3'), replica('n4')];
    const decision = decideKill(replicas, { faultBudget: undefined, leaderOnly: false, random: alwaysFirst });
    assert.equal(decision.action, 'kill');
    assert.equal(decision.action === 'kill' && decision.victim, 'n0');
    assert.deepEqual(decision.budget, { replicas: 5, faultBudget: 2, down: 1, remaining: 1, downReplicas: ['n1'] });
  });

  it('skips once as many replicas are down as the budget allows', () => {
    const replicas = [replica('n0'), replica('n1', false), replica('n2', false), replica('n3'), replica('n4')];
    const decision = decideKill(replicas, { faultBudget: undefined, leaderOnly: false, random: alwaysFirst });
    assert.equal(decision.action, 'skip');
    assert.match(decision.reason, /fault budget spent: 2 down \(n1, n2\), budget 2/);
  });

  it('never kills with a fault budget of 0', () => {
    const decision = decideKill([replica('n0'), replica('n1'), replica('n2')], { faultBudget: 0, leaderOnly: false, random: alwaysFirst });
    assert.equal(decision.action, 'skip');
  });

  it('picks the victim among the ready replicas only, with the given randomness', () => {
    const replicas = [replica('n0', false), replica('n1'), replica('n2'), replica('n3')];
    const picks = [0, 0.5, 0.99].map((r) => decideKill(replicas, { faultBudget: 2, leaderOnly: false, random: () => r }));
    assert.deepEqual(picks.map((d) => (d.action === 'kill' ? d.victim : d.action)), ['n1', 'n2', 'n3']);
  });

  it('targets the leader with leaderOnly, and skips while no ready leader is known', () => {
    const withLeader = [replica('n0'), replica('n1', true, { leader: true }), replica('n2')];
    const chosen = decideKill(withLeader, { faultBudget: 1, leaderOnly: true, random: alwaysFirst });
    assert.equal(chosen.action === 'kill' && chosen.victim, 'n1');
    const leaderless = decideKill([replica('n0'), replica('n1'), replica('n2')], { faultBudget: 1, leaderOnly: true, random: alwaysFirst });
    assert.equal(leaderless.action, 'skip');
    assert.match(leaderless.reason, /no ready leader/);
  });

  it('counts a victim as down while it is missing or still the incarnation that was killed', () => {
    const victims = [
      { name: 'n3', incarnation: 'n3-1', killedAtMs: 0 },
      { name: 'n4', incarnation: 'n4-1', killedAtMs: 0 },
    ];
    // n3 still reports ready with the killed incarnation (terminating); n4 is gone from the listing.
    const merged = withPendingVictims([replica('n0'), replica('n1'), replica('n2'), replica('n3')], victims);
    assert.deepEqual(budgetState(merged, undefined).downReplicas, ['n3', 'n4']);
    // Back: n3 ready under a new incarnation, n4 listed but not ready yet.
    const later = [replica('n0'), replica('n1'), replica('n2'), replica('n3', true, { incarnation: 'n3-2' }), replica('n4', false, { incarnation: 'n4-2' })];
    assert.deepEqual(stillPending(victims, later).map((v) => v.name), ['n4']);
  });
});

describe('chaos engine: the run loop', () => {
  it('gives up with ChaosObserveError when the target cannot be observed several rounds in a row', async () => {
    let observed = 0;
    const broken: ChaosTarget = {
      description: 'broken',
      observe: () => {
        observed++;
        return Promise.reject(new Error('pods is forbidden'));
      },
      kill: () => Promise.reject(new Error('never called')),
      endpoints: () => Promise.resolve([]),
      close: () => undefined,
    };
    const { logger, lines } = capturedLogger();
    await assert.rejects(runChaos({ target: broken, intervalMs: 5, maxObserveFailures: 3, logger }), (error: unknown) => {
      assert.ok(error instanceof ChaosObserveError);
      assert.match(error.message, /3 times in a row: pods is forbidden/);
      return true;
    });
    assert.equal(observed, 3);
    assert.equal(lines.filter((l) => l.event === 'observe-failed').length, 3);
  });

  it('stops when its signal aborts, without waiting for the next interval', async () => {
    const abort = new AbortController();
    const idle: ChaosTarget = {
      description: 'idle',
      observe: () => Promise.resolve([]),
      kill: () => Promise.reject(new Error('never called')),
      endpoints: () => Promise.resolve([]),
      close: () => undefined,
    };
    const startedMs = Date.now();
    const run = runChaos({ target: idle, intervalMs: 60_000, logger: capturedLogger().logger, signal: abort.signal });
    abort.abort();
    const result = await run;
    assert.equal(result.stoppedBecause, 'aborted');
    assert.ok(Date.now() - startedMs < 5_000);
  });
});

describe('chaos engine: command-line values', () => {
  it('reads durations with units like chaoskube, and refuses bare or zero ones', () => {
    assert.deepEqual(['500ms', '30s', '1.5m', '2h'].map((t) => parseDurationMs(t, '--interval')), [500, 30_000, 90_000, 7_200_000]);
    for (const bad of ['30', '0s', 'soon', '-1s']) assert.throws(() => parseDurationMs(bad, '--interval'), UsageError);
  });

  it('recognises the chatd serve command lines of one local cluster only', () => {
    const args = ['/usr/bin/node', '--import', 'tsx', '/x/chatd.ts', 'serve', '--id', 'n2', '--data-dir', '/data/n2', '--client-addr', '0.0.0.0:5002'];
    assert.deepEqual(parseServeCommandLine(args, 42, '/data'), { id: 'n2', pid: 42, clientAddress: '127.0.0.1:5002' });
    assert.equal(parseServeCommandLine(args, 42, '/other'), undefined);
    assert.equal(parseServeCommandLine(['/usr/bin/node', 'chatd.js', 'local', '--data-dir', '/data'], 7, '/data'), undefined);
  });
});

describe('chaos engine: the Kubernetes target', () => {
  const raftchatPods = (readyFlags: boolean[]) => readyFlags.map((ready, i) => pod(`raftchat-${i}`, { ready }));
  let api: FakeApiServer | undefined;

  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  it('lists with the label selector and deletes only matching pods, up to --max-kills', async () => {
    api = await FakeApiServer.start([
      ...raftchatPods([true, true, true, true, true]),
      pod('other-0', { labels: { 'app.kubernetes.io/name': 'something-else' } }),
      pod('raftchat-0', { namespace: 'elsewhere' }),
    ]);
    const { logger, lines } = capturedLogger();
    const target = new KubernetesTarget({ kubeConfig: api.kubeConfig(), namespace: 'chat', labelSelector: 'app.kubernetes.io/name=raftchat' });
    const result = await runChaos({ target, intervalMs: 10, maxKills: 2, logger });
    assert.equal(result.kills.length, 2);
    assert.equal(api.deleted.length, 2);
    for (const name of api.deleted) assert.match(name, /^raftchat-[0-4]$/);
    const lists = api.requests.filter((r) => r.method === 'GET');
    assert.ok(lists.length >= 2);
    for (const r of lists) {
      assert.equal(r.path, '/api/v1/namespaces/chat/pods');
      assert.equal(r.labelSelector, 'app.kubernetes.io/name=raftchat');
    }
    for (const r of api.requests.filter((q) => q.method === 'DELETE')) assert.match(r.path, /^\/api\/v1\/namespaces\/chat\/pods\/raftchat-[0-4]$/);
    const killLogs = lines.filter((l) => l.event === 'kill');
    assert.deepEqual(killLogs.map((l) => l.victim), api.deleted);
    assert.deepEqual(killLogs.map((l) => l.budget?.down), [0, 1]);
  });

  it('deletes nothing in dry-run mode, but logs each decision as a kill it would make', async () => {
    api = await FakeApiServer.start(raftchatPods([true, true, true, true, true]));
    const { logger, lines } = capturedLogger();
    const target = new KubernetesTarget({ kubeConfig: api.kubeConfig(), namespace: 'chat', labelSelector: 'app.kubernetes.io/name=raftchat' });
    const result = await runChaos({ target, intervalMs: 10, maxKills: 3, dryRun: true, logger });
    assert.equal(result.kills.length, 3);
    assert.ok(result.kills.every((k) => k.dryRun));
    assert.deepEqual(api.deleted, []);
    assert.equal(api.requests.filter((r) => r.method === 'DELETE').length, 0);
    assert.equal(lines.filter((l) => l.event === 'kill' && l.dryRun === true).length, 3);
  });

  it('counts pods that are already not ready against the budget', async () => {
    // Two of five not ready: the default budget of 2 is spent before the engine does anything.
    api = await FakeApiServer.start(raftchatPods([true, false, true, false, true]));
    const { logger, lines } = capturedLogger();
    const target = new KubernetesTarget({ kubeConfig: api.kubeConfig(), namespace: 'chat', labelSelector: 'app.kubernetes.io/name=raftchat' });
    const result = await runChaos({ target, intervalMs: 10, durationMs: 300, maxKills: 5, logger });
    assert.deepEqual(api.deleted, []);
    assert.ok(result.rounds >= 2, `only ${result.rounds} rounds`);
    const skips = lines.filter((l) => l.event === 'skip');
    assert.equal(skips.length, result.rounds);
    assert.match(skips[0]!.reason ?? '', /fault budget spent: 2 down \(raftchat-1, raftchat-3\)/);
  });

  it('stops at the budget when one pod is already down: one delete, then the deleted pod counts too', async () => {
    api = await FakeApiServer.start(raftchatPods([true, true, false, true, true]));
    const { logger } = capturedLogger();
    const target = new KubernetesTarget({ kubeConfig: api.kubeConfig(), namespace: 'chat', labelSelector: 'app.kubernetes.io/name=raftchat' });
    const result = await runChaos({ target, intervalMs: 10, durationMs: 300, maxKills: 5, logger, random: () => 0.99 });
    assert.equal(api.deleted.length, 1);
    assert.equal(result.maxDownSeen, 2);
  });

  it('runs from `chatctl chaos` with the CronJob\'s flags and $KUBECONFIG', async () => {
    api = await FakeApiServer.start([...raftchatPods([true, true, true]), pod('raftchat-9', { labels: { app: 'other' } })]);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'chaos-kubeconfig-'));
    const previous = process.env['KUBECONFIG'];
    const stdout: string[] = [];
    const stderr: string[] = [];
    try {
      await writeFile(path.join(dir, 'config'), api.kubeConfigFile());
      process.env['KUBECONFIG'] = path.join(dir, 'config');
      const code = await runChatctl(
        ['chaos', '--target', 'kubernetes', '--namespace', 'chat', '--selector', 'app.kubernetes.io/name=raftchat', '--interval', '10ms', '--max-kills', '1', '--fault-budget', '1'],
        {
          env: {},
          out: { stdout: (l) => stdout.push(l), stderr: (l) => stderr.push(l) },
          stdin: new PassThrough(),
          stdout: new PassThrough(),
          prompt: undefined,
          signal: new AbortController().signal,
        },
      );
      assert.equal(code, 0, stderr.join('\n'));
    } finally {
      if (previous === undefined) delete process.env['KUBECONFIG'];
      else process.env['KUBECONFIG'] = previous;
      await rm(dir, { recursive: true, force: true });
    }
    assert.equal(api.deleted.length, 1);
    assert.match(api.deleted[0]!, /^raftchat-[0-2]$/);
    const logs = stdout.map((l) => JSON.parse(l) as LogLine);
    assert.deepEqual(logs.map((l) => l.event), ['chaos-start', 'kill', 'chaos-end']);
    assert.equal(logs[1]!.budget?.faultBudget, 1);
  });

  it('matches label selectors the way the API server does for equality and existence terms', () => {
    const labels = { app: 'raftchat', tier: 'db' };
    assert.ok(matchesSelector(labels, 'app=raftchat,tier==db'));
    assert.ok(matchesSelector(labels, 'app,!missing,tier!=web'));
    assert.ok(!matchesSelector(labels, 'app=other'));
  });
});

/** A base port whose client, peer and metrics ports (base+i, +100+i, +200+i) are all free now. */
async function freeBasePort(replicas: number): Promise<number> {
  const canListen = (port: number): Promise<boolean> =>
    new Promise((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const ports = [0, 100, 200].flatMap((offset) => Array.from({ length: replicas }, (_, i) => base + offset + i));
    if ((await Promise.all(ports.map(canListen))).every(Boolean)) return base;
  }
  throw new Error('no free block of ports for a local cluster');
}

describe('chaos engine: the local target on a real five-replica cluster', function () {
  this.timeout(180_000);
  let dir = '';
  let cluster: LocalCluster | undefined;

  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('kills replicas with --verify, never more than the budget down at once, and loses nothing acknowledged', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'chaos-local-'));
    // Process-level truth, independent of the engine: which replicas have no running process.
    const dead = new Set<string>();
    let mostDeadAtOnce = 0;
    const onEvent = (event: ReplicaEvent): void => {
      if (event.kind === 'exited' && !event.requested) dead.add(event.spec.id);
      if (event.kind === 'started') dead.delete(event.spec.id);
      mostDeadAtOnce = Math.max(mostDeadAtOnce, dead.size);
    };
    cluster = new LocalCluster({ replicas: 5, dataDir: dir, basePort: await freeBasePort(5), restart: true, graceMs: 3_000, onEvent, ...chatdEntryOption() });
    await cluster.start();

    const target = new LocalTarget({ dataDir: dir, probeDeadlineMs: 1_500 });
    const { logger, lines } = capturedLogger();
    const rounds: ChaosRound[] = [];
    const { chaos, report, recovered } = await runVerifiedChaos({
      target,
      intervalMs: 700,
      maxKills: 4,
      durationMs: 90_000,
      logger,
      onRound: (round) => rounds.push(round),
      workload: { users: 2, senders: 2, pauseBetweenSendsMs: 20 },
      recoveryTimeoutMs: 60_000,
    });

    assert.equal(chaos.stoppedBecause, 'max-kills', JSON.stringify(chaos));
    assert.equal(chaos.kills.length, 4);
    assert.equal(chaos.failedKills, 0);
    // More than the budget may be not ready on their own (with no leader, no replica is caught up),
    // but the engine kills only while at most budget - 1 are down.
    const killRounds = rounds.filter((r) => r.decision.action === 'kill');
    assert.equal(killRounds.length, 4);
    for (const round of killRounds) assert.ok(round.decision.budget.down <= 1, `killed with ${round.decision.budget.down} down`);
    assert.ok(mostDeadAtOnce >= 1 && mostDeadAtOnce <= 2, `at most ${mostDeadAtOnce} replica processes were dead at once`);
    assert.equal(recovered.down, 0, JSON.stringify(recovered));
    assert.ok(report.ok, JSON.stringify({ lost: report.lost, duplicates: report.duplicates, unreadable: report.unreadable, counts: report.counts }));
    assert.ok(report.counts.acknowledged > 0);
    assert.equal(lines.filter((l) => l.event === 'kill').length, 4);
    assert.ok(lines.some((l) => l.event === 'verify'));
  });

  it('takes down the leader with --leader', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'chaos-leader-'));
    cluster = new LocalCluster({ replicas: 3, dataDir: dir, basePort: await freeBasePort(3), restart: true, graceMs: 3_000, ...chatdEntryOption() });
    await cluster.start();
    const target = new LocalTarget({ dataDir: dir, probeDeadlineMs: 1_500 });
    const settled = await waitForAllReady(target, 60_000);
    assert.equal(settled.down, 0, JSON.stringify(settled));
    const leaderBefore = await findLeaderId(await target.endpoints(), 2_000);
    assert.ok(leaderBefore !== undefined);

    const rounds: ChaosRound[] = [];
    const result = await runChaos({ target, intervalMs: 100, maxKills: 1, leaderOnly: true, logger: capturedLogger().logger, onRound: (r) => rounds.push(r) });
    assert.equal(result.kills.length, 1);
    assert.equal(result.kills[0]!.victim, leaderBefore);
    const killRound = rounds.find((r) => r.decision.action === 'kill')!;
    assert.deepEqual(killRound.replicas.filter((r) => r.leader).map((r) => r.name), [leaderBefore]);
    await cluster.waitForExit(Number(leaderBefore.slice(1)));
  });
});
