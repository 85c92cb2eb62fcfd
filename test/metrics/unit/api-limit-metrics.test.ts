// raftchat_api_limit_exceeded_total: one series per API limit from the start, fed by the API observer.
import assert from 'node:assert/strict';
import { limitNames } from '../../../src/api/index.js';
import { apiLimitNames, createMetrics } from '../../../src/metrics/index.js';

function series(text: string, limit: string): number | undefined {
  const match = new RegExp(`^raftchat_api_limit_exceeded_total\\{limit="${limit}"\\} (\\d+)$`, 'm').exec(text);
  return match === null ? undefined : Number(match[1]);
}

describe('raftchat_api_limit_exceeded_total', () => {
  it('knows exactly the API\'s limit names, plus other', () => {
    assert.deepEqual([...apiLimitNames].sort(), [...limitNames, 'other'].sort());
  });

  it('exports every limit at zero before anything is refused', async () => {
    const metrics = createMetrics({ nodeId: 'n1' });
    const text = await metrics.registry.metrics();
    for (const limit of apiLimitNames) assert.equal(series(text, limit), 0, `series for ${limit}`);
  });

  it('counts each refusal the API observer reports under its limit, and unknown names as other', async () => {
    const metrics = createMetrics({ nodeId: 'n1' });
    metrics.apiObserver.limitExceeded('login_throttle_peer');
    metrics.apiObserver.limitExceeded('login_throttle_peer');
    metrics.apiObserver.limitExceeded('body_bytes');
    metrics.apiObserver.limitExceeded('a-name-from-a-newer-api');
    const text = await metrics.registry.metrics();
    assert.equal(series(text, 'login_throttle_peer'), 2);
    assert.equal(series(text, 'body_bytes'), 1);
    assert.equal(series(text, 'other'), 1);
    assert.equal(series(text, 'page_size'), 0);
  });
});
