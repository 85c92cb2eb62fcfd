// Mutual TLS identity on a real peer server over loopback, with certificates from a throw-away CA:
// each replica's certificate names its own peer address, and a replica holding a valid certificate
// and the cluster secret still cannot speak as another member. The dialling side checks the server's.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Metadata, ServerCredentials, credentials, status } from '@grpc/grpc-js';
import type { ChannelCredentials, ServiceError } from '@grpc/grpc-js';
import { ForwardRequest, PeerServiceService } from '../../src/gen/raftchat/peer/v1/peer.js';
import { MessageType } from '../../src/raft/types.js';
import type { Message } from '../../src/raft/types.js';
import { PEER_AUTH_KEY, peerToken } from '../../src/transport/auth.js';
import { encodeBatch, encodeMessage, encodeSnapshotChunk } from '../../src/transport/codec.js';
import { SnapshotDigest, TransportError } from '../../src/transport/index.js';
import { capturingLogger, message, silentLogger, startTestPeer, waitFor, CLUSTER_ID, SECRET } from './helpers.js';
import type { TestPeer, TestPeerOptions } from './helpers.js';
import { issueCert, makeCa } from '../support/pki.js';
import type { IssuedCert, TestCa } from '../support/pki.js';

/** The receiving replica's member table: where it believes each member's peer port is. */
const ADDRESSES = new Map([
  ['n1', 'n1.peers.test:7001'],
  ['n2', 'n2.peers.test:7001'],
  ['n3', 'n3.peers.test:7001'],
]);
const addressOf = (id: string): string | undefined => ADDRESSES.get(id);

type Method = 'raft' | 'snapshot' | 'forward';

/** One call with raw request bytes, the given channel credentials and a token for `claimedId`. */
function rawCall(address: string, channel: ChannelCredentials, claimedId: string, method: Method, payload: Buffer[]): Promise<ServiceError | null> {
  const client = new Client(address, channel);
  const metadata = new Metadata();
  metadata.set(PEER_AUTH_KEY, peerToken(SECRET, CLUSTER_ID, claimedId));
  const definition = PeerServiceService[method];
  const identity = (bytes: Buffer): Buffer => bytes;
  return new Promise((resolve) => {
    const done = (err: ServiceError | null): void => {
      client.close();
      resolve(err);
    };
    if (method === 'forward') {
      client.makeUnaryRequest(definition.path, identity, definition.responseDeserialize, payload[0]!, metadata, { deadline: Date.now() + 10_000 }, done);
      return;
    }
    const call = client.makeClientStreamRequest(definition.path, identity, definition.responseDeserialize, metadata, { deadline: Date.now() + 10_000 }, done);
    call.on('error', () => {});
    for (const bytes of payload) call.write(bytes);
    call.end();
  });
}

/** A well-formed request of each kind from `from` to n2, so a refusal can only be about identity. */
function payloadFrom(from: string, method: Method): Buffer[] {
  const heartbeat: Message = message({ from, to: 'n2', type: MessageType.Heartbeat });
  switch (method) {
    case 'raft':
      return [encodeBatch({ clusterId: CLUSTER_ID, messages: [heartbeat] })];
    case 'snapshot': {
      const snap = message({
        from,
        to: 'n2',
        type: MessageType.Snap,
        term: 4,
        snapshot: { metadata: { index: 10, term: 3, confState: { voters: ['n1', 'n2', 'n3'], learners: [] } }, data: new Uint8Array() },
      });
      // An empty keyspace: the header, then the trailer of zero pairs.
      return [
        encodeSnapshotChunk({ kind: { $case: 'header', value: { clusterId: CLUSTER_ID, message: encodeMessage(snap) } } }),
        encodeSnapshotChunk({ kind: { $case: 'trailer', value: { pairs: 0, bytes: 0, checksum: new SnapshotDigest().digest() } } }),
      ];
    }
    case 'forward':
      return [Buffer.from(ForwardRequest.encode({ clusterId: CLUSTER_ID, command: new Uint8Array([1]), deadlineUnixMs: Date.now() + 5_000 }).finish())];
  }
}

describe('transport: mutual TLS identity on the peer port', () => {
  let dir: string;
  let ca: TestCa;
  /** The receiving server's certificate: it listens on 127.0.0.1 and is dialled there. */
  let server: IssuedCert;
  let n1: IssuedCert;
  let peers: TestPeer[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'raftchat-mtls-identity-'));
    ca = makeCa(dir);
    server = issueCert(ca, 'server', ['IP:127.0.0.1']);
    n1 = issueCert(ca, 'n1', ['DNS:n1.peers.test']);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  afterEach(async () => {
    await Promise.all(peers.map((peer) => peer.close()));
    peers = [];
  });

  function clientCredentials(cert: IssuedCert, trusted: Buffer = ca.cert): ChannelCredentials {
    return credentials.createSsl(trusted, cert.key, cert.cert);
  }

  /** n2, running mTLS with the identity check, counting what reaches its handlers. */
  async function receiver(options: TestPeerOptions = {}, cert: IssuedCert = server): Promise<TestPeer & { handled: string[] }> {
    const handled: string[] = [];
    const peer = await startTestPeer('n2', {
      ...options,
      handlers: {
        onSnapshot: async (snapshot) => {
          handled.push('snapshot');
          for await (const pairs of snapshot.chunks) assert.deepEqual(pairs, []);
        },
        onForward: async () => {
          handled.push('forward');
          return { index: 1, result: new Uint8Array() };
        },
      },
      server: {
        credentials: ServerCredentials.createSsl(ca.cert, [{ private_key: cert.key, cert_chain: cert.cert }], true),
        peerAddressOf: addressOf,
      },
    });
    peers.push(peer);
    return Object.assign(peer, { handled });
  }

  it('accepts raft messages from a replica whose certificate names its own peer address', async () => {
    const n2 = await receiver();
    const sender = await startTestPeer('n1', { transport: { credentials: clientCredentials(n1) } });
    peers.push(sender);
    sender.transport.setPeers(new Map([['n2', n2.address]]));
    sender.transport.send([message({ from: 'n1', to: 'n2', type: MessageType.Heartbeat, commit: 7 })]);
    await waitFor(() => n2.received.length === 1, 'delivery over mTLS');
    assert.equal(n2.received[0]!.commit, 7);
    assert.deepEqual(n2.server.openRaftStreams(), ['n1']);
  });

  it("refuses a CA-signed certificate for another member, even with that member's token, with PERMISSION_DENIED, and nothing reaches the replica", async () => {
    const { logger, lines } = capturingLogger();
    const n2 = await receiver({ logger });
    const n1Channel = clientCredentials(n1);
    // The same connection settings speaking as itself are accepted: the refusals below are about identity.
    for (const method of ['raft', 'snapshot', 'forward'] as const) {
      assert.equal(await rawCall(n2.address, n1Channel, 'n1', method, payloadFrom('n1', method)), null, method);
    }
    assert.equal(n2.received.length, 1);
    assert.deepEqual(n2.handled, ['snapshot', 'forward']);

    for (const method of ['raft', 'snapshot', 'forward', 'raft'] as const) {
      const err = await rawCall(n2.address, n1Channel, 'n3', method, payloadFrom('n3', method));
      assert.equal(err?.code, status.PERMISSION_DENIED, method);
      assert.match(err.details, /does not name n3\.peers\.test/);
    }
    assert.equal(n2.received.length, 1, 'no raft message from the impersonator');
    assert.deepEqual(n2.handled, ['snapshot', 'forward'], 'no snapshot or forward from the impersonator');

    const refusals = lines.filter((line) => line.kind === 'wrong-certificate');
    // Rate-limited: one line for n3 however many calls were refused.
    assert.equal(refusals.length, 1);
    assert.equal(refusals[0]!.peer, 'n3');
    assert.equal(refusals[0]!.expectedHost, 'n3.peers.test');
    assert.equal(refusals[0]!.certificateNames, 'DNS:n1.peers.test');
    assert.ok(!JSON.stringify(lines).includes(peerToken(SECRET, CLUSTER_ID, 'n3').split('.')[1]!), 'token in the log');
  });

  it('refuses a PeerTransport that presents another member’s certificate, and reports the peer unreachable', async () => {
    const n2 = await receiver();
    const impostor = await startTestPeer('n3', { transport: { credentials: clientCredentials(n1) } });
    peers.push(impostor);
    impostor.transport.setPeers(new Map([['n2', n2.address]]));
    impostor.transport.send([message({ from: 'n3', to: 'n2' })]);
    await waitFor(() => impostor.unreachable.includes('n2'), 'the refusal');
    await assert.rejects(impostor.transport.forward('n2', new Uint8Array([1]), Date.now() + 5_000), (err: unknown) => {
      assert.ok(err instanceof TransportError);
      assert.equal(err.code, 'REFUSED');
      assert.equal(err.status, status.PERMISSION_DENIED);
      return true;
    });
    assert.equal(n2.received.length, 0);
    assert.deepEqual(n2.handled, []);
  });

  it('refuses a caller this replica has no peer address for with PERMISSION_DENIED', async () => {
    const n2 = await receiver();
    const err = await rawCall(n2.address, clientCredentials(n1), 'n7', 'raft', payloadFrom('n7', 'raft'));
    assert.equal(err?.code, status.PERMISSION_DENIED);
    assert.match(err.details, /not a member/);
    assert.equal(n2.received.length, 0);
  });

  it('refuses at the handshake a certificate for the right name from another CA', async () => {
    const { logger, lines } = capturingLogger();
    const n2 = await receiver({ logger });
    const otherCa = makeCa(dir, 'other-ca', 'another-ca');
    const forged = issueCert(otherCa, 'forged-n1', ['DNS:n1.peers.test']);
    const err = await rawCall(n2.address, clientCredentials(forged), 'n1', 'raft', payloadFrom('n1', 'raft'));
    assert.equal(err?.code, status.UNAVAILABLE);
    assert.equal(n2.received.length, 0);
    assert.deepEqual(lines.filter((line) => line.msg?.toString().startsWith('refused')), [], 'no call got as far as the guard');
  });

  it('refuses a plaintext client without a certificate', async () => {
    const n2 = await receiver();
    const err = await rawCall(n2.address, credentials.createInsecure(), 'n1', 'raft', payloadFrom('n1', 'raft'));
    assert.equal(err?.code, status.UNAVAILABLE);
    assert.equal(n2.received.length, 0);
  });

  it('refuses every call with UNAUTHENTICATED when the identity check is on but the server runs without TLS', async () => {
    const n2 = await startTestPeer('n2', { logger: silentLogger(), server: { peerAddressOf: addressOf } });
    peers.push(n2);
    const err = await rawCall(n2.address, credentials.createInsecure(), 'n1', 'raft', payloadFrom('n1', 'raft'));
    assert.equal(err?.code, status.UNAUTHENTICATED);
    assert.match(err.details, /client certificate/);
    assert.equal(n2.received.length, 0);
  });

  it('refuses, when dialling, a replica whose certificate names another host than the dialled address', async () => {
    // n2 listens on 127.0.0.1 but holds n3's certificate: the sender must not trust it.
    const n2 = await receiver({}, issueCert(ca, 'n3', ['DNS:n3.peers.test']));
    const sender = await startTestPeer('n1', { transport: { credentials: clientCredentials(n1) } });
    peers.push(sender);
    sender.transport.setPeers(new Map([['n2', n2.address]]));
    sender.transport.send([message({ from: 'n1', to: 'n2' })]);
    await waitFor(() => sender.unreachable.includes('n2'), 'the handshake to fail');
    await assert.rejects(sender.transport.forward('n2', new Uint8Array([1]), Date.now() + 5_000), (err: unknown) => {
      assert.ok(err instanceof TransportError);
      assert.equal(err.code, 'UNAVAILABLE');
      return true;
    });
    assert.equal(n2.received.length, 0);
    assert.deepEqual(n2.server.openRaftStreams(), []);
    assert.deepEqual(n2.handled, []);
  });
});
