// Session tokens: signed, expiring, and refused with one message whatever was wrong with them.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { ApiError } from '../../src/api/errors.js';
import { TokenSigner } from '../../src/api/tokens.js';

const key = new Uint8Array(32).fill(1);
const alice = { username: 'alice', createdAtUnixMs: 500, sessionsValidAfterUnixMs: 0 };

function refusal(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ApiError);
    assert.equal(err.code, status.UNAUTHENTICATED);
    return err;
  }
  assert.fail('expected the token to be refused');
}

describe('TokenSigner', function () {
  it('verifies a token it issued and returns its claims', () => {
    const signer = new TokenSigner(key, 60_000);
    const { token, claims } = signer.issue(alice, 1_000);
    assert.deepEqual(signer.verify(token, 2_000), claims);
    assert.equal(claims.expiresAtUnixMs, 61_000);
    assert.equal(claims.accountCreatedAtUnixMs, 500);
    assert.ok(claims.sessionId.length >= 16);
  });

  it('gives each login its own session id', () => {
    const signer = new TokenSigner(key, 60_000);
    assert.notEqual(signer.issue(alice, 1).claims.sessionId, signer.issue(alice, 1).claims.sessionId);
  });

  it('issues after the account\'s last logout of all sessions even on a clock that is behind', () => {
    const signer = new TokenSigner(key, 60_000);
    const { claims } = signer.issue({ ...alice, sessionsValidAfterUnixMs: 5_000 }, 1_000);
    assert.equal(claims.issuedAtUnixMs, 5_001);
    assert.equal(claims.expiresAtUnixMs, 61_000);
  });

  it('refuses a token once it has expired', () => {
    const signer = new TokenSigner(key, 60_000);
    const { token } = signer.issue(alice, 1_000);
    assert.match(refusal(() => signer.verify(token, 61_000)).message, /expired/);
  });

  it('refuses a token signed with another key', () => {
    const { token } = new TokenSigner(new Uint8Array(32).fill(2), 60_000).issue(alice, 1_000);
    refusal(() => new TokenSigner(key, 60_000).verify(token, 2_000));
  });

  it('refuses a payload changed after signing (another user, a later expiry)', () => {
    const signer = new TokenSigner(key, 60_000);
    const { token } = signer.issue(alice, 1_000);
    const [, signature] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ u: 'admin', s: 'x', iat: 1_000, exp: 9e15, c: 500 })).toString('base64url');
    refusal(() => signer.verify(`${forged}.${signature}`, 2_000));
  });

  it('refuses malformed tokens without echoing them', () => {
    const signer = new TokenSigner(key, 60_000);
    for (const token of ['', '.', 'abc', 'a.b.c', 'secret-looking-value.', '.sig']) {
      const err = refusal(() => signer.verify(token, 0));
      if (token.length > 3) assert.ok(!err.message.includes(token));
    }
  });

  it('refuses a correctly signed payload that is not a token', () => {
    const signer = new TokenSigner(key, 60_000);
    const body = Buffer.from(JSON.stringify({ u: 42 }));
    const signature = createHmac('sha256', Buffer.from(key)).update(body).digest('base64url');
    refusal(() => signer.verify(`${body.toString('base64url')}.${signature}`, 0));
  });

  it('refuses keys too short to sign with', () => {
    assert.throws(() => new TokenSigner(new Uint8Array(8), 60_000), RangeError);
  });
});
