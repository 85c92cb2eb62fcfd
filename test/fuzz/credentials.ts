// The credentials a fuzzed call carries: none, the fuzz's real session, or one of many that must be
// refused — garbled, truncated, duplicated, wrongly framed, or correctly signed with the cluster's
// key but expired, for an account that does not exist, or holding a payload that is not a session.
import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { printableString } from './values.js';

/** A signed token payload the server must refuse although its signature is good. */
export type SignedPayload =
  | { kind: 'expired'; agoMs: number }
  | { kind: 'unknown-account'; suffix: string }
  | { kind: 'other-incarnation'; createdDeltaMs: number }
  | { kind: 'json'; value: fc.JsonValue }
  | { kind: 'bytes'; bytes: Uint8Array };

export type Credential =
  | { kind: 'none' }
  | { kind: 'session' }
  | { kind: 'session-twice' }
  | { kind: 'session-with-junk'; junk: string }
  | { kind: 'garbled'; at: number; shift: number }
  | { kind: 'truncated'; keep: number }
  | { kind: 'signed'; payload: SignedPayload }
  | { kind: 'header'; value: string }
  | { kind: 'binary'; bytes: Uint8Array };

/** One of the fuzz's own accounts, as its session tokens name it. */
export interface FuzzAccount {
  username: string;
  /** From a Login token's payload: names this incarnation of the account. */
  accountCreatedAtUnixMs: number;
}

/** A live session of a fuzz account. */
export interface FuzzSession extends FuzzAccount {
  token: string;
}

/** `authorization` metadata, as gRPC metadata entries (several values for one key are allowed). */
export type MetadataEntry = [key: string, value: string | Buffer];

export interface ResolvedCredential {
  metadata: MetadataEntry[];
  /** True only when the server must accept the caller as the fuzz's user. */
  grantsSession: boolean;
}

const signedPayload: fc.Arbitrary<SignedPayload> = fc.oneof(
  fc.integer({ min: 1, max: 10 * 24 * 3600 * 1000 }).map((agoMs): SignedPayload => ({ kind: 'expired', agoMs })),
  fc.stringMatching(/^[a-z0-9]{1,8}$/).map((suffix): SignedPayload => ({ kind: 'unknown-account', suffix })),
  fc.integer({ min: -1_000_000, max: 1_000_000 }).filter((d) => d !== 0).map((createdDeltaMs): SignedPayload => ({ kind: 'other-incarnation', createdDeltaMs })),
  fc.jsonValue({ maxDepth: 2 }).map((value): SignedPayload => ({ kind: 'json', value })),
  fc.uint8Array({ maxLength: 48 }).map((bytes): SignedPayload => ({ kind: 'bytes', bytes })),
);

/** Authorization values no client should send: random text, wrong schemes, empty, and huge. */
const oddHeader: fc.Arbitrary<string> = fc.oneof(
  printableString(80),
  fc.constantFrom('Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'bearer', 'Bearer .', 'Bearer ..', 'Bearer a.b'),
  fc.oneof(fc.integer({ min: 1, max: 16 * 1024 }), fc.integer({ min: 60 * 1024, max: 128 * 1024 })).map((n) => `Bearer ${'A'.repeat(n)}`),
);

const fraction = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

function credentialVia(via: 'grpc-js' | 'http2'): fc.Arbitrary<Credential> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant<Credential>({ kind: 'none' }) },
    { weight: 8, arbitrary: fc.constant<Credential>({ kind: 'session' }) },
    { weight: via === 'http2' ? 1 : 0, arbitrary: fc.constant<Credential>({ kind: 'session-twice' }) },
    { weight: 1, arbitrary: printableString(12).filter((s) => s.trim() !== '').map((junk): Credential => ({ kind: 'session-with-junk', junk })) },
    { weight: 2, arbitrary: fc.record({ at: fraction, shift: fc.integer({ min: 1, max: 63 }) }).map((g): Credential => ({ kind: 'garbled', ...g })) },
    { weight: 1, arbitrary: fraction.map((keep): Credential => ({ kind: 'truncated', keep })) },
    { weight: 3, arbitrary: signedPayload.map((payload): Credential => ({ kind: 'signed', payload })) },
    { weight: 2, arbitrary: oddHeader.map((value): Credential => ({ kind: 'header', value })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes): Credential => ({ kind: 'binary', bytes })) },
  );
}

const credentials = { 'grpc-js': credentialVia('grpc-js'), http2: credentialVia('http2') };

/**
 * Credentials for a call made through `via`. grpc-js refuses to send two authorization values (it
 * fails the call itself, INTERNAL, without a byte on the wire), so only raw HTTP/2 sends them
 * (folded into one comma-separated field, as Node's HTTP/2 client insists).
 */
export function credential(via: 'grpc-js' | 'http2'): fc.Arbitrary<Credential> {
  return credentials[via];
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Replaces one character of the token with another base64url character. The last character of
 * each part is never chosen: it carries padding bits a decoder ignores, so changing it may leave
 * the decoded bytes — and so the token — valid.
 */
function garble(token: string, at: number, shift: number): string {
  const dot = token.indexOf('.');
  const candidates = [...token].map((_, i) => i).filter((i) => i !== dot && i !== dot - 1 && i !== token.length - 1);
  const index = candidates[Math.floor(at * candidates.length)]!;
  const replaced = BASE64URL[(BASE64URL.indexOf(token[index]!) + shift) % BASE64URL.length]!;
  return token.slice(0, index) + replaced + token.slice(index + 1);
}

/** `<base64url(payload)>.<base64url(HMAC-SHA256(key, payload))>`, the format of src/api/tokens.ts. */
export function signToken(tokenKey: Uint8Array, payload: Uint8Array): string {
  const signature = createHmac('sha256', tokenKey).update(payload).digest();
  return `${Buffer.from(payload).toString('base64url')}.${signature.toString('base64url')}`;
}

function signedBody(payload: SignedPayload, session: FuzzSession, nowMs: number): Uint8Array {
  const claims = (username: string, createdAt: number, expiresAt: number) =>
    Buffer.from(JSON.stringify({ u: username, s: randomBytes(8).toString('hex'), iat: expiresAt - 3_600_000, exp: expiresAt, c: createdAt }));
  switch (payload.kind) {
    case 'expired':
      return claims(session.username, session.accountCreatedAtUnixMs, nowMs - payload.agoMs);
    case 'unknown-account':
      return claims(`zz-never-registered-${payload.suffix}`, session.accountCreatedAtUnixMs, nowMs + 3_600_000);
    case 'other-incarnation':
      return claims(session.username, session.accountCreatedAtUnixMs + payload.createdDeltaMs, nowMs + 3_600_000);
    case 'json':
      return Buffer.from(JSON.stringify(payload.value) ?? 'null');
    case 'bytes':
      return payload.bytes;
  }
}

export function resolveCredential(c: Credential, session: FuzzSession, tokenKey: Uint8Array, nowMs = Date.now()): ResolvedCredential {
  const bearer = (token: string): MetadataEntry[] => [['authorization', `Bearer ${token}`]];
  switch (c.kind) {
    case 'none':
      return { metadata: [], grantsSession: false };
    case 'session':
      return { metadata: bearer(session.token), grantsSession: true };
    case 'session-twice':
      // Two authorization values are ambiguous: a server must not pick one.
      return { metadata: [...bearer(session.token), ...bearer(session.token)], grantsSession: false };
    case 'session-with-junk':
      return { metadata: [['authorization', `Bearer ${session.token} ${c.junk}`]], grantsSession: false };
    case 'garbled':
      return { metadata: bearer(garble(session.token, c.at, c.shift)), grantsSession: false };
    case 'truncated':
      return { metadata: bearer(session.token.slice(0, Math.floor(c.keep * (session.token.length - 1)))), grantsSession: false };
    case 'signed':
      return { metadata: bearer(signToken(tokenKey, signedBody(c.payload, session, nowMs))), grantsSession: false };
    case 'header':
      return { metadata: [['authorization', c.value]], grantsSession: false };
    case 'binary':
      return { metadata: [['authorization-bin', Buffer.from(c.bytes)]], grantsSession: false };
  }
}
