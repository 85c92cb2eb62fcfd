// Session tokens: `<base64url(payload)>.<base64url(HMAC-SHA256(key, payload))>`, payload the JSON
// {u, s, iat, exp, c}. Any replica can check one locally: every replica derives the same key.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { ApiError } from './errors.js';

export interface TokenClaims {
  username: string;
  /** Random per login; Logout revokes this one session by it. */
  sessionId: string;
  issuedAtUnixMs: number;
  expiresAtUnixMs: number;
  /**
   * The account's created_at when the token was issued: it names this incarnation of the username,
   * so a token outlives neither its account nor a re-registration of the name, whatever the clocks.
   */
  accountCreatedAtUnixMs: number;
}

/** What issuing a token needs to know of the account (src/chat's Account has it). */
export interface SessionAccount {
  username: string;
  createdAtUnixMs: number;
  sessionsValidAfterUnixMs: number;
}

interface Payload {
  u: string;
  s: string;
  iat: number;
  exp: number;
  c: number;
}

/** The one message for every malformed or forged token: never say which check failed, never echo it. */
const invalidToken = 'invalid session token: log in again';

export class TokenSigner {
  private readonly key: Buffer;
  readonly ttlMs: number;

  constructor(key: Uint8Array, ttlMs: number) {
    if (key.length < 16) throw new RangeError('the token key must be at least 16 bytes');
    if (!Number.isInteger(ttlMs) || ttlMs <= 0) throw new RangeError(`tokenTtlMs must be a positive integer, got ${ttlMs}`);
    this.key = Buffer.from(key);
    this.ttlMs = ttlMs;
  }

  issue(account: SessionAccount, nowMs: number): { token: string; claims: TokenClaims } {
    const claims: TokenClaims = {
      username: account.username,
      sessionId: randomBytes(16).toString('base64url'),
      // Logout(all_sessions) refuses tokens issued at or before its instant, read on another
      // replica's clock: a login after it must not be refused because this clock is behind.
      issuedAtUnixMs: Math.max(nowMs, account.sessionsValidAfterUnixMs + 1),
      expiresAtUnixMs: nowMs + this.ttlMs,
      accountCreatedAtUnixMs: account.createdAtUnixMs,
    };
    const payload: Payload = {
      u: claims.username,
      s: claims.sessionId,
      iat: claims.issuedAtUnixMs,
      exp: claims.expiresAtUnixMs,
      c: claims.accountCreatedAtUnixMs,
    };
    const body = Buffer.from(JSON.stringify(payload), 'utf8');
    return { token: `${body.toString('base64url')}.${this.sign(body).toString('base64url')}`, claims };
  }

  /** Checks the signature (in constant time) and the expiry; throws UNAUTHENTICATED otherwise. */
  verify(token: string, nowMs: number): TokenClaims {
    const dot = token.indexOf('.');
    if (dot <= 0 || dot !== token.lastIndexOf('.')) throw new ApiError(status.UNAUTHENTICATED, invalidToken);
    const body = Buffer.from(token.slice(0, dot), 'base64url');
    const signature = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = this.sign(body);
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
      throw new ApiError(status.UNAUTHENTICATED, invalidToken);
    }
    const claims = parsePayload(body);
    if (claims === undefined) throw new ApiError(status.UNAUTHENTICATED, invalidToken);
    if (claims.expiresAtUnixMs <= nowMs) throw new ApiError(status.UNAUTHENTICATED, 'session token expired: log in again');
    return claims;
  }

  private sign(body: Buffer): Buffer {
    return createHmac('sha256', this.key).update(body).digest();
  }
}

/** A signed payload is ours, but it is still checked field by field before it is trusted. */
function parsePayload(body: Buffer): TokenClaims | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const p = value as Partial<Record<keyof Payload, unknown>>;
  if (typeof p.u !== 'string' || typeof p.s !== 'string') return undefined;
  if (typeof p.iat !== 'number' || typeof p.exp !== 'number' || typeof p.c !== 'number') return undefined;
  return { username: p.u, sessionId: p.s, issuedAtUnixMs: p.iat, expiresAtUnixMs: p.exp, accountCreatedAtUnixMs: p.c };
}
