// The writes of one apply batch, held in memory over the keyspace: reads see the batch's own earlier
// writes first, then the keyspace. Nothing reaches the keyspace here; the caller commits `ops()` in
// one engine batch together with the applied index, so a crash keeps all of a batch or none of it.
import type { Keyspace } from '../storage/keyspace.js';
import { scan } from '../storage/scan.js';
import { prefixEnd } from './keys.js';
import type { CachedValue, ReadCache } from './read-cache.js';
import { canReadSync } from './sync-read.js';

/** At most this many keys are read synchronously by one prefetch; more go through getMany. */
const MAX_SYNC_READS = 64;

export type KeyspaceOp = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string };

export class PendingWrites {
  /** key → new value, or null for a delete. */
  private readonly pending = new Map<string, Uint8Array | null>();
  /** key → what the keyspace held when this batch read it (null: absent). Kept for the whole batch. */
  private readonly fetched = new Map<string, CachedValue>();

  /** `cache`, when given, must hold exactly what `keyspace` holds (see ReadCache). */
  constructor(
    private readonly keyspace: Keyspace,
    private readonly cache?: ReadCache,
  ) {}

  async get(key: string): Promise<Uint8Array | undefined> {
    const known = this.known(key);
    if (known !== undefined) return known ?? undefined;
    const value = await this.keyspace.get(key);
    this.fetched.set(key, value ?? null);
    return value;
  }

  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }

  /**
   * Reads every key in `keys` that neither this batch nor the cache already knows, at once: an async
   * engine read is a round trip through libuv's thread pool, so a batch that names its reads up front
   * pays for one (getMany) instead of several per command. A few keys are read synchronously instead
   * (no thread hop at all; LevelDB answers from its memtable or the OS page cache in microseconds),
   * bounded so a large batch never holds the event loop for long.
   */
  async prefetch(keys: Iterable<string>): Promise<void> {
    const missing = [...new Set(keys)].filter((key) => this.known(key) === undefined);
    if (missing.length === 0) return;
    if (missing.length <= MAX_SYNC_READS && canReadSync(this.keyspace)) {
      for (const key of missing) this.fetched.set(key, this.keyspace.getSync(key) ?? null);
      return;
    }
    const values = await this.keyspace.getMany(missing);
    missing.forEach((key, i) => this.fetched.set(key, values[i] ?? null));
  }

  put(key: string, value: Uint8Array): void {
    this.pending.set(key, value);
  }

  del(key: string): void {
    this.pending.set(key, null);
  }

  /** Every live key starting with `prefix`, as this batch sees them, in ascending order. */
  async keysWithPrefix(prefix: string): Promise<string[]> {
    return (await this.entriesWithPrefix(prefix)).map(([key]) => key);
  }

  /** Every live [key, value] starting with `prefix`, as this batch sees them, in ascending order. */
  async entriesWithPrefix(prefix: string): Promise<Array<[string, Uint8Array]>> {
    const merged = new Map<string, Uint8Array>();
    await scan(this.keyspace.iterator({ gte: prefix, lt: prefixEnd(prefix) }), 256, ([key, value]) => {
      merged.set(key, value);
      return true;
    });
    for (const [key, value] of this.pending) {
      if (!key.startsWith(prefix)) continue;
      if (value === null) merged.delete(key);
      else merged.set(key, value);
    }
    return [...merged].sort(([a], [b]) => compareKeys(a, b));
  }

  /**
   * The first `limit` live keys in [gte, lt), as this batch sees them, in ascending order. The engine
   * is asked for `limit` more than this batch has deleted in the range, so keys deleted earlier in
   * the batch never crowd out live ones: the answer depends only on the state, not on where the
   * batch boundaries fell.
   */
  async firstKeys(gte: string, lt: string, limit: number): Promise<string[]> {
    const inRange = (key: string): boolean => key >= gte && key < lt;
    let deleted = 0;
    for (const [key, value] of this.pending) if (value === null && inRange(key)) deleted++;
    const live = new Set(await this.keyspace.keys({ gte, lt, limit: limit + deleted }).all());
    for (const [key, value] of this.pending) {
      if (!inRange(key)) continue;
      if (value === null) live.delete(key);
      else live.add(key);
    }
    return [...live].sort(compareKeys).slice(0, limit);
  }

  /** One operation per key touched, in key order: the same writes always give the same list. */
  ops(): KeyspaceOp[] {
    return [...this.pending.keys()].sort(compareKeys).map((key): KeyspaceOp => {
      const value = this.pending.get(key) ?? null;
      return value === null ? { type: 'del', key } : { type: 'put', key, value };
    });
  }

  /**
   * Brings the cache up to what the keyspace holds once `ops()` is committed: what this batch read,
   * then what it wrote. Call only when the caller commits the ops (see ChatStateMachine.applyBatch).
   */
  writeThrough(): void {
    if (this.cache === undefined) return;
    for (const [key, value] of this.fetched) this.cache.write(key, value);
    for (const [key, value] of this.pending) this.cache.write(key, value);
  }

  /** What this batch or the cache already knows of `key`; undefined when only the engine knows. */
  private known(key: string): CachedValue | undefined {
    // null (deleted, or known absent) is an answer, so no `??` chain here.
    const written = this.pending.get(key);
    if (written !== undefined) return written;
    const read = this.fetched.get(key);
    if (read !== undefined) return read;
    return this.cache?.lookup(key);
  }
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
