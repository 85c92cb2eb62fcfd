// A bounded write-through cache of hot keyspace records (accounts, unread counters), kept by the state
// machine across apply batches so a send does not pay an engine read for the same few keys every time.
// It holds exactly what the keyspace holds, so it can change how fast apply reads but never what it reads.

/** What the cache knows of a key: its value, `null` when the key is known to be absent. */
export type CachedValue = Uint8Array | null;

export const DEFAULT_MAX_CACHED_KEYS = 16_384;

/**
 * Least-recently-used over a Map (whose iteration order is insertion order: a hit re-inserts the
 * key, so the first key is always the coldest). Only keys that `keeps` accepts are held; writing any
 * other key forgets it, so a caller can write every op through without knowing the policy.
 */
export class ReadCache {
  private readonly entries = new Map<string, CachedValue>();

  constructor(
    private readonly keeps: (key: string) => boolean,
    private readonly maxKeys = DEFAULT_MAX_CACHED_KEYS,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The cached value, `null` for a key known absent, undefined when the cache does not know. */
  lookup(key: string): CachedValue | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  /** Records what the keyspace now holds for `key` (after a read, or after a committed write). */
  write(key: string, value: CachedValue): void {
    this.entries.delete(key);
    if (!this.keeps(key)) return;
    this.entries.set(key, value);
    if (this.entries.size > this.maxKeys) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Forgets everything: the keyspace was replaced (a snapshot was installed) or cannot be trusted. */
  clear(): void {
    this.entries.clear();
  }
}
