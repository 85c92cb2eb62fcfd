// Applying the account commands: Register, DeleteAccount and RevokeSessions. Deterministic: every
// input, including time, comes from the command; the same command over the same state writes the same.
import type { CommandResult, DeleteAccount, Register, RevokeSessions } from '../gen/raftchat/command/v1/command.js';
import type { ApplyContext } from './apply-context.js';
import { forgetSender } from './dedup.js';
import { accountKey, counterKey, inboxPrefix, revocationKey, revocationPrefix } from './keys.js';
import { decodeAccount, decodeRevocation, encodeAccount, encodeRevocation } from './records.js';
import { emptyResult, errorResult, registerResult } from './results.js';
import { isValidUsername } from './validation.js';

export async function applyRegister(ctx: ApplyContext, command: Register): Promise<CommandResult> {
  const { username } = command;
  // The only command that creates a username: a '/' here would break the key layout, so the state
  // machine checks even though the API already has.
  if (!isValidUsername(username)) return errorResult('INVALID_ARGUMENT', `invalid username ${JSON.stringify(username)}`);
  if (command.passwordHash.length === 0 || command.salt.length === 0) {
    return errorResult('INVALID_ARGUMENT', `register ${username}: password hash and salt must not be empty`);
  }
  const key = accountKey(username);
  if (await ctx.writes.has(key)) return errorResult('ALREADY_EXISTS', `username ${username} is taken`);
  ctx.writes.put(
    key,
    encodeAccount({
      passwordHash: command.passwordHash,
      salt: command.salt,
      createdAtUnixMs: command.createdAtUnixMs,
      sessionsValidAfterUnixMs: 0,
    }),
  );
  return registerResult(username);
}

/** Deletes the account and everything keyed under it: inbox, unread counter, dedup records and epoch, revocations. */
export async function applyDeleteAccount(ctx: ApplyContext, command: DeleteAccount): Promise<CommandResult> {
  const { username } = command;
  if (!isValidUsername(username)) return errorResult('INVALID_ARGUMENT', `invalid username ${JSON.stringify(username)}`);
  const key = accountKey(username);
  if (!(await ctx.writes.has(key))) return errorResult('NOT_FOUND', `account ${username} does not exist`);
  ctx.writes.del(key);
  ctx.writes.del(counterKey(username));
  for (const prefix of [inboxPrefix(username), revocationPrefix(username)]) {
    for (const doomed of await ctx.writes.keysWithPrefix(prefix)) ctx.writes.del(doomed);
  }
  await forgetSender(ctx.writes, username);
  ctx.events.deletedAccounts.push(username);
  return emptyResult();
}

/**
 * With a session id: records that session as revoked until its own expiry. Without: every session
 * issued before `at_unix_ms` is refused from now on. Either way, revocations of this user that have
 * expired by `at_unix_ms` are pruned — an expired token is refused anyway — so they cannot pile up.
 */
export async function applyRevokeSessions(ctx: ApplyContext, command: RevokeSessions): Promise<CommandResult> {
  const { username, sessionId, expiresAtUnixMs, atUnixMs } = command;
  if (!isValidUsername(username)) return errorResult('INVALID_ARGUMENT', `invalid username ${JSON.stringify(username)}`);
  const key = accountKey(username);
  const bytes = await ctx.writes.get(key);
  if (bytes === undefined) return errorResult('NOT_FOUND', `account ${username} does not exist`);

  for (const [revoked, value] of await ctx.writes.entriesWithPrefix(revocationPrefix(username))) {
    if (decodeRevocation(value) <= atUnixMs) ctx.writes.del(revoked);
  }
  if (sessionId === '') {
    const account = decodeAccount(bytes);
    // Never move the bound back: a revoke-all proposed earlier but applied later must not re-admit
    // sessions that a later one refused.
    if (atUnixMs > account.sessionsValidAfterUnixMs) {
      ctx.writes.put(key, encodeAccount({ ...account, sessionsValidAfterUnixMs: atUnixMs }));
    }
  } else if (expiresAtUnixMs > atUnixMs) {
    ctx.writes.put(revocationKey(username, sessionId), encodeRevocation(expiresAtUnixMs));
  }
  ctx.events.revokedUsers.push(username);
  return emptyResult();
}
