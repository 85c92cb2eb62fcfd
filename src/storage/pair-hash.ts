// A running SHA-256 over key/value pairs in keyspace order: the checksum a snapshot carries and the
// digest replicas compare. Each key and value is framed by its 4-byte big-endian length, so no two
// different sequences of pairs hash the same bytes ("ab","c" vs "a","bc").
import { createHash, type Hash } from 'node:crypto';

export interface KeyValuePair {
  key: Uint8Array;
  value: Uint8Array;
}

export class PairHash {
  private readonly hash: Hash = createHash('sha256');
  private readonly lengthPrefix = new Uint8Array(4);
  private pairCount = 0;
  private byteCount = 0;

  add(key: Uint8Array, value: Uint8Array): void {
    this.addFramed(key);
    this.addFramed(value);
    this.pairCount += 1;
    this.byteCount += key.length + value.length;
  }

  /** Pairs hashed so far. */
  get pairs(): number {
    return this.pairCount;
  }

  /** Key and value bytes hashed so far (without framing). */
  get bytes(): number {
    return this.byteCount;
  }

  /** The SHA-256 of everything added so far; the hash keeps running. */
  digest(): Uint8Array {
    return new Uint8Array(this.hash.copy().digest());
  }

  private addFramed(bytes: Uint8Array): void {
    new DataView(this.lengthPrefix.buffer).setUint32(0, bytes.length);
    this.hash.update(this.lengthPrefix);
    this.hash.update(bytes);
  }
}
