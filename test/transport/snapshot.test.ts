// Snapshot streaming over loopback gRPC: a large snapshot with a slow receiver arrives intact, and
// every way it can go wrong ends in onSnapshotDone(false) on the sender and an error on the receiver.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Client, Metadata, credentials } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { PeerServiceService } from '../../src/gen/raftchat/peer/v1/peer.js';
import type { SnapshotAck, SnapshotChunk } from '../../src/gen/raftchat/peer/v1/peer.js';
import { MessageType } from '../../src/raft/types.js';
import type { Message } from '../../src/raft/types.js';
import { PEER_AUTH_KEY, peerToken } from '../../src/transport/auth.js';
import { encodeMessage, encodeSnapshotChunk } from '../../src/transport/codec.js';
import { SnapshotDigest, TransportError } from '../../src/transport/index.js';
import type { IncomingSnapshot, KeyValuePair, SnapshotSource } from '../../src/transport/index.js';
import { connectAll, message, startTestPeer, waitFor, CLUSTER_ID, SECRET } from './helpers.js';
import type { TestPeer } from './helpers.js';

function snapMessage(to = 'n2'): Message {
  return message({
    type: MessageType.Snap,
    from: 'n1',
    to,
    term: 4,
    snapshot: { metadata: { index: 1234, term: 3, confState: { voters: ['n1', 'n2'], learners: ['n3'] } }, data: new Uint8Array() },
  });
}

/** Deterministic pseudo-random pairs: `count` chunks of `pairsPerChunk` pairs of ~`valueBytes` each. */
function generatedSource(count: number, pairsPerChunk: number, valueBytes: number): SnapshotSource & { closed: boolean } {
  const state = { closed: false };
  async function* chunks(): AsyncGenerator<KeyValuePair[]> {
    let n = 0;
    for (let c = 0; c < count; c++) {
      const pairs: KeyValuePair[] = [];
      for (let p = 0; p < pairsPerChunk; p++, n++) {
        const key = Buffer.from(`key/${String(n).padStart(8, '0')}`);
        const value = createHash('sha256').update(key).digest();
        pairs.push({ key, value: Buffer.concat(Array.from({ length: Math.ceil(valueBytes / 32) }, () => value)).subarray(0, valueBytes) });
      }
      yield pairs;
    }
  }
  return {
    chunks: chunks(),
    close: async () => {
      state.closed = true;
    },
    get closed() {
      return state.closed;
    },
  };
}

describe('transport: snapshots', () => {
  let peers: TestPeer[] = [];

  afterEach(async () => {
    await Promise.all(peers.map((peer) => peer.close()));
    peers = [];
  });

  it('streams a 20 MB snapshot to a slow receiver intact, with back-pressure, and reports success', async function () {
    this.timeout(60_000);
    const chunkCount = 320;
    const source = generatedSource(chunkCount, 64, 1_000); // 320 × 64 × ~1 KB ≈ 20.6 MB
    let sourceChunksRead = 0;
    const countingSource: SnapshotSource = {
      chunks: (async function* () {
        for await (const chunk of source.chunks) {
          sourceChunksRead++;
          yield chunk;
        }
      })(),
      close: source.close,
    };
    const expected = new SnapshotDigest();
    expected.update([...generatedPairs(chunkCount * 64, 1_000)]);

    const received = new SnapshotDigest();
    let stagedAt: IncomingSnapshot | undefined;
    let verifiedChecksum: Uint8Array | undefined;
    let maxReadAhead = 0;
    let stepped = false;
    const n2 = await startTestPeer('n2', {
      handlers: {
        onSnapshot: async (snapshot) => {
          stagedAt = snapshot;
          assert.throws(() => snapshot.checksum(), TransportError);
          let chunks = 0;
          for await (const pairs of snapshot.chunks) {
            chunks++;
            received.update(pairs);
            maxReadAhead = Math.max(maxReadAhead, sourceChunksRead - chunks);
            // A slow disk: the sender must wait for us rather than buffer the whole snapshot.
            if (chunks % 16 === 0) await new Promise((resolve) => setTimeout(resolve, 20));
          }
          verifiedChecksum = snapshot.checksum();
          stepped = true; // here the replica steps snapshot.message into raft
        },
      },
    });
    const n1 = await startTestPeer('n1', { transport: { snapshotSource: () => countingSource } });
    peers = [n1, n2];
    connectAll(peers);

    n1.transport.send([snapMessage()]);
    await waitFor(() => n1.snapshotsDone.length === 1, 'onSnapshotDone', 50_000);
    assert.deepEqual(n1.snapshotsDone, [{ peer: 'n2', ok: true }]);
    assert.ok(stepped);
    assert.equal(stagedAt!.from, 'n1');
    assert.equal(stagedAt!.message.type, MessageType.Snap);
    assert.deepEqual(stagedAt!.message.snapshot!.metadata, { index: 1234, term: 3, confState: { voters: ['n1', 'n2'], learners: ['n3'] } });
    assert.equal(received.pairs, chunkCount * 64);
    assert.ok(received.bytes > 20_000_000, `only ${received.bytes} bytes`);
    const expectedChecksum = Buffer.from(expected.digest());
    assert.deepEqual(Buffer.from(received.digest()), expectedChecksum);
    assert.deepEqual(Buffer.from(verifiedChecksum!), expectedChecksum);
    assert.ok(source.closed, 'the source was closed');
    // Flow control kept the sender near the reader: far from all 320 chunks read ahead.
    assert.ok(maxReadAhead < chunkCount / 2, `sender ran ${maxReadAhead} chunks ahead of the receiver`);
    assert.equal(n1.transport.peerStatus('n2')!.snapshotInFlight, false);
  });

  it('reports failure when the receiving replica fails to stage the snapshot', async () => {
    const n2 = await startTestPeer('n2', {
      handlers: {
        onSnapshot: async (snapshot) => {
          for await (const _pairs of snapshot.chunks) throw Object.assign(new Error('disk full'), { code: 'RESOURCE_EXHAUSTED' });
        },
      },
    });
    const source = generatedSource(50, 10, 100);
    const n1 = await startTestPeer('n1', { transport: { snapshotSource: () => source } });
    peers = [n1, n2];
    connectAll(peers);
    n1.transport.send([snapMessage()]);
    await waitFor(() => n1.snapshotsDone.length === 1, 'onSnapshotDone');
    assert.deepEqual(n1.snapshotsDone, [{ peer: 'n2', ok: false }]);
    assert.ok(source.closed);
  });

  it("refuses to finish a snapshot whose source's own checksum disagrees with what it yielded", async () => {
    let installed = false;
    const n2 = await startTestPeer('n2', {
      handlers: {
        onSnapshot: async (snapshot) => {
          for await (const _pairs of snapshot.chunks);
          installed = true;
        },
      },
    });
    const source = { ...generatedSource(5, 10, 100), checksum: () => new Uint8Array(32) };
    const n1 = await startTestPeer('n1', { transport: { snapshotSource: () => source } });
    peers = [n1, n2];
    connectAll(peers);
    n1.transport.send([snapMessage()]);
    await waitFor(() => n1.snapshotsDone.length === 1, 'onSnapshotDone');
    assert.deepEqual(n1.snapshotsDone, [{ peer: 'n2', ok: false }]);
    // The trailer was never sent, so the receiver cannot have finished.
    assert.equal(installed, false);
  });

  it('reports failure when the receiver returns without reading the whole snapshot', async () => {
    const n2 = await startTestPeer('n2', { handlers: { onSnapshot: async () => {} } });
    const n1 = await startTestPeer('n1', { transport: { snapshotSource: () => generatedSource(50, 10, 100) } });
    peers = [n1, n2];
    connectAll(peers);
    n1.transport.send([snapMessage()]);
    await waitFor(() => n1.snapshotsDone.length === 1, 'onSnapshotDone');
    assert.deepEqual(n1.snapshotsDone, [{ peer: 'n2', ok: false }]);
  });

  it('reports failure when the source cannot be read, and when the peer is unknown', async () => {
    const n2 = await startTestPeer('n2', {
      handlers: { onSnapshot: async (snapshot) => { for await (const _pairs of snapshot.chunks); } },
    });
    const failing: SnapshotSource = {
      chunks: (async function* () {
        yield [{ key: Buffer.from('a'), value: Buffer.from('b') }];
        throw new Error('read error');
      })(),
      close: async () => {},
    };
    const n1 = await startTestPeer('n1', { transport: { snapshotSource: () => failing } });
    peers = [n1, n2];
    connectAll(peers);
    n1.transport.send([snapMessage(), snapMessage('n9')]);
    await waitFor(() => n1.snapshotsDone.length === 2, 'two onSnapshotDone');
    assert.deepEqual(
      [...n1.snapshotsDone].sort((a, b) => a.peer.localeCompare(b.peer)),
      [{ peer: 'n2', ok: false }, { peer: 'n9', ok: false }],
    );
  });

  it('keeps one snapshot in flight per peer', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started = 0;
    const n2 = await startTestPeer('n2', {
      handlers: {
        onSnapshot: async (snapshot) => {
          started++;
          await gate;
          for await (const _pairs of snapshot.chunks);
        },
      },
    });
    let opened = 0;
    const n1 = await startTestPeer('n1', {
      transport: { snapshotSource: () => (opened++, generatedSource(4, 10, 100)) },
    });
    peers = [n1, n2];
    connectAll(peers);
    n1.transport.send([snapMessage()]);
    await waitFor(() => started === 1, 'the receiver to start');
    n1.transport.send([snapMessage()]);
    assert.equal(n1.transport.peerStatus('n2')!.snapshotInFlight, true);
    release();
    await waitFor(() => n1.snapshotsDone.length === 1, 'onSnapshotDone');
    assert.deepEqual(n1.snapshotsDone, [{ peer: 'n2', ok: true }]);
    assert.equal(opened, 1);
    assert.equal(started, 1);
  });

  it('cancels a snapshot in flight when its peer is removed, and reports it failed', async () => {
    let failure: unknown;
    let chunksRead = 0;
    const n2 = await startTestPeer('n2', {
      handlers: {
        onSnapshot: async (snapshot) => {
          try {
            for await (const _pairs of snapshot.chunks) {
              chunksRead++;
              await new Promise((resolve) => setTimeout(resolve, 10));
            }
          } catch (err) {
            failure = err;
            throw err;
          }
        },
      },
    });
    const source = generatedSource(1_000, 64, 1_000);
    const n1 = await startTestPeer('n1', { transport: { snapshotSource: () => source } });
    peers = [n1, n2];
    connectAll(peers);
    n1.transport.send([snapMessage()]);
    await waitFor(() => chunksRead > 0, 'the receiver to start reading');
    assert.equal(n1.transport.peerStatus('n2')!.snapshotInFlight, true);
    n1.transport.setPeers(new Map());
    await waitFor(() => n1.snapshotsDone.length === 1 && failure !== undefined, 'onSnapshotDone and the receiver to fail');
    assert.deepEqual(n1.snapshotsDone, [{ peer: 'n2', ok: false }]);
    assert.ok(failure instanceof TransportError);
    assert.equal(failure.code, 'SNAPSHOT_INCOMPLETE');
    assert.ok(source.closed);
  });

  it('refuses a snapshot whose trailer does not match what arrived, and the receiver sees CORRUPT_SNAPSHOT', async () => {
    let failure: unknown;
    let stepped = false;
    const n2 = await startTestPeer('n2', {
      handlers: {
        onSnapshot: async (snapshot) => {
          try {
            for await (const _pairs of snapshot.chunks);
            stepped = true;
          } catch (err) {
            failure = err;
            throw err;
          }
        },
      },
    });
    peers = [n2];
    const pairs = [{ key: Buffer.from('k'), value: Buffer.from('v') }];
    const digest = new SnapshotDigest();
    digest.update(pairs);
    const chunks: SnapshotChunk[] = [
      { kind: { $case: 'header', value: { clusterId: CLUSTER_ID, message: encodeMessage(snapMessage()) } } },
      { kind: { $case: 'data', value: { pairs } } },
      { kind: { $case: 'trailer', value: { pairs: 1, bytes: 2, checksum: new Uint8Array(32) } } },
    ];
    const err = await rawSnapshotCall(n2.address, 'n1', chunks);
    assert.equal(err?.code, 15 /* DATA_LOSS */);
    assert.ok(failure instanceof TransportError);
    assert.equal(failure.code, 'CORRUPT_SNAPSHOT');
    assert.equal(stepped, false);
  });

  it('refuses a snapshot stream that does not start with a header for this replica', async () => {
    let calls = 0;
    const n2 = await startTestPeer('n2', { handlers: { onSnapshot: async () => void calls++ } });
    peers = [n2];
    const data: SnapshotChunk = { kind: { $case: 'data', value: { pairs: [] } } };
    assert.equal((await rawSnapshotCall(n2.address, 'n1', [data]))?.code, 3 /* INVALID_ARGUMENT */);
    const toOther: SnapshotChunk = { kind: { $case: 'header', value: { clusterId: CLUSTER_ID, message: encodeMessage(snapMessage('n3')) } } };
    assert.equal((await rawSnapshotCall(n2.address, 'n1', [toOther]))?.code, 9 /* FAILED_PRECONDITION */);
    const otherCluster: SnapshotChunk = { kind: { $case: 'header', value: { clusterId: 'other', message: encodeMessage(snapMessage()) } } };
    assert.equal((await rawSnapshotCall(n2.address, 'n1', [otherCluster]))?.code, 9 /* FAILED_PRECONDITION */);
    assert.equal(calls, 0);
  });
});

function* generatedPairs(count: number, valueBytes: number): Generator<KeyValuePair> {
  for (let n = 0; n < count; n++) {
    const key = Buffer.from(`key/${String(n).padStart(8, '0')}`);
    const value = createHash('sha256').update(key).digest();
    yield { key, value: Buffer.concat(Array.from({ length: Math.ceil(valueBytes / 32) }, () => value)).subarray(0, valueBytes) };
  }
}

/** Sends hand-made chunks with a valid token for `from`; resolves with the call's error, if any. */
function rawSnapshotCall(address: string, from: string, chunks: SnapshotChunk[]): Promise<ServiceError | null> {
  const client = new Client(address, credentials.createInsecure());
  const metadata = new Metadata();
  metadata.set(PEER_AUTH_KEY, peerToken(SECRET, CLUSTER_ID, from));
  return new Promise((resolve) => {
    const call = client.makeClientStreamRequest<SnapshotChunk, SnapshotAck>(
      PeerServiceService.snapshot.path,
      encodeSnapshotChunk,
      PeerServiceService.snapshot.responseDeserialize,
      metadata,
      {},
      (err: ServiceError | null) => {
        client.close();
        resolve(err);
      },
    );
    call.on('error', () => {});
    for (const chunk of chunks) call.write(chunk);
    call.end();
  });
}
