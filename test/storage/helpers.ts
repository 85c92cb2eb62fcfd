// Shared fixtures for the storage tests: temp data directories, entries, and raw access to a store's
// database for the tests that damage or inspect it behind the store's back.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import type { Database } from '../../src/storage/database.js';
import { EntryType, type Entry } from '../../src/raft/types.js';

/** Creates a temp directory per test and removes every one of them in cleanup(). */
export class TempDirs {
  private readonly dirs: string[] = [];

  async make(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'raftchat-storage-'));
    this.dirs.push(dir);
    return dir;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

export function entry(index: number, term: number, text = `command ${index}@${term}`): Entry {
  return { index, term, type: EntryType.Normal, data: new TextEncoder().encode(text) };
}

/** Entries [from, to] all in `term`. */
export function entries(from: number, to: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term));
  return out;
}

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
export const text = (value: Uint8Array | undefined): string | undefined =>
  value === undefined ? undefined : new TextDecoder().decode(value);

/** Opens the store's database directly (the store must be closed), runs `fn`, closes it. */
export async function withRawDatabase<T>(dataDir: string, fn: (db: Database) => Promise<T>): Promise<T> {
  const db: Database = new ClassicLevel<string, Uint8Array>(join(dataDir, 'db'), { keyEncoding: 'utf8', valueEncoding: 'view' });
  await db.open();
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** Number of keys in a sublevel-like range. */
export async function countKeys(level: { keys(): AsyncIterable<unknown> }): Promise<number> {
  let n = 0;
  for await (const _ of level.keys()) n++;
  return n;
}
