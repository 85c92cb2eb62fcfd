// Hostile values for well-formed requests: strings that are empty, huge, control characters, lone
// surrogates, lookalikes and near every size limit; integers at every edge of their wire type.
import fc from 'fast-check';
import { DEFAULT_MAX_BODY_BYTES, MAX_IDS, PASSWORD_MAX_BYTES, REQUEST_ID_MAX_CHARS } from '../../src/chat/validation.js';

const printableAscii = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));
const controlCharacter = fc.integer({ min: 0x00, max: 0x1f }).map((c) => String.fromCharCode(c));

/** Printable ASCII: the only characters a gRPC metadata value may hold. */
export const printableString = (maxLength: number): fc.Arbitrary<string> => fc.string({ unit: printableAscii, maxLength });

/** Strings no validator should trust: each one a way a real server has been broken before. */
const oddities = fc.constantFrom(
  '',
  ' ',
  '\0',
  'a\0b',
  '\uD800', // a lone high surrogate: no UTF-8 form exists
  '\uDFFF',
  'ok\uDC00ok',
  '\uFEFF', // byte-order mark
  '\u202Eevil', // right-to-left override
  'zero\u200Bwidth',
  'e\u0301', // a combining accent: the same text as "é" to a reader
  'é',
  '😀',
  '*',
  '?',
  '[a-z]',
  '\\',
  '../../etc/passwd',
  '%s%n%x',
  '${jndi:ldap://127.0.0.1/x}',
  'A'.repeat(33),
  'n0',
  'null',
);

/** A string of `units` copies of `unit`, sized so its UTF-8 length lands just under, on or over `limitBytes`. */
function nearLimit(limitBytes: number): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom('x', 'é', '€', '😀'), fc.integer({ min: -2, max: 2 }))
    .map(([unit, delta]) => unit.repeat(Math.max(0, Math.floor(limitBytes / Buffer.byteLength(unit)) + delta)));
}

/** Built once: constructing these arbitraries (regular expressions, huge strings) costs far more than drawing from them. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
    { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: controlCharacter, minLength: 1, maxLength: 8 }) },
    { weight: 3, arbitrary: oddities },
    // Valid-looking usernames around the 32-character limit.
    { weight: 2, arbitrary: fc.stringMatching(/^[a-z0-9_.-]{30,34}$/) },
    { weight: 1, arbitrary: nearLimit(REQUEST_ID_MAX_CHARS) },
    { weight: 1, arbitrary: nearLimit(PASSWORD_MAX_BYTES) },
    { weight: 1, arbitrary: nearLimit(DEFAULT_MAX_BODY_BYTES) },
    { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 4 }), oddities, fc.string({ maxLength: 4 })).map((parts) => parts.join('')) },
);

/** Hostile strings, and now and then a name that exists, so a lookup succeeds and the call goes deeper. */
export function hostileOrKnown(known: readonly string[]): fc.Arbitrary<string> {
  if (known.length === 0) return hostileString;
  return fc.oneof({ weight: 5, arbitrary: hostileString }, { weight: 1, arbitrary: fc.constantFrom(...known) });
}

/** An account name of one letter repeated to the length limit: the worst case for a backtracking glob. */
export const REPETITIVE_USERNAME = 'a'.repeat(32);

/**
 * Wildcard runs a backtracking glob matcher would take exponential time over: `a*a*…a*b` against an
 * account named REPETITIVE_USERNAME (finding F6: 14 stars blocked a replica for 9 s before
 * src/chat/glob.ts matched in linear time). Up to the 31 a pattern can hold.
 */
const maxStarRun = 31;

/** Globs: ordinary ones, and star runs aimed at an account that exists. */
export const globPattern: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.stringMatching(/^[a-z0-9_.*?-]{0,16}$/) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: maxStarRun }).map((stars) => `${'a*'.repeat(stars)}b`) },
  { weight: 1, arbitrary: fc.constantFrom('*', '?', '**********', '?'.repeat(32), '?'.repeat(33), '*'.repeat(64)) },
);

/** A message body: mostly ones a server should store byte for byte, some it must refuse. */
export const bodyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 50 }) },
  { weight: 2, arbitrary: hostileString },
);

/** A request id: empty (no deduplication), valid, or not printable ASCII / too long. */
export const requestIdString: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.constant('') },
  { weight: 3, arbitrary: fc.uuid() },
  { weight: 2, arbitrary: printableString(REQUEST_ID_MAX_CHARS + 2) },
  { weight: 1, arbitrary: hostileString },
);

const UINT64_MAX = (1n << 64n) - 1n;
const edges64 = [0n, 1n, 2n, (1n << 31n) - 1n, 1n << 32n, (1n << 53n) - 1n, 1n << 53n, (1n << 53n) + 1n, 1n << 63n, UINT64_MAX];

/** A uint64 on the wire: small ids that may exist, and every edge up to 2^64 - 1. */
export const uint64Value: fc.Arbitrary<bigint> = fc.oneof(
  { weight: 3, arbitrary: fc.bigInt({ min: 0n, max: 2_000n }) },
  { weight: 2, arbitrary: fc.constantFrom(...edges64) },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: UINT64_MAX }) },
);

/**
 * A varint for a uint32 field: in range, at the API's limits (page sizes 1000/1001), and values a
 * uint32 cannot hold — negative (ten bytes of two's complement) or past 2^32.
 */
export const uint32Value: fc.Arbitrary<bigint> = fc.oneof(
  { weight: 3, arbitrary: fc.bigInt({ min: 0n, max: 1_200n }) },
  { weight: 2, arbitrary: fc.constantFrom(0n, 1n, 100n, 999n, 1000n, 1001n, (1n << 31n) - 1n, 1n << 31n, (1n << 32n) - 1n, 1n << 32n, -1n, -(1n << 31n), UINT64_MAX) },
  { weight: 1, arbitrary: fc.bigInt({ min: -(1n << 63n), max: UINT64_MAX }) },
);

/** An enum (ReadConsistency): its two values, and integers that name nothing. */
export const enumValue: fc.Arbitrary<bigint> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(0n, 1n) },
  { weight: 1, arbitrary: fc.constantFrom(2n, -1n, (1n << 31n) - 1n, -(1n << 31n), 1n << 40n) },
);

/** A bool on the wire is a varint: anything non-zero is true, however large. */
export const boolValue: fc.Arbitrary<bigint> = fc.constantFrom(0n, 1n, 2n, 0x7fn, UINT64_MAX);

/**
 * Message id lists: empty, ids that may exist, edge values (one id past 2^53 makes the whole request
 * undecodable, so those lists are kept apart), and lists at and past the 1000-id limit.
 */
export const idList: fc.Arbitrary<bigint[]> = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.bigInt({ min: 0n, max: 2_000n }), { maxLength: 12 }) },
  { weight: 2, arbitrary: fc.array(uint64Value, { maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom(MAX_IDS, MAX_IDS + 1, 5 * MAX_IDS).map((n) => Array.from({ length: n }, (_, i) => BigInt(i + 1))) },
);
