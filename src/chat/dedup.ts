// Send deduplication: a (sender, request id) seen before answers with the first send's message instead
// of storing a second copy. Records expire by the commands' own timestamps — never by the applying
// replica's clock — so every replica keeps, answers from and prunes exactly the same records.
//
// A record is filed under the day (a bucket of DEDUP_RETENTION_MS) it was sent on, so a lookup knows
// the few keys a live record can have, and pruning drops a sender's old days with one range read
// about once per retention period — no expiry index to write beside every record.
import { StoredMessage } from '../gen/raftchat/command/v1/command.js';
import { dedupDayPrefix, dedupEpochKey, dedupKey, dedupPrefix, messageKey } from './keys.js';
import type { PendingWrites } from './pending-writes.js';
import { decodeDedup, decodeEpoch, encodeDedup, encodeEpoch } from './records.js';

/** How long a request id is remembered, in command time: far beyond any client's retry window. */
export const DEDUP_RETENTION_MS = 24 * 60 * 60 * 1000;
/** At most this many expired records are deleted by one command; a longer backlog goes on with the next. */
export const DEDUP_PRUNE_MAX_RECORDS = 1000;

/** The day a command sent at `unixMs` falls on: days are DEDUP_RETENTION_MS long. */
export function dedupDay(unixMs: number): number {
  return Math.floor(Math.max(0, unixMs) / DEDUP_RETENTION_MS);
}

/** A record sent at `sentAtUnixMs` has expired for a command sent at `nowUnixMs`. */
export function isExpired(sentAtUnixMs: number, nowUnixMs: number): boolean {
  return nowUnixMs - sentAtUnixMs >= DEDUP_RETENTION_MS;
}

/**
 * The keys a live record of (sender, request id) can have for a command sent at `nowUnixMs`: its
 * day, the day before (a record up to one retention old), and the day after — a record proposed by a
 * replica whose clock ran ahead of this command's proposer across a day boundary.
 */
export function dedupCandidates(sender: string, requestId: string, nowUnixMs: number): string[] {
  const day = dedupDay(nowUnixMs);
  const days = day > 0 ? [day, day - 1, day + 1] : [day, day + 1];
  return days.map((d) => dedupKey(sender, d, requestId));
}

/**
 * The first send of (sender, request id), as first stored (unread), unless it expired by `nowUnixMs`.
 * When its recipient has deleted it since, the body is gone: the answer keeps the id, recipient and
 * send time — enough for the client to know the first send was stored — with an empty body.
 */
export async function findFirstSend(
  writes: PendingWrites,
  sender: string,
  requestId: string,
  nowUnixMs: number,
): Promise<StoredMessage | undefined> {
  for (const key of dedupCandidates(sender, requestId, nowUnixMs)) {
    const bytes = await writes.get(key);
    if (bytes === undefined) continue;
    const record = decodeDedup(bytes);
    if (isExpired(record.sentAtUnixMs, nowUnixMs)) continue;
    const stored = await writes.get(messageKey(record.recipient, record.messageId));
    if (stored !== undefined) return { ...StoredMessage.decode(stored), read: false };
    return { id: record.messageId, sender, recipient: record.recipient, body: '', sentAtUnixMs: record.sentAtUnixMs, read: false };
  }
  return undefined;
}

/** Remembers `message` as the first send of (its sender, request id). */
export function recordFirstSend(writes: PendingWrites, requestId: string, message: StoredMessage): void {
  const key = dedupKey(message.sender, dedupDay(message.sentAtUnixMs), requestId);
  writes.put(key, encodeDedup({ messageId: message.id, recipient: message.recipient, sentAtUnixMs: message.sentAtUnixMs }));
}

/**
 * Deletes `sender`'s records filed before the day before `nowUnixMs`'s — every one of them has expired
 * — at most DEDUP_PRUNE_MAX_RECORDS per call. The sender's epoch (the oldest day that may still hold
 * a record) makes this a cached read on all but about one send per retention period.
 */
export async function pruneSender(writes: PendingWrites, sender: string, nowUnixMs: number): Promise<void> {
  const keep = Math.max(0, dedupDay(nowUnixMs) - 1);
  const epochKey = dedupEpochKey(sender);
  const epoch = await writes.get(epochKey);
  if (epoch !== undefined && decodeEpoch(epoch) >= keep) return;
  const doomed = epoch === undefined ? [] : await writes.firstKeys(dedupPrefix(sender), dedupDayPrefix(sender, keep), DEDUP_PRUNE_MAX_RECORDS);
  for (const key of doomed) writes.del(key);
  // A full page may have left more behind: keep the old epoch, so the sender's next send goes on.
  if (doomed.length < DEDUP_PRUNE_MAX_RECORDS) writes.put(epochKey, encodeEpoch(keep));
}

/** Deletes every record of `sender` (its account is being deleted), and its epoch. */
export async function forgetSender(writes: PendingWrites, sender: string): Promise<void> {
  for (const key of await writes.keysWithPrefix(dedupPrefix(sender))) writes.del(key);
  writes.del(dedupEpochKey(sender));
}
