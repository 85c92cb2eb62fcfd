// `npm run bench:compact`: what a log compaction costs a replica that keeps writing. A real
// ReplicaStore on a temp dir takes synced 16-entry appends (a Ready's persist) and applies them, the
// way a replica at ~1,000 writes/s does; every `--every` entries it compacts, keeping `--keep`, as
// Replica.compact does with the defaults (snapshot every 10,000 entries, keep 2,000). Printed per
// compaction: how long compactLog took to return, the longest the event loop went without running a
// 1 ms timer while it ran and for `--after-ms` after, and the slowest persist in that window. It
// measures; it never fails.
//
//   node --import tsx bench/compact.ts [--compactions 5] [--every 10000] [--keep 2000] [--after-ms 300]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { EntryType, type Entry } from '../src/raft/types.js';
import { ReplicaStore } from '../src/storage/index.js';

const { values: flags } = parseArgs({
  options: {
    compactions: { type: 'string', default: '5' },
    every: { type: 'string', default: '10000' },
    keep: { type: 'string', default: '2000' },
    'after-ms': { type: 'string', default: '300' },
  },
});
const compactions = Number(flags.compactions);
const every = Number(flags.every);
const keep = Number(flags.keep);
const afterMs = Number(flags['after-ms']);
const BATCH = 16;
const TERM = 1;
const data = new Uint8Array(256).fill(7);

/** The longest gap between runs of a 1 ms interval timer while it is on: how long the loop was held. */
class StallMeter {
  private last = performance.now();
  private longestMs = 0;
  private readonly timer = setInterval(() => {
    const now = performance.now();
    this.longestMs = Math.max(this.longestMs, now - this.last);
    this.last = now;
  }, 1);

  stop(): number {
    clearInterval(this.timer);
    return Math.max(this.longestMs, performance.now() - this.last);
  }
}

const directory = await mkdtemp(join(tmpdir(), 'raftchat-bench-compact-'));
const store = await ReplicaStore.open(directory);
let next = 1;
/** One Ready's worth: 16 entries appended (synced) and applied. Returns the persist's duration. */
const writeBatch = async (): Promise<number> => {
  const entries = Array.from({ length: BATCH }, (): Entry => ({ term: TERM, index: next++, type: EntryType.Normal, data }));
  const startedAt = performance.now();
  await store.persist({ entries, hardState: { term: TERM, vote: '', commit: next - 1 } }, { sync: true });
  const persistMs = performance.now() - startedAt;
  await store.applyBatch([], next - 1, TERM);
  return persistMs;
};

console.log(`compaction benchmark: ${BATCH}-entry synced appends of ${data.length} B, compact every ${every} entries keeping ${keep}, node ${process.version}`);
console.log('COMPACTION  ENTRIES DELETED  RETURNED AFTER MS  LONGEST LOOP STALL MS  SLOWEST PERSIST MS (WITHIN ' + afterMs + ' MS)  TYPICAL PERSIST MS');
try {
  let compactedTo = 0;
  for (let round = 1; round <= compactions; round++) {
    const typical: number[] = [];
    while (next - 1 - compactedTo < every + keep) typical.push(await writeBatch());
    typical.sort((a, b) => a - b);
    const upTo = next - 1 - keep;
    const meter = new StallMeter();
    const startedAt = performance.now();
    const compaction = store.compactLog(upTo, TERM, { voters: ['n1'], learners: [] });
    let slowestPersist = 0;
    // Writes go on meanwhile, as the next Readys of a loaded replica would.
    const writing = (async () => {
      while (performance.now() - startedAt < afterMs) slowestPersist = Math.max(slowestPersist, await writeBatch());
    })();
    await compaction;
    const returnedMs = performance.now() - startedAt;
    await writing;
    const stallMs = meter.stop();
    console.log(
      [
        String(round).padStart(10),
        String(upTo - compactedTo).padStart(17),
        returnedMs.toFixed(1).padStart(19),
        stallMs.toFixed(1).padStart(23),
        slowestPersist.toFixed(1).padStart(42),
        (typical[Math.floor(typical.length / 2)] ?? 0).toFixed(2).padStart(20),
      ].join(''),
    );
    compactedTo = upTo;
  }
} finally {
  await store.close();
  await rm(directory, { recursive: true, force: true });
}
