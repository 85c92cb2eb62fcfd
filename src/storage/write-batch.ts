// One atomic write across the meta, log and keyspace sublevels, built up and then committed as a
// single engine batch (LevelDB applies a batch whole or not at all, also across a crash).
import type { AbstractBatchOperation } from 'abstract-level';
import type { Entry } from '../raft/types.js';
import type { Database } from './database.js';
import type { Keyspace } from './keyspace.js';
import type { LogLevel, MetaLevel } from './layout.js';
import { encodeLogEntry, logKey } from './log-codec.js';

type Key = string | Uint8Array;
type Value = string | Uint8Array;
export type BatchOperation = AbstractBatchOperation<Database, Key, Value>;

export class WriteBatch {
  readonly operations: BatchOperation[] = [];
  /** Bytes of log entries put (checksum and protobuf included). */
  entryBytes = 0;

  constructor(
    private readonly meta: MetaLevel,
    private readonly log: LogLevel,
  ) {}

  putMeta(key: string, value: string): this {
    this.operations.push({ type: 'put', sublevel: this.meta, key, value });
    return this;
  }

  delMeta(key: string): this {
    this.operations.push({ type: 'del', sublevel: this.meta, key });
    return this;
  }

  putEntry(entry: Entry): this {
    const value = encodeLogEntry(entry);
    this.entryBytes += value.length;
    this.operations.push({ type: 'put', sublevel: this.log, key: logKey(entry.index), value });
    return this;
  }

  /** Deletes the log entries with index in [from, to]; nothing when from > to. */
  delEntries(from: number, to: number): this {
    for (let index = from; index <= to; index++) {
      this.operations.push({ type: 'del', sublevel: this.log, key: logKey(index) });
    }
    return this;
  }

  putKey(keyspace: Keyspace, key: string, value: Uint8Array): this {
    this.operations.push({ type: 'put', sublevel: keyspace, key, value });
    return this;
  }

  delKey(keyspace: Keyspace, key: string): this {
    this.operations.push({ type: 'del', sublevel: keyspace, key });
    return this;
  }
}
