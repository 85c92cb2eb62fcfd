// The byte-level pieces: command and result codecs, internal records, key layout, globs, page tokens.
import assert from 'node:assert/strict';
import { CodecError, countKind, decodeCommand, decodeResult, encodeCommand, encodeResult } from '../../src/chat/index.js';
import { globMatcher, literalPrefix } from '../../src/chat/glob.js';
import { formatId, inboxPrefix, messageKey, prefixEnd } from '../../src/chat/keys.js';
import { decodePageToken, encodePageToken } from '../../src/chat/page-token.js';
import { decodeAccount, decodeCounter, decodeRevocation, encodeAccount, encodeCounter, encodeRevocation } from '../../src/chat/records.js';
import { send } from './harness.js';

describe('chat encodings', () => {
  it('round-trips a command and a result', () => {
    const command = send('alice', 'bob', 'hi', 'r1', 42);
    assert.deepEqual(decodeCommand(encodeCommand(command)), command);
    const result = { kind: { $case: 'count' as const, value: { count: 3 } } };
    assert.deepEqual(decodeResult(encodeResult(result)), result);
  });

  it('throws a CodecError with code MALFORMED for bytes that are not a command', () => {
    assert.throws(() => decodeCommand(new Uint8Array([0x1a, 0x05, 0x01])), (err: unknown) => {
      return err instanceof CodecError && err.code === 'MALFORMED';
    });
  });

  it('round-trips account, counter and revocation records, large times included', () => {
    const account = {
      passwordHash: new Uint8Array([9, 8, 7]),
      salt: new Uint8Array([1]),
      createdAtUnixMs: 1_790_000_000_000,
      sessionsValidAfterUnixMs: Number.MAX_SAFE_INTEGER,
    };
    assert.deepEqual(decodeAccount(encodeAccount(account)), account);
    assert.equal(decodeCounter(encodeCounter(123_456)), 123_456);
    assert.equal(decodeRevocation(encodeRevocation(1_790_000_000_000)), 1_790_000_000_000);
  });

  it('skips record fields it does not know, so records can grow', () => {
    const withExtra = new Uint8Array([...encodeCounter(7), (9 << 3) | 2, 2, 0xaa, 0xbb]);
    assert.equal(decodeCounter(withExtra), 7);
  });

  it('formats ids as 16 hex digits so key order is numeric order', () => {
    assert.equal(formatId(255), '00000000000000ff');
    const ids = [1, 15, 16, 255, 256, 4096, 2 ** 40];
    const keys = ids.map((id) => messageKey('bob', id));
    assert.deepEqual([...keys].sort(), keys);
    assert.ok(keys.every((key) => key.startsWith(inboxPrefix('bob')) && key < prefixEnd(inboxPrefix('bob'))));
    assert.throws(() => formatId(-1), RangeError);
  });

  it('counts account and message keys for digests and nothing else', () => {
    assert.equal(countKind('a/alice'), 'accounts');
    assert.equal(countKind(messageKey('alice', 1)), 'messages');
    for (const key of ['n/alice', 'd/alice/r', 'r/alice/s']) assert.equal(countKind(key), undefined);
  });

  it('takes the literal prefix of a glob and matches the whole name', () => {
    assert.equal(literalPrefix('ab*c?'), 'ab');
    assert.equal(literalPrefix('abc'), 'abc');
    assert.equal(literalPrefix('?x'), '');
    assert.equal(globMatcher('a*c')('abbbc'), true);
    assert.equal(globMatcher('a*c')('abbbcd'), false);
    assert.equal(globMatcher('a.c')('abc'), false);
  });

  it('round-trips page tokens and refuses ones it did not issue', () => {
    assert.equal(decodePageToken(encodePageToken('alice')), 'alice');
    assert.equal(decodePageToken(''), undefined);
    assert.throws(() => decodePageToken(encodePageToken('Not/A/User')), { field: 'page_token' });
    assert.throws(() => decodePageToken('YWxpY2U='), { field: 'page_token' });
  });
});
