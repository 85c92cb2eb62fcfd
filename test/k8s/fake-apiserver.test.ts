// The fake API server against the real @kubernetes/client-node, and the pieces of src/k8s that talk
// to the API: the StatefulSet informer (list+watch, resume, 410 relist, restart after errors) and
// the cluster-id ConfigMap (create, 409 AlreadyExists, update).

import assert from 'node:assert/strict';
import { AppsV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, ApiException } from '@kubernetes/client-node';
import { pino } from 'pino';
import { FakeApiServer } from './fake-apiserver.js';
import { StatefulSetWatch } from '../../src/k8s/statefulset-watch.js';
import { clusterConfigMap } from '../../src/k8s/cluster-configmap.js';
import { waitUntil } from './wait.js';

const logger = pino({ level: 'silent' });

describe('k8s fake API server with the real client', () => {
  let api: FakeApiServer;
  let watch: StatefulSetWatch | undefined;

  beforeEach(async () => {
    api = await FakeApiServer.start({ historyLimit: 100 });
    api.create('statefulsets', 'chat', { metadata: { name: 'raftchat' }, spec: { replicas: 3 } });
    api.create('statefulsets', 'chat', { metadata: { name: 'unrelated' }, spec: { replicas: 7 } });
  });

  afterEach(async () => {
    await watch?.stop();
    watch = undefined;
    await api.close();
  });

  const startWatch = async () => {
    watch = new StatefulSetWatch({ kubeConfig: api.kubeConfig(), namespace: 'chat', statefulSet: 'raftchat', logger, maxRetryDelayMs: 200 });
    await watch.start();
    return watch;
  };

  it('lists the StatefulSet, then follows `kubectl scale` (PATCH on /scale) through the watch', async () => {
    const w = await startWatch();
    assert.equal(await w.waitForReplicas(), 3);
    const apps = api.kubeConfig().makeApiClient(AppsV1Api);
    const scale = await apps.patchNamespacedStatefulSetScale(
      { name: 'raftchat', namespace: 'chat', body: { spec: { replicas: 5 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    assert.equal(scale.spec?.replicas, 5);
    await waitUntil(() => w.replicas() === 5, 5_000, 'the watch saw spec.replicas=5');
    assert.ok(api.requests.some((r) => r.startsWith('GET /apis/apps/v1/namespaces/chat/statefulsets?') && r.includes('watch=true') && r.includes('fieldSelector=metadata.name%3Draftchat')));
  });

  it('resumes the watch from the last resourceVersion when the server closes it', async () => {
    const w = await startWatch();
    await w.waitForReplicas();
    const watchesBefore = api.requests.filter((r) => r.includes('watch=true')).length;
    api.closeWatches();
    await waitUntil(() => api.requests.filter((r) => r.includes('watch=true')).length > watchesBefore, 5_000, 'the client watched again');
    const lists = api.requests.filter((r) => r.includes('/statefulsets?') && !r.includes('watch=true')).length;
    assert.equal(lists, 1, 'no relist after a clean close');
    api.scale('chat', 'raftchat', 4);
    await waitUntil(() => w.replicas() === 4, 5_000, 'the resumed watch saw spec.replicas=4');
  });

  it('relists after 410 Expired when its resourceVersion fell out of the history', async () => {
    const w = await startWatch();
    await w.waitForReplicas();
    api.scale('chat', 'unrelated', 8); // history moves on without the watched object
    api.compact();
    api.closeWatches();
    const lists = () => api.requests.filter((r) => r.includes('/statefulsets?') && !r.includes('watch=true')).length;
    await waitUntil(() => lists() >= 2, 5_000, 'the client relisted after 410 Expired');
    api.scale('chat', 'raftchat', 2);
    await waitUntil(() => w.replicas() === 2, 5_000, 'spec.replicas=2 through the new watch');
  });

  it('keeps retrying after the API server fails and reports the StatefulSet once it answers', async () => {
    api.failNextRequests(3);
    const w = await startWatch();
    assert.equal(w.replicas(), undefined, 'the first list failed');
    await waitUntil(() => w.replicas() === 3, 10_000, 'a retried list found spec.replicas=3');
    const lists = api.requests.filter((r) => r.includes('/statefulsets?') && !r.includes('watch=true')).length;
    assert.ok(lists >= 4, `listed ${lists} times`);
    api.scale('chat', 'raftchat', 6);
    await waitUntil(() => w.replicas() === 6, 5_000, 'the watch works after the failures');
  });

  it('answers errors with Status objects the client turns into ApiException codes', async () => {
    const core = api.kubeConfig().makeApiClient(CoreV1Api);
    await assert.rejects(core.readNamespacedConfigMap({ name: 'missing', namespace: 'chat' }), (err: unknown) => err instanceof ApiException && err.code === 404);
    await core.createNamespacedConfigMap({ namespace: 'chat', body: { metadata: { name: 'cm' }, data: {} } });
    await assert.rejects(
      core.createNamespacedConfigMap({ namespace: 'chat', body: { metadata: { name: 'cm' }, data: {} } }),
      (err: unknown) => err instanceof ApiException && err.code === 409 && String(err.body).includes('AlreadyExists'),
    );
  });

  it('creates the cluster-id ConfigMap once: a second create reports that it already exists', async () => {
    const cm = clusterConfigMap(api.kubeConfig().makeApiClient(CoreV1Api), 'chat', 'raftchat-cluster');
    assert.equal(await cm.read(), undefined);
    assert.equal(await cm.create('c1'), true);
    assert.equal(await cm.create('c2'), false);
    assert.equal(await cm.read(), 'c1');
    await cm.update('c3');
    assert.equal(await cm.read(), 'c3');
  });
});
