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
      // ~50 MB of short-lived arrays, counted as work, then rest.
      const burst = setInterval(() => {
        for (let i = 0; i < 10; i++) new Array(128 * 1024).fill(i);
        progress++;
        if (progress === 5) clearInterval(burst);
      }, 5);
      await collected;
      assert.ok(freed[0]! > 0, `the collection freed ${freed[0]} bytes`);
    } finally {
      stop();
    }
  });
});
