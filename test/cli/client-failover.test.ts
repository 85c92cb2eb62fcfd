// RaftchatClient's unary failover against real gRPC servers on loopback: one that answers
// UNAVAILABLE, one that is not listening, one that works.
import assert from 'node:assert/strict';
import { Metadata, status } from '@grpc/grpc-js';
import { RaftchatCallError, RaftchatClient, type RetryEvent } from '../../src/client/index.js';
import { GetStatusResponse, type Message } from '../../src/gen/chat/v1/chat.js';
import { deadAddress, grpcError, startFakeServer, type FakeServer } from './support/fake-server.js';

function message(id: number, requestBody = 'hi'): Message {
  return { id, sender: 'alice', recipient: 'bob', body: requestBody, sentAtUnixMs: 1, read: false };
}

describe('RaftchatClient failover', () => {
  const servers: FakeServer[] = [];
  const clients: RaftchatClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });
  const track = <T extends FakeServer>(s: T): T => (servers.push(s), s);
  const client = (options: ConstructorParameters<typeof RaftchatClient>[0]): RaftchatClient => {
    const c = new RaftchatClient(options);
    clients.push(c);
    return c;
  };

  it('moves past an UNAVAILABLE server and a dead address to a healthy one, reusing one request_id', async () => {
    const seenRequestIds: string[] = [];
    const unavailable = track(
      await startFakeServer({
        sendMessage: (call, callback) => {
          seenRequestIds.push(call.request.requestId);
          callback(grpcError(status.UNAVAILABLE, 'no leader'));
        },
      }),
    );
    const healthy = track(
      await startFakeServer({
        sendMessage: (call, callback) => {
          seenRequestIds.push(call.request.requestId);
          callback(null, { message: message(7, call.request.body), duplicate: false });
        },
      }),
    );
    const retries: RetryEvent[] = [];
    const c = client({
      servers: [unavailable.address, await deadAddress(), healthy.address],
      backoff: { baseDelayMs: 5, maxDelayMs: 20 },
      onRetry: (event) => retries.push(event),
    });

    const reply = await c.sendMessage({ recipient: 'bob', body: 'hello' });

    assert.equal(reply.message?.id, 7);
    assert.equal(retries.length, 2);
    assert.equal(retries[0]?.error.code, status.UNAVAILABLE);
    assert.equal(retries[0]?.failedServer, unavailable.address);
    assert.equal(retries[1]?.server, healthy.address);
    assert.equal(seenRequestIds.length, 2);
    assert.ok((seenRequestIds[0] ?? '').length > 0, 'a request_id is generated');
    assert.equal(seenRequestIds[1], seenRequestIds[0]);
  });

  it('keeps using the server that answered last instead of starting over', async () => {
    let unavailableCalls = 0;
    const unavailable = track(
      await startFakeServer({}, {
        getStatus: (_call, callback) => {
          unavailableCalls++;
          callback(grpcError(status.UNAVAILABLE, 'down'));
        },
      }),
    );
    const healthy = track(
      await startFakeServer({}, {
        getStatus: (_call, callback) => callback(null, GetStatusResponse.fromPartial({ nodeId: 'n1', leaderId: 'n1' })),
      }),
    );
    const c = client({ servers: [unavailable.address, healthy.address], backoff: { baseDelayMs: 1, maxDelayMs: 1 } });
    await c.getStatus();
    await c.getStatus();
    assert.equal(unavailableCalls, 1);
  });

  it('grows the back-off exponentially and gives up with DEADLINE_EXCEEDED at the deadline', async () => {
    const a = track(await startFakeServer({ listMessages: (_c, cb) => cb(grpcError(status.UNAVAILABLE, 'no quorum')) }));
    const b = track(await startFakeServer({ listMessages: (_c, cb) => cb(grpcError(status.UNAVAILABLE, 'no quorum')) }));
    const delays: number[] = [];
    const c = client({
      servers: [a.address, b.address],
      backoff: { baseDelayMs: 10, maxDelayMs: 160 },
      random: () => 1,
      onRetry: (event) => delays.push(event.delayMs),
    });
    const deadlineMs = 1_500;
    const startedAt = Date.now();

    await assert.rejects(c.listMessages({}, { deadlineMs }), (error: unknown) => {
      assert.ok(error instanceof RaftchatCallError);
      assert.equal(error.code, status.DEADLINE_EXCEEDED);
      assert.match(error.details, /no quorum/);
      return true;
    });
    const elapsedMs = Date.now() - startedAt;

    assert.ok(elapsedMs >= deadlineMs - 20, `gave up after ${elapsedMs} ms, before the deadline`);
    assert.ok(elapsedMs < deadlineMs + 400, `gave up after ${elapsedMs} ms, long past the deadline`);
    assert.deepEqual(delays.slice(0, 5), [10, 20, 40, 80, 160]);
    assert.ok(delays.slice(5, -1).every((d) => d === 160), 'the wait is capped at maxDelayMs');
  });

  it('reports the error that kept it retrying, not the attempt the deadline cut off', async () => {
    const refusing = track(await startFakeServer({ listMessages: (_c, cb) => cb(grpcError(status.UNAVAILABLE, 'no quorum')) }));
    const hung = track(await startFakeServer({ listMessages: () => undefined }));
    const c = client({
      servers: [refusing.address, hung.address],
      attemptTimeoutMs: 10_000,
      backoff: { baseDelayMs: 1, maxDelayMs: 1 },
    });

    await assert.rejects(c.listMessages({}, { deadlineMs: 400 }), (error: unknown) => {
      assert.ok(error instanceof RaftchatCallError);
      assert.equal(error.code, status.DEADLINE_EXCEEDED);
      assert.match(error.details, new RegExp(`last error from ${refusing.address}: .*no quorum`));
      assert.match(error.details, new RegExp(`attempt on ${hung.address} was still waiting at the deadline`));
      assert.equal(error.attempts, 2);
      return true;
    });
  });

  it('does not retry a non-idempotent call on an error other than UNAVAILABLE', async () => {
    let calls = 0;
    const failing = track(
      await startFakeServer({
        register: (_call, callback) => {
          calls++;
          callback(grpcError(status.INTERNAL, 'disk on fire'));
        },
      }),
    );
    const other = track(await startFakeServer({ register: (call, cb) => cb(null, { username: call.request.username }) }));
    const c = client({ servers: [failing.address, other.address], backoff: { baseDelayMs: 1, maxDelayMs: 1 } });

    await assert.rejects(c.register({ username: 'alice', password: 'secret-pass' }), { code: status.INTERNAL });
    assert.equal(calls, 1);
  });

  it('retries a non-idempotent call on UNAVAILABLE, which means the request was not processed', async () => {
    const down = track(await startFakeServer({ register: (_c, cb) => cb(grpcError(status.UNAVAILABLE, 'no leader')) }));
    const up = track(await startFakeServer({ register: (call, cb) => cb(null, { username: call.request.username }) }));
    const c = client({ servers: [down.address, up.address], backoff: { baseDelayMs: 1, maxDelayMs: 1 } });
    assert.deepEqual(await c.register({ username: 'alice', password: 'secret-pass' }), { username: 'alice' });
  });

  it('skips a server that hangs once an idempotent attempt exceeds attemptTimeoutMs', async () => {
    const hung = track(await startFakeServer({ listAccounts: () => undefined }));
    const up = track(await startFakeServer({ listAccounts: (_c, cb) => cb(null, { usernames: ['bob'], nextPageToken: '' }) }));
    const c = client({ servers: [hung.address, up.address], attemptTimeoutMs: 150, backoff: { baseDelayMs: 1, maxDelayMs: 1 } });
    const reply = await c.listAccounts({}, { deadlineMs: 3_000 });
    assert.deepEqual(reply.usernames, ['bob']);
  });

  it('honours the overall deadline even when every server hangs', async () => {
    const hung = track(await startFakeServer({ listAccounts: () => undefined }));
    const c = client({ servers: [hung.address], attemptTimeoutMs: 5_000 });
    const startedAt = Date.now();
    await assert.rejects(c.listAccounts({}, { deadlineMs: 300 }), { code: status.DEADLINE_EXCEEDED });
    // Well short of the 5 s attempt timeout it would otherwise have waited out, with room for a busy machine.
    assert.ok(Date.now() - startedAt < 3_000, `gave up after ${Date.now() - startedAt} ms`);
  });

  it('sends the session token as authorization: Bearer metadata', async () => {
    let seen: Metadata | undefined;
    const s = track(
      await startFakeServer({
        markRead: (call, callback) => {
          seen = call.metadata;
          callback(null, { updated: call.request.ids.length });
        },
      }),
    );
    const c = client({ servers: [s.address], token: 'tok-123' });
    const reply = await c.markRead({ ids: [1, 2] });
    assert.equal(reply.updated, 2);
    assert.deepEqual(seen?.get('authorization'), ['Bearer tok-123']);
  });

  it('stops retrying and fails with CANCELLED when the caller aborts', async () => {
    const down = track(await startFakeServer({ listMessages: (_c, cb) => cb(grpcError(status.UNAVAILABLE, 'down')) }));
    const c = client({ servers: [down.address], backoff: { baseDelayMs: 200, maxDelayMs: 200 }, random: () => 1 });
    const controller = new AbortController();
    const pending = c.listMessages({}, { signal: controller.signal, deadlineMs: 10_000 });
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(pending, { code: status.CANCELLED });
  });

  it('waitForLeader polls until some server reports a leader', async () => {
    let polls = 0;
    const s = track(
      await startFakeServer({}, {
        getStatus: (_call, callback) => {
          polls++;
          callback(null, GetStatusResponse.fromPartial({ nodeId: 'n0', leaderId: polls >= 3 ? 'n2' : '' }));
        },
      }),
    );
    const c = client({ servers: [await deadAddress(), s.address] });
    const reply = await c.waitForLeader({ deadlineMs: 5_000, pollIntervalMs: 10 });
    assert.equal(reply.leaderId, 'n2');
  });
});
