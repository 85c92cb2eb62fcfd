// A throw-away CA and one certificate for 127.0.0.1 (server and client use), made with openssl for
// one test run. openssl is installed with apt-get on a fresh machine that lacks it.
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

function ensureOpenssl(): void {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch {
    execSync('apt-get update -qq && apt-get install -y -qq --no-install-recommends openssl', { stdio: 'ignore' });
  }
}

/** Writes ca.crt, peer.key and peer.crt (SAN IP:127.0.0.1) into `dir`. */
export function makePki(dir: string): Pki {
  ensureOpenssl();
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=raftchat-test-ca');
  openssl('req', ...ec, '-keyout', 'peer.key', '-out', 'peer.csr', '-subj', '/CN=raftchat-peer');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
  openssl('x509', '-req', '-in', 'peer.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'peer.crt', '-days', '1', '-extfile', 'ext.cnf');
  const caFile = join(dir, 'ca.crt');
  const keyFile = join(dir, 'peer.key');
  const certFile = join(dir, 'peer.crt');
  return { ca: readFileSync(caFile), key: readFileSync(keyFile), cert: readFileSync(certFile), caFile, keyFile, certFile };
}
