// Streams one snapshot to a peer (Raft §7): a header with the MsgSnap, the state machine's key/value
// chunks as the source yields them — waiting for 'drain' whenever the peer reads slower than we
// read — and a trailer with the pair count, byte count and checksum the receiver verifies.

import type { Client, ClientWritableStream, Metadata, ServiceError } from '@grpc/grpc-js';
import { PeerServiceService } from '../gen/raftchat/peer/v1/peer.js';
import type { SnapshotAck, SnapshotChunk } from '../gen/raftchat/peer/v1/peer.js';
import type { Message } from '../raft/types.js';
import { encodeMessage, encodeSnapshotChunk } from './codec.js';
import { TransportError, fromServiceError } from './errors.js';
import { SnapshotDigest } from './snapshot-digest.js';
import type { KeyValuePair } from './snapshot-digest.js';

/** The state machine's side of an outgoing snapshot, opened per MsgSnap by the replica. */
export interface SnapshotSource {
  /** The keyspace as of the snapshot's index, in key order, a chunk at a time. */
  chunks: AsyncIterable<readonly KeyValuePair[]>;
  /**
   * The source's own sha-256 over the pairs it yielded (storage's PairHash: the same framing as
   * SnapshotDigest). When given, the transport refuses to send a trailer that disagrees with it.
   */
  checksum?(): Uint8Array;
  /** Releases the database snapshot; the transport calls it once, whatever happened. */
  close(): Promise<void>;
}

export interface SnapshotSendOptions {
  client: Client;
  metadata: Metadata;
  clusterId: string;
  message: Message;
  source: SnapshotSource;
  /** Absolute, ms since the epoch. */
  deadlineMs: number;
  /** Cancels the call (the peer was removed, the transport closed). */
  signal: AbortSignal;
}

/** One Snapshot call, with writes that wait for 'drain' and give up as soon as the call has ended. */
class SnapshotCall {
  private readonly call: ClientWritableStream<SnapshotChunk>;
  readonly ended: Promise<SnapshotAck>;
  private failure: Error | undefined;
  private wakeWriter: (() => void) | undefined;

  constructor(client: Client, metadata: Metadata, deadlineMs: number) {
    let settle: (err: Error | undefined, ack?: SnapshotAck) => void = () => {};
    this.ended = new Promise<SnapshotAck>((resolve, reject) => {
      settle = (err, ack) => (err === undefined ? resolve(ack!) : reject(err));
    });
    this.ended.catch(() => {}); // observed by finish(); a failure while writing is seen there too
    this.call = client.makeClientStreamRequest<SnapshotChunk, SnapshotAck>(
      PeerServiceService.snapshot.path,
      encodeSnapshotChunk,
      PeerServiceService.snapshot.responseDeserialize,
      metadata,
      { deadline: deadlineMs },
      (err: ServiceError | null, ack?: SnapshotAck) => {
        this.failure = err === null ? new TransportError('SNAPSHOT_INCOMPLETE', 'peer ended the snapshot early') : fromServiceError(err);
        this.wakeWriter?.();
        settle(err === null ? undefined : this.failure, ack);
      },
    );
    this.call.on('error', () => {}); // failures arrive through the callback
    this.call.on('drain', () => this.wakeWriter?.());
  }

  async write(chunk: SnapshotChunk): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (this.call.write(chunk)) return;
    await new Promise<void>((resolve) => (this.wakeWriter = resolve));
    this.wakeWriter = undefined;
    if (this.failure !== undefined) throw this.failure;
  }

  finish(): Promise<SnapshotAck> {
    this.call.end();
    return this.ended;
  }

  cancel(): void {
    this.call.cancel();
  }
}

/**
 * Resolves once the peer has acknowledged every pair; rejects with a TransportError (or the source's
 * own error) otherwise. Closing the source is the caller's job.
 */
export async function sendSnapshot(options: SnapshotSendOptions): Promise<{ pairs: number; bytes: number }> {
  const { source } = options;
  const call = new SnapshotCall(options.client, options.metadata, options.deadlineMs);
  const cancel = (): void => call.cancel();
  options.signal.addEventListener('abort', cancel);
  if (options.signal.aborted) call.cancel();
  const digest = new SnapshotDigest();
  try {
    await call.write({
      kind: { $case: 'header', value: { clusterId: options.clusterId, message: encodeMessage(options.message) } },
    });
    for await (const pairs of source.chunks) {
      if (pairs.length === 0) continue;
      digest.update(pairs);
      // The generated type wants a mutable array; the encoder only reads it.
      await call.write({ kind: { $case: 'data', value: { pairs: pairs as KeyValuePair[] } } });
    }
    const checksum = digest.digest();
    const sourceChecksum = source.checksum?.();
    if (sourceChecksum !== undefined && !Buffer.from(sourceChecksum).equals(checksum)) {
      throw new TransportError('CORRUPT_SNAPSHOT', "the source's checksum disagrees with the pairs it yielded");
    }
    await call.write({
      kind: { $case: 'trailer', value: { pairs: digest.pairs, bytes: digest.bytes, checksum } },
    });
    const ack = await call.finish();
    if (ack.pairs !== digest.pairs) {
      throw new TransportError('CORRUPT_SNAPSHOT', `peer acknowledged ${ack.pairs} of ${digest.pairs} pairs`);
    }
    return { pairs: digest.pairs, bytes: digest.bytes };
  } catch (err) {
    call.cancel();
    throw err;
  } finally {
    options.signal.removeEventListener('abort', cancel);
  }
}
