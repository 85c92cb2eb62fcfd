// Plays the StatefulSet controller and the kubelet against the fake API server: keeps pods
// <sts>-0..n-1 for spec.replicas = n (podManagementPolicy: Parallel), runs each as a real
// `chatd serve --kubernetes` process with the contract's environment, and keeps a volume per
// ordinal across pod restarts (the PVC) unless a test deletes it.

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { FakeApiServer, KubeObject } from './fake-apiserver.js';
import { chatdNodeArgs } from '../support/chatd-command.js';

export interface KubeletOptions {
  api: FakeApiServer;
  /** Holds the volumes, secrets, kubeconfig and process logs. */
  rootDir: string;
  namespace?: string;
  /** The chart's fullname: StatefulSet name, `-headless` Service, `-cluster` ConfigMap. */
  fullname?: string;
  /** Ports are reserved for ordinals below this. */
  maxPods?: number;
  adminToken?: string;
  /** The chatd entry point, relative to the repository root, run through tsx (default: test/support/chatd-command.ts decides). */
  entry?: string;
}

interface RunningPod {
  ordinal: number;
  process: ChildProcess;
  exited: Promise<number | null>;
  /** Times this ordinal was started (the log file suffix). */
  generation: number;
}

const REPO_ROOT = new URL('../../', import.meta.url).pathname;

export class Kubelet {
  readonly namespace: string;
  readonly statefulSet: string;
  readonly headlessService: string;
  readonly configMap: string;
  readonly adminToken: string;
  private readonly api: FakeApiServer;
  private readonly rootDir: string;
  private readonly entry: string | undefined;
  private readonly ports: Array<{ client: number; peer: number }> = [];
  private readonly running = new Map<number, RunningPod>();
  private readonly terminating = new Map<number, Promise<void>>();
  private readonly wipeOnRestart = new Set<number>();
  private readonly generations = new Map<number, number>();
  /** SIGKILL models a node that vanished: the pod gets no chance to shut down. */
  terminationSignal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM';
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly onChange = () => this.reconcileSoon();

  private constructor(options: KubeletOptions) {
    this.api = options.api;
    this.rootDir = options.rootDir;
    this.namespace = options.namespace ?? 'chat';
    this.statefulSet = options.fullname ?? 'raftchat';
    this.headlessService = `${this.statefulSet}-headless`;
    this.configMap = `${this.statefulSet}-cluster`;
    this.adminToken = options.adminToken ?? 'admin-token-for-tests-0123456789';
    this.entry = options.entry;
  }

  static async start(options: KubeletOptions): Promise<Kubelet> {
    const kubelet = new Kubelet(options);
    mkdirSync(join(options.rootDir, 'logs'), { recursive: true });
    writeFileSync(join(options.rootDir, 'cluster-secret'), 'cluster-secret-for-k8s-tests-0123456789');
    writeFileSync(join(options.rootDir, 'admin-token'), kubelet.adminToken);
    writeFileSync(join(options.rootDir, 'kubeconfig'), options.api.kubeconfigFile());
    for (let i = 0; i < (options.maxPods ?? 6); i++) kubelet.ports.push({ client: await freePort(), peer: await freePort() });
    options.api.events.on('change', kubelet.onChange);
    return kubelet;
  }

  /** `helm install`: the StatefulSet with spec.replicas = `replicas`. */
  install(replicas: number): void {
    const created = this.api.create('statefulsets', this.namespace, {
      metadata: { name: this.statefulSet, labels: { 'app.kubernetes.io/name': 'raftchat' } },
      spec: { replicas, serviceName: this.headlessService, podManagementPolicy: 'Parallel' },
    });
    if (created.kind === 'Status') throw new Error(`install failed: ${JSON.stringify(created)}`);
  }

  /** `helm uninstall`: deletes the StatefulSet (pods go with it); PVCs and the ConfigMap stay. */
  async uninstall(): Promise<void> {
    this.api.delete('statefulsets', this.namespace, this.statefulSet);
    await this.waitUntil(() => this.running.size === 0 && this.terminating.size === 0, 60_000, 'every pod stopped');
  }

  clientAddress(ordinal: number): string {
    return `127.0.0.1:${this.ports[ordinal]!.client}`;
  }

  podName(ordinal: number): string {
    return `${this.statefulSet}-${ordinal}`;
  }

  /** Deletes the pod (as `kubectl delete pod` would); with `loseVolume`, it comes back on an empty volume. */
  deletePod(ordinal: number, options: { loseVolume?: boolean } = {}): void {
    if (options.loseVolume === true) this.wipeOnRestart.add(ordinal);
    this.api.delete('pods', this.namespace, this.podName(ordinal));
  }

  /** The ordinals with a running process. */
  runningOrdinals(): number[] {
    return [...this.running.keys()].sort((a, b) => a - b);
  }

  /** The PID of a pod's current process (changes when the pod is recreated). */
  pid(ordinal: number): number | undefined {
    return this.running.get(ordinal)?.process.pid;
  }

  /** How many times this ordinal's process was started. */
  generation(ordinal: number): number {
    return this.generations.get(ordinal) ?? 0;
  }

  logFile(ordinal: number, generation = this.generations.get(ordinal) ?? 1): string {
    return join(this.rootDir, 'logs', `${this.podName(ordinal)}.${generation}.log`);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.api.events.off('change', this.onChange);
    await this.chain;
    await Promise.all([...this.running.keys()].map((o) => this.terminate(o)));
    await Promise.all([...this.terminating.values()]);
  }

  // ---- the controller loop --------------------------------------------------------------------

  private reconcileSoon(): void {
    this.chain = this.chain.then(() => this.reconcile()).catch(() => undefined);
  }

  private reconcile(): void {
    if (this.closed) return;
    const sts = this.api.get('statefulsets', this.namespace, this.statefulSet);
    const desired = sts?.spec?.replicas ?? 0;
    const pods = new Map(this.api.list('pods', this.namespace).map((p) => [p.metadata.name, p]));
    // Kubelet: a pod object that is gone stops its container.
    for (const ordinal of [...this.running.keys()]) if (!pods.has(this.podName(ordinal))) this.terminate(ordinal);
    // StatefulSet controller: delete pods beyond spec.replicas, create missing ones below it.
    for (const pod of pods.values()) {
      const ordinal = Number(pod.metadata.name.slice(this.statefulSet.length + 1));
      if (ordinal >= desired) this.api.delete('pods', this.namespace, pod.metadata.name);
    }
    for (let ordinal = 0; ordinal < desired; ordinal++) {
      if (pods.has(this.podName(ordinal)) || this.terminating.has(ordinal)) continue;
      this.createPod(ordinal);
    }
  }

  private createPod(ordinal: number): void {
    const pod: KubeObject = {
      metadata: { name: this.podName(ordinal), labels: { 'app.kubernetes.io/name': 'raftchat' } },
      spec: {},
      status: { phase: 'Running' },
    };
    this.api.create('pods', this.namespace, pod);
    this.startProcess(ordinal);
  }

  private startProcess(ordinal: number): void {
    const dataDir = join(this.rootDir, 'volumes', this.podName(ordinal));
    if (this.wipeOnRestart.delete(ordinal)) rmSync(dataDir, { recursive: true, force: true });
    const generation = (this.generations.get(ordinal) ?? 0) + 1;
    this.generations.set(ordinal, generation);
    const log = createWriteStream(this.logFile(ordinal, generation));
    const command = this.entry === undefined ? chatdNodeArgs() : ['--import', 'tsx', this.entry];
    const child = spawn(process.execPath, [...command, 'serve', '--kubernetes'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...this.podEnv(ordinal, dataDir) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    this.running.set(ordinal, { ordinal, process: child, exited, generation });
    void exited.then(() => {
      // A process that dies on its own is restarted by the kubelet (restartPolicy: Always).
      if (this.running.get(ordinal)?.process === child) {
        this.running.delete(ordinal);
        if (!this.closed) setTimeout(() => this.restartIfWanted(ordinal), 500);
      }
    });
  }

  private restartIfWanted(ordinal: number): void {
    if (this.closed || this.running.has(ordinal) || this.terminating.has(ordinal)) return;
    if (this.api.get('pods', this.namespace, this.podName(ordinal)) !== undefined) this.startProcess(ordinal);
  }

  /** SIGTERM, then SIGKILL after the grace period (30 s, as the chart's terminationGracePeriodSeconds). */
  private terminate(ordinal: number): Promise<void> {
    const pod = this.running.get(ordinal);
    if (pod === undefined) return this.terminating.get(ordinal) ?? Promise.resolve();
    this.running.delete(ordinal);
    const done = (async () => {
      pod.process.kill(this.terminationSignal);
      const kill = setTimeout(() => pod.process.kill('SIGKILL'), 30_000);
      await pod.exited;
      clearTimeout(kill);
    })();
    this.terminating.set(ordinal, done);
    void done.then(() => {
      this.terminating.delete(ordinal);
      this.reconcileSoon();
    });
    return done;
  }

  private podEnv(ordinal: number, dataDir: string): Record<string, string> {
    const port = this.ports[ordinal]!;
    return {
      RAFTCHAT_ID: this.podName(ordinal),
      RAFTCHAT_NAMESPACE: this.namespace,
      RAFTCHAT_STATEFULSET: this.statefulSet,
      RAFTCHAT_HEADLESS_SERVICE: this.headlessService,
      RAFTCHAT_CLUSTER_CONFIGMAP: this.configMap,
      RAFTCHAT_CLUSTER_DOMAIN: 'cluster.local',
      RAFTCHAT_DATA_DIR: dataDir,
      RAFTCHAT_CLIENT_ADDR: `127.0.0.1:${port.client}`,
      RAFTCHAT_PEER_ADDR: `127.0.0.1:${port.peer}`,
      RAFTCHAT_METRICS_ADDR: '',
      RAFTCHAT_SECRET_FILE: join(this.rootDir, 'cluster-secret'),
      RAFTCHAT_ADMIN_TOKEN_FILE: join(this.rootDir, 'admin-token'),
      RAFTCHAT_LOG_LEVEL: 'info',
      KUBECONFIG: join(this.rootDir, 'kubeconfig'),
      // No cluster DNS here: each pod's DNS name maps to its loopback ports.
      RAFTCHAT_K8S_ADDRESS_OVERRIDES: this.addressOverrides(),
    };
  }

  private addressOverrides(): string {
    return this.ports
      .flatMap((port, ordinal) => {
        const host = `${this.podName(ordinal)}.${this.headlessService}.${this.namespace}.svc.cluster.local`;
        return [`${host}/client=127.0.0.1:${port.client}`, `${host}/peer=127.0.0.1:${port.peer}`];
      })
      .join(',');
  }

  private async waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}
