// The benchmark's cluster: a LocalCluster of `chatd serve` processes on free loopback ports, plus
// what the phases need on top — status polling, the leader, convergence, and a joining replica.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { LocalCluster, LOCAL_HOST, nodeCommand } from '../src/cli/local.js';
import { ClusterServiceClient, type GetStatusResponse } from '../src/gen/chat/v1/chat.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STATUS_TIMEOUT_MS = 1_000;
const POLL_INTERVAL_MS = 50;

/** The built replica when there is one (the real configuration), else the TypeScript source under tsx. */
export function chatdEntry(): { entry: string; built: boolean } {
  const built = path.join(repoRoot, 'dist/cli/chatd.js');
  if (existsSync(built)) return { entry: built, built: true };
  return { entry: path.join(repoRoot, 'src/cli/chatd.ts'), built: false };
}

export interface BenchClusterOptions {
  replicas: number;
  dataDir: string;
  extraServeArgs: readonly string[];
}

/** A replica added with `--join`, outside the LocalCluster's static membership. */
export interface Joiner {
  id: string;
  clientAddress: string;
  logFile: string;
  child: ChildProcess;
}

export class BenchCluster {
  readonly local: LocalCluster;
  readonly entry: string;
  private readonly statusClients = new Map<string, ClusterServiceClient>();
  private readonly joiners: Joiner[] = [];

  private constructor(
    private readonly options: BenchClusterOptions,
    private readonly basePort: number,
  ) {
    this.entry = chatdEntry().entry;
    this.local = new LocalCluster({
      replicas: options.replicas,
      dataDir: options.dataDir,
      basePort,
      chatdEntry: this.entry,
      extraServeArgs: options.extraServeArgs,
      graceMs: 5_000,
    });
  }

  static async start(options: BenchClusterOptions): Promise<BenchCluster> {
    const cluster = new BenchCluster(options, await freeBasePort(options.replicas));
    try {
      await cluster.local.start();
      await cluster.waitForLeader(30_000);
    } catch (error) {
      await cluster.stop();
      throw new Error(`${(error as Error).message} (replica logs in ${options.dataDir})`);
    }
    return cluster;
  }

  get clientAddresses(): string[] {
    return this.local.clientAddresses;
  }

  /** Process ids of the running replicas, joiners included, by member id. */
  pids(): Map<string, number> {
    const out = new Map<string, number>();
    this.local.pids().forEach((pid, i) => {
      if (pid !== undefined) out.set(this.local.specs[i]!.id, pid);
    });
    for (const j of this.joiners) if (j.child.exitCode === null && j.child.pid !== undefined) out.set(j.id, j.child.pid);
    return out;
  }

  /** Each running replica's /metrics endpoint, by member id (joiners serve none). */
  metricsUrls(): Map<string, string> {
    const pids = this.local.pids();
    return new Map(this.local.specs.filter((_, i) => pids[i] !== undefined).map((s) => [s.id, `http://${s.metricsAddress}/metrics`]));
  }

  indexOf(memberId: string): number {
    return this.local.specs.findIndex((s) => s.id === memberId);
  }

  status(address: string, timeoutMs = STATUS_TIMEOUT_MS): Promise<GetStatusResponse> {
    let client = this.statusClients.get(address);
    if (client === undefined) {
      client = new ClusterServiceClient(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
      this.statusClients.set(address, client);
    }
    const c = client;
    return new Promise((resolve, reject) =>
      c.getStatus({}, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => (err === null ? resolve(res) : reject(err))),
    );
  }

  /** Statuses of the running static members (undefined where a replica does not answer). */
  async statuses(): Promise<Array<GetStatusResponse | undefined>> {
    const pids = this.local.pids();
    return Promise.all(this.clientAddresses.map((a, i) => (pids[i] === undefined ? undefined : this.status(a).catch(() => undefined))));
  }

  /** The index of the replica that reports itself leader. */
  async waitForLeader(timeoutMs: number): Promise<{ index: number; status: GetStatusResponse }> {
    return poll('a leader', timeoutMs, async () => {
      const all = await this.statuses();
      const i = all.findIndex((s) => s?.role === 'leader');
      return i < 0 ? undefined : { index: i, status: all[i]! };
    });
  }

  /** Waits until every running static member is a voter the leader reaches, at one applied index. */
  async waitForConvergence(timeoutMs: number): Promise<number> {
    return poll('the replicas to converge', timeoutMs, async () => {
      const all = await this.statuses();
      const running = all.filter((s, i) => this.local.pids()[i] !== undefined);
      if (running.some((s) => s === undefined)) return undefined;
      const leader = running.find((s) => s!.role === 'leader');
      if (leader === undefined) return undefined;
      const members = leader.members.filter((m) => this.indexOf(m.id) >= 0);
      if (members.some((m) => !m.voter || !m.reachable)) return undefined;
      const applied = new Set(running.map((s) => s!.appliedIndex));
      return applied.size === 1 ? leader.appliedIndex : undefined;
    });
  }

  /** The highest term any replica reports: each election raises it, so a difference counts them. */
  async maxTerm(): Promise<number> {
    const all = await this.statuses();
    return Math.max(0, ...all.map((s) => s?.term ?? 0));
  }

  /** Starts a new replica `id` that asks `via` to admit it (`chatd serve --join`). */
  async join(id: string, via: string): Promise<Joiner> {
    const [clientPort, peerPort] = await freePorts(2);
    const dataDir = path.join(this.options.dataDir, id);
    await mkdir(dataDir, { recursive: true });
    const logFile = path.join(this.options.dataDir, `${id}.log`);
    const clientAddress = `${LOCAL_HOST}:${clientPort}`;
    const { command, args } = nodeCommand(this.entry);
    const log = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(
        command,
        [
          ...args,
          'serve',
          '--id', id,
          '--data-dir', dataDir,
          '--client-addr', clientAddress,
          '--peer-addr', `${LOCAL_HOST}:${peerPort}`,
          '--secret-file', this.local.secretFile,
          '--join', via,
          ...this.options.extraServeArgs,
        ],
        { stdio: ['ignore', log, log] },
      );
    } finally {
      closeSync(log);
    }
    const joiner = { id, clientAddress, logFile, child };
    this.joiners.push(joiner);
    return joiner;
  }

  async stop(): Promise<void> {
    for (const client of this.statusClients.values()) client.close();
    this.statusClients.clear();
    await Promise.all(
      this.joiners.map(async (j) => {
        if (j.child.exitCode !== null || j.child.signalCode !== null) return;
        const exited = new Promise((resolve) => j.child.once('exit', resolve));
        j.child.kill('SIGKILL');
        await exited;
      }),
    );
    await this.local.stop();
  }
}

/** Polls `probe` until it returns a value; fails after `timeoutMs` saying what it waited for. */
export async function poll<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => listenOn(0)),
  );
  const ports = servers.map((s) => (s.address() as import('node:net').AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

function listenOn(port: number): Promise<import('node:net').Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, LOCAL_HOST, () => resolve(server));
  });
}

/**
 * A base port whose client, peer and metrics ports (LocalCluster's layout: +i, +100+i, +200+i) are
 * all free right now. Other engineers run clusters on this machine at the same time.
 */
async function freeBasePort(replicas: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    const ports = [0, 100, 200].flatMap((offset) => Array.from({ length: replicas }, (_, i) => base + offset + i));
    const held: Array<import('node:net').Server> = [];
    try {
      for (const port of ports) held.push(await listenOn(port));
      return base;
    } catch {
      // Taken: try another base.
    } finally {
      await Promise.all(held.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    }
  }
  throw new Error('found no free block of ports for the cluster');
}
