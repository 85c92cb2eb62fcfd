// RaftchatClient.watch against real gRPC servers: a replica dies mid-stream and the watch carries
// on from another one, delivering every id exactly once.
import assert from 'node:assert/strict';
import { status, type ServerWritableStream } from '@grpc/grpc-js';
import { RaftchatClient, type RetryEvent } from '../../src/client/index.js';
import type { Message, SubscribeRequest } from '../../src/gen/chat/v1/chat.js';
import { deadAddress, grpcError, startFakeServer, waitFor, type FakeServer } from './support/fake-server.js';

function inbox(count: number): Message[] {
  return Array.from({ length: count }, (_, i) => ({
    id: (i + 1) * 10,
    sender: 'alice',
    recipient: 'bob',
    body: `m${i + 1}`,
    sentAtUnixMs: 1_000 + i,
    read: false,
  }));
}

describe('RaftchatClient.watch', () => {
  const servers: FakeServer[] = [];
  const clients: RaftchatClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  it('resubscribes on another server after the first one dies and delivers each id exactly once', async () => {
    const messages = inbox(6);
    const afterIdsAsked: Array<{ server: string; afterId: number }> = [];
    // The first replica streams the first three and then stays open until it is killed.
    const first = await startFakeServer({
      subscribe: (call: ServerWritableStream<SubscribeRequest, Message>) => {
        afterIdsAsked.push({ server: 'first', afterId: call.request.afterId });
        for (const m of messages.slice(0, 3)) call.write(m);
      },
    });
    // The second replays from one message too early (overlap) to prove the client drops replays.
    const second = await startFakeServer({
      subscribe: (call: ServerWritableStream<SubscribeRequest, Message>) => {
        afterIdsAsked.push({ server: 'second', afterId: call.request.afterId });
        for (const m of messages) if (m.id >= call.request.afterId) call.write(m);
      },
    });
    servers.push(first, second);
    const retries: RetryEvent[] = [];
    const client = new RaftchatClient({
      servers: [first.address, second.address],
      backoff: { baseDelayMs: 5, maxDelayMs: 20 },
      onRetry: (event) => retries.push(event),
    });
    clients.push(client);
    const delivered: number[] = [];
    const subscribedOn: string[] = [];
    const controller = new AbortController();

    const watching = client.watch({
      afterId: 0,
      signal: controller.signal,
      onMessage: (m) => delivered.push(m.id),
      onSubscribed: (server) => subscribedOn.push(server),
    });
    await waitFor(() => delivered.length === 3, 5_000, 'the first three messages');
    first.kill();
    await waitFor(() => delivered.length >= 6, 5_000, 'the rest after failover');
    controller.abort();
    const lastId = await watching;

    assert.deepEqual(delivered, [10, 20, 30, 40, 50, 60]);
    assert.equal(lastId, 60);
    assert.deepEqual(afterIdsAsked, [
      { server: 'first', afterId: 0 },
      { server: 'second', afterId: 30 },
    ]);
    assert.deepEqual(subscribedOn, [first.address, second.address]);
    assert.equal(retries.length, 1);
    assert.equal(retries[0]?.server, second.address);
  });

  it('keeps trying past a dead address until a server takes the subscription', async () => {
    const live = await startFakeServer({
      subscribe: (call: ServerWritableStream<SubscribeRequest, Message>) => {
        for (const m of inbox(2)) if (m.id > call.request.afterId) call.write(m);
      },
    });
    servers.push(live);
    const client = new RaftchatClient({ servers: [await deadAddress(), live.address], backoff: { baseDelayMs: 5, maxDelayMs: 10 } });
    clients.push(client);
    const delivered: number[] = [];
    const controller = new AbortController();
    const watching = client.watch({ afterId: 10, signal: controller.signal, onMessage: (m) => delivered.push(m.id) });
    await waitFor(() => delivered.length === 1, 5_000, 'the message after id 10');
    controller.abort();
    assert.equal(await watching, 20);
    assert.deepEqual(delivered, [20]);
  });

  it('stops with the error when the server refuses the token', async () => {
    const refusing = await startFakeServer({
      subscribe: (call: ServerWritableStream<SubscribeRequest, Message>) => {
        call.emit('error', grpcError(status.UNAUTHENTICATED, 'token expired'));
      },
    });
    servers.push(refusing);
    const client = new RaftchatClient({ servers: [refusing.address] });
    clients.push(client);
    await assert.rejects(client.watch({ onMessage: () => undefined }), { code: status.UNAUTHENTICATED });
  });

  it('resolves promptly when aborted while no server is reachable', async () => {
    const client = new RaftchatClient({ servers: [await deadAddress()], backoff: { baseDelayMs: 50, maxDelayMs: 50 } });
    clients.push(client);
    const controller = new AbortController();
    const watching = client.watch({ afterId: 5, signal: controller.signal, onMessage: () => undefined });
    setTimeout(() => controller.abort(), 100);
    assert.equal(await watching, 5);
  });
});
