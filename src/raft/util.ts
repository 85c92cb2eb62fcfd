// Small helpers shared by the core: entry sizes for byte caps, message construction, byte keys.
import { MessageType, NONE, type Entry, type Message } from './types.js';

export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/** Bytes an entry costs against a byte cap: its payload plus a fixed allowance for term/index/type. */
export const ENTRY_OVERHEAD_BYTES = 16;

export function entrySizeBytes(entry: Entry): number {
  return entry.data.byteLength + ENTRY_OVERHEAD_BYTES;
}

/** Payload bytes only: what counts against maxUncommittedBytes (an empty no-op costs nothing). */
export function payloadSizeBytes(entries: readonly Entry[]): number {
  let total = 0;
  for (const e of entries) total += e.data.byteLength;
  return total;
}

/**
 * The longest prefix of `entries` within `maxBytes`, but always at least one entry so a single
 * oversized entry still makes progress. Returns the same array when nothing is cut.
 */
export function limitSize(entries: Entry[], maxBytes: number): Entry[] {
  if (entries.length <= 1 || maxBytes === Infinity) return entries;
  let size = entrySizeBytes(entries[0] as Entry);
  let n = 1;
  for (; n < entries.length; n++) {
    size += entrySizeBytes(entries[n] as Entry);
    if (size > maxBytes) break;
  }
  return n === entries.length ? entries : entries.slice(0, n);
}

/** A Message with every field defaulted, so call sites name only what they mean. */
export function newMessage(fields: Partial<Message> & { type: MessageType; to: string }): Message {
  return {
    from: NONE,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    hintTerm: 0,
    context: EMPTY_BYTES,
    ...fields,
  };
}

/** A string key for opaque bytes (read contexts), usable in a Map. */
export function bytesKey(bytes: Uint8Array): string {
  let key = '';
  for (let i = 0; i < bytes.length; i++) key += String.fromCharCode(bytes[i] as number);
  return key;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function isVoteRequest(type: MessageType): boolean {
  return type === MessageType.Vote || type === MessageType.PreVote;
}

export function isVoteResponse(type: MessageType): boolean {
  return type === MessageType.VoteResp || type === MessageType.PreVoteResp;
}
