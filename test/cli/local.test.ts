// The local-cluster supervisor: port and argument computation, the secret file, and process
// supervision against a stand-in chatd (the real one is exercised by the integration tests).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  LocalCluster,
  describeEvent,
  ensureSecretFile,
  nodeCommand,
  parseLocalFlags,
  replicaEnv,
  replicaSpecs,
  serveArgs,
  type ReplicaEvent,
} from '../../src/cli/local.js';
import { UsageError } from '../../src/cli/commands/errors.js';
import { waitFor } from './support/fake-server.js';

const FAKE_CHATD = fileURLToPath(new URL('./support/fake-chatd.mjs', import.meta.url));

/** The stand-in's first log line (its argv), once it has written it — by then its handlers are installed. */
async function firstLogLine(file: string): Promise<string> {
  const giveUpAt = Date.now() + 5_000;
  for (;;) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (text.includes('\n')) return text.split('\n')[0] ?? '';
    if (Date.now() > giveUpAt) throw new Error(`nothing logged to ${file} within 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('chatd local: replica layout', () => {
  it('gives replica i client port base+i, peer port base+100+i and metrics port base+200+i', () => {
    const specs = replicaSpecs({ replicas: 3, dataDir: '/tmp/x', basePort: 52051 });
    assert.deepEqual(specs[2], {
      index: 2,
      id: 'n2',
      clientAddress: '127.0.0.1:52053',
      peerAddress: '127.0.0.1:52153',
      metricsAddress: '127.0.0.1:52253',
      dataDir: '/tmp/x/n2',
      logFile: '/tmp/x/n2.log',
    });
    assert.deepEqual(
      specs.map((s) => s.id),
      ['n0', 'n1', 'n2'],
    );
  });

  it('defaults to five replicas from port 50051 under ./data', () => {
    const specs = replicaSpecs();
    assert.equal(specs.length, 5);
    assert.equal(specs[4]?.clientAddress, '127.0.0.1:50055');
    assert.equal(specs[0]?.dataDir, path.resolve('data', 'n0'));
  });

  it('rejects a base port whose metrics ports would pass 65535', () => {
    assert.throws(() => replicaSpecs({ replicas: 5, basePort: 65_400 }), UsageError);
    assert.throws(() => replicaSpecs({ replicas: 0 }), UsageError);
  });

  it('builds the chatd serve flags for a static cluster, with every member\'s peer and client address', () => {
    const specs = replicaSpecs({ replicas: 2, dataDir: '/d', basePort: 6000 });
    assert.deepEqual(serveArgs(specs[1]!, specs, '/d/cluster.secret'), [
      'serve',
      '--id', 'n1',
      '--data-dir', '/d/n1',
      '--client-addr', '127.0.0.1:6001',
      '--peer-addr', '127.0.0.1:6101',
      '--metrics-addr', '127.0.0.1:6201',
      '--initial-cluster', 'n0=127.0.0.1:6100,n1=127.0.0.1:6101',
      '--initial-cluster-clients', 'n0=127.0.0.1:6000,n1=127.0.0.1:6001',
      '--secret-file', '/d/cluster.secret',
    ]);
  });

  it('runs children with the same node and flags, adding the tsx loader only for a .ts entry that lacks it', () => {
    assert.deepEqual(nodeCommand('/a/chatd.js', '/bin/node', ['--enable-source-maps', '--inspect=9229']), {
      command: '/bin/node',
      args: ['--enable-source-maps', '/a/chatd.js'],
    });
    assert.deepEqual(nodeCommand('/a/chatd.ts', '/bin/node', []).args, ['--import', 'tsx', '/a/chatd.ts']);
    assert.deepEqual(nodeCommand('/a/chatd.ts', '/bin/node', ['--import', 'tsx']).args, ['--import', 'tsx', '/a/chatd.ts']);
  });

  it('runs children with the caller\'s environment, malloc held to two arenas unless the caller chose', () => {
    assert.deepEqual(replicaEnv({ PATH: '/bin' }), { PATH: '/bin', MALLOC_ARENA_MAX: '2' });
    assert.deepEqual(replicaEnv({ MALLOC_ARENA_MAX: '8' }), { MALLOC_ARENA_MAX: '8' });
  });

  it('parses the local flags and refuses ones that are not numbers', () => {
    const options = parseLocalFlags({ replicas: '3', dataDir: '/tmp/x', basePort: '52051', graceMs: '500', restart: true });
    assert.deepEqual(options, { replicas: 3, dataDir: '/tmp/x', basePort: 52051, graceMs: 500, restart: true });
    assert.throws(() => parseLocalFlags({ replicas: 'three', dataDir: 'd', basePort: '1', graceMs: '1' }), UsageError);
  });
});

describe('chatd local: the cluster secret', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'raftchat-secret-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('creates 32 random bytes in hex, readable by the owner only, and keeps an existing one', async () => {
    const file = path.join(dir, 'cluster.secret');
    await ensureSecretFile(file);
    const first = (await readFile(file, 'utf8')).trim();
    assert.match(first, /^[0-9a-f]{64}$/);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    await ensureSecretFile(file);
    assert.equal((await readFile(file, 'utf8')).trim(), first);
  });
});

describe('LocalCluster supervising replica processes', function () {
  this.timeout(20_000);
  let dir = '';
  let cluster: LocalCluster | undefined;
  const events: ReplicaEvent[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'raftchat-local-'));
    events.length = 0;
  });
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
    await rm(dir, { recursive: true, force: true });
  });
  const exits = (): Array<Extract<ReplicaEvent, { kind: 'exited' }>> =>
    events.filter((e): e is Extract<ReplicaEvent, { kind: 'exited' }> => e.kind === 'exited');

  it('starts every replica with its serve flags, logging to <data-dir>/n<i>.log', async () => {
    cluster = new LocalCluster({ replicas: 3, dataDir: dir, basePort: 52051, chatdEntry: FAKE_CHATD, onEvent: (e) => events.push(e) });
    await cluster.start();
    const pids = cluster.pids();
    assert.equal(new Set(pids).size, 3);
    assert.ok(pids.every((pid) => typeof pid === 'number'));
    assert.deepEqual(cluster.clientAddresses, ['127.0.0.1:52051', '127.0.0.1:52052', '127.0.0.1:52053']);
    assert.equal(events.filter((e) => e.kind === 'started').length, 3);
    const { argv } = JSON.parse(await firstLogLine(path.join(dir, 'n1.log'))) as { argv: string[] };
    assert.deepEqual(argv.slice(0, 3), ['serve', '--id', 'n1']);
    assert.ok(argv.includes(path.join(dir, 'cluster.secret')));
  });

  it('reports a killed replica with its signal and leaves it down without --restart', async () => {
    cluster = new LocalCluster({ replicas: 2, dataDir: dir, basePort: 52051, chatdEntry: FAKE_CHATD, onEvent: (e) => events.push(e) });
    await cluster.start();
    assert.equal(cluster.kill(1), true);
    await cluster.waitForExit(1);
    assert.equal(exits().length, 1);
    assert.equal(exits()[0]?.signal, 'SIGKILL');
    assert.equal(exits()[0]?.restartInMs, undefined);
    assert.match(describeEvent(exits()[0]!), /^n1 killed by SIGKILL; not restarting/);
    assert.equal(cluster.pids()[1], undefined);
    assert.notEqual(cluster.pids()[0], undefined);
    await cluster.startReplica(1);
    assert.notEqual(cluster.pids()[1], undefined);
  });

  it('restarts a replica that dies when asked to', async () => {
    cluster = new LocalCluster({ replicas: 1, dataDir: dir, basePort: 52051, chatdEntry: FAKE_CHATD, restart: true, onEvent: (e) => events.push(e) });
    await cluster.start();
    const before = cluster.pids()[0];
    cluster.kill(0);
    await waitFor(() => cluster?.pids()[0] !== undefined && cluster.pids()[0] !== before, 5_000, 'the restart');
    assert.equal(typeof exits()[0]?.restartInMs, 'number');
    assert.equal(events.filter((e) => e.kind === 'started').length, 2);
  });

  it('restart(i) stops the replica with SIGTERM and starts a new process', async () => {
    cluster = new LocalCluster({ replicas: 1, dataDir: dir, basePort: 52051, chatdEntry: FAKE_CHATD, onEvent: (e) => events.push(e) });
    await cluster.start();
    await firstLogLine(path.join(dir, 'n0.log'));
    const before = cluster.pids()[0];
    await cluster.restart(0);
    assert.equal(exits()[0]?.code, 0);
    assert.equal(describeEvent(exits()[0]!), 'n0 stopped (exited with code 0)');
    assert.notEqual(cluster.pids()[0], undefined);
    assert.notEqual(cluster.pids()[0], before);
  });

  it('stop() sends SIGTERM and SIGKILLs a replica that ignores it after the grace period', async () => {
    cluster = new LocalCluster({
      replicas: 2,
      dataDir: dir,
      basePort: 52051,
      chatdEntry: FAKE_CHATD,
      graceMs: 300,
      restart: true,
      extraServeArgs: ['--ignore-sigterm'],
      onEvent: (e) => events.push(e),
    });
    await cluster.start();
    // Let the children install their SIGTERM handlers before signalling them.
    await Promise.all([0, 1].map((i) => firstLogLine(path.join(dir, `n${i}.log`))));
    const startedAt = Date.now();
    await cluster.stop();
    assert.ok(Date.now() - startedAt >= 250, 'waited for the grace period');
    assert.deepEqual(cluster.pids(), [undefined, undefined]);
    assert.deepEqual(
      exits().map((e) => [e.signal, e.restartInMs]),
      [
        ['SIGKILL', undefined],
        ['SIGKILL', undefined],
      ],
    );
  });
});

describe('chatd local: stale files', () => {
  it('keeps going when the secret file already exists from an earlier run', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'raftchat-local-'));
    try {
      await writeFile(path.join(dir, 'cluster.secret'), 'an-existing-secret-of-enough-length\n', { mode: 0o600 });
      const cluster = new LocalCluster({ replicas: 1, dataDir: dir, basePort: 52051, chatdEntry: FAKE_CHATD });
      await cluster.start();
      await cluster.stop();
      assert.equal(await readFile(path.join(dir, 'cluster.secret'), 'utf8'), 'an-existing-secret-of-enough-length\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
