// Reads a settled cluster into the checker's observations: waits until every replica reports the
// same applied index, then reads each workload user's inbox from each replica with STALE reads (so
// a replica answers from its own copy, not the leader's) and takes its state digest.
import type { ChannelCredentials } from '@grpc/grpc-js';
import { RaftchatClient, toCallError, type GetDigestResponse } from '../client/index.js';
import { checkObservations, type ObservedMessage, type ReplicaObservation } from './checker-rules.js';
import type { CheckReport } from './checker-report.js';
import type { WorkloadResult, WorkloadUser } from './workload-records.js';

export interface ReplicaEndpoint {
  id: string;
  /** The replica's client address, `host:port`. */
  address: string;
}

export interface CollectOptions {
  /** How long to wait for every replica to reach the same applied index (default 30 000 ms). */
  convergeTimeoutMs?: number;
  /** Deadline of each read (default 5 000 ms). */
  readDeadlineMs?: number;
  /** Page size of inbox reads (default 1 000, the API's maximum). */
  pageSize?: number;
  /** Client-port credentials: TLS when the cluster's client port uses it (default plaintext). */
  credentials?: ChannelCredentials;
}

/** Observes the cluster and checks the workload's records against it. */
export async function verifyWorkload(result: WorkloadResult, replicas: readonly ReplicaEndpoint[], options: CollectOptions = {}): Promise<CheckReport> {
  const observed = await observeReplicas(replicas, result.users, options);
  return checkObservations({ sends: result.sends, subscribers: result.subscribers, replicas: observed });
}

export async function observeReplicas(
  replicas: readonly ReplicaEndpoint[],
  users: readonly WorkloadUser[],
  options: CollectOptions = {},
): Promise<ReplicaObservation[]> {
  const convergeTimeoutMs = options.convergeTimeoutMs ?? 30_000;
  const readDeadlineMs = options.readDeadlineMs ?? 5_000;
  const clients = replicas.map((r) => new RaftchatClient({
      servers: [r.address],
      deadlineMs: readDeadlineMs,
      attemptTimeoutMs: readDeadlineMs,
      ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
    }));
  try {
    const giveUpAtMs = Date.now() + convergeTimeoutMs;
    for (;;) {
      const before = await Promise.all(clients.map((c, i) => digestOrError(c, replicas[i]!.address, readDeadlineMs)));
      const settled = sameAppliedIndex(before);
      if (!settled && Date.now() < giveUpAtMs) {
        await delay(100);
        continue;
      }
      const observations = await Promise.all(
        replicas.map((r, i) => observeOne(r, clients[i]!, users, before[i]!, options.pageSize ?? 1_000)),
      );
      // A write that landed while the inboxes were read would make replicas look different: read again.
      const after = await Promise.all(clients.map((c, i) => digestOrError(c, replicas[i]!.address, readDeadlineMs)));
      const unchanged = before.every((d, i) => typeof d !== 'string' && typeof after[i] !== 'string' && d.appliedIndex === (after[i] as GetDigestResponse).appliedIndex);
      if (settled && !unchanged && Date.now() < giveUpAtMs) continue;
      return observations;
    }
  } finally {
    for (const client of clients) client.close();
  }
}

async function digestOrError(client: RaftchatClient, address: string, deadlineMs: number): Promise<GetDigestResponse | string> {
  try {
    return await client.digestOf(address, { deadlineMs });
  } catch (error) {
    return toCallError(error, address, 1).message;
  }
}

function sameAppliedIndex(digests: readonly (GetDigestResponse | string)[]): boolean {
  if (digests.some((d) => typeof d === 'string')) return false;
  return new Set(digests.map((d) => (d as GetDigestResponse).appliedIndex)).size === 1;
}

async function observeOne(
  replica: ReplicaEndpoint,
  client: RaftchatClient,
  users: readonly WorkloadUser[],
  digest: GetDigestResponse | string,
  pageSize: number,
): Promise<ReplicaObservation> {
  if (typeof digest === 'string') return { replica: replica.id, inboxes: new Map(), digest: undefined, error: `GetDigest failed: ${digest}` };
  const inboxes = new Map<string, ObservedMessage[]>();
  try {
    for (const user of users) {
      client.setToken(user.token);
      inboxes.set(user.username, await readInbox(client, pageSize));
    }
  } catch (error) {
    return { replica: replica.id, inboxes, digest: undefined, error: `reading inboxes failed: ${toCallError(error, replica.address, 1).message}` };
  }
  return { replica: replica.id, inboxes, digest: { appliedIndex: digest.appliedIndex, digest: digest.digest } };
}

/** The whole inbox, a page at a time, from the replica's own applied state. */
async function readInbox(client: RaftchatClient, pageSize: number): Promise<ObservedMessage[]> {
  const inbox: ObservedMessage[] = [];
  let afterId = 0;
  for (;;) {
    const page = await client.listMessages({ afterId, limit: pageSize, stale: true });
    for (const m of page.messages) inbox.push({ id: m.id, sender: m.sender, recipient: m.recipient, body: m.body });
    if (!page.more || page.messages.length === 0) return inbox;
    afterId = page.messages[page.messages.length - 1]!.id;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
