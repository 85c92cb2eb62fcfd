// The checks every incoming peer call passes before its handler runs: the peer token (HMAC over the
// cluster id and sender id, compared in constant time), with mTLS the client certificate naming that
// sender, and per message the cluster id. Refusals are logged at most once a minute per peer and
// reason, and never with the token itself.

import { status } from '@grpc/grpc-js';
import type { ServerUnaryCall, StatusObject } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { NodeId } from '../raft/types.js';
import { PEER_AUTH_KEY, verifyPeerToken } from './auth.js';
import type { PeerSecret } from './auth.js';
import type { RefusalKind } from './codec.js';
import { checkPeerIdentity } from './server-identity.js';
import type { IdentityMismatch, PeerAddressOf } from './server-identity.js';

export type Refusal = Pick<StatusObject, 'code' | 'details'>;

/** The parts of an incoming call (of any of the three kinds) the guard looks at. */
export type GuardedCall = Pick<ServerUnaryCall<unknown, unknown>, 'metadata' | 'getPeer' | 'getAuthContext'>;

/**
 * A verified certificate that names someone else is PERMISSION_DENIED: the caller did authenticate
 * (a certificate from the cluster CA and the secret), it may not act as the member it claims. A call
 * without any client certificate lacks the credential itself: UNAUTHENTICATED. Both are final for
 * the sender (TransportError REFUSED), which reports the peer unreachable and retries with back-off.
 */
const STATUS_BY_MISMATCH: Readonly<Record<IdentityMismatch['kind'], status>> = {
  'no-certificate': status.UNAUTHENTICATED,
  'unknown-member': status.PERMISSION_DENIED,
  'wrong-certificate': status.PERMISSION_DENIED,
};

const STATUS_BY_KIND: Readonly<Record<RefusalKind, status>> = {
  invalid: status.INVALID_ARGUMENT,
  impersonation: status.PERMISSION_DENIED,
  misdirected: status.FAILED_PRECONDITION,
};

const ADVICE_BY_MISMATCH: Readonly<Record<IdentityMismatch['kind'], string>> = {
  'no-certificate': 'refused a peer call without a client certificate: every replica needs its own from the cluster CA',
  'unknown-member': 'refused a peer call from a replica that is not a member here (not yet added, or removed)',
  'wrong-certificate':
    'refused a peer call whose TLS certificate does not name the member it claims to be: give each replica a certificate for its own peer address',
};

const LOG_INTERVAL_MS = 60_000;
/** Forget old log keys past this many, so a scan of made-up ids cannot grow the map forever. */
const MAX_LOG_KEYS = 1_024;

export class CallGuard {
  private readonly lastLoggedMs = new Map<string, number>();

  /**
   * With `peerAddressOf`, every call must also present a client certificate naming the host of the
   * sender's peer address (see server-identity.ts); without it the token alone identifies the sender.
   */
  constructor(
    private readonly clusterId: string,
    private readonly secret: PeerSecret,
    private readonly logger: Logger,
    private readonly peerAddressOf?: PeerAddressOf,
  ) {}

  /**
   * The authenticated sender id, or a refusal (already logged) when the token is missing or wrong or,
   * with mTLS identity on, the client certificate does not name that sender.
   */
  authenticate(call: GuardedCall, method: string): { from: NodeId } | { refusal: Refusal } {
    const remote = call.getPeer();
    const token = call.metadata.get(PEER_AUTH_KEY)[0];
    const from = verifyPeerToken(token, this.secret, this.clusterId);
    if (from !== undefined) {
      const refusal = this.checkIdentity(call, from, method, remote);
      return refusal === undefined ? { from } : { refusal };
    }
    const claimed = typeof token === 'string' && token.includes('.') ? token.slice(0, token.lastIndexOf('.')) : '';
    const reason = token === undefined ? 'missing peer token' : 'wrong peer token';
    this.warn(`${claimed}|${reason}`, { peer: claimed, remote, method, reason },
      'refused a peer call: check that every replica has the same cluster secret');
    return { refusal: { code: status.UNAUTHENTICATED, details: reason } };
  }

  private checkIdentity(call: GuardedCall, from: NodeId, method: string, remote: string): Refusal | undefined {
    if (this.peerAddressOf === undefined) return undefined;
    const mismatch = checkPeerIdentity(call.getAuthContext(), from, this.peerAddressOf);
    if (mismatch === undefined) return undefined;
    const { kind, reason, ...names } = mismatch;
    this.warn(`${from}|${kind}`, { peer: from, remote, method, kind, reason, ...names }, ADVICE_BY_MISMATCH[kind]);
    return { code: STATUS_BY_MISMATCH[kind], details: reason };
  }

  /** A refusal when a message names another cluster (the secret may be shared by accident). */
  checkClusterId(clusterId: string, from: NodeId, method: string): Refusal | undefined {
    if (clusterId === this.clusterId) return undefined;
    this.warn(`${from}|cluster`, { peer: from, method, theirClusterId: clusterId, ourClusterId: this.clusterId },
      'refused a peer call from another cluster: a replica points at the wrong peers');
    return { code: status.FAILED_PRECONDITION, details: `cluster id '${clusterId}' is not '${this.clusterId}'` };
  }

  /** Logs a request that failed validation (codec.ts), rate-limited like the rest. */
  refuse(from: NodeId, method: string, kind: RefusalKind, reason: string): Refusal {
    this.warn(`${from}|${kind}|${method}`, { peer: from, method, kind, reason }, 'refused a peer request');
    return { code: STATUS_BY_KIND[kind], details: reason };
  }

  private warn(key: string, fields: object, message: string): void {
    const nowMs = Date.now();
    const last = this.lastLoggedMs.get(key);
    if (last !== undefined && nowMs - last < LOG_INTERVAL_MS) return;
    if (this.lastLoggedMs.size >= MAX_LOG_KEYS) this.lastLoggedMs.clear();
    this.lastLoggedMs.set(key, nowMs);
    this.logger.warn(fields, message);
  }
}
