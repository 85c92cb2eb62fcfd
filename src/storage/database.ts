// The engine behind a ReplicaStore: the one file that names classic-level. Everything else speaks
// the abstract-level interface, so a RocksDB binding can be dropped in here where it measures faster.
import type { AbstractBatchOptions, AbstractLevel, AbstractSublevel } from 'abstract-level';
import { ClassicLevel } from 'classic-level';
import { StorageError, engineErrorCode } from './errors.js';

/** The root database: utf8 keys and binary values by default; sublevels choose their own encodings. */
export type Database = AbstractLevel<string | Buffer | Uint8Array, string, Uint8Array>;

/** A sublevel of the root database with keys K and values V. */
export type Sublevel<K, V> = AbstractSublevel<Database, string | Buffer | Uint8Array, K, V>;

/**
 * LevelDB's memtable: writes gather here and are flushed to a level-0 table when it fills. At the
 * engine's default of 4 MiB a replica taking ~1,500 writes/s flushes every few seconds, and each
 * flush sets off compactions that merge into level 1 (messages land in every recipient's key range,
 * so each level-0 table overlaps all of level 1) and make every read look in more tables. 16 MiB:
 * `npm run bench:apply -- --commands 400000 --batches 64` 61–64 → 44–48 µs of CPU per send (store
 * 31–33 → 22–23; 8 MiB gave 50, 32 MiB 43), for up to 2 × 12 MiB more memory (the memtable being
 * filled and the one being flushed). A restart replays at most this much write-ahead log.
 */
const WRITE_BUFFER_BYTES = 16 * 1024 * 1024;

/** Opens (creating if missing) the database at `location`. */
export async function openDatabase(location: string): Promise<Database> {
  const db: Database = new ClassicLevel<string, Uint8Array>(location, {
    keyEncoding: 'utf8',
    valueEncoding: 'view',
    writeBufferSize: WRITE_BUFFER_BYTES,
  });
  try {
    await db.open();
  } catch (err) {
    // abstract-level wraps the engine's failure; the reason sits in `cause`.
    const reason = err instanceof Error && err.cause !== undefined ? err.cause : err;
    const code = engineErrorCode(reason);
    const message = reason instanceof Error ? reason.message : String(reason);
    if (code === 'LEVEL_LOCKED') {
      throw new StorageError('LOCKED', `database ${location} is in use by another process: ${message}`, { cause: err });
    }
    if (code === 'LEVEL_CORRUPTION') {
      throw new StorageError('CORRUPT', `database ${location} is corrupt: ${message}`, { cause: err });
    }
    throw new StorageError('IO', `cannot open database ${location}: ${message}`, { cause: err });
  }
  if (!db.supports.explicitSnapshots) {
    await db.close();
    throw new StorageError('IO', `database ${location}: the engine lacks explicit snapshots, which snapshots need`);
  }
  return db;
}

/**
 * Batch options with the engine's `sync` flag (fsync before the write resolves), which classic-level
 * and the RocksDB bindings accept but abstract-level's types do not name. Always write through a batch:
 * some bindings ignore `sync` on a single put.
 */
export function batchOptions<K, V>(
  sync: boolean,
  encodings: Omit<AbstractBatchOptions<K, V>, 'sync'> = {},
): AbstractBatchOptions<K, V> {
  const options: AbstractBatchOptions<K, V> & { sync: boolean } = { ...encodings, sync };
  return options;
}
