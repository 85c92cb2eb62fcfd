// The local chaos target: the replicas of a `chatd local` cluster, found from its data directory.
// LocalCluster writes no pid file, so the processes are found in /proc: a `chatd serve` whose
// --data-dir is <data-dir>/n<i> is replica n<i>. A kill is SIGKILL, a crash without warning.
import type { ChannelCredentials } from '@grpc/grpc-js';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ReplicaEndpoint } from './checker.js';
import type { ReplicaHealth } from './engine-budget.js';
import { checkReady, dialable, findLeaderId } from './target-probe.js';
import type { ChaosTarget, KillResult } from './target-types.js';

export interface LocalTargetOptions {
  /** The `chatd local --data-dir`: it holds one n<i> directory per replica. */
  dataDir: string;
  /** Deadline of one readiness or status call (default 1 000 ms). */
  probeDeadlineMs?: number;
  /** Where to look for processes (default /proc; tests may point elsewhere). */
  procRoot?: string;
  /** Client-port credentials: TLS when the cluster's client port uses it (default plaintext). */
  credentials?: ChannelCredentials;
}

/** A running `chatd serve` of this cluster. */
export interface LocalReplicaProcess {
  id: string;
  pid: number;
  clientAddress: string;
}

export class NoSuchReplicaError extends Error {
  override readonly name = 'NoSuchReplicaError';
  readonly code = 'CHAOS_NO_SUCH_REPLICA';
}

const REPLICA_DIR = /^n\d+$/;

export class LocalTarget implements ChaosTarget {
  readonly description: string;
  private readonly dataDir: string;
  private readonly probeDeadlineMs: number;
  private readonly procRoot: string;
  private readonly credentials: ChannelCredentials | undefined;
  /** Last client address seen per replica, so a replica that is down still has an endpoint. */
  private readonly addresses = new Map<string, string>();

  constructor(options: LocalTargetOptions) {
    this.dataDir = path.resolve(options.dataDir);
    this.probeDeadlineMs = options.probeDeadlineMs ?? 1_000;
    this.procRoot = options.procRoot ?? '/proc';
    this.credentials = options.credentials;
    this.description = `local data-dir=${this.dataDir}`;
  }

  async observe(options: { withLeader: boolean }): Promise<ReplicaHealth[]> {
    const names = await this.replicaNames();
    const processes = new Map((await this.processes()).map((p) => [p.id, p]));
    const health = await Promise.all(
      names.map(async (name): Promise<ReplicaHealth> => {
        const running = processes.get(name);
        if (running === undefined) return { name, ready: false, leader: false, incarnation: undefined, notReadyReason: 'no process' };
        const ready = await checkReady(running.clientAddress, this.probeDeadlineMs, this.credentials);
        const replica: ReplicaHealth = { name, ready, leader: false, incarnation: String(running.pid) };
        return ready ? replica : { ...replica, notReadyReason: 'readiness check not SERVING' };
      }),
    );
    if (!options.withLeader) return health;
    const ready = health.filter((h) => h.ready).map((h) => ({ id: h.name, address: processes.get(h.name)!.clientAddress }));
    const leaderId = await findLeaderId(ready, this.probeDeadlineMs, this.credentials);
    return health.map((h) => ({ ...h, leader: h.name === leaderId }));
  }

  async kill(name: string): Promise<KillResult> {
    const running = (await this.processes()).find((p) => p.id === name);
    if (running === undefined) throw new NoSuchReplicaError(`no running chatd serve for ${name} under ${this.dataDir}`);
    process.kill(running.pid, 'SIGKILL');
    return { incarnation: String(running.pid), detail: `pid ${running.pid}` };
  }

  async endpoints(): Promise<ReplicaEndpoint[]> {
    await this.processes();
    const names = await this.replicaNames();
    return names.filter((n) => this.addresses.has(n)).map((id) => ({ id, address: this.addresses.get(id)! }));
  }

  close(): void {}

  /** n0, n1, … : every replica directory under the data dir, in index order. */
  private async replicaNames(): Promise<string[]> {
    const entries = await readdir(this.dataDir, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory() && REPLICA_DIR.test(e.name))
      .map((e) => e.name)
      .sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
  }

  /** Every live `chatd serve` of this cluster, read from /proc/<pid>/cmdline. */
  private async processes(): Promise<LocalReplicaProcess[]> {
    const found: LocalReplicaProcess[] = [];
    for (const entry of await readdir(this.procRoot)) {
      if (!/^\d+$/.test(entry)) continue;
      let cmdline: string;
      try {
        cmdline = await readFile(path.join(this.procRoot, entry, 'cmdline'), 'utf8');
      } catch {
        continue; // exited while we looked
      }
      // A zombie's cmdline is empty, so a killed replica not yet reaped is not found here.
      const replica = parseServeCommandLine(cmdline.split('\0'), Number(entry), this.dataDir);
      if (replica === undefined) continue;
      this.addresses.set(replica.id, replica.clientAddress);
      found.push(replica);
    }
    return found;
  }
}

/**
 * The replica a command line runs, if it is `chatd … serve --id <id> --data-dir <dataDir>/<id> …`
 * (as LocalCluster starts it); undefined for any other process.
 */
export function parseServeCommandLine(args: readonly string[], pid: number, dataDir: string): LocalReplicaProcess | undefined {
  if (!args.includes('serve')) return undefined;
  const flag = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const id = flag('--id');
  const replicaDir = flag('--data-dir');
  const clientAddress = flag('--client-addr');
  if (id === undefined || replicaDir === undefined || clientAddress === undefined) return undefined;
  if (path.resolve(replicaDir) !== path.join(dataDir, id)) return undefined;
  return { id, pid, clientAddress: dialable(clientAddress) };
}
