// chatd in Kubernetes mode, end to end: real `chatd serve --kubernetes` processes run as the pods of
// a StatefulSet by the kubelet harness, against the fake API server. One cluster lives through the
// whole life of an installation, step by step: each test starts from where the previous one ended.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RaftchatClient } from '../../src/client/index.js';
import { FakeApiServer } from './fake-apiserver.js';
import { Kubelet } from './kubelet.js';
import { leaderStatus, logLines, membershipOf, statusOf, waitForVoters } from './cluster-view.js';
import { waitUntil } from './wait.js';

const NS = 'chat';
const pods = (n: number) => Array.from({ length: n }, (_, i) => `raftchat-${i}`);

describe('k8s: chatd as a StatefulSet', function () {
  this.timeout(180_000);
  let rootDir: string;
  let api: FakeApiServer;
  let kubelet: Kubelet;
  let client: RaftchatClient;
  let clusterId = '';
  const sent: string[] = [];

  before(async () => {
    rootDir = mkdtempSync(join(tmpdir(), 'raftchat-k8s-'));
    api = await FakeApiServer.start();
    kubelet = await Kubelet.start({ api, rootDir, namespace: NS, fullname: 'raftchat', maxPods: 6 });
    client = new RaftchatClient({ servers: [0, 1, 2, 3, 4, 5].map((o) => kubelet.clientAddress(o)), deadlineMs: 20_000 });
  });

  after(async () => {
    client?.close();
    await kubelet?.close();
    await api?.close();
    if (process.env['KEEP_K8S_TEST_DIR'] === undefined) rmSync(rootDir, { recursive: true, force: true });
    else console.log(`k8s test dir kept: ${rootDir}`);
  });

  async function send(body: string): Promise<void> {
    await client.login({ username: 'alice', password: 'alice-password-1' });
    await client.sendMessage({ recipient: 'bob', body });
    sent.push(body);
  }

  async function bobsMessages(): Promise<string[]> {
    await client.login({ username: 'bob', password: 'bob-password-12' });
    const page = await client.listMessages({ limit: 1000 });
    return page.messages.map((m) => m.body);
  }

  it('bootstraps 3 pods from nothing: ordinal 0 creates the ConfigMap and starts the cluster, the others join', async () => {
    kubelet.install(3);
    const leader = await waitForVoters(kubelet, pods(3), 90_000);
    clusterId = leader.clusterId;
    const cm = api.get('configmaps', NS, 'raftchat-cluster');
    assert.equal((cm?.['data'] as Record<string, string> | undefined)?.['cluster-id'], clusterId, 'the ConfigMap holds the cluster id');
    const created = logLines(rootDir, 'ordinal 0 with an empty volume and no cluster yet: created the cluster-id ConfigMap; starting a one-member cluster');
    assert.deepEqual(created.map((l) => l['nodeId']), ['raftchat-0'], 'only ordinal 0 started a cluster');
    const joined = logLines(rootDir, 'empty volume: joining the existing cluster (will ask the leader to add this pod as a learner)');
    assert.deepEqual(joined.map((l) => l['nodeId']).sort(), ['raftchat-1', 'raftchat-2']);
    await client.register({ username: 'alice', password: 'alice-password-1' });
    await client.register({ username: 'bob', password: 'bob-password-12' });
    await send('hello after bootstrap');
  });

  it('scales 3 → 5: the two new pods join as learners and are promoted to voters', async () => {
    api.scale(NS, 'raftchat', 5);
    await waitForVoters(kubelet, pods(5), 90_000);
    const promoted = logLines(rootDir, 'promoting caught-up learner to voter').map((l) => l['member']);
    assert.ok(promoted.includes('raftchat-3') && promoted.includes('raftchat-4'), `promoted: ${promoted.join(', ')}`);
    await send('hello with five');
  });

  it('refuses to admit a pod whose ordinal is beyond spec.replicas', async () => {
    const leader = await leaderStatus(kubelet);
    assert.ok(leader !== undefined);
    const admin = new RaftchatClient({ servers: [leader.members.find((m) => m.id === leader.nodeId)!.clientAddress], adminToken: kubelet.adminToken, deadlineMs: 5_000 });
    try {
      await assert.rejects(
        admin.addMember({ id: 'raftchat-9', peerAddress: '127.0.0.1:1', clientAddress: '127.0.0.1:2' }),
        /not admitted: raftchat-9 has ordinal 9 but StatefulSet raftchat has spec.replicas=5/,
      );
    } finally {
      admin.close();
    }
  });

  it('scales 5 → 3: the two highest members are removed and the cluster keeps taking writes', async () => {
    api.scale(NS, 'raftchat', 3);
    await waitForVoters(kubelet, pods(3), 90_000);
    assert.deepEqual(kubelet.runningOrdinals(), [0, 1, 2]);
    await send('hello after scaling down');
    assert.deepEqual((await bobsMessages()).sort(), [...sent].sort());
  });

  it('brings a deleted pod back on its volume: it rejoins with its data and the same incarnation', async () => {
    const before = await statusOf(kubelet, 1);
    assert.ok(before !== undefined);
    const pid = kubelet.pid(1);
    kubelet.deletePod(1);
    await waitUntil(() => kubelet.pid(1) !== undefined && kubelet.pid(1) !== pid, 60_000, 'raftchat-1 runs again');
    await waitUntil(async () => (await statusOf(kubelet, 1))?.leaderId !== '' && (await statusOf(kubelet, 1)) !== undefined, 60_000, 'raftchat-1 answers with a leader');
    const after = await statusOf(kubelet, 1);
    assert.equal(after?.incarnation, before.incarnation, 'same volume, same incarnation');
    assert.equal(after?.clusterId, clusterId);
    const leader = await waitForVoters(kubelet, pods(3), 60_000);
    assert.equal(leader.members.find((m) => m.id === 'raftchat-1')?.incarnation, before.incarnation);
    const started = logLines(rootDir, 'replica started').filter((l) => l['file'] === `raftchat-1.${kubelet.generation(1)}.log`);
    assert.equal(started.length, 1);
    assert.ok((started[0]!['applied'] as number) >= before.appliedIndex, 'it started from the entries its volume held, not from nothing');
    assert.equal(logLines(rootDir, 'member came back with an empty volume: replacing it').length, 0, 'a restart on its own volume is no replacement');
    await send('hello after a pod restart');
    await waitUntil(async () => (await client.digestOf(kubelet.clientAddress(1))).messages === sent.length, 30_000, 'the restarted pod has every message');
  });

  it('replaces a pod that comes back on an EMPTY volume: removed, re-added as a learner with a new incarnation, then promoted', async () => {
    const leaderBefore = await leaderStatus(kubelet);
    assert.ok(leaderBefore !== undefined);
    const oldIncarnation = leaderBefore.members.find((m) => m.id === 'raftchat-2')?.incarnation;
    assert.ok(oldIncarnation !== undefined && oldIncarnation !== '');
    const promotionsBefore = logLines(rootDir, 'promoting caught-up learner to voter').filter((l) => l['member'] === 'raftchat-2').length;
    kubelet.deletePod(2, { loseVolume: true });
    let leader = await waitForVoters(kubelet, pods(3), 90_000);
    await waitUntil(async () => {
      leader = (await leaderStatus(kubelet)) ?? leader;
      const m = leader.members.find((x) => x.id === 'raftchat-2');
      return m !== undefined && m.incarnation !== oldIncarnation && m.voter;
    }, 90_000, 'raftchat-2 is a voter again with a new incarnation');
    const replaced = logLines(rootDir, 'member came back with an empty volume: replacing it').filter((l) => l['member'] === 'raftchat-2');
    assert.equal(replaced.length, 1, 'the leader replaced it (removed, then re-added as a learner)');
    assert.equal(replaced[0]!['was'], oldIncarnation);
    const promotions = logLines(rootDir, 'promoting caught-up learner to voter').filter((l) => l['member'] === 'raftchat-2').length;
    assert.equal(promotions, promotionsBefore + 1, 'it was a learner and was promoted again');
    const own = await statusOf(kubelet, 2);
    assert.equal(own?.incarnation, leader.members.find((m) => m.id === 'raftchat-2')?.incarnation);
    await send('hello after a lost volume');
    await waitUntil(async () => (await client.digestOf(kubelet.clientAddress(2))).messages === sent.length, 30_000, 'the replaced pod has every message');
  });

  it('comes back with all its data after uninstall and reinstall that keep the volumes (and the ConfigMap)', async () => {
    await kubelet.uninstall();
    assert.deepEqual(kubelet.runningOrdinals(), []);
    assert.ok(api.get('configmaps', NS, 'raftchat-cluster') !== undefined, 'the ConfigMap outlives the release');
    kubelet.install(3);
    const leader = await waitForVoters(kubelet, pods(3), 90_000);
    assert.equal(leader.clusterId, clusterId, 'the same cluster, not a new one');
    assert.deepEqual(membershipOf(leader).voters, pods(3));
    assert.deepEqual((await bobsMessages()).sort(), [...sent].sort());
    const replaced = logLines(rootDir, 'member came back with an empty volume: replacing it').map((l) => l['member']);
    assert.deepEqual(replaced, ['raftchat-2'], 'pods restarting on their own volumes were not replaced');
    await send('hello after reinstall');
  });

  it('scales 3 → 1 with the leader among the leaving pods, then back to 3 on the kept volumes', async () => {
    const admin = new RaftchatClient({ servers: [kubelet.clientAddress(0)], adminToken: kubelet.adminToken, deadlineMs: 10_000 });
    try {
      await admin.transferLeadership({ toId: 'raftchat-2' });
    } finally {
      admin.close();
    }
    await waitUntil(async () => (await leaderStatus(kubelet))?.nodeId === 'raftchat-2', 20_000, 'raftchat-2 leads');
    api.scale(NS, 'raftchat', 1);
    await waitForVoters(kubelet, pods(1), 90_000);
    assert.deepEqual(kubelet.runningOrdinals(), [0]);
    await send('hello with one');
    const admissions = (pod: string) =>
      logLines(rootDir, 'admitted as a learner; the leader promotes it to voter once it has caught up').filter((l) => l['nodeId'] === pod).length;
    const before = [admissions('raftchat-1'), admissions('raftchat-2')];
    const left = logLines(rootDir, 'removed from the cluster').concat(logLines(rootDir, 'already removed by the leader')).map((l) => l['nodeId']);
    assert.ok(left.includes('raftchat-1') && left.includes('raftchat-2'), `pods leaving asked for their removal (${left.join(', ')})`);
    api.scale(NS, 'raftchat', 3);
    await waitForVoters(kubelet, pods(3), 90_000);
    assert.deepEqual([admissions('raftchat-1'), admissions('raftchat-2')], before.map((n) => n + 1), 'pods back on their kept volumes were admitted again');
    assert.deepEqual((await bobsMessages()).sort(), [...sent].sort());
    await send('hello with three again');
  });

  it('removes a pod scaled away without a graceful stop through the leader\'s reconciler', async () => {
    api.scale(NS, 'raftchat', 4);
    await waitForVoters(kubelet, pods(4), 90_000);
    const removals = () => logLines(rootDir, 'member removed (its PersistentVolumeClaim is kept; delete it to free the disk)').filter((l) => l['member'] === 'raftchat-3').length;
    const before = removals();
    kubelet.terminationSignal = 'SIGKILL';
    try {
      api.scale(NS, 'raftchat', 3);
      await waitForVoters(kubelet, pods(3), 90_000);
    } finally {
      kubelet.terminationSignal = 'SIGTERM';
    }
    assert.equal(removals(), before + 1, 'the leader removed raftchat-3 itself');
    await send('hello after a hard scale-down');
    assert.deepEqual((await bobsMessages()).sort(), [...sent].sort());
  });
});
