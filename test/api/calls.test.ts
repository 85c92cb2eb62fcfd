// The deadline a handler works to: before the client's own, so the client hears the server's answer.
import assert from 'node:assert/strict';
import { callDeadlineMs } from '../../src/api/calls.js';

describe('the deadline a call works to', () => {
  it('ends a quarter of the time left (at most a second) before the client gives up, in whole milliseconds', () => {
    for (const remainingMs of [1, 3, 1_001, 2_222, 3_999, 10_000]) {
      const clientDeadline = Date.now() + remainingMs;
      const ours = callDeadlineMs(new Date(clientDeadline), 10_000);
      // Whole milliseconds: the deadline travels as an int64 when a follower forwards a write.
      assert.ok(Number.isInteger(ours), `deadline ${ours} for ${remainingMs} ms left is not an integer`);
      assert.ok(ours <= clientDeadline, 'never later than the client');
      assert.ok(clientDeadline - ours <= Math.min(1_000, remainingMs / 4) + 1, `${clientDeadline - ours} ms early for ${remainingMs} ms left`);
    }
  });

  it('gives calls without a deadline the default one', () => {
    const before = Date.now();
    const ours = callDeadlineMs(Infinity, 10_000);
    assert.ok(ours >= before + 10_000 && ours <= Date.now() + 10_000);
  });
});
