// The alert rules pass promtool's checks and their unit tests (monitoring/prometheus/*.test.yaml).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { requirePrometheusBinaries } from './support/prometheus.js';

const rulesDir = resolve(import.meta.dirname, '../../../monitoring/prometheus');

function promtool(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { cwd: rulesDir, encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('the raftchat alert rules, under promtool', () => {
  before(requirePrometheusBinaries);

  it('parse and pass promtool check rules', () => {
    const run = promtool('check', 'rules', 'raftchat-alerts.yaml');
    assert.equal(run.status, 0, run.output);
    assert.match(run.output, /SUCCESS: 8 rules found/);
  });

  it('fire and stay quiet as their unit tests expect (promtool test rules)', () => {
    const run = promtool('test', 'rules', 'raftchat-alerts.test.yaml');
    assert.equal(run.status, 0, run.output);
    assert.match(run.output, /SUCCESS/);
  });
});
