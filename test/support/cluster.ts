// A cluster of real `chatd serve` processes on loopback for integration tests: start, SIGKILL,
// SIGSTOP, restart, and promisified gRPC clients for each replica.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, createWriteStream, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { ChatServiceClient, ClusterServiceClient, type GetStatusResponse } from '../../src/gen/chat/v1/chat.js';
import { chatdNodeArgs } from './chatd-command.js';

const repoRoot = resolve(import.meta.dirname, '../..');

/** Replicas never outlive the test process, even when a test fails before its cleanup. */
const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

export interface NodeHandle {
  id: string;
  clientAddress: string;
  peerAddress: string;
  dataDir: string;
  process: ChildProcess | undefined;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
}

export interface ClusterOptions {
  replicas: number;
  /** Extra `chatd serve` flags for every replica. */
  flags?: string[];
  snapshotEntries?: number;
  /** Credentials for the test's clients (TLS clusters); plaintext by default. */
  credentials?: grpc.ChannelCredentials;
  /** How long start() waits for the first leader (default 20 000 ms); loaded CI machines need longer. */
  leaderTimeoutMs?: number;
}

export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<import('node:net').Server>((res, rej) => {
        const s = createServer();
        s.once('error', rej);
        s.listen(0, '127.0.0.1', () => res(s));
      }),
    ),
  );
  const ports = servers.map((s) => (s.address() as import('node:net').AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

export class TestCluster {
  readonly nodes: NodeHandle[] = [];
  readonly root: string;
  readonly secretFile: string;
  private readonly flags: string[];
  private credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure();
  private readonly clients = new Map<string, { chat: ChatServiceClient; cluster: ClusterServiceClient }>();

  private constructor(root: string, flags: string[]) {
    this.root = root;
    this.flags = flags;
    this.secretFile = join(root, 'cluster.secret');
    writeFileSync(this.secretFile, 'integration-test-secret-0123456789abcdef\n', { mode: 0o600 });
  }

  /** Starts `replicas` members of a static cluster and waits until one of them leads. */
  static async start(options: ClusterOptions): Promise<TestCluster> {
    const root = mkdtempSync(join(tmpdir(), 'raftchat-it-'));
    const flags = [...(options.flags ?? [])];
    if (options.snapshotEntries !== undefined) flags.push('--snapshot-entries', String(options.snapshotEntries));
    const cluster = new TestCluster(root, flags);
    if (options.credentials !== undefined) cluster.credentials = options.credentials;
    const ports = await freePorts(options.replicas * 2);
    for (let i = 0; i < options.replicas; i++) {
      cluster.nodes.push({
        id: `n${i}`,
        clientAddress: `127.0.0.1:${ports[2 * i]}`,
        peerAddress: `127.0.0.1:${ports[2 * i + 1]}`,
        dataDir: join(root, `n${i}`),
        process: undefined,
        exited: undefined,
      });
    }
    const initial = cluster.nodes.map((n) => `${n.id}=${n.peerAddress}`).join(',');
    const clients = cluster.nodes.map((n) => `${n.id}=${n.clientAddress}`).join(',');
    for (const n of cluster.nodes) cluster.spawn(n, ['--initial-cluster', initial, '--initial-cluster-clients', clients]);
    try {
      await cluster.waitForLeader(options.leaderTimeoutMs);
    } catch (err) {
      const logs = cluster.nodes.map((n) => n.id).join(', ');
      await cluster.stop({ keepData: true });
      throw new Error(`${(err as Error).message} (replica logs of ${logs} kept in ${root})`);
    }
    return cluster;
  }

  node(id: string): NodeHandle {
    const n = this.nodes.find((x) => x.id === id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  private spawn(n: NodeHandle, extra: string[]): void {
    mkdirSync(n.dataDir, { recursive: true });
    const args = [
      ...chatdNodeArgs(), 'serve',
      '--id', n.id,
      '--data-dir', n.dataDir,
      '--client-addr', n.clientAddress,
      '--peer-addr', n.peerAddress,
      '--secret-file', this.secretFile,
      '--log-level', process.env['RAFTCHAT_TEST_LOG_LEVEL'] ?? 'info',
      ...this.flags,
      ...extra,
    ];
    const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    liveChildren.add(child);
    child.once('exit', () => liveChildren.delete(child));
    const logFile = createWriteStream(join(this.root, `${n.id}.log`), { flags: 'a' });
    child.stdout!.pipe(logFile, { end: false });
    child.stderr!.pipe(logFile, { end: false });
    n.process = child;
    // Settles once everything the replica wrote is in its log file, not at 'exit': a test that reads
    // the log right after (the fatal line of a replica that refused to start) must find it there.
    n.exited = new Promise((res) => child.once('close', (code, signal) => logFile.end(() => res({ code, signal }))));
  }

  /** Adds a brand-new member that joins through `via` (a running member's client address). */
  async join(id: string, via: string): Promise<NodeHandle> {
    const [client, peer] = await freePorts(2);
    const n: NodeHandle = {
      id,
      clientAddress: `127.0.0.1:${client}`,
      peerAddress: `127.0.0.1:${peer}`,
      dataDir: join(this.root, id),
      process: undefined,
      exited: undefined,
    };
    this.nodes.push(n);
    this.spawn(n, ['--join', via]);
    return n;
  }

  /** Restarts a stopped member on its existing data. */
  restart(id: string): void {
    const n = this.node(id);
    if (n.process !== undefined && n.process.exitCode === null && n.process.signalCode === null) throw new Error(`${id} is running`);
    this.spawn(n, []);
  }

  async kill(id: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const n = this.node(id);
    if (n.process === undefined || n.exited === undefined) return;
    n.process.kill(signal);
    if (signal === 'SIGSTOP' || signal === 'SIGCONT') return;
    await n.exited;
    this.dropClient(id);
  }

  running(): NodeHandle[] {
    return this.nodes.filter((n) => n.process !== undefined && n.process.exitCode === null && n.process.signalCode === null);
  }

  chat(id: string): ChatServiceClient {
    return this.clientsFor(id).chat;
  }

  clusterClient(id: string): ClusterServiceClient {
    return this.clientsFor(id).cluster;
  }

  private clientsFor(id: string) {
    let c = this.clients.get(id);
    if (c === undefined) {
      const address = this.node(id).clientAddress;
      // Own subchannels: ports are reused across clusters in one test run, and a pooled subchannel
      // of a previous cluster's dead replica would answer for the new one.
      // Short reconnect back-off: the first calls often come before the replica listens (a busy
      // machine starts tsx processes slowly), and grpc-js's default (1 s growing ×1.6) would then
      // keep the channel idle for seconds after the replica is up.
      const own = { 'grpc.use_local_subchannel_pool': 1, 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 1_000 };
      c = {
        chat: new ChatServiceClient(address, this.credentials, own),
        cluster: new ClusterServiceClient(address, this.credentials, own),
      };
      this.clients.set(id, c);
    }
    return c;
  }

  private dropClient(id: string): void {
    const c = this.clients.get(id);
    if (c === undefined) return;
    c.chat.close();
    c.cluster.close();
    this.clients.delete(id);
  }

  async status(id: string, timeoutMs = 2000): Promise<GetStatusResponse> {
    const client = this.clusterClient(id);
    return new Promise((res, rej) =>
      client.getStatus({}, new grpc.Metadata({ waitForReady: true }), { deadline: Date.now() + timeoutMs }, (err, out) => (err ? rej(err) : res(out))),
    );
  }

  /** Waits until a running member reports itself leader and returns its id. */
  async waitForLeader(timeoutMs = 20_000, exclude: string[] = []): Promise<string> {
    return waitFor(`a leader among ${this.running().map((n) => n.id).join(',')}`, timeoutMs, async () => {
      for (const n of this.running()) {
        if (exclude.includes(n.id)) continue;
        const s = await this.status(n.id, 500).catch(() => undefined);
        if (s?.role === 'leader') return s.nodeId;
      }
      return undefined;
    });
  }

  /** Waits until every running member has applied the same index, at least `atLeast`. */
  async waitForConvergence(atLeast = 0, timeoutMs = 20_000): Promise<number> {
    return waitFor('the replicas to converge', timeoutMs, async () => {
      const statuses = await Promise.all(this.running().map((n) => this.status(n.id, 1000).catch(() => undefined)));
      if (statuses.some((s) => s === undefined)) return undefined;
      const applied = new Set(statuses.map((s) => s!.appliedIndex));
      const commit = new Set(statuses.map((s) => s!.commitIndex));
      if (applied.size !== 1 || commit.size !== 1) return undefined;
      const index = statuses[0]!.appliedIndex;
      return index >= atLeast ? index : undefined;
    });
  }

  logOf(id: string): string {
    return join(this.root, `${id}.log`);
  }

  async stop(options: { keepData?: boolean } = {}): Promise<void> {
    for (const id of [...this.clients.keys()]) this.dropClient(id);
    await Promise.all(
      this.nodes.map(async (n) => {
        if (n.process === undefined || n.exited === undefined) return;
        if (n.process.exitCode !== null || n.process.signalCode !== null) return;
        n.process.kill('SIGCONT');
        n.process.kill('SIGKILL');
        await n.exited;
      }),
    );
    if (options.keepData !== true && process.env['RAFTCHAT_KEEP_TEST_DATA'] === undefined) rmSync(this.root, { recursive: true, force: true });
  }
}

/** Polls `probe` until it returns a value, or fails with what it was waiting for. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Calls a unary method of a generated grpc-js client as a promise. */
export function call<Req, Res>(
  client: grpc.Client,
  method: string,
  request: Req,
  options: { token?: string; timeoutMs?: number } = {},
): Promise<Res> {
  // waitForReady: a replica that just (re)started may refuse the first connection attempts.
  const md = new grpc.Metadata({ waitForReady: true });
  if (options.token !== undefined) md.set('authorization', `Bearer ${options.token}`);
  const fn = (client as unknown as Record<string, Function>)[method];
  if (typeof fn !== 'function') throw new Error(`no method ${method}`);
  return new Promise<Res>((res, rej) => {
    fn.call(client, request, md, { deadline: Date.now() + (options.timeoutMs ?? 10_000) }, (err: grpc.ServiceError | null, out: Res) =>
      err ? rej(err) : res(out),
    );
  });
}
