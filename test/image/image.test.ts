// The container image, built from the Dockerfile with podman on a local base image and run the way
// the chart runs it (non-root, read-only root filesystem, writable /tmp): chatd starts and answers
// a gRPC health check, and chatctl from the same image talks to it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { checkReady } from '../../src/chaos/target-probe.js';
import { buildBaseImage, buildImage, exec, IMAGE, podman, podmanOk, uniqueName } from './podman.js';

interface ImageConfig {
  User: string;
  Entrypoint: string[];
  ExposedPorts: Record<string, unknown>;
  Volumes: Record<string, unknown>;
  WorkingDir: string;
  Labels: Record<string, string>;
}

async function waitFor(what: string, deadlineMs: number, probe: () => Promise<boolean>): Promise<void> {
  const giveUpAtMs = Date.now() + deadlineMs;
  while (!(await probe())) {
    if (Date.now() >= giveUpAtMs) throw new Error(`${what}: not within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('the container image', function () {
  this.timeout(60_000);
  const container = uniqueName('raftchat-image-test');
  let hostAddress = '';

  before(async function () {
    this.timeout(25 * 60_000);
    const which = await exec('sh', ['-c', 'command -v podman && command -v runc']);
    assert.equal(which.code, 0, 'podman and runc are needed: run scripts/install-image-deps.sh (as root)');
    let startedMs = Date.now();
    const base = await buildBaseImage();
    const baseMs = Date.now() - startedMs;
    startedMs = Date.now();
    await buildImage(base);
    const sizeBytes = Number((await podmanOk(['image', 'inspect', IMAGE, '--format', '{{.Size}}'])).trim());
    console.log(`      base ${base} in ${baseMs} ms; image ${IMAGE} built in ${Date.now() - startedMs} ms, ${(sizeBytes / 1e6).toFixed(0)} MB`);

    // As the chart runs it: read-only root, a tmpfs /tmp, the data volume, the client port published
    // on a loopback port podman picks (so parallel test runs never clash).
    await podmanOk([
      'run', '--detach', '--name', container, '--read-only', '--tmpfs', '/tmp', '--publish', '127.0.0.1::50051',
      '--env', `RAFTCHAT_SECRET=${randomBytes(32).toString('hex')}`,
      IMAGE,
      'serve', '--id', 'n0', '--bootstrap', 'single',
      '--client-addr', '0.0.0.0:50051', '--peer-addr', '0.0.0.0:50052', '--metrics-addr', '0.0.0.0:9102',
      '--advertise-client-addr', '127.0.0.1:50051', '--advertise-peer-addr', '127.0.0.1:50052',
    ]);
    hostAddress = (await podmanOk(['port', container, '50051/tcp'])).trim().split('\n')[0]!.replace(/^0\.0\.0\.0:/, '127.0.0.1:');
  });

  after(async function () {
    this.timeout(60_000);
    await podman(['rm', '--force', '--volumes', container]);
  });

  const chatctl = (args: readonly string[], env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string; code: number }> =>
    podman([
      'exec',
      '--env', 'RAFTCHAT_CONFIG_DIR=/tmp/chatctl',
      ...Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
      container, 'chatctl', '--servers', '127.0.0.1:50051', ...args,
    ]);

  it('runs as uid 10001 from /app with chatd as its entrypoint, the contract ports and the data volume', async () => {
    const [config] = JSON.parse(await podmanOk(['image', 'inspect', IMAGE, '--format', '[{{json .Config}}]'])) as [ImageConfig];
    assert.equal(config.User, '10001:10001');
    assert.equal(config.WorkingDir, '/app');
    assert.deepEqual(config.Entrypoint, ['node', '/app/dist/cli/chatd.js']);
    assert.deepEqual(Object.keys(config.ExposedPorts).sort(), ['50051/tcp', '50052/tcp', '9102/tcp']);
    assert.deepEqual(Object.keys(config.Volumes), ['/var/lib/raftchat']);
    assert.equal(config.Labels['org.opencontainers.image.title'], 'raftchat');
    const shell = await podmanOk(['run', '--rm', '--read-only', '--entrypoint', 'sh', IMAGE, '-c', 'id -u; id -g; command -v chatd; command -v chatctl']);
    assert.deepEqual(shell.trim().split('\n'), ['10001', '10001', '/usr/local/bin/chatd', '/usr/local/bin/chatctl']);
  });

  it('carries production dependencies only: no TypeScript, protoc or mocha in the runtime image', async () => {
    const listing = await podmanOk(['run', '--rm', '--entrypoint', 'sh', IMAGE, '-c', 'ls /app/node_modules; ls /app']);
    const names = listing.split('\n');
    for (const devOnly of ['typescript', 'protoc', 'mocha', 'tsx', 'ts-proto']) assert.ok(!names.includes(devOnly), `${devOnly} is in the image`);
    for (const needed of ['classic-level', '@grpc', 'pino', 'dist', 'proto', 'package.json']) assert.ok(names.includes(needed), `${needed} is missing`);
  });

  it('starts chatd, which answers the gRPC readiness health check on its published client port', async () => {
    await waitFor(`chatd in ${container} ready on ${hostAddress}`, 45_000, () => checkReady(hostAddress, 1_000));
  });

  it('lets chatctl in the same image read the cluster status from chatd', async () => {
    await waitFor('chatd ready', 45_000, () => checkReady(hostAddress, 1_000));
    const result = await chatctl(['--json', 'status']);
    assert.equal(result.code, 0, result.stderr);
    const view = JSON.parse(result.stdout) as { leaderId: string; rows: Array<{ id: string; role: string }> };
    assert.equal(view.leaderId, 'n0');
    assert.deepEqual(view.rows.map((r) => [r.id, r.role]), [['n0', 'leader']]);
  });

  it('lets chatctl in the image register, log in, send a message and read it back', async function () {
    // Seven `podman exec`s, each starting node: slow on a loaded two-core machine.
    this.timeout(180_000);
    await waitFor('chatd ready', 45_000, () => checkReady(hostAddress, 1_000));
    const password = { RAFTCHAT_PASSWORD: 'image-test-password' };
    for (const user of ['alice', 'bob']) {
      const registered = await chatctl(['register', user], password);
      assert.equal(registered.code, 0, registered.stderr);
    }
    const aliceLogin = await chatctl(['login', 'alice'], password);
    assert.equal(aliceLogin.code, 0, aliceLogin.stderr);
    const sent = await chatctl(['send', 'bob', 'hello', 'from', 'the', 'image']);
    assert.equal(sent.code, 0, sent.stderr);
    const bobLogin = await chatctl(['login', 'bob'], password);
    assert.equal(bobLogin.code, 0, bobLogin.stderr);
    const read = await chatctl(['--json', 'read']);
    assert.equal(read.code, 0, read.stderr);
    const messages = read.stdout.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown);
    const flat = JSON.stringify(messages);
    assert.match(flat, /hello from the image/);
    assert.match(flat, /"sender":"alice"/);
  });
});
