// The running checksum of a snapshot's key/value stream, computed the same way by the sender (into
// the trailer) and the receiver (to check it): sha-256 over, for every pair in order, the key's
// length (u32 big-endian), the key, the value's length, the value. The lengths make the encoding
// unambiguous: ("ab","c") and ("a","bc") hash differently.

import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';

export interface KeyValuePair {
  key: Uint8Array;
  value: Uint8Array;
}

export class SnapshotDigest {
  private readonly hash: Hash = createHash('sha256');
  private readonly lengthPrefix = Buffer.alloc(4);
  pairs = 0;
  /** Key and value bytes, without the length prefixes. */
  bytes = 0;

  update(pairs: readonly KeyValuePair[]): void {
    for (const { key, value } of pairs) {
      this.lengthPrefix.writeUInt32BE(key.length, 0);
      this.hash.update(this.lengthPrefix);
      this.hash.update(key);
      this.lengthPrefix.writeUInt32BE(value.length, 0);
      this.hash.update(this.lengthPrefix);
      this.hash.update(value);
      this.bytes += key.length + value.length;
    }
    this.pairs += pairs.length;
  }

  digest(): Uint8Array {
    return this.hash.digest();
  }
}
