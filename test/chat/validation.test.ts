// Input validation: each check accepts what the API contract allows and refuses the rest with a
// stable code and the offending field.
import assert from 'node:assert/strict';
import {
  DEFAULT_MAX_BODY_BYTES,
  ValidationError,
  validateBody,
  validateIds,
  validatePageSize,
  validatePassword,
  validatePattern,
  validateRequestId,
  validateUsername,
} from '../../src/chat/index.js';

function refuses(check: () => unknown, code: string, field: string): void {
  assert.throws(check, (err: unknown) => {
    assert.ok(err instanceof ValidationError, String(err));
    assert.equal(err.code, code);
    assert.equal(err.field, field);
    return true;
  });
}

describe('chat validation', () => {
  it('accepts usernames of 1 to 32 characters of a-z 0-9 _ . -', () => {
    for (const name of ['a', 'alice_01', 'x.y-z', 'a'.repeat(32)]) assert.equal(validateUsername(name), name);
  });

  it('refuses other usernames with INVALID_ARGUMENT on the given field', () => {
    for (const name of ['', 'Alice', 'a/b', 'a b', 'é', 'a'.repeat(33)]) refuses(() => validateUsername(name), 'INVALID_ARGUMENT', 'username');
    refuses(() => validateUsername('B', 'recipient'), 'INVALID_ARGUMENT', 'recipient');
  });

  it('accepts passwords of 8 to 256 UTF-8 bytes, counting bytes not characters', () => {
    assert.equal(validatePassword('12345678'), '12345678');
    assert.equal(validatePassword('é'.repeat(128)), 'é'.repeat(128)); // 256 bytes
    refuses(() => validatePassword('é'.repeat(129)), 'INVALID_ARGUMENT', 'password');
    refuses(() => validatePassword('1234567'), 'INVALID_ARGUMENT', 'password');
    refuses(() => validatePassword('\ud800abcdefgh'), 'INVALID_ARGUMENT', 'password');
  });

  it('refuses an empty body as INVALID_ARGUMENT and an oversized one as TOO_LARGE', () => {
    assert.equal(validateBody('x'.repeat(DEFAULT_MAX_BODY_BYTES)).length, DEFAULT_MAX_BODY_BYTES);
    refuses(() => validateBody(''), 'INVALID_ARGUMENT', 'body');
    refuses(() => validateBody('x'.repeat(DEFAULT_MAX_BODY_BYTES + 1)), 'TOO_LARGE', 'body');
    refuses(() => validateBody('ab', 1), 'TOO_LARGE', 'body');
  });

  it('accepts an empty or printable request id of at most 64 characters', () => {
    assert.equal(validateRequestId(''), '');
    assert.equal(validateRequestId('x'.repeat(64)), 'x'.repeat(64));
    refuses(() => validateRequestId('x'.repeat(65)), 'INVALID_ARGUMENT', 'request_id');
    refuses(() => validateRequestId('a\nb'), 'INVALID_ARGUMENT', 'request_id');
  });

  it('accepts glob patterns of [a-z0-9_.*?-], turning an empty one into *', () => {
    assert.equal(validatePattern(''), '*');
    assert.equal(validatePattern('a?b*.c-d_'), 'a?b*.c-d_');
    refuses(() => validatePattern('A*'), 'INVALID_ARGUMENT', 'pattern');
    refuses(() => validatePattern('[a]'), 'INVALID_ARGUMENT', 'pattern');
    refuses(() => validatePattern('*'.repeat(65)), 'INVALID_ARGUMENT', 'pattern');
  });

  it('turns a page size of 0 into 100 and refuses more than 1000', () => {
    assert.equal(validatePageSize(0), 100);
    assert.equal(validatePageSize(1000), 1000);
    refuses(() => validatePageSize(1001), 'INVALID_ARGUMENT', 'page_size');
    refuses(() => validatePageSize(1001, 'limit'), 'INVALID_ARGUMENT', 'limit');
  });

  it('accepts 1 to 1000 positive ids and refuses an empty list, too many, or a zero id', () => {
    assert.deepEqual(validateIds([1, 2]), [1, 2]);
    refuses(() => validateIds([]), 'INVALID_ARGUMENT', 'ids');
    refuses(() => validateIds(Array.from({ length: 1001 }, (_, i) => i + 1)), 'INVALID_ARGUMENT', 'ids');
    refuses(() => validateIds([3, 0]), 'INVALID_ARGUMENT', 'ids');
  });
});
