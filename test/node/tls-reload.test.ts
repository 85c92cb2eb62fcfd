// loadTls watches its files: a certificate renewed on disk (cert-manager rewriting the mounted Secret)
// is what new connections see, without restarting the server.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { loadTls } from '../../src/node/tls.js';
import { issueCert, makeCa } from '../support/pki.js';

/** The certificate a TLS server on `port` presents now, checked against `ca`. */
function presentedCertificate(port: number, ca: Buffer): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca, ALPNProtocols: ['h2'] }, () => {
      const cert = socket.getPeerCertificate();
      socket.destroy();
      resolve(cert);
    });
    socket.once('error', reject);
  });
}

async function until<T>(probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('TLS credentials (src/node/tls.ts)', function () {
  this.timeout(30_000);
  let dir: string;
  let server: grpc.Server | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'raftchat-tls-reload-'));
  });
  afterEach(() => {
    server?.forceShutdown();
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a renewed certificate to new connections without a restart', async () => {
    const ca = makeCa(dir);
    const first = issueCert(ca, 'first', ['IP:127.0.0.1']);
    const second = issueCert(ca, 'second', ['IP:127.0.0.1']);
    const live = { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
    copyFileSync(first.certFile, live.certFile);
    copyFileSync(first.keyFile, live.keyFile);

    const tls = loadTls({ ...live, caFile: ca.certFile, client: true, peer: false, reloadIntervalMs: 200 });
    assert.ok(tls.clientServer !== undefined);
    await tls.ready;
    server = new grpc.Server();
    const port = await new Promise<number>((resolve, reject) =>
      server!.bindAsync('127.0.0.1:0', tls.clientServer!, (err, bound) => (err === null ? resolve(bound) : reject(err))));

    const before = await until(() => presentedCertificate(port, ca.cert), (c) => c.subject?.CN === 'first', 5_000);
    assert.equal(before.subject.CN, 'first');

    // What a Secret update does to the mounted files.
    copyFileSync(second.certFile, live.certFile);
    copyFileSync(second.keyFile, live.keyFile);
    const after = await until(() => presentedCertificate(port, ca.cert), (c) => c.subject?.CN === 'second', 10_000);
    assert.equal(after.subject.CN, 'second', 'the renewed certificate was not picked up');
  });

  it('names the missing file and its flag instead of failing at the first handshake', () => {
    assert.throws(
      () => loadTls({ certFile: join(dir, 'nope.crt'), keyFile: join(dir, 'nope.key'), caFile: join(dir, 'ca.crt'), client: true, peer: false }),
      (err: unknown) => err instanceof Error && /certificate \(--tls-cert-file\)/.test(err.message) && err.message.includes('nope.crt'),
    );
  });
});
