// Who is calling: a user session (a token from Login, checked against this replica's own copy of the
// account — no round trip to the leader) or the operator (the admin token, for membership calls).
import { createHash, timingSafeEqual } from 'node:crypto';
import { status, type Metadata } from '@grpc/grpc-js';
import { getAccount, isSessionRevoked } from '../chat/queries.js';
import type { ReplicaApi } from '../node/types.js';
import { ApiError } from './errors.js';
import type { TokenClaims, TokenSigner } from './tokens.js';

/** The bearer credential in `authorization: Bearer <credential>`, if any. */
export function bearerCredential(metadata: Metadata): string | undefined {
  const values = metadata.get('authorization');
  const header = values.length === 1 && typeof values[0] === 'string' ? values[0] : undefined;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

export class Authenticator {
  private readonly adminDigest: Buffer | undefined;

  constructor(
    readonly signer: TokenSigner,
    private readonly replica: ReplicaApi,
    adminToken: string | undefined,
  ) {
    this.adminDigest = adminToken === undefined || adminToken === '' ? undefined : digest(adminToken);
  }

  /**
   * The caller's session; UNAUTHENTICATED when the token is missing, forged, expired or revoked.
   * The check reads this replica's applied state only. A replica that is behind may not have applied
   * the account yet (Login ran on a caught-up one): before refusing, it catches up once through a
   * read barrier, so only refusals pay for a round trip to the leader.
   */
  async authenticate(metadata: Metadata, deadlineMs: number): Promise<TokenClaims> {
    const token = bearerCredential(metadata);
    if (token === undefined) {
      throw new ApiError(status.UNAUTHENTICATED, 'missing credentials: send `authorization: Bearer <token>` from Login');
    }
    const claims = this.signer.verify(token, Date.now());
    try {
      await this.checkSession(claims);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      await this.replica.readBarrier({ deadlineMs });
      await this.checkSession(claims);
    }
    return claims;
  }

  /**
   * Checks a validly signed session against the account as this replica has applied it: the same
   * account (not a re-registration of its name), and a session that has not been logged out.
   */
  async checkSession(claims: TokenClaims): Promise<void> {
    const keyspace = this.replica.keyspace();
    const account = await getAccount(keyspace, claims.username);
    if (account === undefined) throw new ApiError(status.UNAUTHENTICATED, 'the account of this session no longer exists');
    // A session of another account of the same name (deleted, then registered again).
    if (claims.accountCreatedAtUnixMs !== account.createdAtUnixMs) {
      throw new ApiError(status.UNAUTHENTICATED, 'the account of this session no longer exists');
    }
    // Logout(all_sessions) refuses every session issued at or before its instant (as src/chat's
    // sessionStatus() reads it); Logout refuses one session by its id.
    const revoked =
      claims.issuedAtUnixMs <= account.sessionsValidAfterUnixMs ||
      (await isSessionRevoked(keyspace, claims.username, claims.sessionId));
    if (revoked) throw new ApiError(status.UNAUTHENTICATED, 'session revoked (logged out): log in again');
  }

  /**
   * Membership calls need the admin token when one is configured. A user's session token is a valid
   * identity without the right: PERMISSION_DENIED; anything else is no identity: UNAUTHENTICATED.
   */
  requireAdmin(metadata: Metadata): void {
    if (this.adminDigest === undefined) return;
    const credential = bearerCredential(metadata);
    if (credential === undefined) {
      throw new ApiError(status.UNAUTHENTICATED, 'membership calls need the admin token: send `authorization: Bearer <admin token>`');
    }
    // Comparing fixed-length digests keeps the comparison constant-time whatever the input length.
    if (timingSafeEqual(digest(credential), this.adminDigest)) return;
    let isUserToken = false;
    try {
      this.signer.verify(credential, Date.now());
      isUserToken = true;
    } catch {
      isUserToken = false;
    }
    if (isUserToken) throw new ApiError(status.PERMISSION_DENIED, 'membership calls need the admin token, not a user session');
    throw new ApiError(status.UNAUTHENTICATED, 'invalid admin token');
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
