// `chatd serve --kubernetes`: the flags of the pod contract, and the one entry point chatd calls —
// it derives identity and addresses, decides how the volume starts, and after the replica started
// runs self-admission and the StatefulSet reconciler until the pod stops.

import { loadTls } from '../node/tls.js';
import { readFileSync } from 'node:fs';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { Option, type Command } from 'commander';
import type { Logger } from 'pino';
import type { ReplicaConfig } from '../node/config.js';
import type { ReplicaApi } from '../node/types.js';
import { admissionPolicy, type AdmissionPolicy } from './admission.js';
import { prepareBootstrap, reconcileClusterId } from './bootstrap.js';
import { clusterConfigMap } from './cluster-configmap.js';
import type { KubernetesContext } from './context.js';
import { KubernetesError } from './errors.js';
import { memberAddresses, parseAddressOverrides, portOf, requireOrdinal, type StatefulSetIdentity } from './identity.js';
import { requestAdmission } from './join-request.js';
import { leaveIfScaledAway } from './leave.js';
import { Reconciler } from './reconciler.js';
import { StatefulSetWatch } from './statefulset-watch.js';

/** The flags registerKubernetesOptions adds, as commander hands them over. */
export interface KubernetesOptions {
  kubernetes?: boolean;
  namespace?: string;
  statefulset?: string;
  headlessService?: string;
  clusterConfigmap?: string;
  clusterDomain?: string;
  adminTokenFile?: string;
  /** TEST ONLY: see StatefulSetIdentity.addressOverrides. */
  k8sAddressOverrides?: string;
}

export interface KubernetesMode {
  /** The configuration to start the replica with. */
  config: ReplicaConfig;
  /** The leader admits only this StatefulSet's pods below spec.replicas; see guardAdmission. */
  admission: AdmissionPolicy;
  /** Call once the replica runs; stop() before stopping the replica. */
  afterStart(replica: ReplicaApi): Promise<{ stop(): Promise<void> }>;
}

export function registerKubernetesOptions(command: Command): Command {
  return command
    .addOption(new Option('--kubernetes', 'run as a StatefulSet pod (identity, bootstrap and membership from the Kubernetes API)').env('RAFTCHAT_KUBERNETES'))
    .addOption(new Option('--namespace <ns>', 'this pod\'s namespace').env('RAFTCHAT_NAMESPACE'))
    .addOption(new Option('--statefulset <name>', 'the StatefulSet this pod belongs to').env('RAFTCHAT_STATEFULSET'))
    .addOption(new Option('--headless-service <name>', 'the headless Service giving pods stable DNS names').env('RAFTCHAT_HEADLESS_SERVICE'))
    .addOption(new Option('--cluster-configmap <name>', 'ConfigMap holding the cluster id (created by ordinal 0)').env('RAFTCHAT_CLUSTER_CONFIGMAP'))
    .addOption(new Option('--cluster-domain <domain>', 'the cluster\'s DNS domain').env('RAFTCHAT_CLUSTER_DOMAIN').default('cluster.local'))
    .addOption(new Option('--admin-token-file <path>', 'file holding the admin token for membership calls').env('RAFTCHAT_ADMIN_TOKEN_FILE'))
    .addOption(
      new Option('--k8s-address-overrides <host/role=addr,...>', 'TEST ONLY: replace derived pod addresses (no cluster DNS)')
        .env('RAFTCHAT_K8S_ADDRESS_OVERRIDES')
        .hideHelp(),
    );
}

/** Reads the admin token file (also outside Kubernetes mode); undefined when none is given. */
export function readAdminTokenFile(path: string | undefined): string | undefined {
  if (path === undefined || path === '') return undefined;
  return readFileSync(path, 'utf8').trim();
}

export async function runKubernetesMode(options: KubernetesOptions, base: ReplicaConfig, logger: Logger): Promise<KubernetesMode> {
  const log = logger.child({ component: 'k8s' });
  const namespace = required(options.namespace, '--namespace / RAFTCHAT_NAMESPACE');
  const statefulSet = required(options.statefulset, '--statefulset / RAFTCHAT_STATEFULSET');
  const identity: StatefulSetIdentity = {
    namespace,
    statefulSet,
    headlessService: required(options.headlessService, '--headless-service / RAFTCHAT_HEADLESS_SERVICE'),
    clusterDomain: options.clusterDomain ?? 'cluster.local',
    clientPort: portOf(base.clientAddress),
    peerPort: portOf(base.peerAddress),
    addressOverrides: parseAddressOverrides(options.k8sAddressOverrides ?? ''),
  };
  const configMapName = required(options.clusterConfigmap, '--cluster-configmap / RAFTCHAT_CLUSTER_CONFIGMAP');
  const ordinal = requireOrdinal(base.id, statefulSet);
  if (identity.addressOverrides.size > 0) log.warn({ overrides: identity.addressOverrides.size }, 'TEST ONLY address overrides in use');

  // In a pod: the ServiceAccount; elsewhere (tests, a laptop): KUBECONFIG.
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  const watch = new StatefulSetWatch({ kubeConfig, namespace, statefulSet, logger: log.child({ watch: 'statefulset' }) });
  await watch.start();
  const ctx: KubernetesContext = {
    identity,
    podName: base.id,
    ordinal,
    configMap: clusterConfigMap(kubeConfig.makeApiClient(CoreV1Api), namespace, configMapName),
    configMapName,
    statefulSet: watch,
    adminToken: readAdminTokenFile(options.adminTokenFile) ?? base.adminToken,
    clientCredentials: loadTls(base.tls).clientChannel,
    logger: log,
  };
  const self = memberAddresses(identity, base.id);
  const withAddresses: ReplicaConfig = {
    ...base,
    adminToken: ctx.adminToken,
    advertiseClientAddress: self.clientAddress,
    advertisePeerAddress: self.peerAddress,
  };
  log.info({ ordinal, namespace, statefulSet, advertise: self }, 'Kubernetes mode: this pod is a StatefulSet member');

  let outcome;
  try {
    outcome = await prepareBootstrap(ctx, withAddresses);
  } catch (err) {
    await watch.stop();
    throw err;
  }

  return {
    config: outcome.config,
    admission: admissionPolicy(statefulSet, () => watch.replicas()),
    async afterStart(replica) {
      await reconcileClusterId(ctx, outcome, replica.clusterId).catch((err: unknown) =>
        log.warn({ err: (err as Error).message }, 'could not check the cluster-id ConfigMap; continuing'),
      );
      const stopping = new AbortController();
      const admitted = requestAdmission(ctx, replica, outcome.decision.kind !== 'restart', stopping.signal).catch((err: unknown) =>
        log.error({ err: (err as Error).message }, 'asking for admission failed'),
      );
      const reconciler = new Reconciler({ replica, statefulSet: watch, statefulSetName: statefulSet, logger: log.child({ step: 'reconcile' }) });
      return {
        async stop() {
          stopping.abort();
          await reconciler.stop();
          await admitted;
          await leaveIfScaledAway(ctx, replica, 10_000);
          await watch.stop();
        },
      };
    },
  };
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new KubernetesError('INVALID_IDENTITY', `Kubernetes mode needs ${flag}`);
  return value;
}
