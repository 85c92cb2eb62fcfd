// Disk faults for one replica's data directory: move it onto a small tmpfs (we run as root, so
// chmod would not stop a write; a filesystem that is full or read-only does), fill or remount it,
// and damage one Raft log entry in its database so the checksum fails.
import { execFileSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database } from '../../../src/storage/database.js';
import { logLevel } from '../../../src/storage/layout.js';
import { logKey, logKeyIndex } from '../../../src/storage/log-codec.js';

/** Whether `dir` is a mount point right now (per /proc/self/mountinfo). */
export function isMountPoint(dir: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[4] === dir);
}

/**
 * A replica's data directory moved onto its own tmpfs, and later moved back. The replica must be
 * stopped for both moves; its state travels with it both ways, so it never restarts on an older
 * copy of its log (which would break the promise behind every vote and acknowledgement it gave).
 */
export class TmpfsDataDir {
  private readonly aside: string;

  constructor(readonly dataDir: string) {
    this.aside = `${dataDir}.on-disk`;
  }

  /** Copies the replica's data onto a new tmpfs of `sizeBytes` mounted in its place. */
  mount(sizeBytes: number): void {
    renameSync(this.dataDir, this.aside);
    mkdirSync(this.dataDir);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'raftchat-fault', this.dataDir]);
    cpSync(this.aside, this.dataDir, { recursive: true });
  }

  /** Read-only or writable again. Linux refuses `ro` while a file is open for writing ("busy"). */
  remount(mode: 'ro' | 'rw'): void {
    execFileSync('mount', ['-o', `remount,${mode}`, this.dataDir]);
  }

  /** Writes zeros until the filesystem refuses (ENOSPC); returns the bytes written. */
  fill(): number {
    const fd = openSync(this.fillerPath(), 'w');
    const chunk = Buffer.alloc(1 << 20);
    let written = 0;
    try {
      for (;;) {
        const n = writeSync(fd, chunk);
        written += n;
        if (n < chunk.length) break;
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    } finally {
      closeSync(fd);
    }
    return written;
  }

  /** Copies the tmpfs's current contents (the replica stopped) to a new directory; returns its path. */
  keepCopy(): string {
    const copy = mkdtempSync(join(tmpdir(), 'raftchat-tmpfs-evidence-'));
    cpSync(this.dataDir, copy, { recursive: true, filter: (source) => source !== this.fillerPath() });
    return copy;
  }

  /** Frees the space fill() took. */
  unfill(): void {
    rmSync(this.fillerPath(), { force: true });
  }

  /** Copies the replica's current data back to disk and unmounts the tmpfs. */
  unmount(): void {
    this.unfill();
    rmSync(this.aside, { recursive: true, force: true });
    cpSync(this.dataDir, this.aside, { recursive: true });
    this.cleanUp();
  }

  /**
   * Whatever state things are in (a failed test): unmounts, lazily if something still holds the
   * mount, and puts the on-disk directory back in place. Idempotent.
   */
  cleanUp(): void {
    if (isMountPoint(this.dataDir)) {
      try {
        execFileSync('umount', [this.dataDir], { stdio: 'ignore' });
      } catch {
        execFileSync('umount', ['-l', this.dataDir]);
      }
    }
    if (existsSync(this.aside)) {
      rmSync(this.dataDir, { recursive: true, force: true });
      renameSync(this.aside, this.dataDir);
    }
  }

  private fillerPath(): string {
    return join(this.dataDir, 'filler');
  }
}

export interface DamagedEntry {
  index: number;
  /** The database directory, as the replica names it in its errors. */
  location: string;
  /** Puts the original bytes back. */
  repair(): Promise<void>;
}

/**
 * Flips one byte of the body of a log entry in the middle of the replica's uncompacted log, so its
 * stored CRC-32 no longer matches (see src/storage/log-codec.ts). The replica must be stopped.
 */
export async function damageLogEntry(dataDir: string): Promise<DamagedEntry> {
  const location = join(dataDir, 'db');
  const original = await withDatabase(location, async (db) => {
    const log = logLevel(db);
    const indexes: number[] = [];
    for await (const key of log.keys()) indexes.push(logKeyIndex(key)!);
    if (indexes.length === 0) throw new Error(`the log in ${location} is empty: nothing to damage`);
    const index = indexes[Math.floor(indexes.length / 2)]!;
    const value = (await log.get(logKey(index)))!;
    const damaged = new Uint8Array(value);
    const at = 4 + Math.floor((damaged.length - 4) / 2);
    damaged[at] = damaged[at]! ^ 0xff;
    await log.put(logKey(index), damaged);
    return { index, value: new Uint8Array(value) };
  });
  return {
    index: original.index,
    location,
    repair: () => withDatabase(location, (db) => logLevel(db).put(logKey(original.index), original.value)),
  };
}

async function withDatabase<T>(location: string, fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase(location);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}
