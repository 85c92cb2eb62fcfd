// TLS for the two ports of a replica, from PEM files: server-side TLS on the client port, and mutual
// TLS on the peer port (each replica presents its certificate and accepts only peers whose
// certificate the cluster's CA signed; the dialled address must match the peer's SAN, and the peer
// server checks that a caller's certificate names the member it claims to be — src/transport).
// The files are watched (grpc-js's FileWatcherCertificateProvider): a renewed certificate, key or CA
// (cert-manager rewrites the mounted Secret) is used for new connections without a restart.

import { readFileSync } from 'node:fs';
import { experimental, type ChannelCredentials, type ServerCredentials } from '@grpc/grpc-js';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** The CA that signed every member's certificate (and the client port's). */
  caFile: string;
  /** TLS on the client port. */
  client: boolean;
  /** Mutual TLS on the peer port. */
  peer: boolean;
  /** How often the files are re-read (default 60 s); renewals take effect for new connections. */
  reloadIntervalMs?: number;
}

export interface TlsCredentials {
  /** For the client port's server; undefined: plaintext. */
  clientServer: ServerCredentials | undefined;
  /** For dialling another replica's client port (joining); undefined: plaintext. */
  clientChannel: ChannelCredentials | undefined;
  peerServer: ServerCredentials | undefined;
  peerChannel: ChannelCredentials | undefined;
  /**
   * Settles once the files have been read: the credentials refuse handshakes until then, so a server
   * waits for this before it listens. Rejects with TlsConfigError when the files do not load.
   */
  ready: Promise<void>;
}

export class TlsConfigError extends Error {
  readonly code = 'TLS_CONFIG';
}

const DEFAULT_RELOAD_INTERVAL_MS = 60_000;

/** Fails now, with the flag to fix, rather than at the first handshake. */
function checkReadable(path: string, what: string): void {
  if (path === '') throw new TlsConfigError(`TLS is on but no ${what} file is given`);
  try {
    readFileSync(path);
  } catch (err) {
    throw new TlsConfigError(`cannot read the ${what} file ${path}: ${(err as Error).message}`);
  }
}

/** Credentials already made, by file set: chatd, the replica and the joiner all ask for the same ones. */
const loaded = new Map<string, TlsCredentials>();

/**
 * The credentials for `files`; the same object for the same files, so the process watches each set of
 * files once however many parts of it ask.
 */
export function loadTls(files: TlsFiles): TlsCredentials {
  if (!files.client && !files.peer) {
    return { clientServer: undefined, clientChannel: undefined, peerServer: undefined, peerChannel: undefined, ready: Promise.resolve() };
  }
  const key = JSON.stringify([files.certFile, files.keyFile, files.caFile, files.client, files.peer, files.reloadIntervalMs]);
  let credentials = loaded.get(key);
  if (credentials === undefined) {
    credentials = watchTlsFiles(files);
    loaded.set(key, credentials);
  }
  return credentials;
}

function watchTlsFiles(files: TlsFiles): TlsCredentials {
  checkReadable(files.certFile, 'certificate (--tls-cert-file)');
  checkReadable(files.keyFile, 'private key (--tls-key-file)');
  checkReadable(files.caFile, 'CA certificate (--tls-ca-file)');
  // One provider for all four credentials: the files are read once per interval, whoever uses them.
  const watcher = new experimental.FileWatcherCertificateProvider({
    certificateFile: files.certFile,
    privateKeyFile: files.keyFile,
    caCertificateFile: files.caFile,
    refreshIntervalMs: files.reloadIntervalMs ?? DEFAULT_RELOAD_INTERVAL_MS,
  });
  const { createCertificateProviderServerCredentials: server, createCertificateProviderChannelCredentials: channel } = experimental;
  return {
    clientServer: files.client ? server(watcher, watcher, false) : undefined,
    clientChannel: files.client ? channel(watcher, null) : undefined,
    peerServer: files.peer ? server(watcher, watcher, true) : undefined,
    peerChannel: files.peer ? channel(watcher, watcher) : undefined,
    ready: firstRead(watcher, files),
  };
}

const FIRST_READ_TIMEOUT_MS = 10_000;

/** Resolves when `provider` has delivered both the CA and the identity (certificate and key) once. */
function firstRead(provider: experimental.CertificateProvider, files: TlsFiles): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let ca = false;
    let identity = false;
    const done = (err?: Error) => {
      clearTimeout(timer);
      // Unsubscribing lets the provider stop its timer once nothing else (a server, a channel) uses it.
      provider.removeCaCertificateListener(onCa);
      provider.removeIdentityCertificateListener(onIdentity);
      if (err === undefined) resolve();
      else reject(err);
    };
    const check = () => {
      if (ca && identity) done();
    };
    const onCa = (update: experimental.CaCertificateUpdate | null) => {
      ca = update !== null;
      check();
    };
    const onIdentity = (update: experimental.IdentityCertificateUpdate | null) => {
      identity = update !== null;
      check();
    };
    const timer = setTimeout(() => done(new TlsConfigError(
      `could not load the TLS files (${files.certFile}, ${files.keyFile}, ${files.caFile}) within ${FIRST_READ_TIMEOUT_MS} ms`,
    )), FIRST_READ_TIMEOUT_MS);
    provider.addCaCertificateListener(onCa);
    provider.addIdentityCertificateListener(onIdentity);
  });
}
