// How an empty (or not) volume starts, as a pure function of what the pod sees: its ordinal, whether
// its volume holds a cluster, and the cluster-id ConfigMap. Only one pod, once, may start a cluster.

export interface BootstrapInputs {
  ordinal: number;
  /** The cluster id stored on this pod's volume; '' when the volume was never initialized. */
  volumeClusterId: string;
  /** The ConfigMap's cluster id: undefined when it does not exist, '' when it has none yet. */
  configMapClusterId: string | undefined;
}

export type BootstrapDecision =
  /** The volume holds a cluster: start from it, whatever the ConfigMap says. */
  | { kind: 'restart'; clusterId: string }
  /** Ordinal 0, empty volume, no ConfigMap: claim the ConfigMap, then start a one-member cluster. */
  | { kind: 'create-cluster' }
  /** Empty volume, a cluster exists: start empty and ask to be added (as a learner). */
  | { kind: 'join'; clusterId: string }
  /** Empty volume, no cluster id to join yet: ordinal 0 has not created the cluster. */
  | { kind: 'wait-for-cluster-id' };

export function decideBootstrap(inputs: BootstrapInputs): BootstrapDecision {
  if (inputs.volumeClusterId !== '') return { kind: 'restart', clusterId: inputs.volumeClusterId };
  if (inputs.configMapClusterId === undefined) {
    // Only ordinal 0 may create a cluster: with every pod allowed to, two could start two clusters.
    return inputs.ordinal === 0 ? { kind: 'create-cluster' } : { kind: 'wait-for-cluster-id' };
  }
  // A ConfigMap says a cluster was created: an empty ordinal 0 has lost its volume and must join
  // (never start a second cluster over the first). Empty data means the id is still being written.
  if (inputs.configMapClusterId === '') return { kind: 'wait-for-cluster-id' };
  return { kind: 'join', clusterId: inputs.configMapClusterId };
}
