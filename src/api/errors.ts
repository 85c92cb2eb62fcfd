// The one place where raftchat's errors become gRPC statuses. Handlers throw ApiError, chat's
// ValidationError or the replica's ReplicaError; toStatus() turns each into a code a user can act on.
import { status, type Metadata } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { ValidationError } from '../chat/validation.js';
import type { CommandError } from '../gen/raftchat/command/v1/command.js';
import { ReplicaError } from '../node/types.js';

/** A failure the API layer decided on itself, already carrying its gRPC code. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: status;
  constructor(code: status, message: string) {
    super(message);
    this.code = code;
  }

  /** Trailing metadata to send with the status (e.g. `retry-after`); none by default. */
  trailers(): Metadata | undefined {
    return undefined;
  }
}

/** A bad request field: the message names the field so the caller knows what to fix. */
export function invalidArgument(field: string, reason: string): ApiError {
  return new ApiError(status.INVALID_ARGUMENT, `${field}: ${reason}`);
}

/** The status a grpc-js callback or stream receives. */
export interface StatusResponse {
  code: status;
  details: string;
  /** Trailers, when the error carries any. */
  metadata?: Metadata;
}

const retryable = 'safe to retry';

/** Maps any error to a status; unexpected errors are logged in full and reported generically. */
export function toStatus(err: unknown, logger: Logger, method: string): StatusResponse {
  if (err instanceof ApiError) {
    const metadata = err.trailers();
    return metadata === undefined ? { code: err.code, details: err.message } : { code: err.code, details: err.message, metadata };
  }
  if (isError(err, ValidationError)) {
    const code = err.code === 'TOO_LARGE' ? status.RESOURCE_EXHAUSTED : status.INVALID_ARGUMENT;
    return { code, details: err.message.includes(err.field) ? err.message : `${err.field}: ${err.message}` };
  }
  if (isError(err, ReplicaError)) return replicaStatus(err);
  logger.error({ err, method }, 'unexpected error while handling a call');
  return { code: status.INTERNAL, details: 'internal error; the server log has the details' };
}

/**
 * instanceof, or the same class name: a module loaded twice (two copies in node_modules, a test
 * loader) makes two classes of one error, and a ReplicaError must never turn into INTERNAL.
 */
function isError<T extends Error>(err: unknown, type: abstract new (...args: never[]) => T): err is T {
  if (err instanceof type) return true;
  return err instanceof Error && err.name === type.name && typeof (err as { code?: unknown }).code === 'string';
}

function replicaStatus(err: ReplicaError): StatusResponse {
  switch (err.code) {
    case 'UNAVAILABLE':
      return { code: status.UNAVAILABLE, details: `${err.message} (${retryable})` };
    case 'PROPOSAL_DROPPED':
      return { code: status.UNAVAILABLE, details: `${err.message} (the command was not applied; ${retryable})` };
    case 'STOPPED':
      return { code: status.UNAVAILABLE, details: `${err.message} (this replica is stopping; ${retryable} on another)` };
    case 'DEADLINE_EXCEEDED':
      // The command may still be applied later: only a request_id makes a retry of a send safe.
      return { code: status.DEADLINE_EXCEEDED, details: `${err.message} (the command may still be applied)` };
    case 'RESOURCE_EXHAUSTED':
      return { code: status.RESOURCE_EXHAUSTED, details: `${err.message} (retry with back-off)` };
    case 'FAILED_PRECONDITION':
      return { code: status.FAILED_PRECONDITION, details: err.message };
    case 'NOT_FOUND':
      return { code: status.NOT_FOUND, details: err.message };
    case 'INVALID_ARGUMENT':
      return { code: status.INVALID_ARGUMENT, details: err.message };
    default:
      // A code added to ReplicaErrorCode but not here: say so rather than guess a retry policy.
      return { code: status.INTERNAL, details: `replica error ${String(err.code)}: ${err.message}` };
  }
}

const commandCodes: Readonly<Record<string, status>> = {
  ALREADY_EXISTS: status.ALREADY_EXISTS,
  NOT_FOUND: status.NOT_FOUND,
  PERMISSION_DENIED: status.PERMISSION_DENIED,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
};

/** The state machine's refusal of a command, as the ApiError a handler throws. */
export function commandError(error: CommandError): ApiError {
  const code = commandCodes[error.code];
  if (code === undefined) return new ApiError(status.INTERNAL, `the command failed (${error.code})`);
  return new ApiError(code, error.message);
}
