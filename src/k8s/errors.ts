// Errors of the Kubernetes integration, each with a stable code callers and tests can switch on.

export type KubernetesErrorCode =
  /** The pod's name, namespace or StatefulSet settings do not describe a StatefulSet pod. */
  | 'INVALID_IDENTITY'
  /** The volume, the ConfigMap or a peer belong to different clusters. */
  | 'CLUSTER_ID_MISMATCH'
  /** The Kubernetes API answered with an error we cannot work around. */
  | 'API'
  /** Stopped while waiting. */
  | 'STOPPED';

export class KubernetesError extends Error {
  readonly code: KubernetesErrorCode;
  constructor(code: KubernetesErrorCode, message: string) {
    super(message);
    this.name = 'KubernetesError';
    this.code = code;
  }
}
