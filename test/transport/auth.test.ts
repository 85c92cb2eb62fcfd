// Peer authentication and request validation on a real PeerServer: the wrong secret, another
// cluster, a sender speaking for someone else and malformed batches are refused, logged without
// secrets and rate-limited, and nothing of theirs reaches the replica.

import assert from 'node:assert/strict';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { Client, Metadata, credentials, status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { PeerServiceService } from '../../src/gen/raftchat/peer/v1/peer.js';
import type { RaftAck } from '../../src/gen/raftchat/peer/v1/peer.js';
import { MessageType } from '../../src/raft/types.js';
import type { EntryType } from '../../src/raft/types.js';
import { PEER_AUTH_KEY, peerToken, verifyPeerToken } from '../../src/transport/auth.js';
import { encodeBatch } from '../../src/transport/codec.js';
import type { OutgoingBatch } from '../../src/transport/codec.js';
import { TransportError } from '../../src/transport/index.js';
import { capturingLogger, connectAll, message, startTestPeer, waitFor, CLUSTER_ID, SECRET } from './helpers.js';
import type { TestPeer } from './helpers.js';

/** Opens a Raft stream with the given token, writes raw batches, and resolves with how it ended. */
function rawRaftCall(address: string, token: string | undefined, batches: Buffer[]): Promise<ServiceError | null> {
  // The identity serializer lets a test put arbitrary bytes on the wire.
  const client = new Client(address, credentials.createInsecure());
  const metadata = new Metadata();
  if (token !== undefined) metadata.set(PEER_AUTH_KEY, token);
  return new Promise((resolve) => {
    const call = client.makeClientStreamRequest<Buffer, RaftAck>(
      PeerServiceService.raft.path,
      (bytes: Buffer) => bytes,
      PeerServiceService.raft.responseDeserialize,
      metadata,
      {},
      (err: ServiceError | null) => {
        client.close();
        resolve(err);
      },
    );
    call.on('error', () => {});
    for (const batch of batches) call.write(batch);
    call.end();
  });
}

function batch(value: OutgoingBatch): Buffer {
  return encodeBatch(value);
}

describe('transport: peer authentication and validation', () => {
  let peers: TestPeer[] = [];

  afterEach(async () => {
    await Promise.all(peers.map((peer) => peer.close()));
    peers = [];
  });

  it('accepts a token only for the secret, cluster and sender it was made for', () => {
    const token = peerToken(SECRET, CLUSTER_ID, 'raftchat-1');
    assert.equal(verifyPeerToken(token, SECRET, CLUSTER_ID), 'raftchat-1');
    assert.equal(verifyPeerToken(token, 'another secret', CLUSTER_ID), undefined);
    assert.equal(verifyPeerToken(token, SECRET, 'another-cluster'), undefined);
    assert.equal(verifyPeerToken(token.replace('raftchat-1', 'raftchat-2'), SECRET, CLUSTER_ID), undefined);
    assert.equal(verifyPeerToken(token.slice(0, -1) + (token.endsWith('0') ? '1' : '0'), SECRET, CLUSTER_ID), undefined);
    assert.equal(verifyPeerToken(token.slice(0, -2), SECRET, CLUSTER_ID), undefined);
    assert.equal(verifyPeerToken(token.slice(0, -2) + 'zz', SECRET, CLUSTER_ID), undefined);
    assert.equal(verifyPeerToken(undefined, SECRET, CLUSTER_ID), undefined);
    assert.equal(verifyPeerToken(Buffer.from(token), SECRET, CLUSTER_ID), undefined);
    assert.equal(verifyPeerToken(peerToken(new TextEncoder().encode(SECRET), CLUSTER_ID, 'a.b'), SECRET, CLUSTER_ID), 'a.b');
  });

  it('refuses a replica with the wrong secret with UNAUTHENTICATED, delivers nothing and logs it once', async () => {
    const { logger, lines } = capturingLogger();
    const n2 = await startTestPeer('n2', { logger });
    const intruder = await startTestPeer('n1', { secret: 'wrong secret' });
    peers = [n2, intruder];
    connectAll(peers);
    intruder.transport.send([message({ from: 'n1', to: 'n2' })]);
    await waitFor(() => intruder.unreachable.length >= 1, 'the refusal to be reported as unreachable');
    intruder.transport.send([message({ from: 'n1', to: 'n2' })]);
    await waitFor(() => intruder.unreachable.length >= 2, 'a second refusal');
    assert.equal(n2.received.length, 0);

    const raw = await rawRaftCall(n2.address, undefined, [batch({ clusterId: CLUSTER_ID, messages: [message({ from: 'n1', to: 'n2' })] })]);
    assert.equal(raw?.code, status.UNAUTHENTICATED);
    assert.equal(n2.received.length, 0);

    const refusals = lines.filter((line) => line.msg === 'refused a peer call: check that every replica has the same cluster secret');
    // One line for n1's wrong token (however often it retried), one for the call without a token.
    assert.deepEqual(refusals.map((line) => [line.peer, line.reason]), [['n1', 'wrong peer token'], ['', 'missing peer token']]);
    const logged = JSON.stringify(lines);
    assert.ok(!logged.includes(SECRET) && !logged.includes('wrong secret'), 'secrets in the log');
    assert.ok(!logged.includes(peerToken('wrong secret', CLUSTER_ID, 'n1').split('.')[1]!), 'token in the log');
  });

  it('refuses a batch from another cluster with FAILED_PRECONDITION even with the right secret', async () => {
    const n2 = await startTestPeer('n2');
    peers = [n2];
    const token = peerToken(SECRET, CLUSTER_ID, 'n1');
    const err = await rawRaftCall(n2.address, token, [batch({ clusterId: 'another-cluster', messages: [message({ from: 'n1', to: 'n2' })] })]);
    assert.equal(err?.code, status.FAILED_PRECONDITION);
    assert.equal(n2.received.length, 0);
  });

  it('refuses a replica configured with another cluster id, and delivers nothing', async () => {
    const n2 = await startTestPeer('n2');
    const stranger = await startTestPeer('n1', { clusterId: 'another-cluster' });
    peers = [n2, stranger];
    connectAll(peers);
    stranger.transport.send([message({ from: 'n1', to: 'n2' })]);
    await waitFor(() => stranger.unreachable.length >= 1, 'the refusal');
    assert.equal(n2.received.length, 0);
    await assert.rejects(stranger.transport.forward('n2', new Uint8Array([1]), Date.now() + 5_000), (err: unknown) => {
      assert.ok(err instanceof TransportError);
      assert.equal(err.code, 'REFUSED');
      assert.equal(err.status, status.UNAUTHENTICATED);
      return true;
    });
  });

  it('refuses messages whose sender is not the authenticated one with PERMISSION_DENIED', async () => {
    const n2 = await startTestPeer('n2');
    peers = [n2];
    const token = peerToken(SECRET, CLUSTER_ID, 'n1');
    const err = await rawRaftCall(n2.address, token, [
      batch({ clusterId: CLUSTER_ID, messages: [message({ from: 'n1', to: 'n2' }), message({ from: 'n3', to: 'n2' })] }),
    ]);
    assert.equal(err?.code, status.PERMISSION_DENIED);
    assert.equal(n2.received.length, 0, 'the whole batch is refused');
  });

  it('refuses messages addressed to another replica with FAILED_PRECONDITION', async () => {
    const n2 = await startTestPeer('n2');
    peers = [n2];
    const err = await rawRaftCall(n2.address, peerToken(SECRET, CLUSTER_ID, 'n1'), [
      batch({ clusterId: CLUSTER_ID, messages: [message({ from: 'n1', to: 'n3' })] }),
    ]);
    assert.equal(err?.code, status.FAILED_PRECONDITION);
    assert.equal(n2.received.length, 0);
  });

  it('refuses malformed batches with INVALID_ARGUMENT and delivers what came before them', async () => {
    const n2 = await startTestPeer('n2');
    peers = [n2];
    const token = peerToken(SECRET, CLUSTER_ID, 'n1');
    const good = batch({ clusterId: CLUSTER_ID, messages: [message({ from: 'n1', to: 'n2' })] });
    const cases: Array<[string, Buffer]> = [
      ['unknown message type', batch({ clusterId: CLUSTER_ID, messages: [message({ from: 'n1', to: 'n2', type: 99 as MessageType })] })],
      ['unknown entry type', batch({ clusterId: CLUSTER_ID, messages: [message({ from: 'n1', to: 'n2', entries: [{ term: 1, index: 1, type: 7 as EntryType, data: new Uint8Array() }] })] })],
      ['Snap on the raft stream without metadata', batch({ clusterId: CLUSTER_ID, messages: [message({ from: 'n1', to: 'n2', type: MessageType.Snap })] })],
      ['garbage bytes', Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff])],
      ['a term beyond 2^53', termBeyondSafeInteger()],
    ];
    for (const [what, bad] of cases) {
      const err = await rawRaftCall(n2.address, token, [good, bad, good]);
      assert.equal(err?.code, status.INVALID_ARGUMENT, what);
    }
    // Each call delivered its first good batch and nothing after the bad one.
    assert.equal(n2.received.length, cases.length);
  });
});

/** A RaftBatch whose one message has term 2^60: valid protobuf, but not a safe JS number. */
function termBeyondSafeInteger(): Buffer {
  const inner = new BinaryWriter().uint32(18).string('n2').uint32(26).string('n1').uint32(32).uint64(2n ** 60n).finish();
  return Buffer.from(new BinaryWriter().uint32(10).string(CLUSTER_ID).uint32(18).bytes(inner).finish());
}
