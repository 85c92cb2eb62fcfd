// Static checks of the Grafana dashboard and the alert rules against the metrics the code exports.
// (That every query returns data from a real cluster is test/metrics/e2e's job.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createMetrics } from '../../../src/metrics/index.js';
import { parseExposition } from '../support/exposition.js';
import { dashboardQueries } from '../support/promql.js';

const root = resolve(import.meta.dirname, '../../..');
const dashboardText = readFileSync(resolve(root, 'monitoring/grafana/raftchat-dashboard.json'), 'utf8');
const alertsText = readFileSync(resolve(root, 'monitoring/prometheus/raftchat-alerts.yaml'), 'utf8');

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Array<{ expr: string; refId: string }>;
}
interface Variable {
  name: string;
  includeAll?: boolean;
  allValue?: string;
  current?: { value?: string[] };
}
const dashboard = JSON.parse(dashboardText) as { uid: string; panels: Panel[]; templating: { list: Variable[] } };

/** Every metric family the code exports (histograms by their base name), defaults included. */
async function exportedFamilies(): Promise<Set<string>> {
  const metrics = createMetrics({ nodeId: 'n0' });
  metrics.observePeerRoundTripSeconds('n1', 0.001);
  return new Set(parseExposition(await metrics.text()).keys());
}

/** Metric names a PromQL expression selects, with histogram suffixes taken off. */
function metricNames(expr: string): string[] {
  const names = expr.match(/\b(raftchat_[a-z_]+|grpc_server_[a-z_]+|process_[a-z_]+|nodejs_[a-z0-9_]+)\b/g) ?? [];
  return names.map((n) => n.replace(/_(bucket|sum|count)$/, ''));
}

describe('the Grafana dashboard and the alert rules', () => {
  it('query only metrics the code exports', async () => {
    const exported = await exportedFamilies();
    const used = new Set([...dashboardQueries(dashboard).flatMap((q) => metricNames(q.expr)), ...metricNames(alertsText)]);
    assert.ok(used.size > 25, `the dashboard and alerts use ${used.size} metrics`);
    for (const name of used) assert.ok(exported.has(name), `${name} is queried but not exported`);
  });

  it('filter every selector by the namespace, release and job variables', () => {
    const queries = dashboardQueries(dashboard);
    assert.ok(queries.length >= 30, `found ${queries.length} queries`);
    for (const { where, expr } of queries) {
      for (const selector of expr.match(/\{[^}]*\}/g) ?? []) {
        for (const matcher of ['namespace=~"$namespace"', 'release=~"$release"', 'job=~"$job"']) {
          assert.ok(selector.includes(matcher), `${where}: ${selector} lacks ${matcher}`);
        }
      }
      // A metric without braces would ignore the variables.
      assert.doesNotMatch(expr, /\b(raftchat_[a-z_]+|grpc_server_[a-z_]+|process_[a-z_]+|nodejs_[a-z0-9_]+|up)\b(?!\{)(?![a-z_(])/, `${where}: unfiltered metric`);
    }
  });

  it('default its template variables to All = .*, which also matches series without the label', () => {
    for (const name of ['namespace', 'release', 'job']) {
      const v = dashboard.templating.list.find((t) => t.name === name);
      assert.ok(v !== undefined, `variable ${name}`);
      assert.equal(v.includeAll, true);
      assert.equal(v.allValue, '.*');
      assert.deepEqual(v.current?.value, ['$__all']);
    }
  });

  it('lays out panels with unique ids inside the 24-column grid, each with a title and a query', () => {
    const ids = new Set<number>();
    for (const p of dashboard.panels) {
      assert.ok(!ids.has(p.id), `duplicate panel id ${p.id}`);
      ids.add(p.id);
      assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${p.title} overflows the grid`);
      assert.ok(p.title.length > 0);
      if (p.type !== 'row') assert.ok((p.targets ?? []).length > 0, `${p.title} has no query`);
    }
    assert.equal(dashboard.uid, 'raftchat-overview');
  });

  it('give every alert a severity, a summary, a description and runbook text', () => {
    const alerts = alertsText.split(/\n\s*- alert: /).slice(1);
    assert.equal(alerts.length, 8);
    for (const alert of alerts) {
      const name = alert.split('\n')[0];
      for (const key of ['severity:', 'summary:', 'description:', 'runbook: |', 'for:']) assert.ok(alert.includes(key), `${name} lacks ${key}`);
    }
  });
});
