// Input checks for the public API, shared by the API layer (before proposing) and the state machine
// (which must never write a key that breaks the layout). Each check names the offending field.

export type ValidationErrorCode =
  /** The value is malformed or out of range: gRPC INVALID_ARGUMENT. */
  | 'INVALID_ARGUMENT'
  /** The value is well-formed but larger than this server accepts: gRPC RESOURCE_EXHAUSTED. */
  | 'TOO_LARGE';

export class ValidationError extends Error {
  readonly code: ValidationErrorCode;
  /** The request field at fault, as the .proto names it (`username`, `ids`, `page_token`). */
  readonly field: string;
  constructor(code: ValidationErrorCode, field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'ValidationError';
    this.code = code;
    this.field = field;
  }
}

export const USERNAME_MAX_CHARS = 32;
export const USERNAME_PATTERN = new RegExp(`^[a-z0-9_.-]{1,${USERNAME_MAX_CHARS}}$`);
export const PASSWORD_MIN_BYTES = 8;
export const PASSWORD_MAX_BYTES = 256;
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
export const REQUEST_ID_MAX_CHARS = 64;
export const PATTERN_MAX_CHARS = 64;
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;
export const MAX_IDS = 1000;

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const GLOB_CHARACTERS = /^[a-z0-9_.*?-]*$/;
// In a /u regex a well-formed surrogate pair is one code point, so \p{Cs} matches only lone halves,
// which have no UTF-8 encoding.
const LONE_SURROGATE = /\p{Cs}/u;

export function isValidUsername(value: string): boolean {
  return USERNAME_PATTERN.test(value);
}

export function validateUsername(value: string, field = 'username'): string {
  if (!isValidUsername(value)) {
    throw new ValidationError('INVALID_ARGUMENT', field, 'must be 1 to 32 characters of a-z, 0-9, _ . -');
  }
  return value;
}

export function validatePassword(value: string, field = 'password'): string {
  if (LONE_SURROGATE.test(value)) throw new ValidationError('INVALID_ARGUMENT', field, 'is not valid UTF-8');
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes < PASSWORD_MIN_BYTES || bytes > PASSWORD_MAX_BYTES) {
    throw new ValidationError(
      'INVALID_ARGUMENT',
      field,
      `must be ${PASSWORD_MIN_BYTES} to ${PASSWORD_MAX_BYTES} bytes of UTF-8 (got ${bytes})`,
    );
  }
  return value;
}

export function validateBody(value: string, maxBodyBytes = DEFAULT_MAX_BODY_BYTES, field = 'body'): string {
  if (value.length === 0) throw new ValidationError('INVALID_ARGUMENT', field, 'must not be empty');
  if (LONE_SURROGATE.test(value)) throw new ValidationError('INVALID_ARGUMENT', field, 'is not valid UTF-8');
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > maxBodyBytes) {
    throw new ValidationError('TOO_LARGE', field, `is ${bytes} bytes, more than the ${maxBodyBytes} allowed`);
  }
  return value;
}

/** An empty request id is allowed: it means "no deduplication". */
export function validateRequestId(value: string, field = 'request_id'): string {
  if (value.length > REQUEST_ID_MAX_CHARS || !PRINTABLE_ASCII.test(value)) {
    throw new ValidationError(
      'INVALID_ARGUMENT',
      field,
      `must be at most ${REQUEST_ID_MAX_CHARS} printable ASCII characters`,
    );
  }
  return value;
}

/** A glob over usernames: `*` any run, `?` one character. Empty means `*`. */
export function validatePattern(value: string, field = 'pattern'): string {
  if (value.length > PATTERN_MAX_CHARS || !GLOB_CHARACTERS.test(value)) {
    throw new ValidationError(
      'INVALID_ARGUMENT',
      field,
      `must be at most ${PATTERN_MAX_CHARS} characters of a-z, 0-9, _ . - * ?`,
    );
  }
  return value === '' ? '*' : value;
}

/** A page size or limit: 0 means the default (100); more than 1000 is refused. */
export function validatePageSize(value: number, field = 'page_size'): number {
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_PAGE_SIZE) {
    throw new ValidationError('INVALID_ARGUMENT', field, `must be 0 (default ${DEFAULT_PAGE_SIZE}) to ${MAX_PAGE_SIZE}`);
  }
  return value === 0 ? DEFAULT_PAGE_SIZE : value;
}

export function validateIds(ids: readonly number[], field = 'ids'): number[] {
  if (ids.length === 0) throw new ValidationError('INVALID_ARGUMENT', field, 'must name at least one message id');
  if (ids.length > MAX_IDS) {
    throw new ValidationError('INVALID_ARGUMENT', field, `must name at most ${MAX_IDS} ids (got ${ids.length})`);
  }
  for (const id of ids) {
    if (!Number.isSafeInteger(id) || id <= 0) {
      throw new ValidationError('INVALID_ARGUMENT', field, `message ids are positive integers (got ${id})`);
    }
  }
  return [...ids];
}
