// The peer port over mutual TLS, with certificates made by openssl for this run: traffic flows
// between replicas holding certificates from the cluster's CA, and a client without one is refused.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerCredentials, credentials } from '@grpc/grpc-js';
import { MessageType } from '../../src/raft/types.js';
import { connectAll, message, startTestPeer, waitFor } from './helpers.js';
import type { TestPeer } from './helpers.js';
import { makePki, type Pki } from '../support/pki.js';


describe('transport: mutual TLS on the peer port', () => {
  let dir: string;
  let pki: Pki;
  let peers: TestPeer[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'raftchat-tls-'));
    pki = makePki(dir);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  afterEach(async () => {
    await Promise.all(peers.map((peer) => peer.close()));
    peers = [];
  });

  function tlsPeer(id: string, withClientCert = true): Promise<TestPeer> {
    return startTestPeer(id, {
      server: { credentials: ServerCredentials.createSsl(pki.ca, [{ private_key: pki.key, cert_chain: pki.cert }], true) },
      transport: {
        credentials: withClientCert ? credentials.createSsl(pki.ca, pki.key, pki.cert) : credentials.createSsl(pki.ca),
      },
    });
  }

  it('delivers raft messages between replicas holding certificates from the cluster CA', async () => {
    peers = [await tlsPeer('n1'), await tlsPeer('n2')];
    connectAll(peers);
    const [n1, n2] = peers as [TestPeer, TestPeer];
    n1.transport.send([message({ from: 'n1', to: 'n2', type: MessageType.Heartbeat, commit: 5 })]);
    await waitFor(() => n2.received.length === 1, 'delivery over TLS');
    assert.equal(n2.received[0]!.commit, 5);
  });

  it('refuses a client that presents no certificate', async () => {
    const n2 = await tlsPeer('n2');
    const anonymous = await tlsPeer('n1', false);
    peers = [n2, anonymous];
    connectAll(peers);
    anonymous.transport.send([message({ from: 'n1', to: 'n2' })]);
    await waitFor(() => anonymous.unreachable.includes('n2'), 'the handshake to fail');
    assert.equal(n2.received.length, 0);
  });
});
