// Raft messages on the wire: encoding a batch straight from the core's Message objects (their field
// names match the proto's RaftMessage, so nothing is copied) and validating decoded ones before they
// reach the core. Decoding never throws: a bad batch comes back as a reason string.

import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { RaftBatch, RaftMessage, SnapshotChunk } from '../gen/raftchat/peer/v1/peer.js';
import { EntryType, MessageType } from '../raft/types.js';
import type { Message, NodeId } from '../raft/types.js';

/** What the client writes on a Raft stream; serialized by encodeBatch. */
export interface OutgoingBatch {
  clusterId: string;
  messages: readonly Message[];
}

/**
 * A Message is a RaftMessage with `snapshot` optional instead of `T | undefined`; the generated
 * encoder only reads fields and treats both alike, so the core's object is written as it is.
 */
function asWire(message: Message): RaftMessage {
  return message as RaftMessage;
}

export function encodeBatch(batch: OutgoingBatch): Buffer {
  const writer = new BinaryWriter();
  if (batch.clusterId !== '') writer.uint32(10).string(batch.clusterId);
  for (const message of batch.messages) {
    RaftMessage.encode(asWire(message), writer.uint32(18).fork()).join();
  }
  return Buffer.from(writer.finish());
}

export function encodeMessage(message: Message): RaftMessage {
  return asWire(message);
}

export function encodeSnapshotChunk(chunk: SnapshotChunk): Buffer {
  return Buffer.from(SnapshotChunk.encode(chunk).finish());
}

/**
 * A rough size of a message on the wire, for cutting batches at maxBatchBytes without encoding twice.
 * Over-estimates the fixed fields a little; exact for entry payloads, which dominate.
 */
export function estimateBytes(message: Message): number {
  let bytes = 48 + message.context.length;
  for (const entry of message.entries) bytes += 24 + entry.data.length;
  return bytes;
}

const MAX_MESSAGE_TYPE = MessageType.TransferLeader;
const MAX_ENTRY_TYPE = EntryType.ConfChange;

/**
 * Why a request was refused: malformed, speaking for another sender than the authenticated one, or
 * addressed to another replica than this one (an address now served by a different member).
 */
export type RefusalKind = 'invalid' | 'impersonation' | 'misdirected';

export type Decoded<T> = { ok: true; value: T } | { ok: false; kind: RefusalKind; reason: string };

function refuse(kind: RefusalKind, reason: string): { ok: false; kind: RefusalKind; reason: string } {
  return { ok: false, kind, reason };
}

/**
 * Checks a decoded RaftMessage and returns it as the core's Message (the same object). Numbers need no
 * range check here: uint64 fields decode as non-negative integers and the decoder refuses values
 * beyond 2^53, which decodeBatch turns into a refusal.
 */
export function toRaftMessage(wire: RaftMessage, expectedFrom: NodeId, expectedTo: NodeId | undefined): Decoded<Message> {
  if (wire.type > MAX_MESSAGE_TYPE) return refuse('invalid', `unknown message type ${wire.type}`);
  if (wire.from !== expectedFrom) {
    return refuse('impersonation', `message from '${wire.from}' on a call authenticated as '${expectedFrom}'`);
  }
  if (expectedTo !== undefined && wire.to !== expectedTo) return refuse('misdirected', `message to '${wire.to}' delivered to '${expectedTo}'`);
  for (const entry of wire.entries) {
    if (entry.type > MAX_ENTRY_TYPE) return refuse('invalid', `unknown entry type ${entry.type}`);
  }
  const snapshot = wire.snapshot;
  if (wire.type === MessageType.Snap) {
    if (snapshot === undefined || snapshot.metadata === undefined) {
      return refuse('invalid', 'Snap message without snapshot metadata');
    }
    if (snapshot.metadata.confState === undefined) snapshot.metadata.confState = { voters: [], learners: [] };
  } else if (snapshot !== undefined) {
    return refuse('invalid', `snapshot on a message of type ${wire.type}`);
  }
  // Checked above: the type is a MessageType, entry types are EntryTypes, a Snap carries metadata.
  return { ok: true, value: wire as Message };
}

/**
 * Checks every message of a RaftBatch; the array comes back as it is, typed as the core's. A Snap is
 * refused here: its state machine data must be staged first, so it only comes on a Snapshot call.
 */
export function toRaftMessages(wires: RaftMessage[], expectedFrom: NodeId, expectedTo: NodeId | undefined): Decoded<Message[]> {
  for (const wire of wires) {
    if (wire.type === MessageType.Snap) return refuse('invalid', 'a Snap message on the Raft stream');
    const checked = toRaftMessage(wire, expectedFrom, expectedTo);
    if (!checked.ok) return checked;
  }
  return { ok: true, value: wires as Message[] };
}

export function decodeBatch(bytes: Uint8Array): Decoded<RaftBatch> {
  try {
    return { ok: true, value: RaftBatch.decode(bytes) };
  } catch (err) {
    return refuse('invalid', `undecodable batch: ${(err as Error).message}`);
  }
}

export function decodeSnapshotChunk(bytes: Uint8Array): Decoded<SnapshotChunk> {
  try {
    return { ok: true, value: SnapshotChunk.decode(bytes) };
  } catch (err) {
    return refuse('invalid', `undecodable snapshot chunk: ${(err as Error).message}`);
  }
}
