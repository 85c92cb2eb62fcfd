// The client side of the peer port: one gRPC channel per peer carrying a long-lived Raft stream,
// snapshot streams (one in flight per peer) and a ForwardStream of forwarded commands. Membership changes arrive as
// setPeers(); callbacks (onUnreachable, onSnapshotDone) are never called from inside send().

import { Client, Metadata, connectivityState, credentials as grpcCredentials } from '@grpc/grpc-js';
import type { ChannelCredentials, ServiceError } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { ForwardResponse, PeerServiceService } from '../gen/raftchat/peer/v1/peer.js';
import { MessageType } from '../raft/types.js';
import type { Message, NodeId } from '../raft/types.js';
import { PEER_AUTH_KEY, peerToken } from './auth.js';
import type { PeerSecret } from './auth.js';
import { clientChannelOptions } from './channel.js';
import { TransportError, fromServiceError } from './errors.js';
import { ForwardStream } from './forward-stream.js';
import type { ForwardResult } from './forward-stream.js';
import { RaftStream } from './raft-stream.js';
import type { RaftStreamStats } from './raft-stream.js';
import { sendSnapshot } from './snapshot-send.js';
import type { SnapshotSource } from './snapshot-send.js';

export interface PeerTransportOptions {
  selfId: NodeId;
  clusterId: string;
  peerSecret: PeerSecret;
  logger: Logger;
  /** mTLS for the peer port; plaintext when absent. */
  credentials?: ChannelCredentials;
  /** Byte cap on one RaftBatch; must be >= raft's maxBytesPerMessage and the snapshot chunk size. */
  maxBatchBytes: number;
  /** Per-peer queue limits while a peer is slow or away (defaults: 4096 messages, 4 × maxBatchBytes). */
  maxQueuedMessages?: number;
  maxQueuedBytes?: number;
  /** Reconnect back-off bounds (defaults 50 ms → 2 s). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /**
   * How long forward() waits for a peer's channel that is not connected — e.g. still in its back-off
   * because the leader's peer port was not up yet — before failing with UNAVAILABLE (default 2 s, one
   * full reconnect back-off; 0 fails at once).
   */
  forwardConnectWaitMs?: number;
  /**
   * 'stream' (the default): forwarded commands share one ForwardStream per peer, batched per
   * event-loop turn; a peer without it (UNIMPLEMENTED) gets unary calls. 'unary': one Forward call
   * per command, as before ForwardStream (for benchmarks and tests).
   */
  forwardMode?: 'stream' | 'unary';
  /** A snapshot that has not been acknowledged by then fails (default 10 minutes). */
  snapshotTimeoutMs?: number;
  /** A peer could not be reached: the replica calls raft.reportUnreachable(peerId). */
  onUnreachable: (peerId: NodeId) => void;
  /**
   * Opens the state machine's data for an outgoing MsgSnap. It runs before the header is written, so
   * it may still fill in `message.snapshot` (metadata, data) to match what it will stream.
   */
  snapshotSource: (message: Message) => SnapshotSource | Promise<SnapshotSource>;
  /** A snapshot finished: the replica calls raft.reportSnapshot(peerId, ok). */
  onSnapshotDone: (peerId: NodeId, ok: boolean) => void;
}

export type { ForwardResult } from './forward-stream.js';

export interface PeerStatus extends RaftStreamStats {
  address: string;
  snapshotInFlight: boolean;
}

/** Everything this replica holds for one peer; replaced whole when the peer's address changes. */
interface PeerLink {
  address: string;
  client: Client;
  stream: RaftStream;
  forwards: ForwardStream;
  snapshotInFlight: boolean;
  /** Aborted when the peer is removed: cancels a snapshot in flight. */
  removed: AbortController;
}

const DEFAULT_FORWARD_CONNECT_WAIT_MS = 2_000;

/** Resolves once the channel is connected; rejects with UNAVAILABLE (no status) at `untilMs`. */
function connected(client: Client, untilMs: number): Promise<void> {
  if (client.getChannel().getConnectivityState(true) === connectivityState.READY) return Promise.resolve();
  return new Promise((resolve, reject) => {
    client.waitForReady(untilMs, (err?: Error) => {
      if (err === undefined) resolve();
      else reject(new TransportError('UNAVAILABLE', `no connection to the peer: ${err.message}`));
    });
  });
}

export class PeerTransport {
  private readonly options: PeerTransportOptions;
  private readonly logger: Logger;
  private readonly token: string;
  private readonly peers = new Map<NodeId, PeerLink>();
  private closed = false;

  constructor(options: PeerTransportOptions) {
    this.options = options;
    this.logger = options.logger;
    this.token = peerToken(options.peerSecret, options.clusterId, options.selfId);
  }

  /** Makes `peers` (id → host:port) the membership: new ones connect lazily, removed ones are closed. */
  setPeers(peers: ReadonlyMap<NodeId, string>): void {
    if (this.closed) return;
    for (const [id, link] of this.peers) {
      if (peers.get(id) !== link.address) void this.removePeer(id, link);
    }
    for (const [id, address] of peers) {
      if (id === this.options.selfId || this.peers.has(id)) continue;
      this.peers.set(id, this.connect(id, address));
      this.logger.info({ peer: id, address }, 'peer added');
    }
  }

  /** Queues raft messages to their peers; Snap messages go out as snapshot streams. */
  send(messages: readonly Message[]): void {
    if (this.closed) return;
    for (const message of messages) {
      if (message.type === MessageType.Snap) {
        this.sendSnapshot(message);
        continue;
      }
      const link = this.peers.get(message.to);
      if (link === undefined) {
        this.reportUnreachable(message.to);
        continue;
      }
      link.stream.send(message);
    }
  }

  /** Streams the snapshot for `message` (a MsgSnap) to its peer, then calls onSnapshotDone. */
  sendSnapshot(message: Message): void {
    const peerId = message.to;
    const link = this.peers.get(peerId);
    if (this.closed || link === undefined) {
      queueMicrotask(() => this.safely('onSnapshotDone', () => this.options.onSnapshotDone(peerId, false)));
      return;
    }
    // Raft does not send another snapshot until this one is reported (the follower's progress stays
    // in snapshot state, §7); a duplicate here is dropped, and the one in flight reports for both.
    if (link.snapshotInFlight) {
      this.logger.debug({ peer: peerId }, 'snapshot already in flight to peer; dropping another');
      return;
    }
    link.snapshotInFlight = true;
    void this.streamSnapshot(peerId, link, message);
  }

  /**
   * Hands `command` to `peerId` (the leader) to propose; resolves with its log index and result once
   * applied there. `deadlineMs` is absolute, in ms since the epoch (as in ProposeOptions).
   *
   * Rejects with a TransportError, the same for the stream and unary Forward. UNKNOWN_PEER, CLOSED and
   * an UNAVAILABLE without `status` (no connection within forwardConnectWaitMs, or a stream that broke
   * before the command was written) mean the command never left this replica: safe to retry. Every
   * other error may follow a command the leader applies (a broken stream after the write is
   * UNAVAILABLE with the call's status).
   */
  async forward(peerId: NodeId, command: Uint8Array, deadlineMs: number): Promise<ForwardResult> {
    if (this.closed) throw new TransportError('CLOSED', 'peer transport is closed');
    const link = this.peers.get(peerId);
    if (link === undefined) throw new TransportError('UNKNOWN_PEER', `no address for peer '${peerId}'`);
    const connectWaitMs = this.options.forwardConnectWaitMs ?? DEFAULT_FORWARD_CONNECT_WAIT_MS;
    await connected(link.client, Math.min(deadlineMs, Date.now() + connectWaitMs));
    if (this.options.forwardMode === 'unary') return this.forwardUnary(link.client, command, deadlineMs);
    return link.forwards.forward(command, deadlineMs);
  }

  /** One Forward call for one command. */
  private forwardUnary(client: Client, command: Uint8Array, deadlineMs: number): Promise<ForwardResult> {
    const { forward } = PeerServiceService;
    return new Promise<ForwardResult>((resolve, reject) => {
      client.makeUnaryRequest(
        forward.path,
        forward.requestSerialize,
        forward.responseDeserialize,
        { clusterId: this.options.clusterId, command, deadlineUnixMs: Math.floor(deadlineMs) }, // int64 on the wire
        this.metadata(),
        { deadline: deadlineMs },
        (err: ServiceError | null, response?: ForwardResponse) => {
          if (err !== null) reject(fromServiceError(err));
          else resolve(response ?? ForwardResponse.create());
        },
      );
    });
  }

  /** What the replica shows per member (reachable, lag on the wire); undefined for unknown peers. */
  peerStatus(peerId: NodeId): PeerStatus | undefined {
    const link = this.peers.get(peerId);
    if (link === undefined) return undefined;
    return { address: link.address, snapshotInFlight: link.snapshotInFlight, ...link.stream.stats() };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.peers].map(([id, link]) => this.removePeer(id, link)));
  }

  private connect(id: NodeId, address: string): PeerLink {
    const client = new Client(
      address,
      this.options.credentials ?? grpcCredentials.createInsecure(),
      clientChannelOptions(this.options.maxBatchBytes),
    );
    const maxBatchBytes = this.options.maxBatchBytes;
    const stream = new RaftStream({
      peerId: id,
      client,
      clusterId: this.options.clusterId,
      metadata: () => this.metadata(),
      maxBatchBytes,
      limits: {
        maxQueuedMessages: this.options.maxQueuedMessages ?? 4096,
        maxQueuedBytes: this.options.maxQueuedBytes ?? 4 * maxBatchBytes,
      },
      backoff: { minMs: this.options.reconnectMinMs ?? 50, maxMs: this.options.reconnectMaxMs ?? 2_000 },
      logger: this.logger,
      onUnreachable: (peerId) => this.reportUnreachableNow(peerId),
    });
    const forwards = new ForwardStream({
      peerId: id,
      client,
      clusterId: this.options.clusterId,
      metadata: () => this.metadata(),
      maxBatchBytes,
      logger: this.logger,
      unary: (command, deadlineMs) => this.forwardUnary(client, command, deadlineMs),
    });
    return { address, client, stream, forwards, snapshotInFlight: false, removed: new AbortController() };
  }

  private async removePeer(id: NodeId, link: PeerLink): Promise<void> {
    if (this.peers.get(id) === link) this.peers.delete(id);
    this.logger.info({ peer: id, address: link.address }, 'peer removed; closing its streams');
    // Cancels a snapshot still streaming to it; its onSnapshotDone(false) follows.
    link.removed.abort();
    link.forwards.close(this.closed ? 'the peer transport closed' : 'the peer was removed');
    await link.stream.close();
    link.client.close();
  }

  private async streamSnapshot(peerId: NodeId, link: PeerLink, message: Message): Promise<void> {
    const started = Date.now();
    let ok = false;
    let source: SnapshotSource | undefined;
    try {
      source = await this.options.snapshotSource(message);
      const sent = await sendSnapshot({
        client: link.client,
        metadata: this.metadata(),
        clusterId: this.options.clusterId,
        message,
        source,
        signal: link.removed.signal,
        deadlineMs: started + (this.options.snapshotTimeoutMs ?? 600_000),
      });
      ok = true;
      this.logger.info(
        { peer: peerId, index: message.snapshot?.metadata.index, ...sent, elapsedMs: Date.now() - started },
        'snapshot sent to peer',
      );
    } catch (err) {
      const { code, message: reason } = err as TransportError;
      this.logger.warn({ peer: peerId, code, reason }, 'snapshot to peer failed; raft will retry');
    } finally {
      link.snapshotInFlight = false;
      try {
        await source?.close();
      } catch (err) {
        this.logger.warn({ peer: peerId, reason: (err as Error).message }, 'closing the snapshot source failed');
      }
    }
    this.safely('onSnapshotDone', () => this.options.onSnapshotDone(peerId, ok));
  }

  private reportUnreachable(peerId: NodeId): void {
    queueMicrotask(() => this.reportUnreachableNow(peerId));
  }

  private reportUnreachableNow(peerId: NodeId): void {
    this.safely('onUnreachable', () => this.options.onUnreachable(peerId));
  }

  /** The replica's callbacks run inside gRPC's: a throw there must not unwind into the library. */
  private safely(callback: string, run: () => void): void {
    try {
      run();
    } catch (err) {
      this.logger.error({ callback, reason: (err as Error).message }, 'a peer transport callback threw');
    }
  }

  private metadata(): Metadata {
    const metadata = new Metadata();
    metadata.set(PEER_AUTH_KEY, this.token);
    return metadata;
  }
}
