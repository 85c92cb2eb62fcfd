// A protobuf wire-format writer that also writes what no correct encoder would: varints past ten
// bytes, lengths beyond the buffer, wire types a field does not have, field number 0, invalid UTF-8.
// The fuzz builds requests from these pieces so every decoder path on the server sees bad input.

export const WireType = { varint: 0, fixed64: 1, lengthDelimited: 2, startGroup: 3, endGroup: 4, fixed32: 5 } as const;

/** Wire types 6 and 7 do not exist; a decoder must refuse them. */
export const INVALID_WIRE_TYPES = [6, 7] as const;

const UINT64_MASK = (1n << 64n) - 1n;

/**
 * A base-128 varint. Negative values are written as their 64-bit two's complement (ten bytes), the
 * way int32/int64 fields carry them — which is exactly what a uint32 field must not accept.
 */
export function varint(value: bigint): Uint8Array {
  let rest = value & UINT64_MASK;
  const out: number[] = [];
  while (rest >= 0x80n) {
    out.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  out.push(Number(rest));
  return Uint8Array.from(out);
}

/** A varint padded with `extraBytes` redundant continuation bytes: past ten bytes, it overflows. */
export function overlongVarint(value: bigint, extraBytes: number): Uint8Array {
  const plain = Array.from(varint(value));
  const last = plain.pop()!;
  return Uint8Array.from([...plain, last | 0x80, ...Array<number>(Math.max(0, extraBytes - 1)).fill(0x80), 0x00]);
}

/** A field key: (field number << 3) | wire type. Field number 0 is invalid and allowed here on purpose. */
export function fieldKey(fieldNumber: number, wireType: number): Uint8Array {
  return varint((BigInt(fieldNumber) << 3n) | BigInt(wireType & 7));
}

export function varintField(fieldNumber: number, value: bigint): Uint8Array {
  return concat([fieldKey(fieldNumber, WireType.varint), varint(value)]);
}

/** A length-delimited field; `declaredLength` may lie about the payload (a length beyond the buffer). */
export function bytesField(fieldNumber: number, payload: Uint8Array, declaredLength = payload.length): Uint8Array {
  return concat([fieldKey(fieldNumber, WireType.lengthDelimited), varint(BigInt(declaredLength)), payload]);
}

export function stringField(fieldNumber: number, text: string): Uint8Array {
  // Buffer encodes a lone surrogate as U+FFFD, as every real client does; raw invalid UTF-8 goes
  // through bytesField with INVALID_UTF8 sequences instead.
  return bytesField(fieldNumber, Buffer.from(text, 'utf8'));
}

export function fixed32Field(fieldNumber: number, value: number): Uint8Array {
  const payload = Buffer.alloc(4);
  payload.writeUInt32LE(value >>> 0);
  return concat([fieldKey(fieldNumber, WireType.fixed32), payload]);
}

export function fixed64Field(fieldNumber: number, value: bigint): Uint8Array {
  const payload = Buffer.alloc(8);
  payload.writeBigUInt64LE(value & UINT64_MASK);
  return concat([fieldKey(fieldNumber, WireType.fixed64), payload]);
}

/** A packed repeated varint field (proto3's default encoding of `repeated uint64`). */
export function packedVarints(fieldNumber: number, values: readonly bigint[]): Uint8Array {
  return bytesField(fieldNumber, concat(values.map(varint)));
}

/** Byte sequences that are not UTF-8: a decoder must replace or refuse them, never crash on them. */
export const INVALID_UTF8: readonly Uint8Array[] = [
  Uint8Array.of(0xff),
  Uint8Array.of(0x80), // a continuation byte with no lead
  Uint8Array.of(0xc0, 0x80), // overlong NUL
  Uint8Array.of(0xed, 0xa0, 0x80), // a UTF-16 surrogate (U+D800) encoded as if it were a code point
  Uint8Array.of(0xf4, 0x90, 0x80, 0x80), // beyond U+10FFFF
  Uint8Array.of(0xe2, 0x82), // a three-byte sequence cut short
];

/** gRPC's length-prefixed message: a compressed flag, a 4-byte big-endian length, the bytes. */
export function grpcFrame(message: Uint8Array, options: { compressed?: boolean; declaredLength?: number } = {}): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(options.compressed === true ? 1 : 0, 0);
  header.writeUInt32BE(options.declaredLength ?? message.length, 1);
  return Buffer.concat([header, message]);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}
