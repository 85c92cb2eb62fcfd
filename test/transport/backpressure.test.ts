// Back-pressure on the Raft stream, against a real gRPC server that stops reading: the transport
// must stop writing when write() says so, hold (bounded) what raft keeps sending, and pick up again
// on 'drain' once the peer reads again — delivering in order.

import assert from 'node:assert/strict';
import { Metadata, Server, ServerCredentials } from '@grpc/grpc-js';
import type { ServerReadableStream, ServiceDefinition, sendUnaryData } from '@grpc/grpc-js';
import { PeerServiceService, RaftBatch } from '../../src/gen/raftchat/peer/v1/peer.js';
import type { RaftAck } from '../../src/gen/raftchat/peer/v1/peer.js';
import { PeerTransport } from '../../src/transport/index.js';
import { entry, message, silentLogger, waitFor, CLUSTER_ID, MAX_BATCH_BYTES, SECRET } from './helpers.js';

/** A peer that reads its Raft stream only when told to; it records message indexes in order. */
async function startStubbornPeer(): Promise<{ port: number; indexes: number[]; resume(): void; close(): void }> {
  const indexes: number[] = [];
  let stream: ServerReadableStream<Buffer, RaftAck> | undefined;
  const server = new Server({ 'grpc.max_receive_message_length': 2 * MAX_BATCH_BYTES });
  const service: ServiceDefinition = { raft: { ...PeerServiceService.raft, requestDeserialize: (bytes: Buffer) => bytes } };
  server.addService(service, {
    raft: (call: ServerReadableStream<Buffer, RaftAck>, callback: sendUnaryData<RaftAck>) => {
      stream = call;
      call.sendMetadata(new Metadata());
      call.pause();
      call.on('data', (bytes: Buffer) => {
        for (const m of RaftBatch.decode(bytes).messages) indexes.push(m.index);
      });
      call.on('end', () => callback(null, {}));
      call.on('error', () => {});
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  return { port, indexes, resume: () => stream?.resume(), close: () => server.forceShutdown() };
}

describe('transport: back-pressure on the raft stream', () => {
  it('stops writing while the peer does not read, keeps a bounded queue, and resumes in order on drain', async function () {
    this.timeout(30_000);
    const peer = await startStubbornPeer();
    const transport = new PeerTransport({
      selfId: 'n1', clusterId: CLUSTER_ID, peerSecret: SECRET, logger: silentLogger(), maxBatchBytes: MAX_BATCH_BYTES,
      maxQueuedMessages: 100_000, maxQueuedBytes: 1 << 30,
      onUnreachable: () => assert.fail('the peer is reachable, only slow'),
      snapshotSource: () => assert.fail('no snapshots'),
      onSnapshotDone: () => {},
    });
    try {
      transport.setPeers(new Map([['n2', `127.0.0.1:${peer.port}`]]));
      const payload = 'p'.repeat(10_000);
      let index = 0;
      // ~40 MB: far beyond what HTTP/2 windows and socket buffers hold while the peer is not reading.
      const sendSome = (): void => {
        for (let i = 0; i < 200; i++) {
          index++;
          transport.send([message({ from: 'n1', to: 'n2', index, entries: [entry(index, payload)] })]);
        }
      };
      for (let round = 0; round < 20; round++) {
        sendSome();
        await new Promise((resolve) => setImmediate(resolve));
      }
      await waitFor(() => transport.peerStatus('n2')!.queuedMessages > 0 && transport.peerStatus('n2')!.connected, 'the stream to push back');
      const blocked = transport.peerStatus('n2')!;
      assert.ok(blocked.messagesSent < index, `all ${index} messages were written despite a peer that does not read`);
      assert.equal(blocked.droppedMessages, 0);

      peer.resume();
      await waitFor(() => peer.indexes.length === index, `all ${index} messages`, 20_000);
      assert.deepEqual(peer.indexes, Array.from({ length: index }, (_, i) => i + 1));
      assert.equal(transport.peerStatus('n2')!.queuedMessages, 0);
    } finally {
      await transport.close();
      peer.close();
    }
  });
});
