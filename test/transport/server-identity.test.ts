// The certificate-to-member check of the peer port, on real certificates from a throw-away CA: a
// certificate proves a member only if its subjectAltName covers the host of that member's peer address.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPeerIdentity, hostOfPeerAddress } from '../../src/transport/server-identity.js';
import type { CallAuthContext } from '../../src/transport/server-identity.js';
import { issueCert, makeCa } from '../support/pki.js';

const ADDRESSES = new Map([
  ['n1', 'n1.peers.test:7001'],
  ['n2', 'n2.peers.test:7001'],
  ['v4', '10.1.2.3:7001'],
  ['v6', '[fd00::7]:7001'],
  ['dns', 'dns:///n1.peers.test:7001'],
]);
const addressOf = (id: string): string | undefined => ADDRESSES.get(id);

describe('transport: a client certificate proves the member it names', () => {
  let dir: string;
  const contexts = new Map<string, CallAuthContext>();

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'raftchat-identity-'));
    const ca = makeCa(dir);
    const sans: Record<string, string[]> = {
      n1: ['DNS:n1.peers.test'],
      wildcard: ['DNS:*.peers.test'],
      v4: ['IP:10.1.2.3'],
      v6: ['IP:fd00:0:0:0:0:0:0:7'],
      // The common name is n1's host, but without a SAN it must not count (RFC 6125 §6.4.4).
      'no-san': [],
    };
    for (const [name, names] of Object.entries(sans)) {
      const issued = issueCert(ca, name, names, name === 'no-san' ? 'n1.peers.test' : name);
      contexts.set(name, { transportSecurityType: 'ssl', sslPeerCertificate: new X509Certificate(issued.cert).toLegacyObject() });
    }
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  function context(name: string): CallAuthContext {
    const found = contexts.get(name);
    assert.ok(found !== undefined, name);
    return found;
  }

  it('takes the host out of host:port, [v6]:port, bare hosts and gRPC target schemes', () => {
    assert.equal(hostOfPeerAddress('raftchat-0.raftchat-peer.ns.svc.cluster.local:50052'), 'raftchat-0.raftchat-peer.ns.svc.cluster.local');
    assert.equal(hostOfPeerAddress('10.1.2.3:7001'), '10.1.2.3');
    assert.equal(hostOfPeerAddress('[fd00::7]:7001'), 'fd00::7');
    assert.equal(hostOfPeerAddress('fd00::7'), 'fd00::7');
    assert.equal(hostOfPeerAddress('n1.peers.test'), 'n1.peers.test');
    assert.equal(hostOfPeerAddress('dns:///n1.peers.test:7001'), 'n1.peers.test');
    assert.equal(hostOfPeerAddress('dns://resolver.test/n1.peers.test:7001'), 'n1.peers.test');
    assert.equal(hostOfPeerAddress('ipv4:10.1.2.3:7001'), '10.1.2.3');
  });

  it('accepts a certificate whose DNS name is the host of the member it claims to be', () => {
    assert.equal(checkPeerIdentity(context('n1'), 'n1', addressOf), undefined);
    assert.equal(checkPeerIdentity(context('n1'), 'dns', addressOf), undefined);
  });

  it('accepts an IP address SAN for a member whose address is an IPv4 or IPv6 address', () => {
    assert.equal(checkPeerIdentity(context('v4'), 'v4', addressOf), undefined);
    assert.equal(checkPeerIdentity(context('v6'), 'v6', addressOf), undefined);
    assert.equal(checkPeerIdentity(context('v4'), 'v6', addressOf)?.kind, 'wrong-certificate');
  });

  it('refuses a certificate that names another member', () => {
    const mismatch = checkPeerIdentity(context('n1'), 'n2', addressOf);
    assert.equal(mismatch?.kind, 'wrong-certificate');
    assert.ok(mismatch.kind === 'wrong-certificate');
    assert.equal(mismatch.expectedHost, 'n2.peers.test');
    assert.equal(mismatch.certificateNames, 'DNS:n1.peers.test');
    assert.equal(checkPeerIdentity(context('n1'), 'v4', addressOf)?.kind, 'wrong-certificate');
  });

  it('lets a wildcard certificate speak for every member under it, so shared certificates cannot tell pods apart', () => {
    assert.equal(checkPeerIdentity(context('wildcard'), 'n1', addressOf), undefined);
    assert.equal(checkPeerIdentity(context('wildcard'), 'n2', addressOf), undefined);
    assert.equal(checkPeerIdentity(context('wildcard'), 'v4', addressOf)?.kind, 'wrong-certificate');
  });

  it('refuses a certificate without a subjectAltName even when its common name is the host', () => {
    assert.equal(checkPeerIdentity(context('no-san'), 'n1', addressOf)?.kind, 'wrong-certificate');
  });

  it('refuses a caller this replica has no peer address for', () => {
    assert.equal(checkPeerIdentity(context('n1'), 'n9', addressOf)?.kind, 'unknown-member');
    assert.equal(checkPeerIdentity(context('n1'), 'n1', () => '')?.kind, 'unknown-member');
  });

  it('refuses a call that brought no verified client certificate', () => {
    assert.equal(checkPeerIdentity({}, 'n1', addressOf)?.kind, 'no-certificate');
    assert.equal(checkPeerIdentity(null, 'n1', addressOf)?.kind, 'no-certificate');
    assert.equal(checkPeerIdentity({ transportSecurityType: 'ssl' }, 'n1', addressOf)?.kind, 'no-certificate');
  });
});
