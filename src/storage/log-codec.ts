// How a Raft log entry sits on disk: keyed by its index as 8 big-endian bytes (so LevelDB's byte order
// is log order), valued as a CRC-32 of the protobuf-encoded entry followed by those bytes.
import { crc32 } from 'node:zlib';
import { Entry as EntryProto } from '../gen/raftchat/peer/v1/peer.js';
import { EntryType, type Entry } from '../raft/types.js';
import { StorageError } from './errors.js';

const KEY_BYTES = 8;
const CHECKSUM_BYTES = 4;
const TWO_POW_32 = 2 ** 32;

/** The log key of `index`: 8 bytes, big-endian. Indexes stay below 2^53 (JavaScript numbers). */
export function logKey(index: number): Uint8Array {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`log index ${index} is not a safe non-negative integer`);
  const key = new Uint8Array(KEY_BYTES);
  const view = new DataView(key.buffer);
  view.setUint32(0, Math.floor(index / TWO_POW_32));
  view.setUint32(4, index % TWO_POW_32);
  return key;
}

/** The index a log key names, or undefined when the key is not 8 bytes. */
export function logKeyIndex(key: Uint8Array): number | undefined {
  if (key.length !== KEY_BYTES) return undefined;
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  return view.getUint32(0) * TWO_POW_32 + view.getUint32(4);
}

/** The stored form of `entry`: crc32(body) as 4 big-endian bytes, then body = Entry protobuf. */
export function encodeLogEntry(entry: Entry): Uint8Array {
  const body = EntryProto.encode({ term: entry.term, index: entry.index, type: entry.type, data: entry.data }).finish();
  const value = new Uint8Array(CHECKSUM_BYTES + body.length);
  new DataView(value.buffer).setUint32(0, crc32(body));
  value.set(body, CHECKSUM_BYTES);
  return value;
}

/**
 * Decodes the entry stored under `expectedIndex`, checking its checksum and that it names the index it
 * is stored under. Throws a 'CORRUPT' StorageError naming `location` and the index otherwise.
 */
export function decodeLogEntry(location: string, expectedIndex: number, value: Uint8Array): Entry {
  const corrupt = (why: string): StorageError =>
    new StorageError('CORRUPT', `database ${location}: log entry ${expectedIndex} is corrupt: ${why}`);
  if (value.length < CHECKSUM_BYTES) throw corrupt(`${value.length} bytes is shorter than its checksum`);
  const stored = new DataView(value.buffer, value.byteOffset, value.byteLength).getUint32(0);
  const body = value.subarray(CHECKSUM_BYTES);
  const actual = crc32(body);
  if (stored !== actual) throw corrupt(`checksum ${hex32(actual)} differs from the stored ${hex32(stored)}`);
  let decoded: EntryProto;
  try {
    decoded = EntryProto.decode(body);
  } catch (err) {
    throw corrupt(`undecodable (${err instanceof Error ? err.message : String(err)})`);
  }
  if (decoded.index !== expectedIndex) throw corrupt(`it says it is entry ${decoded.index}`);
  if (!isEntryType(decoded.type)) throw corrupt(`unknown entry type ${decoded.type}`);
  // A plain Uint8Array copy: the decoder hands out a Buffer view into the engine's value.
  return { term: decoded.term, index: decoded.index, type: decoded.type, data: new Uint8Array(decoded.data) };
}

function isEntryType(type: number): type is EntryType {
  return type === EntryType.Normal || type === EntryType.ConfChange;
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}
