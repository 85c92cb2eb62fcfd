// The peer port over mutual TLS, with certificates made by openssl for this run: traffic flows
// between replicas holding certificates from the cluster's CA, and a client without one is refused.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerCredentials, credentials } from '@grpc/grpc-js';
import { MessageType } from '../../src/raft/types.js';
import { connectAll, message, startTestPeer, waitFor } from './helpers.js';
import type { TestPeer } from './helpers.js';

interface Pki {
  ca: Buffer;
  key: Buffer;
  cert: Buffer;
}

/** A throw-away CA and one certificate for 127.0.0.1, usable as server and as client. */
function makePki(dir: string): Pki {
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=raftchat-test-ca');
  openssl('req', ...ec, '-keyout', 'peer.key', '-out', 'peer.csr', '-subj', '/CN=raftchat-peer');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
  openssl('x509', '-req', '-in', 'peer.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'peer.crt', '-days', '1', '-extfile', 'ext.cnf');
  return { ca: readFileSync(join(dir, 'ca.crt')), key: readFileSync(join(dir, 'peer.key')), cert: readFileSync(join(dir, 'peer.crt')) };
}

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
