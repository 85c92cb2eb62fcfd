// Raft gauges whose values are read from the replica's status at scrape time (term, role, leader,
// indexes, membership, per-peer lag), so they are never stale and cost nothing between scrapes.
import { Gauge, type Registry } from 'prom-client';
import type { StatusReader } from './status-reader.js';
import { replicaRoles, type StatusSnapshot } from './status.js';

export interface RaftStatusGaugeOptions {
  registry: Registry;
  nodeId: string;
  status: StatusReader;
}

/** Registers the gauges; they hold no state of their own beyond what collect() sets. */
export function registerRaftStatusGauges(options: RaftStatusGaugeOptions): void {
  const { registry, nodeId, status } = options;
  const registers = [registry];

  /** A gauge of one number taken from the status; left alone while no status source is set. */
  const fromStatus = (name: string, help: string, value: (s: StatusSnapshot) => number | undefined) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const s = status.read();
        const v = s === undefined ? undefined : value(s);
        if (v !== undefined) this.set(v);
      },
    });

  fromStatus('raftchat_raft_has_leader', 'Whether this replica knows a leader (1) or not (0).', (s) => (s.leaderId === '' ? 0 : 1));
  fromStatus('raftchat_raft_is_leader', 'Whether this replica is the leader (1) or not (0).', (s) => (s.role === 'leader' ? 1 : 0));
  fromStatus('raftchat_raft_term', 'The current Raft term (§5.1).', (s) => s.term);
  fromStatus('raftchat_raft_commit_index', 'Highest log index known to be committed.', (s) => s.commitIndex);
  fromStatus('raftchat_raft_applied_index', 'Highest log index applied to this replica\'s state machine.', (s) => s.appliedIndex);
  fromStatus('raftchat_raft_last_index', 'Index of the last entry in this replica\'s log.', (s) => s.lastIndex);
  fromStatus('raftchat_raft_snapshot_index', 'Index of the latest snapshot; the log is compacted up to it.', (s) => s.snapshotIndex);
  fromStatus('raftchat_raft_voters', 'Voting members in this replica\'s configuration.', (s) => s.members.filter((m) => m.voter).length);
  fromStatus('raftchat_raft_learners', 'Non-voting members (learners catching up) in this replica\'s configuration.', (s) => s.members.filter((m) => !m.voter).length);
  fromStatus('raftchat_raft_quorum_size', 'Voters needed for a majority: floor(voters / 2) + 1.', (s) => Math.floor(s.members.filter((m) => m.voter).length / 2) + 1);

  new Gauge({
    name: 'raftchat_raft_role',
    help: 'This replica\'s Raft role: 1 for the current one, 0 for the others.',
    labelNames: ['role'] as const,
    registers,
    collect() {
      const s = status.read();
      if (s === undefined) return;
      for (const role of replicaRoles) this.set({ role }, s.role === role ? 1 : 0);
    },
  });

  // Only the leader tracks its followers' progress (§5.3), so only the leader reports these. The
  // per-peer series disappear on a follower instead of claiming everyone is caught up; the
  // cluster-wide count is 0 there, so max() over replicas is the leader's view (0 with no leader).
  fromStatus(
    'raftchat_raft_reachable_voters',
    'Voters, the leader included, that answered the leader recently. The leader\'s view; 0 on other replicas.',
    (s) => (s.role === 'leader' ? s.members.filter((m) => m.voter && (m.reachable || m.id === nodeId)).length : 0),
  );
  new Gauge({
    name: 'raftchat_raft_peer_lag_entries',
    help: 'Entries a peer\'s log is behind the leader\'s. Reported by the leader only.',
    labelNames: ['peer'] as const,
    registers,
    collect() {
      this.reset();
      const s = status.read();
      if (s?.role !== 'leader') return;
      for (const m of s.members) if (m.id !== nodeId) this.set({ peer: m.id }, m.lag);
    },
  });
  new Gauge({
    name: 'raftchat_raft_peer_reachable',
    help: 'Whether a peer answered the leader recently (1) or not (0). Reported by the leader only.',
    labelNames: ['peer'] as const,
    registers,
    collect() {
      this.reset();
      const s = status.read();
      if (s?.role !== 'leader') return;
      for (const m of s.members) if (m.id !== nodeId) this.set({ peer: m.id }, m.reachable ? 1 : 0);
    },
  });
}
