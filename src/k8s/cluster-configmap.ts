// The cluster-id ConfigMap: its existence says "a cluster was started here" (so an empty ordinal 0
// must not start another), and its `cluster-id` tells joining pods which cluster to join.

import { ApiException, type CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import { KubernetesError } from './errors.js';

export const CLUSTER_ID_KEY = 'cluster-id';

export interface ClusterConfigMap {
  /** The cluster id it holds, or undefined when the ConfigMap does not exist. */
  read(): Promise<string | undefined>;
  /** Creates it; `false` when it already exists (someone else created it first: 409 AlreadyExists). */
  create(clusterId: string): Promise<boolean>;
  /** Replaces the cluster id it holds. */
  update(clusterId: string): Promise<void>;
}

export function clusterConfigMap(api: CoreV1Api, namespace: string, name: string): ClusterConfigMap {
  return {
    async read() {
      try {
        const cm = await api.readNamespacedConfigMap({ name, namespace });
        return cm.data?.[CLUSTER_ID_KEY] ?? '';
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        throw apiError(`reading ConfigMap ${namespace}/${name}`, err);
      }
    },
    async create(clusterId) {
      const body: V1ConfigMap = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, namespace, labels: { 'app.kubernetes.io/component': 'cluster-id' } },
        data: { [CLUSTER_ID_KEY]: clusterId },
      };
      try {
        await api.createNamespacedConfigMap({ namespace, body });
        return true;
      } catch (err) {
        if (err instanceof ApiException && err.code === 409) return false;
        throw apiError(`creating ConfigMap ${namespace}/${name}`, err);
      }
    },
    async update(clusterId) {
      try {
        const cm = await api.readNamespacedConfigMap({ name, namespace });
        cm.data = { ...cm.data, [CLUSTER_ID_KEY]: clusterId };
        await api.replaceNamespacedConfigMap({ name, namespace, body: cm });
      } catch (err) {
        throw apiError(`updating ConfigMap ${namespace}/${name}`, err);
      }
    },
  };
}

export function apiError(what: string, err: unknown): KubernetesError {
  if (err instanceof KubernetesError) return err;
  const detail = err instanceof ApiException ? `HTTP ${err.code}` : (err as Error).message;
  const hint = err instanceof ApiException && err.code === 403 ? ' (check the Role: the chart grants get/create on configmaps)' : '';
  return new KubernetesError('API', `${what} failed: ${detail}${hint}`);
}
