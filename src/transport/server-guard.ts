// The checks every incoming peer call passes before its handler runs: the peer token (HMAC over the
// cluster id and sender id, compared in constant time) and, per message, the cluster id. Refusals are
// logged at most once a minute per peer and reason, and never with the token itself.

import { status } from '@grpc/grpc-js';
import type { Metadata, StatusObject } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { NodeId } from '../raft/types.js';
import { PEER_AUTH_KEY, verifyPeerToken } from './auth.js';
import type { PeerSecret } from './auth.js';
import type { RefusalKind } from './codec.js';

export type Refusal = Pick<StatusObject, 'code' | 'details'>;

const STATUS_BY_KIND: Readonly<Record<RefusalKind, status>> = {
  invalid: status.INVALID_ARGUMENT,
  impersonation: status.PERMISSION_DENIED,
  misdirected: status.FAILED_PRECONDITION,
};

const LOG_INTERVAL_MS = 60_000;
/** Forget old log keys past this many, so a scan of made-up ids cannot grow the map forever. */
const MAX_LOG_KEYS = 1_024;

export class CallGuard {
  private readonly lastLoggedMs = new Map<string, number>();

  constructor(
    private readonly clusterId: string,
    private readonly secret: PeerSecret,
    private readonly logger: Logger,
  ) {}

  /** The authenticated sender id, or a refusal (already logged) when the token is missing or wrong. */
  authenticate(metadata: Metadata, method: string, remote: string): { from: NodeId } | { refusal: Refusal } {
    const token = metadata.get(PEER_AUTH_KEY)[0];
    const from = verifyPeerToken(token, this.secret, this.clusterId);
    if (from !== undefined) return { from };
    const claimed = typeof token === 'string' && token.includes('.') ? token.slice(0, token.lastIndexOf('.')) : '';
    const reason = token === undefined ? 'missing peer token' : 'wrong peer token';
    this.warn(`${claimed}|${reason}`, { peer: claimed, remote, method, reason },
      'refused a peer call: check that every replica has the same cluster secret');
    return { refusal: { code: status.UNAUTHENTICATED, details: reason } };
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
