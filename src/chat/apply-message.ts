// Applying the message commands: Send, MarkRead and DeleteMessages. Each keeps the recipient's unread
// counter equal to the number of unread messages in the inbox, so Login answers without a scan.
import { StoredMessage } from '../gen/raftchat/command/v1/command.js';
import type { CommandResult, DeleteMessages, MarkRead, Send } from '../gen/raftchat/command/v1/command.js';
import type { ApplyContext } from './apply-context.js';
import { StateMachineError } from './errors.js';
import type { PendingWrites } from './pending-writes.js';
import { findFirstSend, pruneSender, recordFirstSend } from './dedup.js';
import { accountKey, counterKey, messageKey } from './keys.js';
import { decodeCounter, encodeCounter } from './records.js';
import { countResult, errorResult, sendResult } from './results.js';
import { isValidUsername } from './validation.js';
import { encodeWith } from './wire-writer.js';

/**
 * Stores the message under the recipient's inbox with id = this command's log index. A send whose
 * (sender, request id) was seen before — within DEDUP_RETENTION_MS of command time — writes nothing
 * and answers with the first send's message, so a client that retries after a lost reply never makes
 * a second copy (dedup.ts).
 */
export async function applySend(ctx: ApplyContext, command: Send): Promise<CommandResult> {
  const { sender, recipient, requestId } = command;
  for (const [role, username] of [['sender', sender], ['recipient', recipient]] as const) {
    if (!isValidUsername(username)) return errorResult('INVALID_ARGUMENT', `invalid ${role} ${JSON.stringify(username)}`);
  }
  if (requestId !== '') {
    const first = await findFirstSend(ctx.writes, sender, requestId, command.sentAtUnixMs);
    if (first !== undefined) return sendResult(first, true);
  }
  if (!(await ctx.writes.has(accountKey(sender)))) return errorResult('NOT_FOUND', `sender ${sender} does not exist`);
  if (!(await ctx.writes.has(accountKey(recipient)))) {
    return errorResult('NOT_FOUND', `recipient ${recipient} does not exist`);
  }

  const message: StoredMessage = {
    id: ctx.index,
    sender,
    recipient,
    body: command.body,
    sentAtUnixMs: command.sentAtUnixMs,
    read: false,
  };
  ctx.writes.put(messageKey(recipient, message.id), encodeWith((writer) => StoredMessage.encode(message, writer)));
  await adjustUnread(ctx.writes, recipient, 1);
  if (requestId !== '') {
    await pruneSender(ctx.writes, sender, command.sentAtUnixMs);
    recordFirstSend(ctx.writes, requestId, message);
  }
  ctx.events.messages.push(message);
  return sendResult(message, false);
}

/** Marks the caller's own messages read; ids that are not in the caller's inbox are not counted. */
export async function applyMarkRead(ctx: ApplyContext, command: MarkRead): Promise<CommandResult> {
  const { username } = command;
  const missing = await missingAccount(ctx, username);
  if (missing !== undefined) return missing;
  let updated = 0;
  for (const id of command.ids) {
    const key = ownMessageKey(username, id);
    const bytes = key === undefined ? undefined : await ctx.writes.get(key);
    if (key === undefined || bytes === undefined) continue;
    const message = StoredMessage.decode(bytes);
    if (message.read) continue;
    ctx.writes.put(key, encodeWith((writer) => StoredMessage.encode({ ...message, read: true }, writer)));
    updated++;
  }
  await adjustUnread(ctx.writes, username, -updated);
  return countResult(updated);
}

/** Deletes the caller's own messages; ids that are not in the caller's inbox are not counted. */
export async function applyDeleteMessages(ctx: ApplyContext, command: DeleteMessages): Promise<CommandResult> {
  const { username } = command;
  const missing = await missingAccount(ctx, username);
  if (missing !== undefined) return missing;
  let deleted = 0;
  let unreadDeleted = 0;
  for (const id of command.ids) {
    const key = ownMessageKey(username, id);
    const bytes = key === undefined ? undefined : await ctx.writes.get(key);
    if (key === undefined || bytes === undefined) continue;
    if (!StoredMessage.decode(bytes).read) unreadDeleted++;
    ctx.writes.del(key);
    deleted++;
  }
  await adjustUnread(ctx.writes, username, -unreadDeleted);
  return countResult(deleted);
}

async function missingAccount(ctx: ApplyContext, username: string): Promise<CommandResult | undefined> {
  if (!isValidUsername(username)) return errorResult('INVALID_ARGUMENT', `invalid username ${JSON.stringify(username)}`);
  if (!(await ctx.writes.has(accountKey(username)))) return errorResult('NOT_FOUND', `account ${username} does not exist`);
  return undefined;
}

/** The key `id` would have in `username`'s inbox; undefined for an id no message can have. */
function ownMessageKey(username: string, id: number): string | undefined {
  return Number.isSafeInteger(id) && id > 0 ? messageKey(username, id) : undefined;
}

/** Adds `delta` to the unread counter; a zero counter is stored as no key. */
async function adjustUnread(writes: PendingWrites, username: string, delta: number): Promise<void> {
  if (delta === 0) return;
  const key = counterKey(username);
  const bytes = await writes.get(key);
  const count = (bytes === undefined ? 0 : decodeCounter(bytes)) + delta;
  // The counter mirrors the inbox exactly; below zero means the keyspace is corrupt, and going on
  // would serve wrong counts on every replica alike.
  if (count < 0) throw new StateMachineError('CORRUPT_STATE', `unread counter of ${username} would become ${count}`);
  if (count === 0) writes.del(key);
  else writes.put(key, encodeCounter(count));
}
