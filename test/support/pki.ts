// Throw-away CAs and certificates with chosen subjectAltNames (makePki: one CA and one certificate for
// 127.0.0.1, server and client use), made with openssl for one test run. openssl is installed with
// apt-get on a fresh machine that lacks it.
import { execFileSync, execSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Pki {
  ca: Buffer;
  key: Buffer;
  cert: Buffer;
  caFile: string;
  keyFile: string;
  certFile: string;
}

/** A CA that can sign more certificates (issueCert). */
export interface TestCa {
  dir: string;
  /** File stem of `<stem>.crt` / `<stem>.key` in `dir`. */
  stem: string;
  cert: Buffer;
  certFile: string;
}

/** A key and a certificate signed by a TestCa, usable for both server and client auth. */
export interface IssuedCert {
  key: Buffer;
  cert: Buffer;
  keyFile: string;
  certFile: string;
}

function ensureOpenssl(): void {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch {
    execSync('apt-get update -qq && apt-get install -y -qq --no-install-recommends openssl', { stdio: 'ignore' });
  }
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Writes `<stem>.crt` and `<stem>.key`, a self-signed CA valid for a day, into `dir`. */
export function makeCa(dir: string, stem = 'ca', commonName = 'raftchat-test-ca'): TestCa {
  ensureOpenssl();
  openssl(dir, 'req', '-x509', ...EC_KEY, '-keyout', `${stem}.key`, '-out', `${stem}.crt`, '-days', '1', '-subj', `/CN=${commonName}`);
  const certFile = join(dir, `${stem}.crt`);
  return { dir, stem, cert: readFileSync(certFile), certFile };
}

/**
 * Writes `<stem>.key` and `<stem>.crt` signed by `ca`, with the given subjectAltName entries in
 * openssl's form (`DNS:n1.peers.test`, `DNS:*.peers.test`, `IP:127.0.0.1`); none: no SAN at all.
 */
export function issueCert(ca: TestCa, stem: string, subjectAltNames: readonly string[], commonName = stem): IssuedCert {
  const { dir } = ca;
  openssl(dir, 'req', ...EC_KEY, '-keyout', `${stem}.key`, '-out', `${stem}.csr`, '-subj', `/CN=${commonName}`);
  const san = subjectAltNames.length > 0 ? `subjectAltName=${subjectAltNames.join(',')}\n` : '';
  writeFileSync(join(dir, `${stem}.cnf`), `${san}extendedKeyUsage=serverAuth,clientAuth\n`);
  openssl(dir, 'x509', '-req', '-in', `${stem}.csr`, '-CA', `${ca.stem}.crt`, '-CAkey', `${ca.stem}.key`, '-CAcreateserial',
    '-out', `${stem}.crt`, '-days', '1', '-extfile', `${stem}.cnf`);
  const keyFile = join(dir, `${stem}.key`);
  const certFile = join(dir, `${stem}.crt`);
  return { key: readFileSync(keyFile), cert: readFileSync(certFile), keyFile, certFile };
}

/** Writes ca.crt, peer.key and peer.crt (SAN IP:127.0.0.1) into `dir`. */
export function makePki(dir: string): Pki {
  const ca = makeCa(dir);
  const peer = issueCert(ca, 'peer', ['IP:127.0.0.1'], 'raftchat-peer');
  return { ca: ca.cert, key: peer.key, cert: peer.cert, caFile: ca.certFile, keyFile: peer.keyFile, certFile: peer.certFile };
}
