// Mutual TLS identity on the peer port: the client certificate of a call must name the member that
// the call's peer token says it comes from, so a replica holding a valid certificate cannot speak as another.

import { isIP } from 'node:net';
import { checkServerIdentity } from 'node:tls';
import type { PeerCertificate } from 'node:tls';
import type { ServerUnaryCall } from '@grpc/grpc-js';
import type { NodeId } from '../raft/types.js';

/** What grpc-js knows of a call's transport security (its AuthContext, which it does not export). */
export type CallAuthContext = ReturnType<ServerUnaryCall<unknown, unknown>['getAuthContext']>;

/**
 * Where this replica knows member `id`'s peer port to be (its member table), or undefined for a
 * replica it does not know: not yet added, or removed.
 */
export type PeerAddressOf = (id: NodeId) => string | undefined;

/** Why a call's certificate does not prove the member it claims to be. */
export type IdentityMismatch =
  /** The call came without a verified client certificate (plaintext, or TLS without client auth). */
  | { kind: 'no-certificate'; reason: string }
  /** This replica has no peer address for the claimed member, so nothing to check the certificate against. */
  | { kind: 'unknown-member'; reason: string }
  /** The certificate names other hosts (another member's, say). */
  | { kind: 'wrong-certificate'; reason: string; expectedHost: string; certificateNames: string };

/**
 * The host part of a peer address as the transport dials it: `host:port`, `[v6]:port`, a bare host
 * or IPv6 address, optionally behind a gRPC `dns:`, `ipv4:` or `ipv6:` scheme.
 */
export function hostOfPeerAddress(address: string): string {
  const target = address.replace(/^dns:(\/\/[^/]*\/)?/, '').replace(/^ipv[46]:/, '');
  if (target.startsWith('[')) {
    const close = target.indexOf(']');
    return close > 0 ? target.slice(1, close) : target;
  }
  if (isIP(target) === 6) return target;
  const colon = target.lastIndexOf(':');
  return colon >= 0 ? target.slice(0, colon) : target;
}

/**
 * Checks that a call's verified client certificate names the host of `from`'s peer address, with the
 * RFC 6125 matching TLS clients use (DNS SANs with wildcards, IP SANs). A certificate without a
 * subjectAltName is refused rather than matched on its common name (deprecated, RFC 6125 §6.4.4).
 */
export function checkPeerIdentity(auth: CallAuthContext | null, from: NodeId, addressOf: PeerAddressOf): IdentityMismatch | undefined {
  // grpc-js reports ssl only for a socket whose certificate chain verified against the server's CA.
  const certificate: PeerCertificate | undefined = auth?.transportSecurityType === 'ssl' ? auth.sslPeerCertificate : undefined;
  if (certificate === undefined) {
    return { kind: 'no-certificate', reason: 'the peer port requires a client certificate from the cluster CA' };
  }
  const address = addressOf(from);
  if (address === undefined || address === '') {
    return { kind: 'unknown-member', reason: `'${from}' is not a member with a known peer address` };
  }
  const expectedHost = hostOfPeerAddress(address);
  const certificateNames = certificate.subjectaltname ?? '';
  const wrong = { kind: 'wrong-certificate', expectedHost, certificateNames } as const;
  if (certificateNames === '') return { ...wrong, reason: `the client certificate has no subjectAltName; '${from}' is at ${expectedHost}` };
  const mismatch = checkServerIdentity(expectedHost, certificate);
  if (mismatch !== undefined) return { ...wrong, reason: `the client certificate does not name ${expectedHost}, where '${from}' is` };
  return undefined;
}
