// Raft and storage metrics fed by hooks in the replica's Ready loop: proposals, leader changes,
// durable-append, fsync and apply latency, snapshots streamed, and round trips to peers.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { commitSecondsBuckets, diskSecondsBuckets, roundTripSecondsBuckets, snapshotSecondsBuckets } from './buckets.js';
import type { StatusReader } from './status-reader.js';
import { readCount, type CountSource } from './status.js';

/** Why a proposal failed; anything else is counted as `other` so the label stays bounded. */
export const proposalFailureReasons = ['unavailable', 'deadline_exceeded', 'dropped', 'resource_exhausted', 'stopped', 'other'] as const;
export type ProposalFailureReason = (typeof proposalFailureReasons)[number];

/** Maps a ReplicaError code (`PROPOSAL_DROPPED`, `UNAVAILABLE`, …) or a reason to its label value. */
export function proposalFailureReason(codeOrReason: string): ProposalFailureReason {
  const lower = codeOrReason.toLowerCase();
  if (lower === 'proposal_dropped') return 'dropped';
  return (proposalFailureReasons as readonly string[]).includes(lower) ? (lower as ProposalFailureReason) : 'other';
}

export class RaftMetrics {
  private readonly leaderChanges: Counter;
  private readonly committed: Counter;
  private readonly commitSeconds: Histogram;
  private readonly refusedMessages: Counter<'reason'>;
  private readonly failed: Counter<'reason'>;
  private readonly appendDurableSeconds: Histogram;
  private readonly fsyncSeconds: Histogram;
  private readonly logBytesWritten: Counter;
  private readonly applySeconds: Histogram;
  private readonly appliedEntries: Counter;
  private readonly snapshotsSent: Counter;
  private readonly snapshotSentBytes: Counter;
  private readonly snapshotSendSeconds: Histogram;
  private readonly snapshotsReceived: Counter;
  private readonly snapshotReceivedBytes: Counter;
  private readonly snapshotReceiveSeconds: Histogram;
  private readonly peerRoundTripSeconds: Histogram<'peer'>;
  private pendingSource: CountSource | undefined;
  private lastLeaderId = '';

  /** `status` lets each scrape notice a leader change too, in case no hook reported it. */
  constructor(registry: Registry, status: StatusReader) {
    const registers = [registry];
    const observeLeader = (leaderId: string) => this.observeLeader(leaderId);
    this.leaderChanges = new Counter({
      name: 'raftchat_raft_leader_changes_seen_total',
      help: 'Times this replica saw a new leader (the first one after start included), like etcd_server_leader_changes_seen_total.',
      registers,
      collect() {
        const s = status.read();
        if (s !== undefined) observeLeader(s.leaderId);
      },
    });
    this.committed = new Counter({
      name: 'raftchat_raft_proposals_committed_total',
      help: 'Proposals made through this replica that were committed and applied.',
      registers,
    });
    this.commitSeconds = new Histogram({
      name: 'raftchat_raft_proposal_commit_duration_seconds',
      help: 'Time from propose() on this replica to the entry being applied (forwarding and replication included).',
      buckets: [...commitSecondsBuckets],
      registers,
    });
    this.refusedMessages = new Counter({
      name: 'raftchat_raft_peer_messages_refused_total',
      help: 'Raft messages from peers that the core dropped unread because no correct peer sends them (src/raft/peer-message.ts), by reason. Anything but misdirected or not-a-member points at a buggy or hostile peer.',
      labelNames: ['reason'] as const,
      registers,
    });
    this.failed = new Counter({
      name: 'raftchat_raft_proposals_failed_total',
      help: 'Proposals made through this replica that failed, by reason.',
      labelNames: ['reason'] as const,
      registers,
    });
    // Zero series for every reason, so rate() and error ratios have data before the first failure.
    for (const reason of proposalFailureReasons) this.failed.inc({ reason }, 0);
    const pending = () => this.pendingSource;
    new Gauge({
      name: 'raftchat_raft_proposals_pending',
      help: 'Proposals made through this replica still waiting to be applied.',
      registers,
      async collect() {
        const source = pending();
        const count = source === undefined ? undefined : await readCount(source);
        if (count !== undefined) this.set(count);
      },
    });
    this.appendDurableSeconds = new Histogram({
      name: 'raftchat_raft_append_durable_duration_seconds',
      help: 'Time from a Ready handing over entries and hard state to them being durable (§5.3: before any message that depends on them is sent).',
      buckets: [...diskSecondsBuckets],
      registers,
    });
    this.fsyncSeconds = new Histogram({
      name: 'raftchat_storage_fsync_duration_seconds',
      help: 'Duration of one synced write batch (one fsync) to the replica\'s database.',
      buckets: [...diskSecondsBuckets],
      registers,
    });
    this.logBytesWritten = new Counter({
      name: 'raftchat_storage_log_written_bytes_total',
      help: 'Bytes of Raft log entries written to the database.',
      registers,
    });
    this.applySeconds = new Histogram({
      name: 'raftchat_raft_apply_duration_seconds',
      help: 'Time to apply one batch of committed entries to the state machine.',
      buckets: [...commitSecondsBuckets],
      registers,
    });
    this.appliedEntries = new Counter({
      name: 'raftchat_raft_applied_entries_total',
      help: 'Committed entries applied to this replica\'s state machine.',
      registers,
    });
    this.snapshotsSent = new Counter({ name: 'raftchat_raft_snapshots_sent_total', help: 'Snapshots this replica streamed to a follower.', registers });
    this.snapshotSentBytes = new Counter({ name: 'raftchat_raft_snapshot_sent_bytes_total', help: 'Bytes of snapshots streamed to followers.', registers });
    this.snapshotSendSeconds = new Histogram({
      name: 'raftchat_raft_snapshot_send_duration_seconds',
      help: 'Time to stream one snapshot to a follower.',
      buckets: [...snapshotSecondsBuckets],
      registers,
    });
    this.snapshotsReceived = new Counter({ name: 'raftchat_raft_snapshots_received_total', help: 'Snapshots this replica received and installed.', registers });
    this.snapshotReceivedBytes = new Counter({ name: 'raftchat_raft_snapshot_received_bytes_total', help: 'Bytes of snapshots received.', registers });
    this.snapshotReceiveSeconds = new Histogram({
      name: 'raftchat_raft_snapshot_receive_duration_seconds',
      help: 'Time to receive and install one snapshot.',
      buckets: [...snapshotSecondsBuckets],
      registers,
    });
    this.peerRoundTripSeconds = new Histogram({
      name: 'raftchat_raft_peer_round_trip_seconds',
      help: 'Round trip of a Raft message to a peer and its answer (e.g. heartbeat to heartbeat response).',
      labelNames: ['peer'] as const,
      buckets: [...roundTripSecondsBuckets],
      registers,
    });
  }

  /**
   * Counts a leader change when `leaderId` is a leader other than the last one seen. Safe to call
   * as often as convenient (on every role event, on every Ready, at every scrape): repeats of the
   * same leader and leaderless moments ('') do not count.
   */
  observeLeader(leaderId: string): void {
    if (leaderId === '' || leaderId === this.lastLeaderId) return;
    this.lastLeaderId = leaderId;
    this.leaderChanges.inc();
  }

  /** A proposal made through this replica was applied, `seconds` after propose(). */
  proposalCommitted(seconds: number): void {
    this.committed.inc();
    this.commitSeconds.observe(seconds);
  }

  /** The core refused a peer's message; `reason` is a PeerMessageRefusalCode (a fixed set). */
  peerMessageRefused(reason: string): void {
    this.refusedMessages.inc({ reason });
  }

  /** A proposal made through this replica failed; `reason` is a ReplicaError code or a reason. */
  proposalFailed(reason: string): void {
    this.failed.inc({ reason: proposalFailureReason(reason) });
  }

  setPendingProposalsSource(source: CountSource): void {
    this.pendingSource = source;
  }

  observeAppendToDurableSeconds(seconds: number): void {
    this.appendDurableSeconds.observe(seconds);
  }

  observeFsyncSeconds(seconds: number): void {
    this.fsyncSeconds.observe(seconds);
  }

  /**
   * Matches src/storage's WriteObserver `(durationMs, entryCount, bytes, synced)`, so it can be
   * passed as `onWrite`: synced batches feed the fsync histogram, every batch the bytes written.
   */
  readonly storageWriteObserver = (durationMs: number, _entryCount: number, bytes: number, synced: boolean): void => {
    if (synced) this.fsyncSeconds.observe(durationMs / 1000);
    this.logBytesWritten.inc(bytes);
  };

  /** One batch of `entries` committed entries was applied in `seconds`. */
  observeApplySeconds(seconds: number, entries: number): void {
    this.applySeconds.observe(seconds);
    this.appliedEntries.inc(entries);
  }

  snapshotSent(bytes: number, seconds: number): void {
    this.snapshotsSent.inc();
    this.snapshotSentBytes.inc(bytes);
    this.snapshotSendSeconds.observe(seconds);
  }

  snapshotReceived(bytes: number, seconds: number): void {
    this.snapshotsReceived.inc();
    this.snapshotReceivedBytes.inc(bytes);
    this.snapshotReceiveSeconds.observe(seconds);
  }

  /** `peer` is a member id: bounded by the cluster's size, never a client-controlled value. */
  observePeerRoundTripSeconds(peer: string, seconds: number): void {
    this.peerRoundTripSeconds.observe({ peer }, seconds);
  }
}
