// What the metrics read from a replica at scrape time. Structural on purpose: src/node's
// ReplicaStatus satisfies it as it is, and src/metrics imports nothing from the layers above it.

/** One member as the replica sees it. On the leader lag and reachable are its own view (§3.5). */
export interface MemberSnapshot {
  readonly id: string;
  readonly voter: boolean;
  /** Leader: the peer answered recently. Elsewhere: meaningless (only the leader tracks progress). */
  readonly reachable: boolean;
  /** Leader: entries the peer's log is behind the leader's last index. */
  readonly lag: number;
}

export interface StatusSnapshot {
  /** follower | pre-candidate | candidate | leader | learner */
  readonly role: string;
  readonly term: number;
  /** '' while no leader is known. */
  readonly leaderId: string;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex?: number;
  /** The compaction point: the log starts after it. */
  readonly snapshotIndex?: number;
  readonly members: readonly MemberSnapshot[];
}

export type StatusSource = () => StatusSnapshot;

/** A count that may need a read (e.g. of the keyspace); a rejected promise leaves the last value. */
export type CountSource = () => number | Promise<number>;

/** The roles a replica reports, each a series of raftchat_raft_role so a panel can show which is 1. */
export const replicaRoles = ['follower', 'pre-candidate', 'candidate', 'leader', 'learner'] as const;

/** The source's count, or undefined if reading it failed (the gauge then keeps its last value). */
export async function readCount(source: CountSource): Promise<number | undefined> {
  try {
    return await source();
  } catch {
    return undefined;
  }
}
