// Read queries over the chat keyspace, for the API. They read whatever the keyspace holds: the caller
// decides how fresh that must be (a ReadIndex barrier first for linearizable reads).
import { StoredMessage } from '../gen/raftchat/command/v1/command.js';
import type { Keyspace } from '../storage/keyspace.js';
import { scan } from '../storage/scan.js';
import { globMatcher, literalPrefix } from './glob.js';
import { ACCOUNT_PREFIX, accountKey, counterKey, inboxPrefix, messageKey, prefixEnd, revocationKey } from './keys.js';
import { decodePageToken, encodePageToken } from './page-token.js';
import { decodeAccount, decodeCounter } from './records.js';
import { ValidationError, isValidUsername, validatePageSize, validatePattern } from './validation.js';
import { canReadSync } from './sync-read.js';

export interface Account {
  username: string;
  passwordHash: Uint8Array;
  salt: Uint8Array;
  createdAtUnixMs: number;
  /** Sessions issued at or before this instant are refused (Logout with all_sessions); 0: none. */
  sessionsValidAfterUnixMs: number;
}

/**
 * One point read: getSync when it can answer now (a read from LevelDB's memtable or block cache costs
 * a few µs, where an async get is a thread-pool round trip of ~30 µs — the largest CPU cost of a
 * session check), else the async read (a keyspace still opening).
 */
async function read(keyspace: Keyspace, key: string): Promise<Uint8Array | undefined> {
  return canReadSync(keyspace) ? keyspace.getSync(key) : keyspace.get(key);
}

export async function getAccount(keyspace: Keyspace, username: string): Promise<Account | undefined> {
  if (!isValidUsername(username)) return undefined;
  const bytes = await read(keyspace, accountKey(username));
  return bytes === undefined ? undefined : { username, ...decodeAccount(bytes) };
}

/** True when this one session was revoked (Logout). Revoke-all is in Account.sessionsValidAfterUnixMs. */
export async function isSessionRevoked(keyspace: Keyspace, username: string, sessionId: string): Promise<boolean> {
  if (!isValidUsername(username)) return false;
  return (await read(keyspace, revocationKey(username, sessionId))) !== undefined;
}

export type SessionStatus = 'valid' | 'no-account' | 'revoked';

/**
 * Whether a session token (already checked for signature and expiry) still stands: its account
 * exists, it was issued after the account was created and after its last revoke-all, and it was not
 * revoked by itself (the rule src/api's auth applies).
 */
export async function sessionStatus(
  keyspace: Keyspace,
  username: string,
  sessionId: string,
  issuedAtUnixMs: number,
): Promise<SessionStatus> {
  const account = await getAccount(keyspace, username);
  if (account === undefined) return 'no-account';
  // A token issued before the account was created belongs to a deleted account of the same name.
  if (issuedAtUnixMs < account.createdAtUnixMs || issuedAtUnixMs <= account.sessionsValidAfterUnixMs) return 'revoked';
  return (await isSessionRevoked(keyspace, username, sessionId)) ? 'revoked' : 'valid';
}

/** How many accounts exist: a key scan of the account prefix (for metrics, not for hot paths). */
export async function countAccounts(keyspace: Keyspace): Promise<number> {
  let n = 0;
  await scan(keyspace.keys({ gte: ACCOUNT_PREFIX, lt: prefixEnd(ACCOUNT_PREFIX) }), 1000, () => {
    n++;
    return true;
  });
  return n;
}

export async function unreadCount(keyspace: Keyspace, username: string): Promise<number> {
  if (!isValidUsername(username)) return 0;
  const bytes = await keyspace.get(counterKey(username));
  return bytes === undefined ? 0 : decodeCounter(bytes);
}

export interface ListAccountsOptions {
  /** A glob (`*`, `?`); empty or absent means `*`. */
  pattern?: string;
  /** 0 or absent: 100; at most 1000. */
  pageSize?: number;
  /** From the previous page's nextPageToken; empty or absent for the first page. */
  pageToken?: string;
  /**
   * At most this many account keys are examined per page, so a pattern that matches rarely cannot
   * make one call scan every account: the page then comes back short, with a token to go on.
   */
  maxKeysScanned?: number;
}

export const DEFAULT_MAX_KEYS_SCANNED = 10_000;

/**
 * Usernames matching the pattern, in byte order, a page at a time. The scan starts at the pattern's
 * literal prefix (the characters before its first wildcard) and stops at the end of that prefix.
 * Throws ValidationError (field `pattern`, `page_size` or `page_token`).
 */
export async function listAccounts(
  keyspace: Keyspace,
  options: ListAccountsOptions = {},
): Promise<{ usernames: string[]; nextPageToken: string }> {
  const pattern = validatePattern(options.pattern ?? '');
  const pageSize = validatePageSize(options.pageSize ?? 0);
  const after = decodePageToken(options.pageToken ?? '');
  const maxKeysScanned = Math.max(1, options.maxKeysScanned ?? DEFAULT_MAX_KEYS_SCANNED);
  const matches = globMatcher(pattern);

  const prefix = accountKey(literalPrefix(pattern));
  const resumeKey = after === undefined ? undefined : accountKey(after);
  const lower = resumeKey !== undefined && resumeKey >= prefix ? { gt: resumeKey } : { gte: prefix };

  const usernames: string[] = [];
  let examined = 0;
  let nextPageToken = '';
  await scan(keyspace.keys({ ...lower, lt: prefixEnd(prefix) }), Math.min(maxKeysScanned, pageSize + 1), (key) => {
    const username = key.slice(ACCOUNT_PREFIX.length);
    if (matches(username)) {
      // A match beyond a full page: there is a next page, and it starts after the last one returned.
      if (usernames.length === pageSize) {
        nextPageToken = encodePageToken(usernames.at(-1)!);
        return false;
      }
      usernames.push(username);
    }
    if (++examined >= maxKeysScanned) {
      nextPageToken = encodePageToken(username);
      return false;
    }
    return true;
  });
  return { usernames, nextPageToken };
}

export interface ListMessagesOptions {
  unreadOnly?: boolean;
  /** Only messages with a greater id; 0 or absent: from the oldest. */
  afterId?: number;
  /** 0 or absent: 100; at most 1000. */
  limit?: number;
}

/**
 * The user's inbox, oldest first. `more` is true when further messages match beyond `limit`: ask
 * again with afterId = the last id returned. Throws ValidationError (field `after_id` or `limit`).
 */
export async function listMessages(
  keyspace: Keyspace,
  username: string,
  options: ListMessagesOptions = {},
): Promise<{ messages: StoredMessage[]; more: boolean }> {
  const limit = validatePageSize(options.limit ?? 0, 'limit');
  const afterId = options.afterId ?? 0;
  if (!Number.isSafeInteger(afterId) || afterId < 0) {
    throw new ValidationError('INVALID_ARGUMENT', 'after_id', `must be a non-negative integer (got ${afterId})`);
  }
  if (!isValidUsername(username)) return { messages: [], more: false };

  const messages: StoredMessage[] = [];
  let more = false;
  const range = { gt: messageKey(username, afterId), lt: prefixEnd(inboxPrefix(username)) };
  // One read of limit + 1 answers a page and whether more follow, unless read messages are skipped.
  await scan(keyspace.values(range), options.unreadOnly === true ? Math.max(limit + 1, 64) : limit + 1, (bytes) => {
    const message = StoredMessage.decode(bytes);
    if (options.unreadOnly === true && message.read) return true;
    if (messages.length === limit) {
      more = true;
      return false;
    }
    messages.push(message);
    return true;
  });
  return { messages, more };
}
