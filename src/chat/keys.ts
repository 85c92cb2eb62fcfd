// The chat keyspace's layout, in one place. Every key is `<kind>/<username>[/<rest>]`; usernames are
// [a-z0-9_.-]{1,32}, so '/' never occurs inside one and `<kind>/<username>/` bounds exactly one user.
//
//   a/<username>                  account record            (records.ts: AccountRecord)
//   m/<username>/<16-hex id>      a message in that inbox   (StoredMessage; id = the log index)
//   n/<username>                  unread counter            (records.ts: counter; absent = 0)
//   d/<sender>/<8-hex day>/<request id>  first result of a send (records.ts: dedup record; day: dedup.ts)
//   e/<sender>                    the oldest day that may hold the sender's dedup records (records.ts)
//   r/<username>/<session id>     a revoked session         (records.ts: revocation, with expiry)
//
// Keys are compared as bytes by LevelDB; ids are fixed-width lowercase hex so that byte order is
// numeric order, which makes an inbox scan oldest-first and `after_id` a plain range bound.

const ID_HEX_DIGITS = 16;
const DAY_HEX_DIGITS = 8;

export const ACCOUNT_PREFIX = 'a/';
export const MESSAGE_PREFIX = 'm/';
export const COUNTER_PREFIX = 'n/';
export const DEDUP_PREFIX = 'd/';
export const REVOCATION_PREFIX = 'r/';
export const DEDUP_EPOCH_PREFIX = 'e/';

export function accountKey(username: string): string {
  return ACCOUNT_PREFIX + username;
}

export function counterKey(username: string): string {
  return COUNTER_PREFIX + username;
}

export function messageKey(username: string, id: number): string {
  return `${inboxPrefix(username)}${formatId(id)}`;
}

/** Every message key of `username` starts with this and no other user's does. */
export function inboxPrefix(username: string): string {
  return `${MESSAGE_PREFIX}${username}/`;
}

/** The dedup record of (sender, request id) if it was sent on `day` (a bucket of DEDUP_RETENTION_MS). */
export function dedupKey(sender: string, day: number, requestId: string): string {
  return `${dedupDayPrefix(sender, day)}${requestId}`;
}

/** Every dedup record `sender` sent on `day`; in key order, days sort oldest first. */
export function dedupDayPrefix(sender: string, day: number): string {
  return `${dedupPrefix(sender)}${day.toString(16).padStart(DAY_HEX_DIGITS, '0')}/`;
}

export function dedupEpochKey(sender: string): string {
  return DEDUP_EPOCH_PREFIX + sender;
}

export function dedupPrefix(sender: string): string {
  return `${DEDUP_PREFIX}${sender}/`;
}

export function revocationKey(username: string, sessionId: string): string {
  return `${revocationPrefix(username)}${sessionId}`;
}

export function revocationPrefix(username: string): string {
  return `${REVOCATION_PREFIX}${username}/`;
}

/** A message id as a key part: 16 lowercase hex digits, so byte order is numeric order. */
export function formatId(id: number): string {
  if (!Number.isSafeInteger(id) || id < 0) throw new RangeError(`message id ${id} is not a non-negative safe integer`);
  return id.toString(16).padStart(ID_HEX_DIGITS, '0');
}

/**
 * The least string greater than every string that starts with `prefix` and is made of the characters
 * our keys use (all below U+FFFF): the exclusive upper bound of a prefix scan.
 */
export function prefixEnd(prefix: string): string {
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}

/** What a key counts as in a digest's totals. */
export function countKind(key: string): 'accounts' | 'messages' | undefined {
  if (key.startsWith(ACCOUNT_PREFIX)) return 'accounts';
  if (key.startsWith(MESSAGE_PREFIX)) return 'messages';
  return undefined;
}
