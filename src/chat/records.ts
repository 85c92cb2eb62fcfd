// The keyspace's internal records that no .proto message describes: the account, the unread counter
// and a session revocation. Hand-written in protobuf wire format (field numbers below) so a .proto
// message can later describe them byte for byte; unknown fields are skipped, so fields can be added.
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

/**
 * a/<username>:
 *   1 bytes password_hash   2 bytes salt   3 int64 created_at_unix_ms
 *   4 int64 sessions_valid_after_unix_ms  (tokens issued at or before it are refused; 0: none)
 */
export interface AccountRecord {
  passwordHash: Uint8Array;
  salt: Uint8Array;
  createdAtUnixMs: number;
  sessionsValidAfterUnixMs: number;
}

export function encodeAccount(account: AccountRecord): Uint8Array {
  const writer = new BinaryWriter();
  writer.tag(1, WireType.LengthDelimited).bytes(account.passwordHash);
  writer.tag(2, WireType.LengthDelimited).bytes(account.salt);
  writer.tag(3, WireType.Varint).int64(account.createdAtUnixMs);
  writer.tag(4, WireType.Varint).int64(account.sessionsValidAfterUnixMs);
  return writer.finish();
}

/** Copies the byte fields out, so they are plain Uint8Arrays that do not pin the engine's buffer. */
export function decodeAccount(bytes: Uint8Array): AccountRecord {
  const account: AccountRecord = {
    passwordHash: new Uint8Array(0),
    salt: new Uint8Array(0),
    createdAtUnixMs: 0,
    sessionsValidAfterUnixMs: 0,
  };
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) account.passwordHash = Uint8Array.from(reader.bytes());
    else if (field === 2 && wireType === WireType.LengthDelimited) account.salt = Uint8Array.from(reader.bytes());
    else if (field === 3 && wireType === WireType.Varint) account.createdAtUnixMs = toSafeNumber(reader.int64());
    else if (field === 4 && wireType === WireType.Varint) account.sessionsValidAfterUnixMs = toSafeNumber(reader.int64());
    else reader.skip(wireType, field);
  }
  return account;
}

/** n/<username>:  1 uint64 count. Zero is never stored: the key is deleted instead. */
export function encodeCounter(count: number): Uint8Array {
  return new BinaryWriter().tag(1, WireType.Varint).uint64(count).finish();
}

export function decodeCounter(bytes: Uint8Array): number {
  return decodeSingleVarint(bytes, (reader) => toSafeNumber(reader.uint64()));
}

/** r/<username>/<session id>:  1 int64 expires_at_unix_ms (the revoked token's own expiry). */
export function encodeRevocation(expiresAtUnixMs: number): Uint8Array {
  return new BinaryWriter().tag(1, WireType.Varint).int64(expiresAtUnixMs).finish();
}

export function decodeRevocation(bytes: Uint8Array): number {
  return decodeSingleVarint(bytes, (reader) => toSafeNumber(reader.int64()));
}

function decodeSingleVarint(bytes: Uint8Array, read: (reader: BinaryReader) => number): number {
  let value = 0;
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.Varint) value = read(reader);
    else reader.skip(wireType, field);
  }
  return value;
}

function toSafeNumber(value: bigint | string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number)) throw new RangeError(`record value ${value} is not a safe integer`);
  return number;
}
