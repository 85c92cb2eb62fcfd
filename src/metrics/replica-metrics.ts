// ReplicaMetrics: one replica's metrics in its own prom-client Registry (never the global one, so
// several replicas in one process — `chatd local`, tests — keep separate numbers). The hooks the
// replica and API server call are methods here; scrape-time values come from the sources set.
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { ChatMetrics } from './chat-metrics.js';
import { GrpcServerMetrics } from './grpc-metrics.js';
import { RaftMetrics } from './raft-metrics.js';
import { registerRaftStatusGauges } from './raft-status-gauges.js';
import { StatusReader } from './status-reader.js';
import type { CountSource, StatusSource } from './status.js';

export interface MetricsOptions {
  /** This member's id: labels raftchat_replica_info and keeps the replica out of its own peer series. */
  nodeId: string;
  /**
   * Process and Node.js metrics (CPU, memory, event-loop lag, heap, GC). Default true. Replicas
   * sharing one process (in-process tests) report the same process: turn it on for one only.
   */
  defaultMetrics?: boolean;
}

export class ReplicaMetrics {
  readonly registry = new Registry();
  readonly nodeId: string;
  readonly raft: RaftMetrics;
  readonly chat: ChatMetrics;
  readonly grpc: GrpcServerMetrics;
  private readonly status = new StatusReader();

  constructor(options: MetricsOptions) {
    this.nodeId = options.nodeId;
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    const info = new Gauge({
      name: 'raftchat_replica_info',
      help: 'Always 1; node_id is this replica\'s member id, for joining its series to the Raft member names.',
      labelNames: ['node_id'] as const,
      registers: [this.registry],
    });
    info.set({ node_id: options.nodeId }, 1);
    this.raft = new RaftMetrics(this.registry, this.status);
    this.chat = new ChatMetrics(this.registry);
    this.grpc = new GrpcServerMetrics(this.registry);
    registerRaftStatusGauges({
      registry: this.registry,
      nodeId: options.nodeId,
      status: this.status,
    });
  }

  /** Read at every scrape: pass `() => replica.status()` (src/node's ReplicaStatus fits as it is). */
  setStatusSource(source: StatusSource): void {
    this.status.setSource(source);
  }

  setAccountsSource(source: CountSource): void {
    this.chat.setAccountsSource(source);
  }

  /** e.g. `() => api.subscriptions.streams()`; replaces subscriberDelta() bookkeeping. */
  setSubscribersSource(source: CountSource): void {
    this.chat.setSubscribersSource(source);
  }

  setPendingProposalsSource(source: CountSource): void {
    this.raft.setPendingProposalsSource(source);
  }

  // The hooks, flat, so a call site reads `metrics.messageSent()`.

  observeLeader(leaderId: string): void {
    this.raft.observeLeader(leaderId);
  }
  proposalCommitted(seconds: number): void {
    this.raft.proposalCommitted(seconds);
  }
  proposalFailed(reason: string): void {
    this.raft.proposalFailed(reason);
  }
  peerMessageRefused(reason: string): void {
    this.raft.peerMessageRefused(reason);
  }
  observeAppendToDurableSeconds(seconds: number): void {
    this.raft.observeAppendToDurableSeconds(seconds);
  }
  observeFsyncSeconds(seconds: number): void {
    this.raft.observeFsyncSeconds(seconds);
  }
  /** src/storage's WriteObserver: `ReplicaStore.open(dir, { onWrite: metrics.storageWriteObserver })`. */
  get storageWriteObserver(): (durationMs: number, entryCount: number, bytes: number, synced: boolean) => void {
    return this.raft.storageWriteObserver;
  }
  observeApplySeconds(seconds: number, entries: number): void {
    this.raft.observeApplySeconds(seconds, entries);
  }
  snapshotSent(bytes: number, seconds: number): void {
    this.raft.snapshotSent(bytes, seconds);
  }
  snapshotReceived(bytes: number, seconds: number): void {
    this.raft.snapshotReceived(bytes, seconds);
  }
  observePeerRoundTripSeconds(peer: string, seconds: number): void {
    this.raft.observePeerRoundTripSeconds(peer, seconds);
  }
  messageSent(): void {
    this.chat.messageSent();
  }
  forwardedWrite(): void {
    this.chat.forwardedWrite();
  }
  /** src/api's ApiObserver: messages sent and requests rejected, from every finished call. */
  get apiObserver(): ChatMetrics['apiObserver'] {
    return this.chat.apiObserver;
  }
  requestRejected(reason: string): void {
    this.chat.requestRejected(reason);
  }
  subscriberDelta(delta: 1 | -1): void {
    this.chat.subscriberDelta(delta);
  }

  /** The Prometheus text exposition of every metric, sources read now. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

export function createMetrics(options: MetricsOptions): ReplicaMetrics {
  return new ReplicaMetrics(options);
}
