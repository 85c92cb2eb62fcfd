// `chatd local`: runs and supervises a cluster of replicas on this machine, each a separate
// `chatd serve` child process on 127.0.0.1, with its data and log under one data directory.
// LocalCluster is the programmatic form the tests, the benchmark and the demo reuse.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { UsageError } from './commands/errors.js';
import { formatTable, processOutput, type Output } from './output.js';


/**
 * The environment of a replica process: the caller's, with glibc's malloc held to two arenas unless
 * the caller chose. LevelDB allocates from libuv's worker threads, and glibc gives each thread an
 * arena of its own whose freed memory is rarely returned: measured with `npm run bench -- --phases
 * catchup --messages 100000`, a replica's memory outside the V8 heap went from 84–101 MiB to 71–80 MiB
 * with the same throughput. The image sets the same (Dockerfile).
 */
export function replicaEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, MALLOC_ARENA_MAX: env['MALLOC_ARENA_MAX'] ?? '2' };
}
export interface LocalClusterOptions {
  /** How many replicas (default 5). */
  replicas?: number;
  /** Parent of every replica's data directory, its log and the cluster secret (default ./data). */
  dataDir?: string;
  /** Replica i serves clients on basePort+i, peers on basePort+100+i, metrics on basePort+200+i. */
  basePort?: number;
  /** Restart a replica whenever it exits (default: report the exit and leave it down). */
  restart?: boolean;
  /** How long a replica has to stop after SIGTERM before it gets SIGKILL (default 10 000). */
  graceMs?: number;
  /** The chatd script to run (default: chatd next to this file, .js or .ts alike). */
  chatdEntry?: string;
  /** Appended to every `chatd serve` command line, e.g. ['--tick-ms', '20']. */
  extraServeArgs?: readonly string[];
  /** Told about every start and exit. */
  onEvent?: (event: ReplicaEvent) => void;
}

export const LOCAL_HOST = '127.0.0.1';
export const DEFAULT_REPLICAS = 5;
export const DEFAULT_BASE_PORT = 50051;
export const DEFAULT_GRACE_MS = 10_000;
const PEER_PORT_OFFSET = 100;
const METRICS_PORT_OFFSET = 200;

export interface ReplicaSpec {
  index: number;
  id: string;
  clientAddress: string;
  peerAddress: string;
  metricsAddress: string;
  dataDir: string;
  logFile: string;
}

export type ReplicaEvent =
  | { kind: 'started'; spec: ReplicaSpec; pid: number }
  | {
      kind: 'exited';
      spec: ReplicaSpec;
      code: number | null;
      signal: NodeJS.Signals | null;
      /** True when the supervisor asked it to stop (stop(), restart()); false for a crash or kill(). */
      requested: boolean;
      restartInMs: number | undefined;
    };

/** Ids, addresses, data directories and log files of every replica; checks the ports fit. */
export function replicaSpecs(options: Pick<LocalClusterOptions, 'replicas' | 'dataDir' | 'basePort'> = {}): ReplicaSpec[] {
  const replicas = options.replicas ?? DEFAULT_REPLICAS;
  const basePort = options.basePort ?? DEFAULT_BASE_PORT;
  const dataDir = path.resolve(options.dataDir ?? 'data');
  if (!Number.isInteger(replicas) || replicas < 1 || replicas >= PEER_PORT_OFFSET) {
    throw new UsageError(`--replicas must be between 1 and ${PEER_PORT_OFFSET - 1}, got ${replicas}`);
  }
  if (!Number.isInteger(basePort) || basePort < 1 || basePort + METRICS_PORT_OFFSET + replicas - 1 > 65_535) {
    throw new UsageError(`--base-port ${basePort} leaves no room for ${replicas} replicas' client, peer and metrics ports`);
  }
  return Array.from({ length: replicas }, (_, index): ReplicaSpec => {
    const id = `n${index}`;
    return {
      index,
      id,
      clientAddress: `${LOCAL_HOST}:${basePort + index}`,
      peerAddress: `${LOCAL_HOST}:${basePort + PEER_PORT_OFFSET + index}`,
      metricsAddress: `${LOCAL_HOST}:${basePort + METRICS_PORT_OFFSET + index}`,
      dataDir: path.join(dataDir, id),
      logFile: path.join(dataDir, `${id}.log`),
    };
  });
}

/** The `chatd serve` arguments for one replica of the static cluster `all`. */
export function serveArgs(spec: ReplicaSpec, all: readonly ReplicaSpec[], secretFile: string): string[] {
  return [
    'serve',
    '--id', spec.id,
    '--data-dir', spec.dataDir,
    '--client-addr', spec.clientAddress,
    '--peer-addr', spec.peerAddress,
    '--metrics-addr', spec.metricsAddress,
    '--initial-cluster', all.map((s) => `${s.id}=${s.peerAddress}`).join(','),
    '--initial-cluster-clients', all.map((s) => `${s.id}=${s.clientAddress}`).join(','),
    '--secret-file', secretFile,
  ];
}

/** Creates `<file>` with 32 random bytes in hex (mode 0600) unless it exists; returns its path. */
export async function ensureSecretFile(file: string): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  try {
    await writeFile(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(file, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Keep the existing secret (the replicas' data depends on it); fail now if it is unreadable.
    await readFile(file, 'utf8');
  }
  return file;
}

/** chatd beside this module: chatd.js when running from dist/, chatd.ts under tsx. */
export function defaultChatdEntry(): string {
  const self = fileURLToPath(import.meta.url);
  return path.join(path.dirname(self), `chatd${path.extname(self)}`);
}

/**
 * How to run `entry` with the runtime running this process: the same node binary and flags, so a
 * supervisor under tsx starts tsx replicas. A .ts entry gets tsx's loader if the flags lack it.
 */
export function nodeCommand(
  entry: string,
  execPath: string = process.execPath,
  execArgv: readonly string[] = process.execArgv,
): { command: string; args: string[] } {
  // A debugger flag would make every child fight for the same inspector port.
  const inherited = execArgv.filter((arg) => !arg.startsWith('--inspect'));
  const hasTsx = inherited.some((arg) => arg.includes('tsx'));
  const loader = entry.endsWith('.ts') && !hasTsx ? ['--import', 'tsx'] : [];
  return { command: execPath, args: [...inherited, ...loader, entry] };
}

interface ReplicaProcess {
  spec: ReplicaSpec;
  child: ChildProcess | undefined;
  exited: Promise<void>;
  /** Set while the supervisor itself is stopping it: no restart. */
  stopping: boolean;
  startedAtMs: number;
  restartTimer: NodeJS.Timeout | undefined;
  crashesInARow: number;
}

/** A replica that keeps dying within this long of starting is restarted with growing delays. */
const HEALTHY_UPTIME_MS = 10_000;
const RESTART_DELAY_MS = 500;
const MAX_RESTART_DELAY_MS = 30_000;

export class LocalCluster {
  readonly specs: readonly ReplicaSpec[];
  readonly secretFile: string;
  private readonly options: LocalClusterOptions;
  private readonly replicas: ReplicaProcess[];
  private stopped = false;

  constructor(options: LocalClusterOptions = {}) {
    this.options = options;
    this.specs = replicaSpecs(options);
    this.secretFile = path.join(path.resolve(options.dataDir ?? 'data'), 'cluster.secret');
    this.replicas = this.specs.map((spec) => ({
      spec,
      child: undefined,
      exited: Promise.resolve(),
      stopping: false,
      startedAtMs: 0,
      restartTimer: undefined,
      crashesInARow: 0,
    }));
  }

  /** Client addresses, in replica order (what `chatctl --servers` wants). */
  get clientAddresses(): string[] {
    return this.specs.map((s) => s.clientAddress);
  }

  addresses(): readonly ReplicaSpec[] {
    return this.specs;
  }

  /** Process ids, undefined for a replica that is not running. */
  pids(): Array<number | undefined> {
    return this.replicas.map((r) => (r.child?.exitCode === null && r.child.signalCode === null ? r.child.pid : undefined));
  }

  async start(): Promise<void> {
    this.stopped = false;
    await ensureSecretFile(this.secretFile);
    for (const replica of this.replicas) await this.launch(replica);
  }

  /** Sends `signal` to replica `index` (a crash when SIGKILL); it is restarted only with `restart`. */
  kill(index: number, signal: NodeJS.Signals = 'SIGKILL'): boolean {
    return this.replica(index).child?.kill(signal) ?? false;
  }

  /** Stops replica `index` cleanly (if running) and starts it again. */
  async restart(index: number): Promise<void> {
    const replica = this.replica(index);
    await this.terminate(replica);
    replica.stopping = false;
    await this.launch(replica);
  }

  /** Starts replica `index` if it is not running (e.g. after kill without --restart). */
  async startReplica(index: number): Promise<void> {
    const replica = this.replica(index);
    if (this.pids()[index] !== undefined) return;
    replica.stopping = false;
    await this.launch(replica);
  }

  /** Resolves once replica `index` is not running. */
  waitForExit(index: number): Promise<void> {
    return this.replica(index).exited;
  }

  /** SIGTERM to every replica, SIGKILL to any still running after the grace period. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.replicas.map((replica) => this.terminate(replica)));
  }

  private replica(index: number): ReplicaProcess {
    const replica = this.replicas[index];
    if (replica === undefined) throw new RangeError(`no replica ${index}: the cluster has ${this.replicas.length}`);
    return replica;
  }

  private async launch(replica: ReplicaProcess): Promise<void> {
    clearTimeout(replica.restartTimer);
    replica.restartTimer = undefined;
    const { spec } = replica;
    await mkdir(spec.dataDir, { recursive: true });
    const { command, args } = nodeCommand(this.options.chatdEntry ?? defaultChatdEntry());
    const log = openSync(spec.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(command, [...args, ...serveArgs(spec, this.specs, this.secretFile), ...(this.options.extraServeArgs ?? [])], {
        stdio: ['ignore', log, log],
        env: replicaEnv(process.env),
      });
    } finally {
      // The child holds its own copy of the descriptor.
      closeSync(log);
    }
    replica.child = child;
    replica.startedAtMs = Date.now();
    replica.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.onExit(replica, code, signal);
        resolve();
      });
      child.once('error', () => resolve());
    });
    if (child.pid !== undefined) this.options.onEvent?.({ kind: 'started', spec, pid: child.pid });
  }

  private onExit(replica: ReplicaProcess, code: number | null, signal: NodeJS.Signals | null): void {
    const wanted = this.options.restart === true && !this.stopped && !replica.stopping;
    let restartInMs: number | undefined;
    if (wanted) {
      const upMs = Date.now() - replica.startedAtMs;
      replica.crashesInARow = upMs >= HEALTHY_UPTIME_MS ? 1 : replica.crashesInARow + 1;
      restartInMs = Math.min(MAX_RESTART_DELAY_MS, RESTART_DELAY_MS * 2 ** (replica.crashesInARow - 1));
      replica.restartTimer = setTimeout(() => void this.launch(replica), restartInMs);
    }
    const requested = this.stopped || replica.stopping;
    this.options.onEvent?.({ kind: 'exited', spec: replica.spec, code, signal, requested, restartInMs });
  }

  private async terminate(replica: ReplicaProcess): Promise<void> {
    replica.stopping = true;
    clearTimeout(replica.restartTimer);
    replica.restartTimer = undefined;
    const child = replica.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), this.options.graceMs ?? DEFAULT_GRACE_MS);
    await replica.exited;
    clearTimeout(killer);
  }
}

/** The table printed at start: one row per replica. */
export function formatReplicaTable(specs: readonly ReplicaSpec[], pids: readonly (number | undefined)[]): string[] {
  return formatTable(
    ['ID', 'PID', 'CLIENT', 'PEER', 'METRICS', 'LOG'],
    specs.map((s, i) => [s.id, pids[i], s.clientAddress, s.peerAddress, `http://${s.metricsAddress}/metrics`, s.logFile]),
  );
}

export function describeEvent(event: ReplicaEvent): string {
  if (event.kind === 'started') return `${event.spec.id} started (pid ${event.pid})`;
  const how = event.signal !== null ? `killed by ${event.signal}` : `exited with code ${event.code ?? '?'}`;
  if (event.requested) return `${event.spec.id} stopped (${how})`;
  const next =
    event.restartInMs === undefined ? `; not restarting (see ${event.spec.logFile})` : `; restarting in ${event.restartInMs} ms`;
  return `${event.spec.id} ${how}${next}`;
}

/**
 * Runs the cluster until SIGINT or SIGTERM, printing the replica table and then one line per
 * state change. Resolves once every replica has stopped.
 */
export async function runLocalCluster(options: LocalClusterOptions & { out?: Output } = {}): Promise<void> {
  const out = options.out ?? processOutput();
  let announced = false;
  const cluster = new LocalCluster({
    ...options,
    onEvent: (event) => {
      if (announced) out.stdout(describeEvent(event));
      options.onEvent?.(event);
    },
  });
  await cluster.start();
  for (const line of formatReplicaTable(cluster.specs, cluster.pids())) out.stdout(line);
  out.stdout(`servers: ${cluster.clientAddresses.join(',')}`);
  out.stdout(`try: chatctl --servers ${cluster.clientAddresses.join(',')} status   (Ctrl+C stops the cluster)`);
  announced = true;
  await new Promise<void>((resolve) => {
    const shutdown = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', shutdown);
      process.off('SIGTERM', shutdown);
      out.stdout(`${signal}: stopping every replica…`);
      void cluster.stop().then(resolve);
    };
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
  });
  out.stdout('all replicas stopped');
}

/** The `chatd local` flags as commander hands them over. */
export interface LocalFlags {
  replicas: string;
  dataDir: string;
  basePort: string;
  restart?: boolean;
  graceMs: string;
}

export function parseLocalFlags(flags: LocalFlags): LocalClusterOptions {
  const integer = (text: string, flag: string): number => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw new UsageError(`${flag} must be a whole number, got "${text}"`);
    return n;
  };
  const options: LocalClusterOptions = {
    replicas: integer(flags.replicas, '--replicas'),
    dataDir: flags.dataDir,
    basePort: integer(flags.basePort, '--base-port'),
    restart: flags.restart === true,
    graceMs: integer(flags.graceMs, '--grace-ms'),
  };
  replicaSpecs(options);
  return options;
}

/** Adds `local` to chatd's program. */
export function registerLocalCommand(program: Command): Command {
  return program
    .command('local')
    .description('run a local cluster: N replicas as child processes on 127.0.0.1 (Ctrl+C stops them)')
    .option('--replicas <n>', 'how many replicas', String(DEFAULT_REPLICAS))
    .option('--data-dir <dir>', 'data, logs and the cluster secret go here', './data')
    .option('--base-port <port>', 'replica i: clients on port+i, peers on port+100+i, metrics on port+200+i', String(DEFAULT_BASE_PORT))
    .option('--restart', 'restart a replica when it exits')
    .option('--grace-ms <ms>', 'time to stop after SIGTERM before SIGKILL', String(DEFAULT_GRACE_MS))
    .action(async (flags: LocalFlags) => {
      let options: LocalClusterOptions;
      try {
        options = parseLocalFlags(flags);
      } catch (error) {
        process.stderr.write(`error: ${(error as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      await runLocalCluster(options);
    });
}
