// The benchmark's medians over repeated runs of a point (bench/phases/throughput.ts combineRuns): what
// the report prints as a point's figures when it ran more than once.
import assert from 'node:assert/strict';
import { combineRuns, type PointResult } from '../../bench/phases/throughput.js';

function point(ops: number, p99: number, extra: Partial<PointResult> = {}): PointResult {
  return {
    mode: 'send',
    concurrency: 64,
    ops_per_s: ops,
    p50_ms: ops / 100,
    p95_ms: p99 / 2,
    p99_ms: p99,
    mean_ms: 1,
    max_ms: p99 * 2,
    errors: 0,
    error_codes: {},
    leader_changes: 0,
    client_cpu_pct: 30,
    replica_cpu_pct: { n0: ops / 10 },
    cluster_cpu_ms_per_op: 1,
    client_cpu_ms_per_op: 0.2,
    leader: `leader-of-${ops}`,
    rss_peak_mib: { n0: ops },
    replicas: {},
    load_avg_1m: { before: ops, after: ops + 1 },
    ...extra,
  };
}

describe('bench: combining runs of a point', () => {
  it('gives each headline figure its own median, sums errors and leader changes, keeps the largest max', () => {
    const combined = combineRuns([
      point(1_400, 120, { errors: 1, error_codes: { UNAVAILABLE: 1 } }),
      point(1_600, 90),
      point(1_500, 100, { leader_changes: 1, errors: 2, error_codes: { UNAVAILABLE: 1, DEADLINE_EXCEEDED: 1 } }),
    ]);
    assert.equal(combined.ops_per_s, 1_500);
    assert.equal(combined.p99_ms, 100);
    assert.equal(combined.p50_ms, 15);
    assert.equal(combined.max_ms, 240);
    assert.equal(combined.errors, 3);
    assert.deepEqual(combined.error_codes, { UNAVAILABLE: 2, DEADLINE_EXCEEDED: 1 });
    assert.equal(combined.leader_changes, 1);
    assert.deepEqual(combined.load_avg_1m, { before: 1_400, after: 1_501 });
    assert.deepEqual(combined.runs?.map((r) => r.ops_per_s), [1_400, 1_600, 1_500]);
  });

  it('takes what has no median (leader, per-replica readings, peak RSS) from the run of median throughput', () => {
    const combined = combineRuns([point(1_000, 100), point(3_000, 100), point(2_000, 100), point(4_000, 100)]);
    // Four runs: the median throughput is 2,500; the run below it is the one whose details are shown.
    assert.equal(combined.ops_per_s, 2_500);
    assert.equal(combined.leader, 'leader-of-2000');
    assert.deepEqual(combined.rss_peak_mib, { n0: 2_000 });
  });

  it('leaves a single run as it is', () => {
    const only = point(1_234, 99);
    assert.equal(combineRuns([only]), only);
  });
});
