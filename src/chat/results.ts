// Constructors for CommandResult, and the stable error codes a command can fail with (the API maps
// each to the gRPC status of the same name).
import type { CommandResult, StoredMessage } from '../gen/raftchat/command/v1/command.js';

export type CommandErrorCode = 'INVALID_ARGUMENT' | 'ALREADY_EXISTS' | 'NOT_FOUND';

export function errorResult(code: CommandErrorCode, message: string): CommandResult {
  return { kind: { $case: 'error', value: { code, message } } };
}

export function registerResult(username: string): CommandResult {
  return { kind: { $case: 'register', value: { username } } };
}

export function sendResult(message: StoredMessage, duplicate: boolean): CommandResult {
  return { kind: { $case: 'send', value: { message, duplicate } } };
}

export function countResult(count: number): CommandResult {
  return { kind: { $case: 'count', value: { count } } };
}

export function emptyResult(): CommandResult {
  return { kind: { $case: 'empty', value: {} } };
}
