// NOTES.txt, as `helm install --dry-run` prints it (Helm 3 still asks a cluster for its version, so both
// run against the loopback fake API): the next commands a user needs, adapted to the values.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startFakeApi, type FakeApi } from './support/fake-api.js';
import { helmHome, type Values } from './support/render.js';
import { CHART_DIR, ensureTools, FETCH_TIMEOUT_MS, helm, HELMS, type Helm } from './support/tools.js';

describe('chart: NOTES.txt', function () {
  let home: { dir: string; dispose: () => Promise<void> };
  let api: FakeApi;
  before(async function () {
    this.timeout(FETCH_TIMEOUT_MS);
    await ensureTools();
    home = await helmHome();
    api = await startFakeApi(home.dir);
  });
  after(async () => {
    await api.close();
    await home.dispose();
  });

  async function notes(which: Helm, values: Values): Promise<string> {
    const file = path.join(home.dir, `notes-${process.hrtime.bigint()}.json`);
    await writeFile(file, JSON.stringify(values));
    const args = ['install', 'raftchat', CHART_DIR, '--namespace', 'raftchat', '--values', file];
    args.push('--dry-run=client', '--disable-openapi-validation', '--kubeconfig', api.kubeconfig);
    const result = await helm(which, args, home.dir);
    assert.equal(result.code, 0, result.stderr);
    const start = result.stdout.indexOf('NOTES:');
    assert.ok(start >= 0, 'helm printed NOTES');
    return result.stdout.slice(start);
  }

  for (const which of HELMS) {
    it(`tells the user how to reach, check, test and scale the cluster under ${which.name}`, async () => {
      const text = await notes(which, {});
      for (const expected of [
        'kubectl -n raftchat port-forward svc/raftchat 50051:50051',
        'chatctl --servers 127.0.0.1:50051 status',
        'helm test raftchat -n raftchat',
        'kubectl -n raftchat scale statefulset/raftchat --replicas=7',
        'It keeps serving while 2 of them are down.',
        'kubectl -n raftchat delete secret raftchat-secret',
      ]) {
        assert.ok(text.includes(expected), `NOTES mention: ${expected}\n${text}`);
      }
      assert.ok(!text.includes('CHAOS IS ON'));
    });
  }

  it('adds the CA command with client TLS, warns about chaos, and spares a Secret the user owns', async () => {
    const text = await notes(HELMS[1], { replicas: 7, tls: { client: true }, chaos: { enabled: true }, auth: { existingSecret: 'mine' } });
    assert.ok(text.includes("get secret raftchat-tls -o jsonpath='{.data.ca\\.crt}'"), text);
    assert.ok(text.includes('It keeps serving while 3 of them are down.'));
    assert.ok(text.includes('CHAOS IS ON: CronJob raftchat-chaos'));
    assert.ok(!text.includes('delete secret mine'));
    assert.ok(text.includes('get secret mine'), 'the admin token comes from the user’s Secret');
  });
});
