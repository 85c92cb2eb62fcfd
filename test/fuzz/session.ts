// The fuzz's own accounts: registered and logged in once like any user, the token's claims read back,
// and from then on sessions signed by the fuzz itself with the cluster's key — a fresh one for each
// batch, so a fuzzed Logout ends only its own batch's session and the fuzz never logs in again (its
// own bad passwords trip the login throttle, which would lock it out of its accounts).
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { LoginResponse } from '../../src/gen/chat/v1/chat.js';
import { call, type TestCluster } from '../support/cluster.js';
import { signToken, type FuzzAccount, type FuzzSession } from './credentials.js';

export const FUZZ_PASSWORD = 'fuzz-account-password';

/** The session-token key every replica derives from the cluster secret (src/cli/chatd.ts's deriveKey). */
export function tokenKeyOf(secretFile: string): Uint8Array {
  const secret = new TextEncoder().encode(readFileSync(secretFile, 'utf8').trim());
  return createHmac('sha256', secret).update('client-tokens').digest();
}

export async function register(cluster: TestCluster, via: string, username: string, password: string): Promise<void> {
  await call(cluster.chat(via), 'register', { username, password });
}

export async function login(cluster: TestCluster, via: string, username: string, password: string): Promise<FuzzSession> {
  const reply = await call<unknown, LoginResponse>(cluster.chat(via), 'login', { username, password });
  const payload: unknown = JSON.parse(Buffer.from(reply.token.split('.')[0]!, 'base64url').toString('utf8'));
  const createdAt = typeof payload === 'object' && payload !== null && 'c' in payload ? payload.c : undefined;
  if (typeof createdAt !== 'number') throw new Error('a session token without the account\'s creation time');
  return { username, token: reply.token, accountCreatedAtUnixMs: createdAt };
}

/**
 * A session for the account as Login would issue it (src/api/tokens.ts's claims), issued a
 * millisecond ahead so it postdates any Logout(all_sessions) that has already been applied.
 */
export function mintSession(tokenKey: Uint8Array, account: FuzzAccount, ttlMs = 3_600_000, nowMs = Date.now()): FuzzSession {
  const claims = { u: account.username, s: randomBytes(16).toString('base64url'), iat: nowMs + 1, exp: nowMs + ttlMs, c: account.accountCreatedAtUnixMs };
  return { username: account.username, accountCreatedAtUnixMs: account.accountCreatedAtUnixMs, token: signToken(tokenKey, Buffer.from(JSON.stringify(claims), 'utf8')) };
}
