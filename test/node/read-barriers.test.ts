// ReadBarriers (src/node/waiters.ts): batched ReadIndex requests, and answers matched to the request
// that asked — never to a request of a previous run of the replica.
import assert from 'node:assert/strict';
import { ReadBarriers } from '../../src/node/waiters.js';

function barriers(): { reads: ReadBarriers; issued: Uint8Array[] } {
  const issued: Uint8Array[] = [];
  return { reads: new ReadBarriers((ctx) => issued.push(ctx)), issued };
}

const timeout = () => new Error('timed out');

describe('ReadBarriers', () => {
  it('lets the readers of one request through once the applied index reaches its answer', async () => {
    const { reads, issued } = barriers();
    let done = 0;
    const waiting = [reads.wait(Date.now() + 5_000, timeout), reads.wait(Date.now() + 5_000, timeout)].map((p) => p.then(() => done++));
    reads.flush();
    assert.equal(issued.length, 1, 'one request for both readers');
    reads.answered(issued[0]!, 7, 6);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(done, 0, 'applied 6 < read index 7');
    reads.applied(7);
    await Promise.all(waiting);
    assert.equal(done, 2);
  });

  it('never takes an answer meant for a request of an earlier run (the names differ across restarts)', async () => {
    const before = barriers();
    void before.reads.wait(Date.now() + 5_000, timeout).catch(() => undefined);
    before.reads.flush();
    // The replica restarts; its new first request must not be answered by the old one's late reply.
    const after = barriers();
    let answered = false;
    const waiting = after.reads.wait(Date.now() + 200, timeout).then(() => { answered = true; }, () => undefined);
    after.reads.flush();
    assert.notDeepEqual([...after.issued[0]!], [...before.issued[0]!]);
    after.reads.answered(before.issued[0]!, 10, 10);
    await waiting;
    assert.equal(answered, false, 'an old answer released a new read');
  });
});
