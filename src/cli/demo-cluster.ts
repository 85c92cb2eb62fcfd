// The cluster the demo drives: five local replicas on 127.0.0.1 (LocalCluster) or, with --hosts, five
// replicas each in its own network namespace (HostCluster). Only the hosts form can cut real links.
import type { NetnsLab } from './demo-netns.js';
import type { ReplicaSpec } from './local.js';

export interface DemoCluster {
  readonly specs: readonly ReplicaSpec[];
  readonly clientAddresses: string[];
  start(): Promise<void>;
  stop(): Promise<void>;
  kill(index: number, signal?: NodeJS.Signals): boolean;
  startReplica(index: number): Promise<void>;
  restart(index: number): Promise<void>;
  waitForExit(index: number): Promise<void>;
  pids(): Array<number | undefined>;
  /** Present in --hosts mode: iptables link faults between the namespaces. */
  readonly lab?: NetnsLab;
}
