// The writes of one apply batch, held in memory over the keyspace: reads see the batch's own earlier
// writes first, then the keyspace. Nothing reaches the keyspace here; the caller commits `ops()` in
// one engine batch together with the applied index, so a crash keeps all of a batch or none of it.
import type { Keyspace } from '../storage/keyspace.js';
import { prefixEnd } from './keys.js';

export type KeyspaceOp = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string };

export class PendingWrites {
  /** key → new value, or null for a delete. */
  private readonly pending = new Map<string, Uint8Array | null>();

  constructor(private readonly keyspace: Keyspace) {}

  async get(key: string): Promise<Uint8Array | undefined> {
    if (this.pending.has(key)) return this.pending.get(key) ?? undefined;
    return this.keyspace.get(key);
  }

  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined;
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
    for await (const [key, value] of this.keyspace.iterator({ gte: prefix, lt: prefixEnd(prefix) })) {
      merged.set(key, value);
    }
    for (const [key, value] of this.pending) {
      if (!key.startsWith(prefix)) continue;
      if (value === null) merged.delete(key);
      else merged.set(key, value);
    }
    return [...merged].sort(([a], [b]) => compareKeys(a, b));
  }

  /** One operation per key touched, in key order: the same writes always give the same list. */
  ops(): KeyspaceOp[] {
    return [...this.pending.keys()].sort(compareKeys).map((key): KeyspaceOp => {
      const value = this.pending.get(key) ?? null;
      return value === null ? { type: 'del', key } : { type: 'put', key, value };
    });
  }
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
