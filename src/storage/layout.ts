// Where each kind of record lives in the replica's one database: three sublevels — `meta` (utf8 keys,
// JSON values), `log` (8-byte big-endian index keys, checksummed entries) and `kv<generation>` (the chat
// keyspace; a snapshot installation fills generation g+1 beside the live g and swaps in one batch).
import type { Database, Sublevel } from './database.js';
import type { Keyspace } from './keyspace.js';

export type MetaLevel = Sublevel<string, string>;
export type LogLevel = Sublevel<Uint8Array, Uint8Array>;

export function metaLevel(db: Database): MetaLevel {
  return db.sublevel<string, string>('meta', { keyEncoding: 'utf8', valueEncoding: 'utf8' });
}

export function logLevel(db: Database): LogLevel {
  return db.sublevel<Uint8Array, Uint8Array>('log', { keyEncoding: 'view', valueEncoding: 'view' });
}

/** The keyspace sublevel of `generation`; sublevel names keep to [0-9a-z] as abstract-level asks. */
export function keyspaceLevel(db: Database, generation: number): Keyspace {
  return db.sublevel<string, Uint8Array>(`kv${generation}`, { keyEncoding: 'utf8', valueEncoding: 'view' });
}

/**
 * The sublevels of one open database, made once: abstract-level attaches every opened sublevel to its
 * parent until the database closes, so making them per call would grow that set without bound.
 */
export class Layout {
  readonly meta: MetaLevel;
  readonly log: LogLevel;
  /** One per generation ever live or staged in this process: a handful, one per installed snapshot. */
  private readonly keyspaces = new Map<number, Keyspace>();

  constructor(readonly db: Database) {
    this.meta = metaLevel(db);
    this.log = logLevel(db);
  }

  keyspace(generation: number): Keyspace {
    let level = this.keyspaces.get(generation);
    if (level === undefined) {
      level = keyspaceLevel(this.db, generation);
      this.keyspaces.set(generation, level);
    }
    return level;
  }
}
