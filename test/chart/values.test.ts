// values.yaml and values.schema.json: every value documented, every object closed, and Helm 3 and 4
// refusing a misspelt key or a wrong type at install time.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { load } from 'js-yaml';
import { helmHome, templateRaw, type Values } from './support/render.js';
import { CHART_DIR, ensureTools, FETCH_TIMEOUT_MS, HELMS } from './support/tools.js';
import { documentedLeaves, keyLines, openObjects, type SchemaNode } from './support/values-doc.js';

/** Values that must be refused, each with a word the error must name. */
const BAD_VALUES: readonly { name: string; values: Values; mentions: RegExp }[] = [
  { name: 'a misspelt top-level key', values: { replica: 3 }, mentions: /replica/ },
  { name: 'a misspelt nested key', values: { tls: { clinet: true } }, mentions: /clinet/ },
  { name: 'a misspelt key three levels down', values: { monitoring: { serviceMonitor: { intervall: '15s' } } }, mentions: /intervall/ },
  { name: 'a misspelt key inside a probe', values: { probes: { readiness: { periodSecond: 5 } } }, mentions: /periodSecond/ },
  { name: 'a string where a number belongs', values: { replicas: 'five' }, mentions: /replicas/ },
  { name: 'a string where a boolean belongs', values: { networkPolicy: { enabled: 'yes' } }, mentions: /enabled/ },
  { name: 'a number where a duration belongs', values: { chaos: { interval: 30 } }, mentions: /interval/ },
  { name: 'a value outside its enum', values: { persistence: { retentionPolicy: { whenDeleted: 'Keep' } } }, mentions: /whenDeleted/ },
  { name: 'zero replicas', values: { replicas: 0 }, mentions: /replicas/ },
  { name: 'per-pod certificates without cert-manager', values: { tls: { peer: true, certManager: { csiDriver: true } } }, mentions: /enabled/ },
  {
    name: 'per-pod certificates with an existing TLS Secret',
    values: { tls: { peer: true, existingSecret: 'mine', certManager: { enabled: true, csiDriver: true } } },
    mentions: /existingSecret/,
  },
  {
    name: 'an unknown field in a NetworkPolicy source',
    values: { networkPolicy: { client: { from: [{ podSelectr: {} }] } } },
    mentions: /podSelectr/,
  },
];

describe('chart: values and their schema', function () {
  let home: { dir: string; dispose: () => Promise<void> };
  let schema: SchemaNode;
  let valuesText: string;
  before(async function () {
    this.timeout(FETCH_TIMEOUT_MS);
    await ensureTools();
    home = await helmHome();
    schema = JSON.parse(await readFile(`${CHART_DIR}/values.schema.json`, 'utf8')) as SchemaNode;
    valuesText = await readFile(`${CHART_DIR}/values.yaml`, 'utf8');
  });
  after(() => home.dispose());

  it('documents every value in values.yaml with a comment right above it', () => {
    const lines = keyLines(valuesText);
    const leaves = documentedLeaves(schema, load(valuesText));
    assert.ok(leaves.length > 50, `found only ${leaves.length} values`);
    const missing = leaves.filter((path) => lines.get(path) === undefined);
    const uncommented = leaves.filter((path) => lines.get(path)?.commented === false);
    assert.deepEqual(missing, [], 'values in the schema without a default in values.yaml');
    assert.deepEqual(uncommented, [], 'values without a comment');
  });

  it('closes every object in the schema (additionalProperties false, or a typed map)', () => {
    assert.deepEqual(openObjects(schema), []);
  });

  it('is a draft-07 schema', () => {
    assert.equal((schema as { $schema?: string }).$schema, 'http://json-schema.org/draft-07/schema#');
  });

  for (const which of HELMS) {
    describe(which.name, () => {
      for (const bad of BAD_VALUES) {
        it(`refuses ${bad.name}`, async () => {
          const result = await templateRaw(which, home.dir, { values: bad.values });
          assert.notEqual(result.code, 0, `rendered anyway:\n${result.stdout.slice(0, 300)}`);
          assert.match(result.stderr, /schema/i);
          assert.match(result.stderr, bad.mentions);
        });
      }
    });
  }
});
