// Issue #7: random and malformed requests — raw bytes as protobuf, hostile values, forged tokens,
// cancelled streams, truncated frames, dropped connections — thrown at a live 3-replica cluster while
// a well-behaved workload runs; then every replica must still serve, agree on one state, and hold
// every acknowledged message intact. Replay a run with RAFTCHAT_FUZZ_SEED=<n>; size it with
// RAFTCHAT_FUZZ_RUNS; RAFTCHAT_FUZZ_STRICT=1 fails on the known findings (verdict.ts) too.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { Workload } from '../../src/chaos/workload.js';
import type { WorkloadResult, WorkloadUser } from '../../src/chaos/workload-records.js';
import { TestCluster, call } from '../support/cluster.js';
import { action, type Action } from './actions.js';
import { assertEveryReplicaServes, assertFuzzSendsIntact, assertNoErrorsLogged, assertSameDigests, assertWorkloadIntact, observe, unresponsiveReplicas } from './checks.js';
import type { FuzzAccount, FuzzSession } from './credentials.js';
import { execute, type FuzzTarget } from './execute.js';
import { FUZZ_PASSWORD, login, mintSession, register, tokenKeyOf } from './session.js';
import { fuzzSettings } from './settings.js';
import { REPETITIVE_USERNAME } from './values.js';
import { judge, KNOWN_FINDINGS } from './verdict.js';

const settings = fuzzSettings();

/** After each batch every replica must answer GetStatus within this long, however busy the machine. */
const LIVENESS_DEADLINE_MS = 5_000;

describe('the public API under fuzzing, on a live 3-replica cluster', function () {
  // Cluster start, ~60 s of fuzz on a busy machine, convergence and the checks.
  this.timeout(150_000);

  let cluster: TestCluster;
  let workload: Workload | undefined;
  let workloadResult: WorkloadResult | undefined;
  let target: FuzzTarget;
  let session: FuzzSession;
  let tokenKey: Uint8Array;
  let fuzzAccount: FuzzAccount;
  let peerAccount: FuzzAccount;
  const codes = new Map<string, number>();
  const knownHits = new Map<string, number>();
  let slowest = { ms: 0, label: '' };
  const clients: grpc.Client[] = [];
  // Named after the seed, so a replay sends the very same bytes (every run has a cluster of its own).
  const fuzzUser = `fuzz-${settings.seed.toString(36)}`;
  const fuzzPeer = `${fuzzUser}-peer`;

  before(async () => {
    console.log(`      RAFTCHAT_FUZZ_SEED=${settings.seed} RAFTCHAT_FUZZ_RUNS=${settings.numRuns}`);
    // The admin token is never given to the fuzz: membership calls must all be refused.
    cluster = await TestCluster.start({ replicas: 3, flags: ['--admin-token', randomBytes(16).toString('hex')], leaderTimeoutMs: 40_000 });
    await register(cluster, 'n0', fuzzUser, FUZZ_PASSWORD);
    await register(cluster, 'n1', fuzzPeer, FUZZ_PASSWORD);
    // A name any user may take, and the worst case for a glob matcher that backtracks (values.ts).
    await register(cluster, 'n2', REPETITIVE_USERNAME, FUZZ_PASSWORD);
    fuzzAccount = await login(cluster, 'n2', fuzzUser, FUZZ_PASSWORD);
    peerAccount = await login(cluster, 'n2', fuzzPeer, FUZZ_PASSWORD);
    tokenKey = tokenKeyOf(cluster.secretFile);
    session = mintSession(tokenKey, fuzzAccount);
    // The fuzz's own sessions, and its "signed but refused" tokens, mean something only if its key
    // is the cluster's: a session it signs must be accepted.
    await call(cluster.chat('n1'), 'listMessages', { unreadOnly: false, afterId: 0, limit: 1, consistency: 0 }, { token: session.token });

    const replicas = cluster.nodes.map((n) => {
      const client = new grpc.Client(n.clientAddress, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
      clients.push(client);
      return { id: n.id, address: n.clientAddress, client };
    });
    target = {
      replicas,
      session: () => session,
      tokenKey,
      acknowledged: [],
      registered: new Map(),
      deletedIds: new Set(),
    };
    workload = new Workload({ servers: cluster.nodes.map((n) => n.clientAddress), users: 3, senders: 2, pauseBetweenSendsMs: 20 });
    await workload.start();
  });

  after(async () => {
    if (workload !== undefined && workloadResult === undefined) await workload.stop();
    for (const client of clients) client.close();
    await cluster?.stop();
  });

  it('answers every random or malformed request with a status a caller can act on, never UNKNOWN or INTERNAL', async () => {
    const known = { usernames: [fuzzUser, fuzzPeer] };
    const property = fc.asyncProperty(fc.array(action(known), { minLength: 1, maxLength: 5 }), async (actions: Action[]) => {
      // A fresh session per batch: a fuzzed Logout ends at most the batch it ran in.
      session = mintSession(tokenKey, fuzzAccount);
      // Concurrently, as a real crowd of bad clients would.
      const results = await Promise.all(
        actions.map(async (a) => {
          const startedMs = Date.now();
          const result = await execute(a, target);
          const tookMs = Date.now() - startedMs;
          if (tookMs > slowest.ms) slowest = { ms: tookMs, label: result.observation.label };
          return result;
        }),
      );
      const findings: string[] = [];
      for (const { observation, contentFinding } of results) {
        const name = observation.code === undefined ? 'no status' : grpc.status[observation.code] ?? String(observation.code);
        codes.set(name, (codes.get(name) ?? 0) + 1);
        const verdict = judge(observation);
        if (verdict.known !== undefined) knownHits.set(verdict.known, (knownHits.get(verdict.known) ?? 0) + 1);
        if (verdict.finding !== undefined) findings.push(`${verdict.finding}\n        input: ${observation.label}`);
        if (contentFinding !== undefined) findings.push(`${contentFinding}\n        input: ${observation.label}`);
      }
      // A batch may also hurt a replica without failing any call of its own: a blocked event loop.
      const silent = await unresponsiveReplicas(cluster, LIVENESS_DEADLINE_MS);
      if (silent.length > 0) findings.push(`${silent.join(', ')} did not answer GetStatus within ${LIVENESS_DEADLINE_MS} ms after this batch`);
      if (findings.length > 0) throw new Error(`finding (replay with RAFTCHAT_FUZZ_SEED=${settings.seed}):\n      ${findings.join('\n      ')}`);
    });
    const startedAtMs = Date.now();
    try {
      // endOnFailure: shrinking would replay inputs against a cluster whose state has moved on.
      await fc.assert(property, { seed: settings.seed, numRuns: settings.numRuns, endOnFailure: true });
    } finally {
      const seconds = ((Date.now() - startedAtMs) / 1000).toFixed(1);
      console.log(`      ${settings.numRuns} runs in ${seconds} s; statuses: ${[...codes].map(([c, n]) => `${c} ${n}`).join(', ')}`);
      console.log(`      slowest action: ${slowest.ms} ms, ${slowest.label}`);
      for (const k of KNOWN_FINDINGS) {
        const hits = knownHits.get(k.id);
        if (hits !== undefined) console.log(`      known finding ${k.id} (${k.summary}): tolerated ${hits} times`);
      }
      console.log(`      RAFTCHAT_FUZZ_SEED=${settings.seed}`);
    }
  });

  it('leaves every replica serving, on one state, with every acknowledged message intact', async () => {
    assert.ok(workload !== undefined);
    workloadResult = await workload.stop();
    const reader: WorkloadUser = workloadResult.users[0]!;
    await assertEveryReplicaServes(cluster, reader);
    assertNoErrorsLogged(cluster);

    // The fuzz's readable recipients: its own accounts (fresh sessions: a fuzzed Logout may have
    // ended every earlier one), and those its Register calls created, if the login throttle that
    // its bad passwords may have tripped lets it in (the rest are covered by the digests).
    const fuzzUsers: WorkloadUser[] = [fuzzAccount, peerAccount].map((a) => ({ username: a.username, token: mintSession(tokenKey, a).token }));
    const recipients = new Set(target.acknowledged.map((a) => a.recipient));
    for (const [username, password] of target.registered) {
      if (!recipients.has(username)) continue;
      const registered = await login(cluster, 'n0', username, password).catch((err: grpc.ServiceError) => {
        if (err.code === grpc.status.RESOURCE_EXHAUSTED) return undefined;
        throw err;
      });
      if (registered !== undefined) fuzzUsers.push({ username, token: registered.token });
    }

    const observed = await observe(cluster, [...workloadResult.users, ...fuzzUsers]);
    assertSameDigests(observed);
    assertWorkloadIntact(workloadResult, observed);
    const fuzzSends = assertFuzzSendsIntact(target.acknowledged, { owner: fuzzUser, ids: target.deletedIds }, observed);
    const workloadSends = workloadResult.sends.filter((s) => s.outcome === 'acknowledged').length;
    console.log(
      `      verified on every replica: ${workloadSends} workload sends, ${fuzzSends.checked} fuzz sends ` +
        `(${fuzzSends.deleted} more the fuzz deleted, ${fuzzSends.unreadable} to accounts it cannot log in to)`,
    );
  });
});
