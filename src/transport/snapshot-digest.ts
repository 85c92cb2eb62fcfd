// The running checksum of a snapshot's key/value stream, computed by the sender (into the trailer)
// and the receiver (to check it). It is storage's PairHash — the very bytes the store verifies
// before it swaps a snapshot in — so the wire and the disk can never disagree on the framing.

import { PairHash, type KeyValuePair } from '../storage/pair-hash.js';

export type { KeyValuePair };

export class SnapshotDigest {
  private readonly hash = new PairHash();

  update(pairs: readonly KeyValuePair[]): void {
    for (const { key, value } of pairs) this.hash.add(key, value);
  }

  get pairs(): number {
    return this.hash.pairs;
  }

  /** Key and value bytes, without the length prefixes. */
  get bytes(): number {
    return this.hash.bytes;
  }

  digest(): Uint8Array {
    return this.hash.digest();
  }
}
