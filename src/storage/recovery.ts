// What open() finishes after a crash: a staging keyspace generation (the installation never happened),
// a retired one (it happened; its deletion did not finish), log entries below the compaction point
// (the point is written before or with their deletion), and where the log ends.
import type { Logger } from 'pino';
import { StorageError, ioError } from './errors.js';
import type { Layout } from './layout.js';
import { MetaKey } from './meta-codec.js';
import type { MetaState } from './meta-state.js';
import { logKey, logKeyIndex } from './log-codec.js';

export async function clearInterruptedWrites(layout: Layout, location: string, state: MetaState, logger?: Logger): Promise<void> {
  for (const [key, generation] of [
    [MetaKey.staging, state.staging],
    [MetaKey.retired, state.retired],
  ] as const) {
    if (generation === undefined) continue;
    if (generation === state.generation) {
      throw new StorageError('CORRUPT', `database ${location}: the ${key} keyspace generation ${generation} is the live one`);
    }
    try {
      await layout.keyspace(generation).clear();
      await layout.meta.del(key);
    } catch (err) {
      throw ioError(location, `clearing the ${key} keyspace generation ${generation}`, err);
    }
    logger?.info({ generation, kind: key }, 'cleared a keyspace generation left by an interrupted snapshot installation');
  }
  try {
    await layout.log.clear({ lte: logKey(state.snapshot.index) });
  } catch (err) {
    throw ioError(location, 'deleting log entries below the compaction point', err);
  }
}

/** The index of the last log entry, or the compaction point's when the log holds none after it. */
export async function readLastIndex(layout: Layout, location: string, compactedIndex: number): Promise<number> {
  try {
    for await (const key of layout.log.keys({ reverse: true, limit: 1 })) {
      const index = logKeyIndex(key);
      if (index === undefined) throw new StorageError('CORRUPT', `database ${location}: a log key is ${key.length} bytes, not 8`);
      return Math.max(index, compactedIndex);
    }
  } catch (err) {
    throw err instanceof StorageError ? err : ioError(location, 'reading the log', err);
  }
  return compactedIndex;
}
