// Raft messages between real transports over loopback gRPC: delivery, batching, order, a peer that
// is down and comes back, and membership changes.

import assert from 'node:assert/strict';
import { MessageType } from '../../src/raft/types.js';
import type { Message } from '../../src/raft/types.js';
import { startPeerServer } from '../../src/transport/index.js';
import { connectAll, entry, message, plain, silentLogger, startTestPeer, waitFor, CLUSTER_ID, MAX_BATCH_BYTES, SECRET } from './helpers.js';
import type { TestPeer } from './helpers.js';

describe('transport: raft streams', () => {
  let peers: TestPeer[] = [];

  afterEach(async () => {
    await Promise.all(peers.map((peer) => peer.close()));
    peers = [];
  });

  it('delivers messages with entries between three replicas, each intact and to the right one', async () => {
    peers = await Promise.all(['n1', 'n2', 'n3'].map((id) => startTestPeer(id)));
    connectAll(peers);
    const [n1, n2, n3] = peers as [TestPeer, TestPeer, TestPeer];
    const append = message({
      from: 'n1', to: 'n2', term: 3, logTerm: 2, index: 7, commit: 6,
      entries: [entry(8, 'hello'), { term: 3, index: 9, type: 1, data: new Uint8Array([1, 2, 3]) }],
    });
    const reply = message({
      type: MessageType.AppResp, from: 'n2', to: 'n1', term: 3, index: 9, reject: true, rejectHint: 5, hintTerm: 2,
    });
    const read = message({ type: MessageType.ReadIndex, from: 'n3', to: 'n1', context: new Uint8Array([9, 9]) });
    n1.transport.send([append]);
    n2.transport.send([reply]);
    n3.transport.send([read]);
    await waitFor(() => n2.received.length === 1 && n1.received.length === 2, 'three deliveries');
    assert.deepEqual(plain(n2.received[0]!), plain(append));
    const atN1 = [...n1.received].sort((a, b) => a.from.localeCompare(b.from));
    assert.deepEqual(plain(atN1[0]!), plain(reply));
    assert.equal(atN1[1]!.type, MessageType.ReadIndex);
    assert.deepEqual([...atN1[1]!.context], [9, 9]);
    assert.equal(n3.received.length, 0);
  });

  it('batches thousands of messages into far fewer RaftBatch calls and keeps their order', async () => {
    peers = await Promise.all(['n1', 'n2'].map((id) => startTestPeer(id)));
    connectAll(peers);
    const [n1, n2] = peers as [TestPeer, TestPeer];
    const total = 5_000;
    for (let i = 1; i <= total; i++) {
      n1.transport.send([message({ from: 'n1', to: 'n2', index: i, entries: [entry(i, `entry ${i}`)] })]);
      // Yield now and then so some batches leave while others are still being queued.
      if (i % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => n2.received.length === total, `${total} messages`);
    assert.deepEqual(n2.received.map((m) => m.index), Array.from({ length: total }, (_, i) => i + 1));
    assert.ok(n2.batchSizes.length < total / 10, `expected batching, got ${n2.batchSizes.length} batches`);
    const stats = n1.transport.peerStatus('n2')!;
    assert.equal(stats.messagesSent, total);
    assert.equal(stats.batchesSent, n2.batchSizes.length);
    assert.equal(stats.droppedMessages, 0);
  });

  it('cuts batches at maxBatchBytes so no RaftBatch exceeds the limit', async () => {
    peers = await Promise.all(['n1', 'n2'].map((id) => startTestPeer(id)));
    connectAll(peers);
    const [n1, n2] = peers as [TestPeer, TestPeer];
    const payload = 'x'.repeat(100_000);
    const messages = Array.from({ length: 40 }, (_, i) => message({ from: 'n1', to: 'n2', index: i, entries: [entry(i, payload)] }));
    n1.transport.send(messages);
    await waitFor(() => n2.received.length === 40, '40 large messages');
    // ~4 MB in total with a 1 MiB cap: at least four batches, none with more than ten of them.
    assert.ok(n2.batchSizes.length >= 4, `got ${n2.batchSizes.length} batches`);
    assert.ok(Math.max(...n2.batchSizes) <= Math.floor(MAX_BATCH_BYTES / 100_000));
  });

  it('reports a peer that is down as unreachable, and delivers again once it is up', async () => {
    // Learn a free port, then free it: the peer "is down" on it until we start it there.
    const probe = await startPeerServer({
      address: '127.0.0.1:0', selfId: 'n2', clusterId: CLUSTER_ID, peerSecret: SECRET, logger: silentLogger(),
      maxBatchBytes: MAX_BATCH_BYTES,
      handlers: { onMessages: () => {}, onSnapshot: async () => {}, onForward: async () => ({ index: 0, result: new Uint8Array() }) },
    });
    const port = probe.port;
    await probe.close();

    const n1 = await startTestPeer('n1');
    peers = [n1];
    n1.transport.setPeers(new Map([['n2', `127.0.0.1:${port}`]]));
    n1.transport.send([message({ from: 'n1', to: 'n2', type: MessageType.Heartbeat })]);
    await waitFor(() => n1.unreachable.includes('n2'), 'onUnreachable(n2)');
    assert.equal(n1.transport.peerStatus('n2')!.connected, false);

    const n2 = await startTestPeer('n2', { port });
    peers.push(n2);
    // Raft keeps sending heartbeats; so does this loop, until one gets through.
    let sent = 0;
    await waitFor(() => {
      if (n2.received.length > 0) return true;
      n1.transport.send([message({ from: 'n1', to: 'n2', type: MessageType.Heartbeat, commit: ++sent })]);
      return false;
    }, 'delivery after the peer came up');
    assert.equal(n2.received[0]!.from, 'n1');
    await waitFor(() => n1.transport.peerStatus('n2')!.connected, 'the stream to report connected');
  });

  it('reports a message to a peer it has no address for as unreachable', async () => {
    const n1 = await startTestPeer('n1');
    peers = [n1];
    n1.transport.send([message({ from: 'n1', to: 'nowhere' })]);
    await waitFor(() => n1.unreachable.includes('nowhere'), 'onUnreachable(nowhere)');
  });

  it('closes the stream to a removed peer and sends it nothing more', async () => {
    peers = await Promise.all(['n1', 'n2', 'n3'].map((id) => startTestPeer(id)));
    connectAll(peers);
    const [n1, n2, n3] = peers as [TestPeer, TestPeer, TestPeer];
    n1.transport.send([message({ from: 'n1', to: 'n2' }), message({ from: 'n1', to: 'n3' })]);
    await waitFor(() => n2.server.openRaftStreams().includes('n1') && n3.received.length === 1, 'streams open');

    n1.transport.setPeers(new Map([['n3', n3.address]]));
    await waitFor(() => !n2.server.openRaftStreams().includes('n1'), 'the stream to n2 to close');
    assert.equal(n1.transport.peerStatus('n2'), undefined);
    n1.transport.send([message({ from: 'n1', to: 'n2', index: 2 }), message({ from: 'n1', to: 'n3', index: 2 })]);
    await waitFor(() => n3.received.length === 2 && n1.unreachable.includes('n2'), 'n3 delivery and n2 unreachable');
    assert.equal(n2.received.length, 1);
    assert.deepEqual(n3.server.openRaftStreams(), ['n1']);
  });

  it('reconnects to a peer whose address changed', async () => {
    peers = await Promise.all(['n1', 'n2'].map((id) => startTestPeer(id)));
    const [n1, n2] = peers as [TestPeer, TestPeer];
    const moved = await startTestPeer('n2');
    peers.push(moved);
    n1.transport.setPeers(new Map([['n2', n2.address]]));
    n1.transport.send([message({ from: 'n1', to: 'n2', index: 1 })]);
    await waitFor(() => n2.received.length === 1, 'delivery to the old address');
    n1.transport.setPeers(new Map([['n2', moved.address]]));
    n1.transport.send([message({ from: 'n1', to: 'n2', index: 2 })]);
    await waitFor(() => moved.received.length === 1, 'delivery to the new address');
    await waitFor(() => n2.server.openRaftStreams().length === 0, 'the old stream to close');
    assert.equal(n2.received.length, 1);
  });

  it('bounds the queue for a peer that is away by dropping the oldest appends, and counts them', async () => {
    const n1 = await startTestPeer('n1', { transport: { maxQueuedMessages: 10, reconnectMinMs: 60_000, reconnectMaxMs: 60_000 } });
    peers = [n1];
    n1.transport.setPeers(new Map([['n2', '127.0.0.1:1']]));
    // The first send opens a call that fails; everything after waits out the (long) back-off.
    n1.transport.send([message({ from: 'n1', to: 'n2' })]);
    await waitFor(() => n1.unreachable.length === 1, 'the first failure');
    const vote: Message = message({ type: MessageType.Vote, from: 'n1', to: 'n2' });
    n1.transport.send([vote]);
    for (let i = 0; i < 100; i++) n1.transport.send([message({ from: 'n1', to: 'n2', index: i })]);
    const stats = n1.transport.peerStatus('n2')!;
    assert.equal(stats.queuedMessages, 10);
    assert.equal(stats.droppedMessages, 91);
  });
});
