// What every part of Kubernetes mode shares: this pod's identity, the API handles and the logger.

import type { ChannelCredentials } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { ClusterConfigMap } from './cluster-configmap.js';
import type { StatefulSetIdentity } from './identity.js';
import type { StatefulSetWatch } from './statefulset-watch.js';

export interface KubernetesContext {
  identity: StatefulSetIdentity;
  /** This pod's name: its member id. */
  podName: string;
  ordinal: number;
  configMap: ClusterConfigMap;
  /** Name of the ConfigMap, for messages that tell the user what to do. */
  configMapName: string;
  statefulSet: StatefulSetWatch;
  /** Sent on AddMember/RemoveMember when the cluster requires one ('' = none). */
  adminToken: string;
  /** For calls to other members' client ports: TLS when the client port uses it. */
  clientCredentials: ChannelCredentials | undefined;
  logger: Logger;
}

/** Resolves after `delayMs`, or at once when `signal` aborts. */
export function pause(delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(done, delayMs);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
