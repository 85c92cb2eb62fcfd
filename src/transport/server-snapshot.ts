// The receiving end of a snapshot stream (Raft §7). The header is checked (secret, cluster, sender,
// a MsgSnap for this replica) before the replica sees anything; the replica then reads the pairs at
// its own pace (gRPC flow control pushes back on the sender) and the iteration ends normally only
// after the trailer matched what arrived. The sender is acknowledged only if the replica's handler
// consumed the whole stream and returned without error.

import { status } from '@grpc/grpc-js';
import type { ServerReadableStream, sendUnaryData } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { SnapshotAck } from '../gen/raftchat/peer/v1/peer.js';
import { MessageType } from '../raft/types.js';
import type { Message, NodeId } from '../raft/types.js';
import { decodeSnapshotChunk, toRaftMessage } from './codec.js';
import { TransportError } from './errors.js';
import type { CallGuard, Refusal } from './server-guard.js';
import { handlerErrorStatus } from './server-status.js';
import { SnapshotDigest } from './snapshot-digest.js';
import type { KeyValuePair } from './snapshot-digest.js';

/** A snapshot arriving from the leader, handed to the replica. */
export interface IncomingSnapshot {
  /** The authenticated sender. */
  readonly from: NodeId;
  /** The MsgSnap: step it into raft only after `chunks` has been read to its end. */
  readonly message: Message;
  /**
   * The keyspace's pairs in order. Completes only once the trailer's pair count, byte count and
   * checksum match what arrived; throws a TransportError (CORRUPT_SNAPSHOT, SNAPSHOT_INCOMPLETE,
   * INVALID_ARGUMENT) otherwise. Can be iterated once.
   */
  readonly chunks: AsyncIterable<KeyValuePair[]>;
  /**
   * The verified sha-256 from the trailer (SnapshotDigest's framing, the same as storage's PairHash),
   * for the storage to check once more against what it wrote. Throws before `chunks` has completed.
   */
  checksum(): Uint8Array;
}

export interface SnapshotReceiverContext {
  /** When set, a snapshot addressed to anyone else is refused. */
  selfId: NodeId | undefined;
  guard: CallGuard;
  logger: Logger;
  onSnapshot: (snapshot: IncomingSnapshot) => Promise<void>;
}

type RawIterator = AsyncIterator<Buffer>;

/** Reads data chunks until the trailer, verifying it; `verified` says whether it got there. */
class ChunkReader {
  private readonly digest = new SnapshotDigest();
  verified = false;
  private trailerChecksum: Uint8Array | undefined;

  constructor(private readonly raw: RawIterator) {}

  get pairs(): number {
    return this.digest.pairs;
  }

  async *read(): AsyncGenerator<KeyValuePair[]> {
    try {
      for (;;) {
        const next = await this.nextChunk();
        if (next === undefined) throw new TransportError('SNAPSHOT_INCOMPLETE', 'snapshot stream ended before its trailer');
        const kind = next.kind;
        if (kind?.$case === 'data') {
          this.digest.update(kind.value.pairs);
          yield kind.value.pairs;
        } else if (kind?.$case === 'trailer') {
          this.verify(kind.value);
          if ((await this.nextChunk()) !== undefined) {
            throw new TransportError('INVALID_ARGUMENT', 'snapshot chunk after the trailer');
          }
          this.trailerChecksum = kind.value.checksum;
          this.verified = true;
          return;
        } else {
          throw new TransportError('INVALID_ARGUMENT', `unexpected snapshot chunk '${kind?.$case ?? 'empty'}'`);
        }
      }
    } finally {
      // The handler stopped early or something failed: stop reading (cancels the call's stream).
      if (!this.verified) await this.raw.return?.();
    }
  }

  checksum(): Uint8Array {
    if (this.trailerChecksum === undefined) {
      throw new TransportError('SNAPSHOT_INCOMPLETE', 'the checksum is known only after every chunk was read');
    }
    return this.trailerChecksum;
  }

  private async nextChunk() {
    let next: IteratorResult<Buffer>;
    try {
      next = await this.raw.next();
    } catch {
      throw new TransportError('SNAPSHOT_INCOMPLETE', 'snapshot stream was cancelled');
    }
    if (next.done === true) return undefined;
    const chunk = decodeSnapshotChunk(next.value);
    if (!chunk.ok) throw new TransportError('INVALID_ARGUMENT', chunk.reason);
    return chunk.value;
  }

  private verify(trailer: { pairs: number; bytes: number; checksum: Uint8Array }): void {
    const { digest } = this;
    if (trailer.pairs !== digest.pairs || trailer.bytes !== digest.bytes) {
      throw new TransportError(
        'CORRUPT_SNAPSHOT',
        `trailer says ${trailer.pairs} pairs / ${trailer.bytes} bytes, received ${digest.pairs} / ${digest.bytes}`,
      );
    }
    if (!Buffer.from(digest.digest()).equals(trailer.checksum)) {
      throw new TransportError('CORRUPT_SNAPSHOT', 'snapshot checksum mismatch');
    }
  }
}

export function snapshotHandler(ctx: SnapshotReceiverContext) {
  return (call: ServerReadableStream<Buffer, SnapshotAck>, callback: sendUnaryData<SnapshotAck>): void => {
    receive(ctx, call).then(
      (result) => ('refusal' in result ? callback(result.refusal) : callback(null, { pairs: result.pairs })),
      (err: unknown) => callback(handlerErrorStatus(err)),
    );
  };
}

async function receive(
  ctx: SnapshotReceiverContext,
  call: ServerReadableStream<Buffer, SnapshotAck>,
): Promise<{ pairs: number } | { refusal: Refusal }> {
  const auth = ctx.guard.authenticate(call, 'Snapshot');
  if ('refusal' in auth) return auth;
  const { from } = auth;
  const raw: RawIterator = call[Symbol.asyncIterator]();
  const first = await raw.next().catch(() => undefined);
  if (first === undefined || first.done === true) {
    return { refusal: { code: status.CANCELLED, details: 'snapshot stream ended before its header' } };
  }
  const chunk = decodeSnapshotChunk(first.value);
  if (!chunk.ok) return { refusal: ctx.guard.refuse(from, 'Snapshot', chunk.kind, chunk.reason) };
  const kind = chunk.value.kind;
  if (kind?.$case !== 'header' || kind.value.message === undefined) {
    return { refusal: ctx.guard.refuse(from, 'Snapshot', 'invalid', 'snapshot stream must start with a header') };
  }
  const wrongCluster = ctx.guard.checkClusterId(kind.value.clusterId, from, 'Snapshot');
  if (wrongCluster !== undefined) return { refusal: wrongCluster };
  const message = toRaftMessage(kind.value.message, from, ctx.selfId);
  if (!message.ok) return { refusal: ctx.guard.refuse(from, 'Snapshot', message.kind, message.reason) };
  if (message.value.type !== MessageType.Snap) {
    return { refusal: ctx.guard.refuse(from, 'Snapshot', 'invalid', 'snapshot header must carry a Snap message') };
  }

  const reader = new ChunkReader(raw);
  await ctx.onSnapshot({ from, message: message.value, chunks: reader.read(), checksum: () => reader.checksum() });
  if (!reader.verified) {
    // Acknowledging would tell the leader the follower has data it never read.
    await raw.return?.();
    return { refusal: { code: status.ABORTED, details: 'the receiver stopped before the end of the snapshot' } };
  }
  ctx.logger.info({ peer: from, index: message.value.snapshot?.metadata.index, pairs: reader.pairs }, 'snapshot received');
  return { pairs: reader.pairs };
}
