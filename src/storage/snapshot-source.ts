// The sending side of a snapshot: the keyspace and its metadata read through ONE database snapshot, so
// the pairs streamed are exactly the state at `appliedIndex` however the live keyspace moves meanwhile.
import type { AbstractSnapshot } from 'abstract-level';
import type { MemberInfo } from '../gen/raftchat/command/v1/command.js';
import type { ConfState } from '../raft/types.js';
import { ioError } from './errors.js';
import type { Layout } from './layout.js';
import { readMetaState, type MetaState } from './meta-state.js';
import { PairHash, type KeyValuePair } from './pair-hash.js';

export class SnapshotSource {
  /** The last index whose effects the keyspace holds, and its term: the snapshot's metadata. */
  readonly appliedIndex: number;
  readonly appliedTerm: number;
  readonly confState: ConfState;
  readonly members: MemberInfo[];
  private readonly hash = new PairHash();
  private streamed = false;
  private closed = false;

  private constructor(
    private readonly layout: Layout,
    private readonly location: string,
    private readonly snapshot: AbstractSnapshot,
    private readonly state: MetaState,
  ) {
    this.appliedIndex = state.applied.index;
    this.appliedTerm = state.applied.term;
    this.confState = state.confState;
    this.members = state.members;
  }

  static async open(layout: Layout, location: string): Promise<SnapshotSource> {
    const snapshot = layout.db.snapshot();
    try {
      return new SnapshotSource(layout, location, snapshot, await readMetaState(layout.meta, location, snapshot));
    } catch (err) {
      await snapshot.close();
      throw err;
    }
  }

  /**
   * The keyspace in key order, in runs of pairs whose key and value bytes reach `maxBytesPerChunk`
   * (a run holds at least one pair, so one oversized pair still travels). Iterable once.
   */
  async *chunks(maxBytesPerChunk: number): AsyncGenerator<KeyValuePair[]> {
    if (this.streamed) throw new Error('SnapshotSource.chunks() may be iterated only once');
    if (this.closed) throw new Error('SnapshotSource is closed');
    this.streamed = true;
    const keyspace = this.layout.keyspace(this.state.generation);
    const iterator = keyspace.iterator<Uint8Array, Uint8Array>({
      snapshot: this.snapshot,
      keyEncoding: 'view',
      valueEncoding: 'view',
    });
    let chunk: KeyValuePair[] = [];
    let chunkBytes = 0;
    try {
      for await (const [key, value] of iterator) {
        this.hash.add(key, value);
        chunk.push({ key, value });
        chunkBytes += key.length + value.length;
        if (chunkBytes >= maxBytesPerChunk) {
          yield chunk;
          chunk = [];
          chunkBytes = 0;
        }
      }
    } catch (err) {
      throw ioError(this.location, 'reading the snapshot', err);
    } finally {
      await iterator.close();
    }
    if (chunk.length > 0) yield chunk;
  }

  /** SHA-256 over the pairs yielded so far (see pair-hash.ts); the whole keyspace's once chunks() ends. */
  checksum(): Uint8Array {
    return this.hash.digest();
  }

  /** Pairs and key+value bytes yielded so far. */
  get pairs(): number {
    return this.hash.pairs;
  }

  get bytes(): number {
    return this.hash.bytes;
  }

  /** Releases the database snapshot (the engine keeps old versions alive while it is open). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.snapshot.close();
  }
}
