// `helm lint --strict` of the chart with its defaults and with every optional part on, under Helm 3 and 4.
import assert from 'node:assert/strict';
import { ALL_ON } from './support/cases.js';
import { helmHome } from './support/render.js';
import { CHART_DIR, ensureTools, FETCH_TIMEOUT_MS, helm, HELMS } from './support/tools.js';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

describe('chart: helm lint --strict', function () {
  let home: { dir: string; dispose: () => Promise<void> };
  before(async function () {
    this.timeout(FETCH_TIMEOUT_MS);
    await ensureTools();
    home = await helmHome();
  });
  after(() => home.dispose());

  for (const which of HELMS) {
    it(`passes under ${which.name} with the default values`, async () => {
      const result = await helm(which, ['lint', '--strict', CHART_DIR], home.dir);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    });

    it(`passes under ${which.name} with TLS, monitoring, chaos and restricted sources all on`, async () => {
      const file = path.join(home.dir, 'all-on.json');
      await writeFile(file, JSON.stringify(ALL_ON));
      const result = await helm(which, ['lint', '--strict', CHART_DIR, '--values', file], home.dir);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /0 chart\(s\) failed/);
    });
  }
});
