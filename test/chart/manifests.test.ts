// k8s/: the rendered manifests match a fresh render of the chart, `kubectl kustomize k8s/` builds valid
// objects once secret.env exists and refuses to build without it, and the kind config is multi-node.
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { load } from 'js-yaml';
import { at, only, parseManifests, type K8sObject } from './support/render.js';
import { ensureTools, FETCH_TIMEOUT_MS, KUBECTL, REPO_ROOT, run } from './support/tools.js';
import { validateObject } from './support/validate.js';

const K8S_DIR = `${REPO_ROOT}k8s`;

describe('k8s/ plain manifests', function () {
  let work: string;
  before(async function () {
    this.timeout(FETCH_TIMEOUT_MS);
    await ensureTools();
    work = await mkdtemp(path.join(tmpdir(), 'raftchat-k8s-'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  /** A copy of k8s/ (without any real secret.env) to build from. */
  async function copyOfK8s(): Promise<string> {
    const dir = await mkdtemp(path.join(work, 'copy-'));
    for (const name of await readdir(K8S_DIR)) {
      if (name.endsWith('.yaml')) await copyFile(path.join(K8S_DIR, name), path.join(dir, name));
    }
    return dir;
  }

  it('match a fresh render of the chart (run scripts/render-manifests.sh after changing the chart)', async () => {
    const fresh = path.join(work, 'raftchat.yaml');
    const result = await run('bash', [`${REPO_ROOT}scripts/render-manifests.sh`, fresh]);
    assert.equal(result.code, 0, result.stderr);
    const [committed, rendered] = await Promise.all([readFile(`${K8S_DIR}/raftchat.yaml`, 'utf8'), readFile(fresh, 'utf8')]);
    assert.ok(committed === rendered, 'k8s/raftchat.yaml is stale: run scripts/render-manifests.sh');
  });

  it('build with `kubectl kustomize` into valid objects in namespace raftchat, the Secret from secret.env', async () => {
    const dir = await copyOfK8s();
    await writeFile(path.join(dir, 'secret.env'), 'cluster-secret=test-cluster-secret\nadmin-token=test-admin-token\n');
    const result = await run(KUBECTL, ['kustomize', dir]);
    assert.equal(result.code, 0, result.stderr);
    const objects = parseManifests(result.stdout);
    assert.deepEqual(objects.flatMap(validateObject), []);
    const namespaced = objects.filter((o) => o.kind !== 'Namespace');
    assert.deepEqual(namespaced.filter((o) => o.metadata.namespace !== 'raftchat').map((o) => o.metadata.name), []);
    only(objects, 'Namespace', 'raftchat');
    const secret = only(objects, 'Secret', 'raftchat-secret');
    assert.deepEqual(secret['data'], {
      'cluster-secret': Buffer.from('test-cluster-secret').toString('base64'),
      'admin-token': Buffer.from('test-admin-token').toString('base64'),
    });
    type Volume = { name: string; secret?: { secretName: string } };
    const volumes = at(only(objects, 'StatefulSet', 'raftchat'), 'spec', 'template', 'spec', 'volumes') as Volume[];
    assert.equal(volumes.find((v) => v.name === 'secret')?.secret?.secretName, 'raftchat-secret');
    assert.deepEqual(objects.filter((o: K8sObject) => o.kind === 'Pod'), [], 'no helm test pod in plain manifests');
    for (const o of objects) assert.equal(o.metadata.labels?.['app.kubernetes.io/managed-by'], 'kustomize', `${o.kind}/${o.metadata.name}`);
  });

  it('refuse to build without secret.env, naming the missing file', async () => {
    const result = await run(KUBECTL, ['kustomize', await copyOfK8s()]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /secret\.env/);
  });

  it('keep secret.env out of git', async () => {
    assert.match(await readFile(`${K8S_DIR}/.gitignore`, 'utf8'), /^secret\.env$/m);
  });

  it('describe a kind cluster with one control plane and at least three workers', async () => {
    const config = load(await readFile(`${K8S_DIR}/kind-cluster.yaml`, 'utf8')) as { kind: string; nodes: { role: string }[] };
    assert.equal(config.kind, 'Cluster');
    assert.equal(config.nodes.filter((n) => n.role === 'control-plane').length, 1);
    assert.ok(config.nodes.filter((n) => n.role === 'worker').length >= 3);
  });
});
