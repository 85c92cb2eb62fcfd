// Password hashing: scrypt with a random per-user salt, constant-time comparison, and a dummy
// verification for unknown users.
import assert from 'node:assert/strict';
import { SCRYPT_KEY_BYTES, SCRYPT_SALT_BYTES, dummyVerify, hashPassword, verifyPassword } from '../../src/chat/index.js';

describe('chat password hashing', () => {
  it('verifies the password it hashed and refuses a wrong one', async () => {
    const { hash, salt } = await hashPassword('correct horse');
    assert.equal(hash.length, SCRYPT_KEY_BYTES);
    assert.equal(salt.length, SCRYPT_SALT_BYTES);
    assert.equal(await verifyPassword('correct horse', hash, salt), true);
    assert.equal(await verifyPassword('correct horsE', hash, salt), false);
  });

  it('salts each hash afresh, so equal passwords hash differently', async () => {
    const [a, b] = await Promise.all([hashPassword('same password'), hashPassword('same password')]);
    assert.notDeepEqual(a.salt, b.salt);
    assert.notDeepEqual(a.hash, b.hash);
  });

  it('refuses a stored hash of the wrong length instead of throwing', async () => {
    const { hash, salt } = await hashPassword('password1');
    assert.equal(await verifyPassword('password1', hash.subarray(1), salt), false);
  });

  it('treats composed and decomposed accents as the same password', async () => {
    const { hash, salt } = await hashPassword('caf\u00e9 au lait');
    assert.equal(await verifyPassword('cafe\u0301 au lait', hash, salt), true);
  });

  it('answers false from the dummy verification', async () => {
    assert.equal(await dummyVerify('anything at all'), false);
  });
});
