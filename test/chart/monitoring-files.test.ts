// The chart's copies of the dashboard and alert rules (Helm reads only files inside the chart) must stay
// byte-identical to monitoring/, where they are written and tested, and reach the rendered objects intact.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { load } from 'js-yaml';
import { at, helmHome, only, render } from './support/render.js';
import { CHART_DIR, ensureTools, FETCH_TIMEOUT_MS, HELMS, REPO_ROOT } from './support/tools.js';

const COPIES = [
  { chart: 'files/raftchat-dashboard.json', source: 'monitoring/grafana/raftchat-dashboard.json' },
  { chart: 'files/raftchat-alerts.yaml', source: 'monitoring/prometheus/raftchat-alerts.yaml' },
] as const;

describe('chart: monitoring files', function () {
  let home: { dir: string; dispose: () => Promise<void> };
  before(async function () {
    this.timeout(FETCH_TIMEOUT_MS);
    await ensureTools();
    home = await helmHome();
  });
  after(() => home.dispose());

  for (const copy of COPIES) {
    it(`keeps charts/raftchat/${copy.chart} byte-identical to ${copy.source} (scripts/render-manifests.sh copies it)`, async () => {
      const [inChart, source] = await Promise.all([readFile(`${CHART_DIR}/${copy.chart}`), readFile(`${REPO_ROOT}${copy.source}`)]);
      assert.ok(source.length > 0);
      assert.ok(inChart.equals(source), `${copy.chart} differs from ${copy.source}`);
    });
  }

  for (const which of HELMS) {
    it(`puts the dashboard JSON and the alert groups into the objects unchanged under ${which.name}`, async () => {
      const objects = await render(which, home.dir, {
        values: { monitoring: { prometheusRule: { enabled: true }, grafanaDashboard: { enabled: true } } },
      });
      const dashboard = await readFile(`${REPO_ROOT}monitoring/grafana/raftchat-dashboard.json`, 'utf8');
      const configMap = only(objects, 'ConfigMap', 'raftchat-dashboard');
      assert.equal(at(configMap, 'data', 'raftchat-dashboard.json'), dashboard);
      const rules = load(await readFile(`${REPO_ROOT}monitoring/prometheus/raftchat-alerts.yaml`, 'utf8')) as { groups: unknown[] };
      assert.deepEqual(at(only(objects, 'PrometheusRule', 'raftchat'), 'spec'), { groups: rules.groups });
    });
  }
});
