// TLS for the two ports of a replica, from PEM files: server-side TLS on the client port, and mutual
// TLS on the peer port (each replica presents its certificate and accepts only peers whose
// certificate the cluster's CA signed; the dialled address must match the peer's SAN, and the peer
// server checks that a caller's SAN names the member it claims to be, see transport/server-identity.ts).

import { readFileSync } from 'node:fs';
import { ChannelCredentials, ServerCredentials } from '@grpc/grpc-js';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** The CA that signed every member's certificate (and the client port's). */
  caFile: string;
  /** TLS on the client port. */
  client: boolean;
  /** Mutual TLS on the peer port. */
  peer: boolean;
}

export interface TlsCredentials {
  /** For the client port's server; undefined: plaintext. */
  clientServer: ServerCredentials | undefined;
  /** For dialling another replica's client port (joining); undefined: plaintext. */
  clientChannel: ChannelCredentials | undefined;
  peerServer: ServerCredentials | undefined;
  peerChannel: ChannelCredentials | undefined;
}

export class TlsConfigError extends Error {
  readonly code = 'TLS_CONFIG';
}

function read(path: string, what: string): Buffer {
  if (path === '') throw new TlsConfigError(`TLS is on but no ${what} file is given`);
  try {
    return readFileSync(path);
  } catch (err) {
    throw new TlsConfigError(`cannot read the ${what} file ${path}: ${(err as Error).message}`);
  }
}

export function loadTls(files: TlsFiles): TlsCredentials {
  if (!files.client && !files.peer) {
    return { clientServer: undefined, clientChannel: undefined, peerServer: undefined, peerChannel: undefined };
  }
  const cert = read(files.certFile, 'certificate (--tls-cert-file)');
  const key = read(files.keyFile, 'private key (--tls-key-file)');
  const ca = read(files.caFile, 'CA certificate (--tls-ca-file)');
  const pair = [{ cert_chain: cert, private_key: key }];
  return {
    clientServer: files.client ? ServerCredentials.createSsl(ca, pair, false) : undefined,
    clientChannel: files.client ? ChannelCredentials.createSsl(ca) : undefined,
    peerServer: files.peer ? ServerCredentials.createSsl(ca, pair, true) : undefined,
    peerChannel: files.peer ? ChannelCredentials.createSsl(ca, key, cert) : undefined,
  };
}
