// Proposing a chat command and unwrapping its result: the state machine's refusals become ApiErrors,
// and a result of an unexpected kind is a bug, reported as INTERNAL.
import type { Command, CountResult, Empty, RegisterResult, SendResult, StoredMessage } from '../gen/raftchat/command/v1/command.js';
import type { Message } from '../gen/chat/v1/chat.js';
import type { ReplicaApi } from '../node/types.js';
import { commandError } from './errors.js';

/** What each successful result kind carries. */
interface SuccessValues {
  register: RegisterResult;
  send: SendResult;
  count: CountResult;
  empty: Empty;
}

export async function execute<C extends keyof SuccessValues>(
  replica: ReplicaApi,
  command: Command,
  expected: C,
  deadlineMs: number,
): Promise<SuccessValues[C]> {
  const { result } = await replica.propose(command, { deadlineMs });
  const kind = result.kind;
  if (kind?.$case === 'error') throw commandError(kind.value);
  if (kind === undefined || kind.$case !== expected) {
    throw new Error(`command ${command.kind?.$case ?? '(empty)'} returned a ${kind?.$case ?? 'missing'} result, expected ${expected}`);
  }
  return kind.value as SuccessValues[C];
}

export function toMessage(stored: StoredMessage): Message {
  return {
    id: stored.id,
    sender: stored.sender,
    recipient: stored.recipient,
    body: stored.body,
    sentAtUnixMs: stored.sentAtUnixMs,
    read: stored.read,
  };
}
