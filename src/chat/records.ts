// The keyspace's internal records that no .proto message describes: the account, the unread counter,
// a session revocation, a send's dedup record and a sender's dedup epoch. Hand-written in protobuf wire format (field numbers below) so a .proto
// message can later describe them byte for byte; unknown fields are skipped, so fields can be added.
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { encodeWith } from './wire-writer.js';

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
  return encodeWith((writer) =>
    writer
      .tag(1, WireType.LengthDelimited)
      .bytes(account.passwordHash)
      .tag(2, WireType.LengthDelimited)
      .bytes(account.salt)
      .tag(3, WireType.Varint)
      .int64(account.createdAtUnixMs)
      .tag(4, WireType.Varint)
      .int64(account.sessionsValidAfterUnixMs),
  );
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
  return encodeWith((writer) => writer.tag(1, WireType.Varint).uint64(count));
}

export function decodeCounter(bytes: Uint8Array): number {
  return decodeSingleVarint(bytes, (reader) => toSafeNumber(reader.uint64()));
}

/** r/<username>/<session id>:  1 int64 expires_at_unix_ms (the revoked token's own expiry). */
export function encodeRevocation(expiresAtUnixMs: number): Uint8Array {
  return encodeWith((writer) => writer.tag(1, WireType.Varint).int64(expiresAtUnixMs));
}

export function decodeRevocation(bytes: Uint8Array): number {
  return decodeSingleVarint(bytes, (reader) => toSafeNumber(reader.int64()));
}

/**
 * d/<sender>/<day>/<request id>:  1 uint64 message_id   3 string recipient   5 int64 sent_at_unix_ms
 *
 * What a retried send needs, and no more: the message itself stays in the recipient's inbox. The
 * field numbers are StoredMessage's, so a .proto could describe both with one message.
 */
export interface DedupRecord {
  messageId: number;
  recipient: string;
  sentAtUnixMs: number;
}

export function encodeDedup(record: DedupRecord): Uint8Array {
  return encodeWith((writer) =>
    writer
      .tag(1, WireType.Varint)
      .uint64(record.messageId)
      .tag(3, WireType.LengthDelimited)
      .string(record.recipient)
      .tag(5, WireType.Varint)
      .int64(record.sentAtUnixMs),
  );
}

export function decodeDedup(bytes: Uint8Array): DedupRecord {
  const record: DedupRecord = { messageId: 0, recipient: '', sentAtUnixMs: 0 };
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.Varint) record.messageId = toSafeNumber(reader.uint64());
    else if (field === 3 && wireType === WireType.LengthDelimited) record.recipient = reader.string();
    else if (field === 5 && wireType === WireType.Varint) record.sentAtUnixMs = toSafeNumber(reader.int64());
    else reader.skip(wireType, field);
  }
  return record;
}

/** e/<sender>:  1 int64 day (the oldest that may still hold the sender's dedup records). */
export function encodeEpoch(day: number): Uint8Array {
  return encodeWith((writer) => writer.tag(1, WireType.Varint).int64(day));
}

export function decodeEpoch(bytes: Uint8Array): number {
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
