// The cluster secret, admin token and the chart's own TLS CA survive upgrades: rendered against a fake
// API server (`--dry-run=server`, so `lookup` runs), the chart reuses a live Secret's data and only makes
// new random values when there is none.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { startFakeApi, type FakeApi } from './support/fake-api.js';
import { helmHome, only, render, type K8sObject, type Values } from './support/render.js';
import { ensureTools, FETCH_TIMEOUT_MS, HELMS, type Helm } from './support/tools.js';

const b64 = (text: string): string => Buffer.from(text).toString('base64');

/** A Secret as a previous install left it: with Helm's ownership metadata, so Helm may adopt it again. */
function liveSecret(name: string, type: string, data: Record<string, string>): object {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace: 'raftchat',
      labels: { 'app.kubernetes.io/managed-by': 'Helm' },
      annotations: {
        'meta.helm.sh/release-name': 'raftchat',
        'meta.helm.sh/release-namespace': 'raftchat',
        'helm.sh/resource-policy': 'keep',
      },
    },
    type,
    data,
  };
}

function secretData(objects: readonly K8sObject[], name: string): Record<string, string> {
  return only(objects, 'Secret', name)['data'] as Record<string, string>;
}

describe('chart: secrets that survive upgrades', function () {
  let home: { dir: string; dispose: () => Promise<void> };
  let api: FakeApi;
  before(async function () {
    this.timeout(FETCH_TIMEOUT_MS);
    await ensureTools();
    home = await helmHome();
  });
  beforeEach(async () => {
    api = await startFakeApi(home.dir);
  });
  afterEach(() => api.close());
  after(() => home.dispose());

  const renderLive = (which: Helm, values?: Values): Promise<K8sObject[]> =>
    render(which, home.dir, {
      ...(values === undefined ? {} : { values }),
      extraArgs: ['--kubeconfig', api.kubeconfig, '--dry-run=server', '--disable-openapi-validation'],
    });

  for (const which of HELMS) {
    describe(which.name, () => {
      it('reuses the live Secret’s cluster secret and admin token', async () => {
        api.secrets.set(
          'raftchat/raftchat-secret',
          liveSecret('raftchat-secret', 'Opaque', { 'cluster-secret': b64('the-cluster-secret'), 'admin-token': b64('the-admin-token') }),
        );
        const objects = await renderLive(which);
        assert.ok(api.requests.includes('/api/v1/namespaces/raftchat/secrets/raftchat-secret'), 'the chart looked the Secret up');
        assert.deepEqual(secretData(objects, 'raftchat-secret'), {
          'cluster-secret': b64('the-cluster-secret'),
          'admin-token': b64('the-admin-token'),
        });
        assert.equal(only(objects, 'Secret', 'raftchat-secret').metadata.annotations?.['helm.sh/resource-policy'], 'keep');
      });

      it('makes fresh 48-character random values when no Secret exists yet', async () => {
        const first = secretData(await renderLive(which), 'raftchat-secret');
        const second = secretData(await renderLive(which), 'raftchat-secret');
        for (const data of [first, second]) {
          for (const key of ['cluster-secret', 'admin-token']) {
            assert.match(Buffer.from(data[key]!, 'base64').toString(), /^[A-Za-z0-9]{48}$/);
          }
        }
        assert.notEqual(first['cluster-secret'], second['cluster-secret']);
        assert.notEqual(first['cluster-secret'], first['admin-token']);
      });

      it('reuses the live CA and certificate instead of minting a new CA on upgrade', async () => {
        const tls = { tls: { client: true, peer: true } };
        const minted = secretData(await renderLive(which, tls), 'raftchat-tls');
        api.secrets.set('raftchat/raftchat-tls', liveSecret('raftchat-tls', 'kubernetes.io/tls', minted));
        const upgraded = secretData(await renderLive(which, tls), 'raftchat-tls');
        assert.deepEqual(upgraded, minted);
        const cert = new X509Certificate(Buffer.from(minted['tls.crt']!, 'base64'));
        assert.ok(cert.verify(new X509Certificate(Buffer.from(minted['ca.crt']!, 'base64')).publicKey));
      });
    });
  }
});
