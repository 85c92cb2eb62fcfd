// The chat state machine's public API: commands and their deterministic apply, read queries, input
// validation and password hashing. See keys.ts for the keyspace layout.
export { ChatStateMachine, type AppliedBatch, type ChatStateMachineOptions, type CommandEntry } from './state-machine.js';
export { DEDUP_RETENTION_MS } from './dedup.js';
export type { ApplyEvents } from './apply-context.js';
export type { KeyspaceOp } from './pending-writes.js';
export { CodecError, decodeCommand, decodeResult, encodeCommand, encodeResult } from './codec.js';
export { StateMachineError, type StateMachineErrorCode } from './errors.js';
export type { CommandErrorCode } from './results.js';
export { countKind } from './keys.js';
export {
  DEFAULT_MAX_KEYS_SCANNED,
  countAccounts,
  getAccount,
  isSessionRevoked,
  listAccounts,
  listMessages,
  sessionStatus,
  unreadCount,
  type Account,
  type ListAccountsOptions,
  type ListMessagesOptions,
  type SessionStatus,
} from './queries.js';
export * from './validation.js';
export * from './password.js';
