// Request payloads for one method, as the bytes that go on the wire: well-formed protobuf carrying
// hostile values, another method's request, malformed protobuf (wrong wire types, repeated and
// unknown fields, overflowing varints, lengths beyond the buffer, invalid UTF-8, cut short), random
// bytes, and oversize ones.
import fc from 'fast-check';
import { METHODS, type FieldSpec, type MethodSpec } from './methods.js';
import { boolValue, bodyString, enumValue, globPattern, hostileOrKnown, hostileString, idList, requestIdString, uint32Value, uint64Value } from './values.js';
import {
  INVALID_UTF8,
  INVALID_WIRE_TYPES,
  WireType,
  bytesField,
  concat,
  fieldKey,
  fixed32Field,
  fixed64Field,
  overlongVarint,
  packedVarints,
  stringField,
  varint,
  varintField,
} from './wire.js';

/** What the fuzz knows of the cluster when it builds values: names that make requests reach deeper. */
export interface KnownNames {
  /** The fuzz's own accounts (recipients and usernames that exist). */
  usernames: readonly string[];
}

/** How a payload was made, for the report and for judging the answer. */
/** `other-method`: a well-formed request of another method — every field under a type it does not have. */
export type PayloadShape = 'well-formed' | 'other-method' | 'malformed' | 'random' | 'oversize';

export interface Payload {
  shape: PayloadShape;
  bytes: Uint8Array;
}

function stringValue(field: FieldSpec, known: KnownNames): fc.Arbitrary<string> {
  switch (field.name) {
    case 'body':
      return bodyString;
    case 'request_id':
      return requestIdString;
    case 'pattern':
      return fc.oneof({ weight: 3, arbitrary: globPattern }, { weight: 1, arbitrary: hostileString });
    case 'page_token':
      // Tokens are base64url usernames: valid ones, and base64url of what is not a username.
      return fc.oneof(
        { weight: 2, arbitrary: hostileString },
        { weight: 1, arbitrary: fc.constantFrom(...known.usernames).map((u) => Buffer.from(u).toString('base64url')) },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('base64url')) },
        { weight: 1, arbitrary: hostileString.map((u) => Buffer.from(u).toString('base64')) },
      );
    case 'recipient':
    case 'username':
      // Mostly accounts that exist, so sends and logins get past the lookup and into the log.
      return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...known.usernames) }, { weight: 2, arbitrary: hostileString });
    default:
      return hostileOrKnown(known.usernames);
  }
}

/** One field, encoded as its type is encoded — with a hostile value. */
function fieldBytes(field: FieldSpec, known: KnownNames): fc.Arbitrary<Uint8Array> {
  switch (field.type) {
    case 'string':
      return stringValue(field, known).map((text) => stringField(field.number, text));
    case 'uint64':
      return uint64Value.map((v) => varintField(field.number, v));
    case 'uint32':
      return uint32Value.map((v) => varintField(field.number, v));
    case 'enum':
      return enumValue.map((v) => varintField(field.number, v));
    case 'bool':
      return boolValue.map((v) => varintField(field.number, v));
    case 'repeated-uint64':
      // proto3 decoders must take both the packed and the one-varint-per-entry form.
      return fc.tuple(idList, fc.boolean()).map(([ids, packed]) =>
        packed ? packedVarints(field.number, ids) : concat(ids.map((id) => varintField(field.number, id))),
      );
  }
}

/** A well-formed request: each field present or not, in any order, sometimes repeated (last one wins). */
export function wellFormed(spec: MethodSpec, known: KnownNames): fc.Arbitrary<Uint8Array> {
  if (spec.fields.length === 0) return fc.constant(new Uint8Array(0));
  const perField = spec.fields.map((field) => fc.array(fieldBytes(field, known), { maxLength: 2 }));
  return fc
    .tuple(...perField)
    .chain((fields) => {
      const parts = fields.flat();
      return fc.shuffledSubarray(parts, { minLength: parts.length });
    })
    .map((parts) => concat(parts));
}

/** A SendMessage to an account that exists, with a body mostly valid and often unusual. */
export function sendPayload(known: KnownNames): fc.Arbitrary<Uint8Array> {
  return fc
    .record({ recipient: fc.constantFrom(...known.usernames), body: bodyString, requestId: requestIdString })
    .map(({ recipient, body, requestId }) => concat([stringField(1, recipient), stringField(2, body), stringField(3, requestId)]));
}

/** One piece of a malformed message: each a way a decoder can be handed something impossible. */
function malformedPiece(spec: MethodSpec, known: KnownNames): fc.Arbitrary<Uint8Array> {
  const knownNumber = fc.integer({ min: 1, max: Math.max(1, spec.fields.length) + 1 });
  const anyNumber = fc.oneof(knownNumber, fc.integer({ min: 1, max: (1 << 29) - 1 }));
  const pieces: fc.Arbitrary<Uint8Array>[] = [
    // A field this method has, encoded correctly.
    ...spec.fields.map((field) => fieldBytes(field, known)),
    // A known field number under the wrong wire type (a string sent as a varint, an id as fixed32...).
    fc.tuple(knownNumber, uint64Value).map(([n, v]) => varintField(n, v)),
    fc.tuple(knownNumber, fc.integer()).map(([n, v]) => fixed32Field(n, v)),
    fc.tuple(knownNumber, uint64Value).map(([n, v]) => fixed64Field(n, v)),
    fc.tuple(knownNumber, fc.uint8Array({ maxLength: 16 })).map(([n, b]) => bytesField(n, b)),
    // Unknown fields, which proto3 decoders must skip.
    fc.tuple(fc.integer({ min: 16, max: (1 << 29) - 1 }), fc.uint8Array({ maxLength: 16 })).map(([n, b]) => bytesField(n, b)),
    // Invalid UTF-8 inside a string field.
    fc.tuple(knownNumber, fc.constantFrom(...INVALID_UTF8), fc.string({ maxLength: 8 })).map(([n, bad, text]) =>
      bytesField(n, concat([Buffer.from(text), bad, Buffer.from(text)])),
    ),
    // Varints that run past ten bytes.
    fc.tuple(anyNumber, uint64Value, fc.integer({ min: 1, max: 12 })).map(([n, v, extra]) => concat([fieldKey(n, WireType.varint), overlongVarint(v, extra)])),
    fc.integer({ min: 11, max: 20 }).map((length) => Uint8Array.from(Array<number>(length).fill(0xff))),
    // A length that promises more bytes than follow.
    fc.tuple(anyNumber, fc.uint8Array({ maxLength: 8 }), fc.oneof(fc.integer({ min: 9, max: 1 << 20 }), fc.constant(0x7fffffff))).map(([n, b, declared]) =>
      bytesField(n, b, declared),
    ),
    // Wire types that do not exist, groups proto3 never writes, and field number 0.
    fc.tuple(anyNumber, fc.constantFrom(...INVALID_WIRE_TYPES)).map(([n, t]) => fieldKey(n, t)),
    fc.tuple(anyNumber, fc.constantFrom(WireType.startGroup, WireType.endGroup)).map(([n, t]) => fieldKey(n, t)),
    fc.constantFrom(WireType.varint, WireType.lengthDelimited).map((t) => concat([fieldKey(0, t), varint(1n)])),
  ];
  return fc.oneof(...pieces);
}

/** Pieces joined, then sometimes cut at an arbitrary byte. */
function malformed(spec: MethodSpec, known: KnownNames): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(fc.array(malformedPiece(spec, known), { minLength: 1, maxLength: 6 }), fc.option(fc.double({ min: 0, max: 1, noNaN: true })))
    .map(([parts, cutAt]) => {
      const bytes = concat(parts);
      return cutAt === null ? bytes : bytes.subarray(0, Math.floor(bytes.length * cutAt));
    });
}

/** Bigger than any replica accepts (its receive limit is 2 × the 64 KiB body limit + 64 KiB). */
const oversize: fc.Arbitrary<Uint8Array> = fc
  .tuple(fc.integer({ min: 200 * 1024, max: 320 * 1024 }), fc.integer({ min: 0, max: 255 }))
  .map(([length, fill]) => Buffer.alloc(length, fill));

export function payload(spec: MethodSpec, known: KnownNames): fc.Arbitrary<Payload> {
  const others = METHODS.filter((m) => m !== spec && m.fields.length > 0).map((m) => wellFormed(m, known));
  return fc.oneof(
    { weight: 5, arbitrary: wellFormed(spec, known).map((bytes): Payload => ({ shape: 'well-formed', bytes })) },
    { weight: 1, arbitrary: fc.oneof(...others).map((bytes): Payload => ({ shape: 'other-method', bytes })) },
    { weight: 4, arbitrary: malformed(spec, known).map((bytes): Payload => ({ shape: 'malformed', bytes })) },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes): Payload => ({ shape: 'random', bytes })) },
    { weight: 1, arbitrary: oversize.map((bytes): Payload => ({ shape: 'oversize', bytes })) },
  );
}
