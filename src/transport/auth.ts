// Peer authentication: every peer call carries `x-raftchat-peer: <from>.<hex HMAC-SHA256>` over the
// cluster id and the sender's id, keyed by the cluster secret. The server recomputes and compares it
// in constant time. Without TLS the token can be replayed by someone who can read the traffic: run the
// peer port with mTLS (the `credentials` options) where the network is not trusted.

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { NodeId } from '../raft/types.js';

export const PEER_AUTH_KEY = 'x-raftchat-peer';

/** The secret may be given as bytes (ReplicaConfig.clusterSecret) or as a string. */
export type PeerSecret = Uint8Array | string;

function mac(secret: PeerSecret, clusterId: string, from: NodeId): Buffer {
  return createHmac('sha256', secret).update(`${clusterId}|${from}`).digest();
}

/** The metadata value proving that `from` knows the secret of cluster `clusterId`. */
export function peerToken(secret: PeerSecret, clusterId: string, from: NodeId): string {
  return `${from}.${mac(secret, clusterId, from).toString('hex')}`;
}

const HEX_MAC_CHARS = 64;

/**
 * The sender id a token proves, or undefined when the token is missing, malformed or wrong. The id is
 * everything before the last '.', so ids may themselves contain dots.
 */
export function verifyPeerToken(token: unknown, secret: PeerSecret, clusterId: string): NodeId | undefined {
  if (typeof token !== 'string') return undefined;
  const dot = token.lastIndexOf('.');
  if (dot <= 0 || token.length - dot - 1 !== HEX_MAC_CHARS) return undefined;
  const from = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1), 'hex');
  if (given.length !== HEX_MAC_CHARS / 2) return undefined;
  return timingSafeEqual(given, mac(secret, clusterId, from)) ? from : undefined;
}
