// Request checks that belong to the API rather than to the chat model (which src/chat/validation.ts
// owns and the state machine re-checks), and the counting of requests refused for their size. Each
// failure names the proto field at fault.
import {
  MAX_IDS,
  MAX_PAGE_SIZE,
  PASSWORD_MAX_BYTES,
  PATTERN_MAX_CHARS,
  REQUEST_ID_MAX_CHARS,
  USERNAME_MAX_CHARS,
  validateBody,
  validateIds,
  validatePageSize,
  validatePassword,
  validatePattern,
  validateRequestId,
  validateUsername,
} from '../chat/validation.js';
import { invalidArgument } from './errors.js';
import type { LimitListener, LimitName } from './limits.js';

/** `after_id`: any uint64 the server can represent exactly (ids beyond 2^53 cannot exist yet). */
export function afterId(field: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw invalidArgument(field, 'must be a non-negative integer below 2^53');
  return value;
}

/**
 * A password given to be checked (Login, DeleteAccount): present and bounded, but not held to today's
 * registration policy, so an account made under an older policy can still log in.
 */
export function passwordToCheck(field: string, value: string, onLimit?: LimitListener): string {
  if (value === '') throw invalidArgument(field, 'must not be empty');
  if (Buffer.byteLength(value, 'utf8') > maxCheckedPasswordBytes) {
    onLimit?.('password_length');
    throw invalidArgument(field, `must be at most ${maxCheckedPasswordBytes} bytes`);
  }
  return value;
}

/** Bounds the scrypt work an unauthenticated caller can ask for. */
const maxCheckedPasswordBytes = 1024;

/** The longest username src/chat admits. */
export const usernameMaxChars = USERNAME_MAX_CHARS;

// src/chat's checks, unchanged (same codes, same messages), plus a count of each refusal of a value
// over a size bound: a value refused for another reason (bad characters, empty) is not counted.

export function username(value: string, field: string, onLimit: LimitListener): string {
  return sized(() => validateUsername(value, field), 'username_length', value.length > usernameMaxChars, onLimit);
}

export function newPassword(value: string, field: string, onLimit: LimitListener): string {
  return sized(() => validatePassword(value, field), 'password_length', Buffer.byteLength(value, 'utf8') > PASSWORD_MAX_BYTES, onLimit);
}

export function body(value: string, maxBodyBytes: number, field: string, onLimit: LimitListener): string {
  return sized(() => validateBody(value, maxBodyBytes, field), 'body_bytes', Buffer.byteLength(value, 'utf8') > maxBodyBytes, onLimit);
}

export function requestId(value: string, field: string, onLimit: LimitListener): string {
  return sized(() => validateRequestId(value, field), 'request_id_length', value.length > REQUEST_ID_MAX_CHARS, onLimit);
}

export function pattern(value: string, field: string, onLimit: LimitListener): string {
  return sized(() => validatePattern(value, field), 'pattern_length', value.length > PATTERN_MAX_CHARS, onLimit);
}

/** A page size (ListAccounts.page_size, ListMessages.limit): both count as `page_size`. */
export function pageSize(value: number, field: string, onLimit: LimitListener): number {
  return sized(() => validatePageSize(value, field), 'page_size', value > MAX_PAGE_SIZE, onLimit);
}

export function ids(value: readonly number[], field: string, onLimit: LimitListener): number[] {
  return sized(() => validateIds(value, field), 'ids_count', value.length > MAX_IDS, onLimit);
}

/** Runs `check`; when it refuses a value that is over its size bound, counts `limit` first. */
function sized<T>(check: () => T, limit: LimitName, oversize: boolean, onLimit: LimitListener): T {
  try {
    return check();
  } catch (err) {
    if (oversize) onLimit(limit);
    throw err;
  }
}
