// Password hashing with scrypt (RFC 7914) and a random per-user salt. Hashing happens on the replica
// that takes the request, before proposing: the log carries only the hash and the salt.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** Cost N = 2^15, block size r = 8, parallelism p = 1: ~32 MiB and tens of ms per hash. */
export const SCRYPT_COST = 2 ** 15;
export const SCRYPT_BLOCK_SIZE = 8;
export const SCRYPT_PARALLELIZATION = 1;
export const SCRYPT_KEY_BYTES = 32;
export const SCRYPT_SALT_BYTES = 16;
/** scrypt needs 128·N·r·p bytes; Node's default cap is exactly that, and Node refuses at the cap. */
export const SCRYPT_MAX_MEMORY_BYTES = 2 * 128 * SCRYPT_COST * SCRYPT_BLOCK_SIZE * SCRYPT_PARALLELIZATION;

const SCRYPT_OPTIONS: ScryptOptions = {
  N: SCRYPT_COST,
  r: SCRYPT_BLOCK_SIZE,
  p: SCRYPT_PARALLELIZATION,
  maxmem: SCRYPT_MAX_MEMORY_BYTES,
};

// Compared against when the account does not exist, so that costs a full scrypt too.
const DUMMY_SALT = new Uint8Array(SCRYPT_SALT_BYTES);
const DUMMY_HASH = new Uint8Array(SCRYPT_KEY_BYTES);

export async function hashPassword(password: string): Promise<{ hash: Uint8Array; salt: Uint8Array }> {
  const salt = new Uint8Array(randomBytes(SCRYPT_SALT_BYTES));
  return { hash: await derive(password, salt), salt };
}

/** Constant-time in the hash's contents; false for a hash of the wrong length. */
export async function verifyPassword(password: string, hash: Uint8Array, salt: Uint8Array): Promise<boolean> {
  const derived = await derive(password, salt);
  return hash.length === derived.length && timingSafeEqual(derived, hash);
}

/**
 * Costs what verifyPassword costs and always answers false: call it when the username does not
 * exist, so the response time does not tell an attacker which usernames do.
 */
export async function dummyVerify(password: string): Promise<boolean> {
  const derived = await derive(password, DUMMY_SALT);
  timingSafeEqual(derived, DUMMY_HASH);
  return false;
}

// Passwords are NFC-normalized first, so the same password typed on systems that compose accents
// differently derives the same key.
function derive(password: string, salt: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, SCRYPT_KEY_BYTES, SCRYPT_OPTIONS, (err, key) => {
      if (err !== null) reject(err);
      else resolve(new Uint8Array(key.buffer, key.byteOffset, key.byteLength));
    });
  });
}
