import assert from 'node:assert/strict';
import { IdleCollector, collectWhenIdle } from '../../src/node/idle-gc.js';

describe('collecting garbage when a replica comes to rest', () => {
  it('collects at the first look without progress after work, then not again until more work', () => {
    let progress = 0;
    let collections = 0;
    const collector = new IdleCollector(() => progress, () => collections++);
    assert.equal(collector.look(), false, 'at rest since start: nothing to collect');
    progress = 10;
    assert.equal(collector.look(), false, 'working');
    progress = 20;
    assert.equal(collector.look(), false, 'still working');
    assert.equal(collector.look(), true, 'a whole interval without progress');
    assert.equal(collector.look(), false, 'the rest goes on');
    assert.equal(collector.look(), false);
    progress = 21;
    assert.equal(collector.look(), false);
    assert.equal(collector.look(), true, 'the next rest after more work');
    assert.equal(collections, 2);
  });

  it('frees the garbage a burst left behind (a real full collection)', async () => {
    let progress = 0;
    const freed: number[] = [];
    let resolveCollected!: () => void;
    const collected = new Promise<void>((resolve) => (resolveCollected = resolve));
    const stop = collectWhenIdle({
      progress: () => progress,
      intervalMs: 25,
      onCollect: (bytes) => {
        freed.push(bytes);
        resolveCollected();
      },
    });
    try {
      const left = burst();
      progress++;
      await collected;
      const survivors = left.filter((array) => array.deref() !== undefined).length;
      assert.equal(survivors, 0, `${survivors} of the burst's ${left.length} arrays survived the collection (it freed ${freed[0]} bytes)`);
    } finally {
      stop();
    }
  });
});

/**
 * Work that leaves ~50 MB of garbage behind: arrays too large for the young generation, so only a
 * full collection frees them (a scavenge never does), watched through weak references. Each is held
 * until this turn of the event loop ends, so nothing frees them before the collector's first look.
 */
function burst(): WeakRef<number[]>[] {
  return Array.from({ length: 50 }, (_, i) => new WeakRef(new Array(128 * 1024).fill(i)));
}
