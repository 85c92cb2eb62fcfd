// A cluster of `chatd serve` processes, one per network-namespace host of a NetnsLab, each listening
// on its host's own address. The same shape as LocalCluster, so the demo and the host tests drive
// either; link faults go through `lab` (iptables inside the namespaces).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { NetnsLab, type NetnsLabOptions } from './demo-netns.js';
import { defaultChatdEntry, ensureSecretFile, nodeCommand, serveArgs, type ReplicaSpec } from './local.js';

export const HOST_CLIENT_PORT = 50051;
export const HOST_PEER_PORT = 50151;
export const HOST_METRICS_PORT = 50251;

export interface HostClusterOptions extends NetnsLabOptions {
  /** Parent of every replica's data directory, its log and the cluster secret. */
  dataDir: string;
  /** Appended to every `chatd serve` command line, e.g. ['--log-level', 'debug']. */
  extraServeArgs?: readonly string[];
  /** How long a replica has to stop after SIGTERM before it gets SIGKILL (default 5 000). */
  graceMs?: number;
}

interface HostReplica {
  spec: ReplicaSpec;
  child: ChildProcess | undefined;
  exited: Promise<void>;
}

export class HostCluster {
  readonly lab: NetnsLab;
  readonly specs: readonly ReplicaSpec[];
  readonly secretFile: string;
  private readonly options: HostClusterOptions;
  private readonly replicas: HostReplica[];

  private constructor(lab: NetnsLab, options: HostClusterOptions) {
    this.lab = lab;
    this.options = options;
    const dataDir = path.resolve(options.dataDir);
    this.secretFile = path.join(dataDir, 'cluster.secret');
    this.specs = lab.hosts.map((host): ReplicaSpec => ({
      index: host.index,
      id: `n${host.index}`,
      clientAddress: `${host.ip}:${HOST_CLIENT_PORT}`,
      peerAddress: `${host.ip}:${HOST_PEER_PORT}`,
      metricsAddress: `${host.ip}:${HOST_METRICS_PORT}`,
      dataDir: path.join(dataDir, `n${host.index}`),
      logFile: path.join(dataDir, `n${host.index}.log`),
    }));
    this.replicas = this.specs.map((spec) => ({ spec, child: undefined, exited: Promise.resolve() }));
  }

  /** Builds the lab (namespaces, bridge, links); replicas start with start(). Needs root. */
  static create(options: HostClusterOptions): HostCluster {
    return new HostCluster(NetnsLab.create(options), options);
  }

  get clientAddresses(): string[] {
    return this.specs.map((s) => s.clientAddress);
  }

  pids(): Array<number | undefined> {
    return this.replicas.map((r) => (isRunning(r.child) ? r.child?.pid : undefined));
  }

  async start(): Promise<void> {
    await ensureSecretFile(this.secretFile);
    for (const replica of this.replicas) await this.launch(replica);
  }

  /** Sends `signal` to replica `index`'s process (SIGKILL: a crash; SIGSTOP/SIGCONT: pause/resume). */
  kill(index: number, signal: NodeJS.Signals = 'SIGKILL'): boolean {
    return this.replica(index).child?.kill(signal) ?? false;
  }

  /** Starts replica `index` on its existing data if it is not running. */
  async startReplica(index: number): Promise<void> {
    const replica = this.replica(index);
    if (isRunning(replica.child)) return;
    await this.launch(replica);
  }

  async restart(index: number): Promise<void> {
    await this.terminate(this.replica(index));
    await this.launch(this.replica(index));
  }

  waitForExit(index: number): Promise<void> {
    return this.replica(index).exited;
  }

  /** Stops every replica (SIGTERM, then SIGKILL after the grace period) and destroys the lab. */
  async stop(): Promise<void> {
    await Promise.all(this.replicas.map((r) => this.terminate(r)));
    await this.lab.destroy();
  }

  private replica(index: number): HostReplica {
    const replica = this.replicas[index];
    if (replica === undefined) throw new RangeError(`no replica ${index}: the cluster has ${this.replicas.length}`);
    return replica;
  }

  private async launch(replica: HostReplica): Promise<void> {
    const { spec } = replica;
    await mkdir(spec.dataDir, { recursive: true });
    const node = nodeCommand(defaultChatdEntry());
    const serve = [...node.args, ...serveArgs(spec, this.specs, this.secretFile), ...(this.options.extraServeArgs ?? [])];
    // `ip netns exec` execs the command after entering the namespace, so the child's pid is chatd's.
    const { command, args } = this.lab.commandIn(spec.index, node.command, serve);
    const log = openSync(spec.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(command, args, { stdio: ['ignore', log, log] });
    } finally {
      closeSync(log);
    }
    replica.child = child;
    replica.exited = new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
  }

  private async terminate(replica: HostReplica): Promise<void> {
    const child = replica.child;
    if (child === undefined || !isRunning(child)) return;
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), this.options.graceMs ?? 5_000);
    await replica.exited;
    clearTimeout(killer);
  }
}

function isRunning(child: ChildProcess | undefined): boolean {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}
