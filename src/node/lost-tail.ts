// A replica that finds its own log shorter than what it acknowledged must stop: its promise behind
// every vote and every acknowledgement is broken. etcd-io/raft panics on the same evidence
// ("tocommit is out of range [lastIndex]. Was the raft log corrupted, truncated or lost?").
import { MessageType, type Message } from '../raft/types.js';

/** What the detector needs to know about the receiving replica. */
export interface LogView {
  id: string;
  term: number;
  lastIndex: number;
}

/**
 * Watches the heartbeats the core refused as 'beyond-log'. A leader sends min(match, commit) in a
 * heartbeat (§5.3): never more than the follower acknowledged, and the follower wrote that with fsync
 * before acknowledging, so no correct leader ever sends one past a correct follower's log (the
 * simulator checks that a correct node never refuses a correct peer's message). When a leader of a
 * term not below ours keeps doing so, the entries went missing here: a disk or filesystem that lost
 * synced writes, or a data directory put back from an older copy.
 *
 * Not evidence on a volume that never held anything (term 0, empty log): that is a member whose
 * volume was replaced, still known to the leader under its old incarnation until it is re-added.
 */
export class LostTailDetector {
  private leader = '';
  private term = 0;
  private seen = 0;

  /** `threshold` refused heartbeats in a row from one leader in one term make the evidence. */
  constructor(private readonly threshold = 3) {}

  /**
   * Notes a heartbeat the core refused as beyond this replica's log; returns the error to stop with
   * once the evidence is conclusive, undefined before.
   */
  refusedHeartbeat(m: Message, self: LogView): Error | undefined {
    if (m.type !== MessageType.Heartbeat || m.term < self.term || m.commit <= self.lastIndex) return undefined;
    if (self.term === 0 && self.lastIndex === 0) return undefined;
    if (m.from !== this.leader || m.term !== this.term) {
      this.leader = m.from;
      this.term = m.term;
      this.seen = 0;
    }
    this.seen++;
    if (this.seen < this.threshold) return undefined;
    return new Error(
      `this replica's Raft log ends at index ${self.lastIndex}, but ${m.from}, leader in term ${m.term}, holds that it ` +
        `acknowledged entries up to index ${m.commit}: entries this replica wrote with fsync and acknowledged are gone from its ` +
        'volume (a disk or filesystem that lost synced writes, or a data directory restored from an older copy). It must not vote ' +
        'with this log: on Kubernetes delete its PersistentVolumeClaim, then its pod (it rejoins with an empty volume and ' +
        `is replaced); elsewhere run \`chatctl members remove ${self.id}\`, move its data directory aside and start it with --join`,
    );
  }
}
