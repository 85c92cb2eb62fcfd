// The small PromQL helpers the dashboard and alert checks rely on.
import assert from 'node:assert/strict';
import { resolveGrafanaVariables, splitTopLevelConjunctions, stripThreshold, underlyingExpressions } from '../support/promql.js';

describe('PromQL helpers for the metrics checks', () => {
  it('drops a trailing threshold comparison, keeping comparisons and numbers inside parentheses', () => {
    assert.equal(stripThreshold('max by (job) (raftchat_raft_has_leader) < 1'), 'max by (job) (raftchat_raft_has_leader)');
    assert.equal(stripThreshold('histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m]))) > 0.5'), 'histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))');
    assert.equal(stripThreshold('a - b <= 0'), 'a - b');
    assert.equal(stripThreshold('x >= bool 1e3'), 'x');
    assert.equal(stripThreshold('rate(x{code!="OK"}[5m])'), 'rate(x{code!="OK"}[5m])');
    assert.equal(stripThreshold('(a > 1) or b'), '(a > 1) or b');
  });

  it('splits at top-level and/unless only', () => {
    assert.deepEqual(splitTopLevelConjunctions('a - b <= 0\nand max(c) > 1'), ['a - b <= 0', 'max(c) > 1']);
    assert.deepEqual(splitTopLevelConjunctions('(a and b) or c'), ['(a and b) or c']);
    assert.deepEqual(splitTopLevelConjunctions('x{band="and"} unless y'), ['x{band="and"}', 'y']);
    assert.deepEqual(underlyingExpressions('a > 1 and b < 2'), ['a', 'b']);
  });

  it('resolves Grafana variables to their All value and the rate interval', () => {
    assert.equal(
      resolveGrafanaVariables('rate(x{namespace=~"$namespace", job=~"${job}"}[$__rate_interval])', '1m'),
      'rate(x{namespace=~".*", job=~".*"}[1m])',
    );
  });
});
