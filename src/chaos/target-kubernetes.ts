// The Kubernetes chaos target: the pods a label selector picks in one namespace. A kill deletes the
// pod (its StatefulSet recreates it with the same name and volume), like chaoskube does.
import type { ChannelCredentials } from '@grpc/grpc-js';
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { ReplicaEndpoint } from './checker.js';
import type { ReplicaHealth } from './engine-budget.js';
import { findLeaderId } from './target-probe.js';
import type { ChaosTarget, KillResult } from './target-types.js';

export interface KubernetesTargetOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** A label selector as `kubectl get pods -l` takes it, e.g. `app.kubernetes.io/name=raftchat`. */
  labelSelector: string;
  /** The client gRPC port when a pod does not name one `grpc` (default 50051). */
  defaultGrpcPort?: number;
  /** Deadline of one GetStatus call when looking for the leader (default 2 000 ms). */
  probeDeadlineMs?: number;
  /** Passed to the delete; undefined keeps the pod's own terminationGracePeriodSeconds. */
  gracePeriodSeconds?: number;
  /** Client-port credentials: TLS when the cluster's client port uses it (default plaintext). */
  credentials?: ChannelCredentials;
}

const STATEFUL_NAME = /^(.*)-(\d+)$/;

export class KubernetesTarget implements ChaosTarget {
  readonly description: string;
  private readonly api: CoreV1Api;
  private readonly options: KubernetesTargetOptions;

  constructor(options: KubernetesTargetOptions) {
    this.options = options;
    this.api = options.kubeConfig.makeApiClient(CoreV1Api);
    this.description = `kubernetes namespace=${options.namespace} selector=${options.labelSelector || '(all pods)'}`;
  }

  async observe(options: { withLeader: boolean }): Promise<ReplicaHealth[]> {
    const pods = await this.listPods();
    const health = [...pods.map(podHealth), ...missingOrdinals(pods)];
    if (!options.withLeader) return health;
    const ready = new Set(health.filter((h) => h.ready).map((h) => h.name));
    const leaderId = await findLeaderId(
      this.endpointsOf(pods).filter((e) => ready.has(e.id)),
      this.options.probeDeadlineMs ?? 2_000,
      this.options.credentials,
    );
    // The member id is the pod name (see the pod contract), so the leader's id names its pod.
    return health.map((h) => ({ ...h, leader: h.name === leaderId }));
  }

  async kill(name: string): Promise<KillResult> {
    const deleted = await this.api.deleteNamespacedPod({
      name,
      namespace: this.options.namespace,
      ...(this.options.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: this.options.gracePeriodSeconds }),
    });
    const uid = deleted.metadata?.uid;
    return { incarnation: uid, detail: `pod ${this.options.namespace}/${name}${uid === undefined ? '' : ` (uid ${uid})`}` };
  }

  async endpoints(): Promise<ReplicaEndpoint[]> {
    return this.endpointsOf(await this.listPods());
  }

  close(): void {}

  private async listPods(): Promise<V1Pod[]> {
    const list = await this.api.listNamespacedPod({ namespace: this.options.namespace, labelSelector: this.options.labelSelector });
    return list.items;
  }

  /** `podIP:port` of every pod with an IP, the port being the container port named `grpc`. */
  private endpointsOf(pods: readonly V1Pod[]): ReplicaEndpoint[] {
    return pods.flatMap((pod) => {
      const name = pod.metadata?.name;
      const ip = pod.status?.podIP;
      if (name === undefined || ip === undefined || ip === '') return [];
      const named = pod.spec?.containers.flatMap((c) => c.ports ?? []).find((p) => p.name === 'grpc');
      const port = named?.containerPort ?? this.options.defaultGrpcPort ?? 50051;
      return [{ id: name, address: ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}` }];
    });
  }
}

/** Ready means what the Service and the PodDisruptionBudget mean by it: condition Ready=True, not terminating. */
export function podHealth(pod: V1Pod): ReplicaHealth {
  const name = pod.metadata?.name ?? '?';
  const incarnation = pod.metadata?.uid;
  const base = { name, leader: false, incarnation };
  if (pod.metadata?.deletionTimestamp !== undefined) return { ...base, ready: false, notReadyReason: 'terminating' };
  if (pod.status?.phase !== 'Running') return { ...base, ready: false, notReadyReason: `phase ${pod.status?.phase ?? 'unknown'}` };
  const ready = pod.status.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') return { ...base, ready: false, notReadyReason: 'Ready condition not True' };
  return { ...base, ready: true };
}

/**
 * StatefulSet pods are `<name>-<ordinal>`: an ordinal below the highest one seen whose pod is not
 * listed at all (deleted, not yet recreated) is a replica down, and counts against the budget.
 */
export function missingOrdinals(pods: readonly V1Pod[]): ReplicaHealth[] {
  const bySet = new Map<string, Set<number>>();
  for (const pod of pods) {
    const match = STATEFUL_NAME.exec(pod.metadata?.name ?? '');
    if (match === null) continue;
    const ordinals = bySet.get(match[1]!) ?? new Set<number>();
    ordinals.add(Number(match[2]));
    bySet.set(match[1]!, ordinals);
  }
  const missing: ReplicaHealth[] = [];
  for (const [set, ordinals] of bySet) {
    const highest = Math.max(...ordinals);
    for (let ordinal = 0; ordinal < highest; ordinal++) {
      if (!ordinals.has(ordinal)) {
        missing.push({ name: `${set}-${ordinal}`, ready: false, leader: false, incarnation: undefined, notReadyReason: 'pod missing' });
      }
    }
  }
  return missing;
}
