// The server side of the peer port: PeerService with authentication, validation and the replica's
// handlers, either on its own grpc.Server (startPeerServer) or added to one the caller owns.

import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { ServiceDefinition } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { PeerServiceService } from '../gen/raftchat/peer/v1/peer.js';
import type { Message, NodeId } from '../raft/types.js';
import type { PeerSecret } from './auth.js';
import { serverChannelOptions } from './channel.js';
import { forwardHandler } from './server-forward.js';
import { DEFAULT_MAX_FORWARDS_IN_FLIGHT, forwardStreamHandler } from './server-forward-stream.js';
import { CallGuard } from './server-guard.js';
import type { PeerAddressOf } from './server-identity.js';
import { raftHandler } from './server-raft.js';
import { snapshotHandler } from './server-snapshot.js';
import type { IncomingSnapshot } from './server-snapshot.js';

export interface PeerHandlers {
  /** Raft messages for this replica, validated, in the order the sender sent them. Must not block. */
  onMessages(messages: Message[]): void;
  /**
   * A snapshot from the leader: stage `snapshot.chunks` into storage (it throws if the stream turns
   * out corrupt or incomplete), then step `snapshot.message` into raft. Resolving acknowledges the
   * snapshot to the sender (its raft.reportSnapshot(ok)); rejecting fails it.
   */
  onSnapshot(snapshot: IncomingSnapshot): Promise<void>;
  /** Proposes a forwarded command; `deadlineMs` is absolute (ms since the epoch). */
  onForward(command: Uint8Array, deadlineMs: number, from: NodeId): Promise<{ index: number; result: Uint8Array }>;
}

export interface PeerServiceOptions {
  /** This replica: messages addressed to another member are refused. Strongly recommended. */
  selfId?: NodeId;
  clusterId: string;
  peerSecret: PeerSecret;
  logger: Logger;
  handlers: PeerHandlers;
  /**
   * Mutual TLS identity: where this replica knows each member's peer port to be (its member table).
   * When set, every call must come with a client certificate, verified by the server's credentials,
   * whose subjectAltName names the host of the calling member's address (DNS name, wildcard or IP);
   * a caller without one, or one this replica has no address for, is refused. Set it whenever the
   * server runs mTLS: the peer token alone lets any holder of the secret speak as any member.
   */
  peerAddressOf?: PeerAddressOf;
  /** The senders' maxBatchBytes: sizes the largest message accepted and outcome batches (default 4 MiB). */
  maxBatchBytes?: number;
  /** Forwarded commands per ForwardStream without an outcome yet; more are refused (default 8192). */
  maxForwardsInFlight?: number;
}

export interface PeerServerOptions extends PeerServiceOptions {
  /** host:port to listen on; port 0 picks a free one (see PeerServer.port). */
  address: string;
  /** mTLS for the peer port; plaintext when absent. */
  credentials?: ServerCredentials;
}

export interface PeerServer {
  readonly port: number;
  /** Senders with an open Raft stream to this server (one entry per stream). */
  openRaftStreams(): NodeId[];
  /** Stops at once: open streams are cancelled (their senders see UNAVAILABLE and retry). */
  close(): Promise<void>;
}

const DEFAULT_MAX_BATCH_BYTES = 4 << 20;

/**
 * The service definition the server registers: requests arrive as raw bytes and are decoded inside
 * the handlers, so a malformed one becomes INVALID_ARGUMENT rather than an exception inside gRPC.
 */
const rawPeerService: ServiceDefinition = {
  raft: { ...PeerServiceService.raft, requestDeserialize: (bytes: Buffer): Buffer => bytes },
  snapshot: { ...PeerServiceService.snapshot, requestDeserialize: (bytes: Buffer): Buffer => bytes },
  forward: { ...PeerServiceService.forward, requestDeserialize: (bytes: Buffer): Buffer => bytes },
  forwardStream: { ...PeerServiceService.forwardStream, requestDeserialize: (bytes: Buffer): Buffer => bytes },
};

/** Adds PeerService to a server the caller owns; returns the senders with open Raft streams. */
export function addPeerService(server: Server, options: PeerServiceOptions): { openRaftStreams(): NodeId[] } {
  const logger = options.logger;
  const guard = new CallGuard(options.clusterId, options.peerSecret, logger, options.peerAddressOf);
  const openStreams = new Map<object, NodeId>();
  const { handlers, selfId } = options;
  const onForward = (command: Uint8Array, deadlineMs: number, from: NodeId) => handlers.onForward(command, deadlineMs, from);
  server.addService(rawPeerService, {
    raft: raftHandler({ selfId, guard, logger, openStreams, onMessages: (messages) => handlers.onMessages(messages) }),
    snapshot: snapshotHandler({ selfId, guard, logger, onSnapshot: (snapshot) => handlers.onSnapshot(snapshot) }),
    forward: forwardHandler({ guard, onForward }),
    forwardStream: forwardStreamHandler({
      guard,
      onForward,
      maxInFlight: options.maxForwardsInFlight ?? DEFAULT_MAX_FORWARDS_IN_FLIGHT,
      maxBatchBytes: options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES,
    }),
  });
  return { openRaftStreams: () => [...openStreams.values()] };
}

export async function startPeerServer(options: PeerServerOptions): Promise<PeerServer> {
  const server = new Server(serverChannelOptions(options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES));
  const service = addPeerService(server, options);
  const credentials = options.credentials ?? ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(options.address, credentials, (err, boundPort) => (err ? reject(err) : resolve(boundPort)));
  });
  options.logger.info({ address: options.address, port }, 'peer server listening');
  return {
    port,
    openRaftStreams: service.openRaftStreams,
    close: async () => {
      server.forceShutdown();
    },
  };
}
