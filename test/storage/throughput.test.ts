// Group commit, measured: 10k log entries appended with fsync one per batch versus 100 per batch.
// Prints entries/s and asserts only that everything written reads back, never a speed.
import assert from 'node:assert/strict';
import { ReplicaStore } from '../../src/storage/index.js';
import { TempDirs, entries } from './helpers.js';

const TOTAL_ENTRIES = 10_000;
const PAYLOAD = 'x'.repeat(200);

describe('ReplicaStore synced append throughput', function () {
  this.timeout(180_000);
  const temp = new TempDirs();
  afterEach(() => temp.cleanup());

  for (const entriesPerBatch of [1, 100]) {
    it(`appends ${TOTAL_ENTRIES} entries with fsync in batches of ${entriesPerBatch} and reads them all back`, async () => {
      const dir = await temp.make();
      let fsyncs = 0;
      const store = await ReplicaStore.open(dir, { onWrite: (_ms, _n, _bytes, synced) => void (synced && fsyncs++) });
      const all = entries(1, TOTAL_ENTRIES, 1).map((e) => ({ ...e, data: new TextEncoder().encode(PAYLOAD) }));
      const startMs = performance.now();
      for (let i = 0; i < TOTAL_ENTRIES; i += entriesPerBatch) {
        await store.persist({ hardState: { term: 1, vote: 'n1', commit: i }, entries: all.slice(i, i + entriesPerBatch) }, { sync: true });
      }
      const elapsedMs = performance.now() - startMs;
      const perSecond = Math.round((TOTAL_ENTRIES / elapsedMs) * 1000);
      console.log(`      ${TOTAL_ENTRIES} entries of ${PAYLOAD.length} B, ${entriesPerBatch}/batch, sync: ${elapsedMs.toFixed(0)} ms, ${perSecond} entries/s, ${fsyncs} fsyncs`);
      await store.close();
      const reopened = await ReplicaStore.open(dir);
      const state = await reopened.load();
      assert.equal(state.entries.length, TOTAL_ENTRIES);
      assert.equal(state.entries.at(-1)?.index, TOTAL_ENTRIES);
      assert.equal(fsyncs, TOTAL_ENTRIES / entriesPerBatch);
      await reopened.close();
    });
  }
});
