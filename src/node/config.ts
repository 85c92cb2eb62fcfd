// The typed configuration of one replica. Built from flags and environment in exactly one place
// (src/cli/chatd.ts); everything below receives this object and never reads process.env.

export interface InitialMember {
  id: string;
  peerAddress: string;
  clientAddress: string;
  /** Known for members learned from a running cluster (joining). */
  incarnation?: string;
}

import type { TlsFiles } from './tls.js';

export interface ReplicaConfig {
  /** This member's name: the pod name on Kubernetes, `n0`.. locally. */
  id: string;
  dataDir: string;
  /** host:port the public gRPC API listens on. */
  clientAddress: string;
  /** host:port for replica-to-replica traffic. */
  peerAddress: string;
  /** Addresses other members use to reach this one (defaults: the listen addresses). */
  advertiseClientAddress: string;
  advertisePeerAddress: string;
  /** host:port of the Prometheus endpoint, or '' for none. */
  metricsAddress: string;
  /**
   * How an empty data directory starts: `initial` = a static cluster of `initialMembers` (all
   * voters; `chatd local`), `single` = a new one-member cluster, `join` = wait to be added
   * (optionally asking `joinAddress` to add this replica as a learner).
   */
  bootstrap: 'initial' | 'single' | 'join';
  initialMembers: InitialMember[];
  /** A client address of a running member to ask for admission, or ''. */
  joinAddress: string;
  /** For `join`: the cluster's id and its members' addresses (learned from joinAddress). */
  clusterId: string;
  joinMembers: InitialMember[];
  /** Shared by every member: authenticates peer traffic and signs client tokens. */
  clusterSecret: Uint8Array;
  /** Separate admin credential for membership calls ('' = none required). */
  adminToken: string;
  /** TLS on the client port and mutual TLS on the peer port (both off by default). */
  tls: TlsFiles;

  tickIntervalMs: number;
  electionTicks: number;
  heartbeatTicks: number;
  /**
   * How long a leader lets a new commit index wait for an App with entries (or a heartbeat) to
   * carry it before it sends followers an App for it alone; 0 sends it at once, as etcd-io/raft.
   * Bounds how much later than the leader a follower applies while writes are sparse.
   */
  commitBroadcastDelayMs: number;
  maxBytesPerMessage: number;
  maxInflightMessages: number;
  /** Compact the log once this many entries are applied past the last compaction point. */
  snapshotEveryEntries: number;
  /** Entries kept behind the applied index after a compaction, for followers slightly behind. */
  compactionKeepEntries: number;
  /** Bytes of key/value pairs per snapshot chunk on the wire. */
  snapshotChunkBytes: number;
  /** Fails proposals with RESOURCE_EXHAUSTED beyond this many waiting for commit. */
  maxPendingProposals: number;

  tokenTtlMs: number;
  maxBodyBytes: number;
  /** Client calls without a deadline get this one. */
  defaultDeadlineMs: number;
}

export const replicaDefaults = {
  tickIntervalMs: 50,
  electionTicks: 10,
  heartbeatTicks: 1,
  commitBroadcastDelayMs: 20,
  maxBytesPerMessage: 1 << 20,
  maxInflightMessages: 256,
  snapshotEveryEntries: 10_000,
  compactionKeepEntries: 2_000,
  snapshotChunkBytes: 1 << 20,
  maxPendingProposals: 10_000,
  tokenTtlMs: 24 * 3600 * 1000,
  maxBodyBytes: 64 * 1024,
  defaultDeadlineMs: 10_000,
} satisfies Partial<ReplicaConfig>;
