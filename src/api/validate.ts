// Request checks that belong to the API rather than to the chat model (which src/chat/validation.ts
// owns and the state machine re-checks). Each failure names the proto field at fault.
import { invalidArgument } from './errors.js';

/** `after_id`: any uint64 the server can represent exactly (ids beyond 2^53 cannot exist yet). */
export function afterId(field: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw invalidArgument(field, 'must be a non-negative integer below 2^53');
  return value;
}

/**
 * A password given to be checked (Login, DeleteAccount): present and bounded, but not held to today's
 * registration policy, so an account made under an older policy can still log in.
 */
export function passwordToCheck(field: string, value: string): string {
  if (value === '') throw invalidArgument(field, 'must not be empty');
  if (Buffer.byteLength(value, 'utf8') > maxCheckedPasswordBytes) {
    throw invalidArgument(field, `must be at most ${maxCheckedPasswordBytes} bytes`);
  }
  return value;
}

/** Bounds the scrypt work an unauthenticated caller can ask for. */
const maxCheckedPasswordBytes = 1024;
