// `helm template` under Helm 3 and Helm 4 for the defaults and a matrix of options: every rendered object
// must pass validation (types, enums, required fields, no unknown fields), and each option must show.
import assert from 'node:assert/strict';
import { RENDER_CASES } from './support/cases.js';
import { helmHome, render } from './support/render.js';
import { ensureTools, FETCH_TIMEOUT_MS, HELMS } from './support/tools.js';
import { validateObject } from './support/validate.js';

describe('chart: helm template', function () {
  let home: { dir: string; dispose: () => Promise<void> };
  before(async function () {
    this.timeout(FETCH_TIMEOUT_MS);
    await ensureTools();
    home = await helmHome();
  });
  after(() => home.dispose());

  for (const which of HELMS) {
    describe(which.name, () => {
      for (const testCase of RENDER_CASES) {
        it(`renders valid objects with ${testCase.name}`, async () => {
          const objects = await render(which, home.dir, testCase.values === undefined ? {} : { values: testCase.values });
          assert.ok(objects.length > 0);
          assert.deepEqual(objects.flatMap(validateObject), []);
          for (const o of objects) assert.equal(o.metadata.namespace, 'raftchat', `${o.kind}/${o.metadata.name} namespace`);
          testCase.check(objects);
        });
      }
    });
  }
});
