// What must hold during and after the fuzz: every replica answers promptly and still serves (GetStatus
// and a linearizable read), logged no error, and — read from each replica's own copy once they
// converge — holds the workload's and the fuzz's acknowledged messages exactly once, byte for byte,
// with equal state digests.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { observeReplicas, checkObservations, formatReport, type ReplicaEndpoint, type ReplicaObservation } from '../../src/chaos/checker.js';
import type { WorkloadResult, WorkloadUser } from '../../src/chaos/workload-records.js';
import { ReadConsistency, type GetStatusResponse, type ListMessagesResponse } from '../../src/gen/chat/v1/chat.js';
import { call, type TestCluster } from '../support/cluster.js';
import type { AcknowledgedSend } from './execute.js';

/**
 * The replicas that do not answer GetStatus — a handler that touches nothing but memory — within
 * `deadlineMs`: their event loop is blocked, or they are gone. Asked after every fuzz batch.
 */
export async function unresponsiveReplicas(cluster: TestCluster, deadlineMs: number): Promise<string[]> {
  const answers = await Promise.all(cluster.nodes.map((n) => cluster.status(n.id, deadlineMs).then(() => undefined, () => n.id)));
  return answers.filter((id): id is string => id !== undefined);
}

/**
 * No replica logged an error or worse (pino level ≥ 50): raftchat logs at that level only what
 * should never happen — an unexpected error behind an INTERNAL, a fatal stop of the replica, a peer
 * transport fault — some of which no status code or digest would show.
 */
export function assertNoErrorsLogged(cluster: TestCluster): void {
  const errors: string[] = [];
  for (const node of cluster.nodes) {
    for (const line of readFileSync(cluster.logOf(node.id), 'utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      const entry = parseLogLine(line);
      if (entry !== undefined && entry.level >= 50) errors.push(`${node.id}: ${entry.msg} ${line.slice(0, 300)}`);
    }
  }
  assert.deepEqual(errors, [], `replicas logged errors:\n${errors.slice(0, 10).join('\n')}`);
}

function parseLogLine(line: string): { level: number; msg: string } | undefined {
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value !== 'object' || value === null || !('level' in value) || typeof value.level !== 'number') return undefined;
    return { level: value.level, msg: 'msg' in value && typeof value.msg === 'string' ? value.msg : '' };
  } catch {
    return undefined;
  }
}

/** GetStatus and a linearizable (ReadIndex) read answered by every replica, each one in turn. */
export async function assertEveryReplicaServes(cluster: TestCluster, reader: WorkloadUser): Promise<void> {
  assert.equal(cluster.running().length, cluster.nodes.length, 'a replica process exited during the fuzz');
  for (const node of cluster.nodes) {
    const status = await call<unknown, GetStatusResponse>(cluster.clusterClient(node.id), 'getStatus', {});
    assert.notEqual(status.leaderId, '', `${node.id} knows no leader`);
    await call<unknown, ListMessagesResponse>(
      cluster.chat(node.id),
      'listMessages',
      { unreadOnly: false, afterId: 0, limit: 1, consistency: ReadConsistency.READ_CONSISTENCY_LINEARIZABLE },
      { token: reader.token },
    );
  }
}

/**
 * Reads every given user's inbox from every replica (STALE: each replica's own copy) once all of
 * them report the same applied index — the chaos checker's collector, reused.
 */
export function observe(cluster: TestCluster, users: readonly WorkloadUser[]): Promise<ReplicaObservation[]> {
  const endpoints: ReplicaEndpoint[] = cluster.nodes.map((n) => ({ id: n.id, address: n.clientAddress }));
  return observeReplicas(endpoints, users, { convergeTimeoutMs: 30_000 });
}

/** The chaos checker's rules on the workload's users only (the fuzz's own inboxes hold other traffic). */
export function assertWorkloadIntact(result: WorkloadResult, observed: readonly ReplicaObservation[]): void {
  const workloadUsers = new Set(result.users.map((u) => u.username));
  const replicas = observed.map((r) => ({ ...r, inboxes: new Map([...r.inboxes].filter(([user]) => workloadUsers.has(user))) }));
  const report = checkObservations({ sends: result.sends, subscribers: result.subscribers, replicas });
  assert.ok(report.counts.acknowledged > 0, 'the workload got no send acknowledged during the fuzz');
  assert.ok(report.ok, formatReport(report));
}

/** Ids the fuzz asked to delete from `owner`'s inbox (the only account it holds sessions for). */
export interface FuzzDeletions {
  owner: string;
  ids: ReadonlySet<number>;
}

/**
 * Every send acknowledged to the fuzz whose recipient it can read is on every replica under its
 * id, exactly once, from the same sender, with the identical body — or, if the fuzz itself asked to
 * delete it, possibly gone, but then gone from every replica. Counts what was checked present, what
 * was deleted, and sends to accounts the fuzz could not log in to (covered by the digests only).
 */
export function assertFuzzSendsIntact(
  acknowledged: readonly AcknowledgedSend[],
  deletions: FuzzDeletions,
  observed: readonly ReplicaObservation[],
): { checked: number; deleted: number; unreadable: number } {
  // A reused request id is acknowledged again with the first send's message: one record per id.
  const byId = new Map(acknowledged.map((a) => [a.id, a]));
  const counts = { checked: 0, deleted: 0, unreadable: 0 };
  for (const sent of byId.values()) {
    if (!observed.every((r) => r.inboxes.has(sent.recipient))) {
      counts.unreadable++;
      continue;
    }
    const copiesOn = observed.map((r) => ({ replica: r.replica, copies: r.inboxes.get(sent.recipient)!.filter((m) => m.id === sent.id) }));
    const mayBeGone = sent.recipient === deletions.owner && deletions.ids.has(sent.id);
    if (mayBeGone && copiesOn.every((c) => c.copies.length === 0)) {
      counts.deleted++;
      continue;
    }
    for (const { replica, copies } of copiesOn) {
      assert.equal(copies.length, 1, `acknowledged message ${sent.id} (to ${sent.recipient}) is stored ${copies.length} times on ${replica}`);
      const stored = copies[0]!;
      assert.equal(stored.sender, sent.sender, `message ${sent.id} changed sender on ${replica}`);
      // Equal strings are equal UTF-8: what is stored is byte for byte what was acknowledged.
      assert.equal(stored.body, sent.body, `message ${sent.id}'s body differs on ${replica}`);
    }
    counts.checked++;
  }
  return counts;
}

/** Equal state digests at one applied index on every replica (the observations were taken settled). */
export function assertSameDigests(observed: readonly ReplicaObservation[]): void {
  for (const r of observed) assert.equal(r.error, undefined, `${r.replica} could not be read: ${r.error}`);
  const first = observed[0]?.digest;
  assert.ok(first !== undefined, 'no replica reported a digest');
  for (const r of observed) {
    assert.ok(r.digest !== undefined, `${r.replica} reported no digest`);
    assert.equal(r.digest.appliedIndex, first.appliedIndex, `${r.replica} is at applied index ${r.digest.appliedIndex}, not ${first.appliedIndex}`);
    assert.equal(r.digest.digest, first.digest, `${r.replica}'s state digest differs at applied index ${first.appliedIndex}`);
  }
}
