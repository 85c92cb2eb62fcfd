// What the chaos engine needs from the thing it breaks: a look at every replica, a way to take one
// down, and the replicas' client addresses for the verifying workload.
import type { ReplicaEndpoint } from './checker.js';
import type { ReplicaHealth } from './engine-budget.js';

export interface KillResult {
  /** The incarnation taken down (pod uid, process id): the victim is back once it differs. */
  incarnation: string | undefined;
  /** For the log: `pid 4242`, `pod raftchat-3 (uid …)`. */
  detail: string;
}

export interface ChaosTarget {
  /** For the log: `kubernetes namespace=… selector=…`, `local data-dir=…`. */
  readonly description: string;
  /** Every replica now. `withLeader` asks the replicas who leads (a gRPC call), only when needed. */
  observe(options: { withLeader: boolean }): Promise<ReplicaHealth[]>;
  /** Takes replica `name` down abruptly: SIGKILL for a process, a pod delete for Kubernetes. */
  kill(name: string): Promise<KillResult>;
  /** Client addresses of the replicas, for --verify. */
  endpoints(): Promise<ReplicaEndpoint[]>;
  close(): void;
}
