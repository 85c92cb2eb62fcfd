// Real replica processes on loopback: chat through every replica, a leader killed under concurrent
// sends, a full restart, a member added at run time through a snapshot, and a lagging replica.

import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { TestCluster, call, waitFor } from '../support/cluster.js';
import type {
  GetDigestResponse,
  ListMessagesResponse,
  LoginResponse,
  Message,
  SendMessageResponse,
} from '../../src/gen/chat/v1/chat.js';
import { ReadConsistency } from '../../src/gen/chat/v1/chat.js';

async function registerAndLogin(cluster: TestCluster, via: string, username: string): Promise<string> {
  await call(cluster.chat(via), 'register', { username, password: `${username}-password` });
  const login = await call<unknown, LoginResponse>(cluster.chat(via), 'login', { username, password: `${username}-password` });
  return login.token;
}

async function inbox(cluster: TestCluster, via: string, token: string, consistency = ReadConsistency.READ_CONSISTENCY_LINEARIZABLE): Promise<Message[]> {
  const all: Message[] = [];
  let afterId = 0;
  for (;;) {
    const page = await call<unknown, ListMessagesResponse>(
      cluster.chat(via),
      'listMessages',
      { unreadOnly: false, afterId, limit: 1000, consistency },
      { token },
    );
    all.push(...page.messages);
    if (!page.more || page.messages.length === 0) return all;
    afterId = page.messages[page.messages.length - 1]!.id;
  }
}

async function digests(cluster: TestCluster): Promise<GetDigestResponse[]> {
  return Promise.all(cluster.running().map((n) => call<unknown, GetDigestResponse>(cluster.clusterClient(n.id), 'getDigest', {})));
}

function assertSameDigests(list: GetDigestResponse[]): void {
  const first = list[0]!;
  for (const d of list) {
    assert.equal(d.appliedIndex, first.appliedIndex, 'replicas report different applied indexes');
    assert.equal(d.digest, first.digest, `state digest differs at applied index ${d.appliedIndex}`);
  }
}

describe('a cluster of real replica processes', function () {
  this.timeout(120_000);

  describe('with five replicas', () => {
    let cluster: TestCluster;
    before(async () => {
      cluster = await TestCluster.start({ replicas: 5 });
    });
    after(async () => {
      await cluster?.stop();
    });

    it('serves every call through every replica, forwarding writes to the leader', async () => {
      const alice = await registerAndLogin(cluster, 'n0', 'alice');
      const bob = await registerAndLogin(cluster, 'n1', 'bob');
      const ids: number[] = [];
      for (const via of ['n0', 'n1', 'n2', 'n3', 'n4']) {
        const sent = await call<unknown, SendMessageResponse>(cluster.chat(via), 'sendMessage', { recipient: 'bob', body: `hello via ${via}`, requestId: '' }, { token: alice });
        ids.push(sent.message!.id);
      }
      assert.deepEqual([...ids].sort((a, b) => a - b), ids, 'message ids increase in send order');
      for (const via of ['n0', 'n1', 'n2', 'n3', 'n4']) {
        const messages = await inbox(cluster, via, bob);
        assert.deepEqual(messages.map((m) => m.id), ids, `bob's inbox read through ${via}`);
        assert.deepEqual(messages.map((m) => m.body), ['n0', 'n1', 'n2', 'n3', 'n4'].map((v) => `hello via ${v}`));
      }
    });

    it('keeps every acknowledged message exactly once when the leader is SIGKILLed during concurrent sends', async () => {
      const sender = await registerAndLogin(cluster, 'n0', 'carol');
      const reader = await registerAndLogin(cluster, 'n0', 'dave');
      const leader = await cluster.waitForLeader();
      const others = cluster.nodes.map((n) => n.id).filter((id) => id !== leader);
      const acknowledged = new Map<number, string>();
      let stop = false;
      let failures = 0;
      const workers = others.map(async (via, w) => {
        for (let i = 0; !stop; i++) {
          const requestId = `w${w}-${i}`;
          // A send is retried with its request id until acknowledged: retries must never duplicate.
          for (let attempt = 0; attempt < 50 && !stop; attempt++) {
            try {
              const sent = await call<unknown, SendMessageResponse>(cluster.chat(via), 'sendMessage', { recipient: 'dave', body: requestId, requestId }, { token: sender, timeoutMs: 3000 });
              assert.equal(sent.message!.body, requestId);
              acknowledged.set(sent.message!.id, requestId);
              break;
            } catch (err) {
              failures++;
              const code = (err as grpc.ServiceError).code;
              assert.ok([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED].includes(code), `unexpected error ${(err as Error).message}`);
              await new Promise((r) => setTimeout(r, 50));
            }
          }
        }
      });
      await waitFor('some sends before the kill', 20_000, async () => (acknowledged.size >= 40 ? true : undefined));
      await cluster.kill(leader, 'SIGKILL');
      const killedAt = Date.now();
      const before = acknowledged.size;
      await waitFor('a send acknowledged after the kill', 20_000, async () => (acknowledged.size > before + 20 ? true : undefined));
      const failoverMs = Date.now() - killedAt;
      stop = true;
      await Promise.all(workers);
      console.log(`      failover: first ${20} acknowledged sends within ${failoverMs} ms of the kill (${failures} retried errors)`);

      await cluster.waitForConvergence();
      for (const n of cluster.running()) {
        const messages = await inbox(cluster, n.id, reader, ReadConsistency.READ_CONSISTENCY_STALE);
        const bodies = messages.map((m) => m.body);
        assert.equal(new Set(bodies).size, bodies.length, `a request id was stored twice on ${n.id}`);
        const byId = new Map(messages.map((m) => [m.id, m.body]));
        for (const [id, body] of acknowledged) assert.equal(byId.get(id), body, `acknowledged message ${id} missing on ${n.id}`);
      }
      assertSameDigests(await digests(cluster));
      cluster.restart(leader);
      await cluster.waitForConvergence();
    });

    it('answers bad input with the right status code and names the field', async () => {
      const token = await registerAndLogin(cluster, 'n2', 'erin');
      const expectCode = async (p: Promise<unknown>, code: grpc.status, text: RegExp) => {
        await assert.rejects(p, (err: grpc.ServiceError) => {
          assert.equal(err.code, code, `${err.message}`);
          assert.match(err.details, text);
          return true;
        });
      };
      await expectCode(call(cluster.chat('n1'), 'register', { username: 'Bad Name!', password: 'long-enough' }), grpc.status.INVALID_ARGUMENT, /username/);
      await expectCode(call(cluster.chat('n1'), 'register', { username: 'frank', password: 'short' }), grpc.status.INVALID_ARGUMENT, /password/);
      await expectCode(call(cluster.chat('n3'), 'register', { username: 'erin', password: 'another-password' }), grpc.status.ALREADY_EXISTS, /erin/);
      await expectCode(call(cluster.chat('n1'), 'login', { username: 'erin', password: 'wrong-password' }), grpc.status.UNAUTHENTICATED, /invalid username or password/);
      await expectCode(call(cluster.chat('n1'), 'sendMessage', { recipient: 'erin', body: 'x', requestId: '' }), grpc.status.UNAUTHENTICATED, /token|auth/i);
      await expectCode(call(cluster.chat('n1'), 'sendMessage', { recipient: 'erin', body: 'x', requestId: '' }, { token: `${token}x` }), grpc.status.UNAUTHENTICATED, /token/i);
      await expectCode(call(cluster.chat('n1'), 'sendMessage', { recipient: 'nobody', body: 'x', requestId: '' }, { token }), grpc.status.NOT_FOUND, /nobody/);
      await expectCode(call(cluster.chat('n1'), 'sendMessage', { recipient: 'erin', body: '', requestId: '' }, { token }), grpc.status.INVALID_ARGUMENT, /body/);
      await expectCode(call(cluster.chat('n1'), 'sendMessage', { recipient: 'erin', body: 'x'.repeat(70 * 1024), requestId: '' }, { token }), grpc.status.RESOURCE_EXHAUSTED, /body/);
      await expectCode(call(cluster.chat('n1'), 'listMessages', { unreadOnly: false, afterId: 0, limit: 5000, consistency: 0 }, { token }), grpc.status.INVALID_ARGUMENT, /limit/);
      await expectCode(call(cluster.chat('n1'), 'markRead', { ids: [] }, { token }), grpc.status.INVALID_ARGUMENT, /ids/);
      await expectCode(call(cluster.chat('n1'), 'listAccounts', { pattern: '[a-z]', pageSize: 10, pageToken: '', consistency: 0 }, { token }), grpc.status.INVALID_ARGUMENT, /pattern/);
      await expectCode(call(cluster.chat('n1'), 'deleteAccount', { password: 'wrong-password' }, { token }), grpc.status.PERMISSION_DENIED, /password/);
      // Nothing above changed the state: the replicas still agree.
      await cluster.waitForConvergence();
      assertSameDigests(await digests(cluster));
    });

    it('catches up a replica that was stopped while the others kept writing', async () => {
      const token = await registerAndLogin(cluster, 'n0', 'gina');
      await cluster.kill('n4', 'SIGKILL');
      for (let i = 0; i < 50; i++) await call(cluster.chat('n1'), 'sendMessage', { recipient: 'gina', body: `while n4 was down ${i}`, requestId: `g${i}` }, { token });
      cluster.restart('n4');
      await waitFor('n4 to serve', 20_000, async () => ((await cluster.status('n4', 500).catch(() => undefined))?.leaderId ? true : undefined));
      const messages = await inbox(cluster, 'n4', token);
      assert.equal(messages.filter((m) => m.body.startsWith('while n4 was down')).length, 50);
      await cluster.waitForConvergence();
      assertSameDigests(await digests(cluster));
    });
  });

  it('loses nothing across a full stop and restart of every replica', async () => {
    const cluster = await TestCluster.start({ replicas: 3 });
    try {
      const token = await registerAndLogin(cluster, 'n0', 'henry');
      const ids: number[] = [];
      for (let i = 0; i < 30; i++) {
        const sent = await call<unknown, SendMessageResponse>(cluster.chat(`n${i % 3}`), 'sendMessage', { recipient: 'henry', body: `m${i}`, requestId: `h${i}` }, { token });
        ids.push(sent.message!.id);
      }
      await Promise.all(cluster.nodes.map((n) => cluster.kill(n.id, 'SIGKILL')));
      for (const n of cluster.nodes) cluster.restart(n.id);
      await cluster.waitForLeader();
      const messages = await inbox(cluster, 'n2', token);
      assert.deepEqual(messages.map((m) => m.id), ids);
      await cluster.waitForConvergence();
      assertSameDigests(await digests(cluster));
    } finally {
      await cluster.stop();
    }
  });

  it('adds a member at run time that catches up through a snapshot after compaction and becomes a voter', async () => {
    const cluster = await TestCluster.start({ replicas: 3, snapshotEntries: 100 });
    try {
      const token = await registerAndLogin(cluster, 'n0', 'iris');
      for (let i = 0; i < 300; i++) await call(cluster.chat(`n${i % 3}`), 'sendMessage', { recipient: 'iris', body: `before join ${i}`, requestId: `i${i}` }, { token });
      const statusBefore = await cluster.status('n0');
      assert.ok(statusBefore.firstIndex > 1, `the log was compacted (first index ${statusBefore.firstIndex})`);
      const joiner = await cluster.join('n3', cluster.node('n0').clientAddress);
      await waitFor('n3 to become a voter', 60_000, async () => {
        const s = await cluster.status('n0').catch(() => undefined);
        return s?.members.find((m) => m.id === 'n3')?.voter ? true : undefined;
      });
      const joinerLog = await import('node:fs').then((fs) => fs.readFileSync(cluster.logOf('n3'), 'utf8'));
      assert.match(joinerLog, /snapshot installed/, 'n3 caught up through a snapshot');
      const messages = await inbox(cluster, joiner.id, token);
      assert.equal(messages.length, 300);
      await cluster.waitForConvergence();
      assertSameDigests(await digests(cluster));
    } finally {
      await cluster.stop();
    }
  });

  it('tells followers a new commit index after --commit-broadcast-delay-ms, not at the next heartbeat', async () => {
    // Heartbeats once a second: a follower that applied a write within 500 ms, five writes in a
    // row, was told by the delayed broadcast (by chance of heartbeats alone: 1 in ~1,000).
    const cluster = await TestCluster.start({
      replicas: 3,
      flags: ['--tick-ms', '1000', '--election-ticks', '3', '--commit-broadcast-delay-ms', '20'],
    });
    try {
      const leader = await cluster.waitForLeader();
      const followers = cluster.running().map((n) => n.id).filter((id) => id !== leader);
      const token = await registerAndLogin(cluster, leader, 'carol');
      for (let round = 0; round < 5; round++) {
        await call(cluster.chat(leader), 'sendMessage', { recipient: 'carol', body: `round ${round}`, requestId: '' }, { token });
        const { commitIndex } = await cluster.status(leader);
        const startedAt = Date.now();
        await Promise.all(followers.map((id) =>
          waitFor(`${id} to apply ${commitIndex}`, 5_000, async () => ((await cluster.status(id)).appliedIndex >= commitIndex ? true : undefined), 10)));
        const elapsedMs = Date.now() - startedAt;
        assert.ok(elapsedMs < 500, `round ${round}: followers applied index ${commitIndex} after ${elapsedMs} ms`);
      }
    } finally {
      await cluster.stop();
    }
  });
});
