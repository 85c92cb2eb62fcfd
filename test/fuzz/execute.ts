// Runs one fuzz action against a live replica and turns what came back into an Observation to judge,
// plus the checks only the answer's content can make: an acknowledged send stored what was sent, and
// a Subscribe never streams another user's messages.
import { status, type Client } from '@grpc/grpc-js';
import { Message, SendMessageResponse, type DeleteMessagesRequest, type RegisterRequest, type SendMessageRequest } from '../../src/gen/chat/v1/chat.js';
import { describeAction, type Action } from './actions.js';
import { resolveCredential, type FuzzSession } from './credentials.js';
import { decodeRequest, method } from './methods.js';
import { sendRaw } from './raw-action.js';
import { streamCall, unaryCall } from './rpc.js';
import type { Observation } from './verdict.js';

export interface FuzzReplica {
  id: string;
  address: string;
  client: Client;
}

/** A send the cluster acknowledged to the fuzz: it must be on every replica, byte for byte. */
export interface AcknowledgedSend {
  id: number;
  sender: string;
  recipient: string;
  body: string;
}

export interface FuzzTarget {
  replicas: readonly FuzzReplica[];
  session(): FuzzSession;
  tokenKey: Uint8Array;
  acknowledged: AcknowledgedSend[];
  /** Accounts a fuzzed Register created, with their passwords: their inboxes are checked too. */
  registered: Map<string, string>;
  /**
   * Ids the fuzz asked, with its session, to delete from its own inbox. Whatever the answer was (a
   * deadline may still apply it), such a message may be gone — but never duplicated or altered.
   */
  deletedIds: Set<number>;
}

export interface ActionResult {
  observation: Observation;
  /** A finding only the content of the answer shows (a mismatched echo, a leaked message). */
  contentFinding: string | undefined;
}

/** Per call; the cluster is busy, but no answer may take longer than this. */
const CALL_DEADLINE_MS = 8_000;

const SUBSCRIBE = '/chat.v1.ChatService/Subscribe';

export async function execute(a: Action, target: FuzzTarget): Promise<ActionResult> {
  const replica = target.replicas[a.replica % target.replicas.length]!;
  const session = target.session();
  const resolved = resolveCredential(a.credential, session, target.tokenKey);
  const path = a.kind === 'subscribe' ? SUBSCRIBE : a.path;
  const spec = method(path);
  const decoded = decodeRequest(path, a.payload.bytes);
  const base = {
    label: `${describeAction(a)} → ${replica.id}`,
    access: spec.access,
    grantsSession: resolved.grantsSession,
  };
  if (spec.path.endsWith('/DeleteMessages') && resolved.grantsSession && decoded !== undefined) {
    for (const id of (decoded as DeleteMessagesRequest).ids) target.deletedIds.add(id);
  }

  if (a.kind === 'unary') {
    const out = await unaryCall(replica.client, path, a.payload.bytes, [...resolved.metadata, ...a.metadata], CALL_DEADLINE_MS);
    const observation: Observation = { ...base, via: 'grpc-js', code: out.code, details: out.details, clientCancelled: false };
    let contentFinding: string | undefined;
    if (out.code === status.OK && path.endsWith('/Register') && decoded !== undefined) {
      const request = decoded as RegisterRequest;
      target.registered.set(request.username, request.password);
    }
    if (out.code === status.OK && resolved.grantsSession) {
      if (path.endsWith('/DeleteAccount')) contentFinding = 'DeleteAccount succeeded with a password the fuzz never set';
      if (path.endsWith('/SendMessage')) contentFinding = checkSendEcho(out.responses[0], decoded as SendMessageRequest, session, target);
    }
    return { observation, contentFinding };
  }

  if (a.kind === 'subscribe') {
    const out = await streamCall(replica.client, path, a.payload.bytes, resolved.metadata, a.cancelAfterMs, CALL_DEADLINE_MS);
    const observation: Observation = { ...base, via: 'grpc-js', code: out.code, details: out.details, clientCancelled: out.cancelled };
    return { observation, contentFinding: checkStreamed(out.responses, resolved.grantsSession, session) };
  }

  const out = await sendRaw(a, replica.address, resolved.metadata, spec.streaming, CALL_DEADLINE_MS);
  const observation: Observation = {
    ...base,
    via: 'http2',
    code: out.grpcStatus,
    details: out.grpcMessage,
    // A reset or a dropped connection is the fuzz's own cancellation, whatever status raced it.
    clientCancelled: a.ending !== 'end',
    ...(out.httpStatus !== undefined ? { httpStatus: out.httpStatus } : {}),
  };
  return { observation, contentFinding: undefined };
}

/**
 * An acknowledged send must echo exactly what the server decoded from the request (a reused request
 * id echoes the first send instead, whatever this body was), and is recorded for the final check.
 */
function checkSendEcho(response: Buffer | undefined, request: SendMessageRequest | undefined, session: FuzzSession, target: FuzzTarget): string | undefined {
  if (response === undefined || request === undefined) return 'SendMessage succeeded on a request its own decoder refuses, or with no response';
  const reply = decodeOr(() => SendMessageResponse.decode(response));
  if (reply?.message === undefined) return 'SendMessage succeeded without a decodable message in its response';
  const m = reply.message;
  if (m.sender !== session.username) return `acknowledged message ${m.id} names sender ${m.sender}, not ${session.username}`;
  if (!reply.duplicate && (m.recipient !== request.recipient || m.body !== request.body)) {
    return `acknowledged message ${m.id} is not what was sent (recipient ${m.recipient}, body of ${m.body.length} chars vs ${request.body.length})`;
  }
  // A retry answers with the first send: already recorded if that one was acknowledged here, and with
  // an empty body if the message has since been deleted (src/chat/dedup.ts keeps only its id).
  if (reply.duplicate && (m.body === '' || target.acknowledged.some((a) => a.id === m.id))) return undefined;
  target.acknowledged.push({ id: m.id, sender: m.sender, recipient: m.recipient, body: m.body });
  return undefined;
}

/** A streamed message must be the caller's own, and only a session may receive any. */
function checkStreamed(responses: readonly Buffer[], grantsSession: boolean, session: FuzzSession): string | undefined {
  for (const bytes of responses) {
    const message = decodeOr(() => Message.decode(bytes));
    if (message === undefined) return 'Subscribe streamed bytes that are not a Message';
    if (!grantsSession) return `streamed message ${message.id} to a caller without a valid session`;
    if (message.recipient !== session.username) return `streamed ${message.recipient}'s message ${message.id} to ${session.username}`;
  }
  return undefined;
}

function decodeOr<T>(decode: () => T): T | undefined {
  try {
    return decode();
  } catch {
    return undefined;
  }
}
