// The one error the client library raises: a gRPC status code callers can switch on, the server
// that produced it and how many attempts were made before giving up.
import { status, type ServiceError } from '@grpc/grpc-js';

export class RaftchatCallError extends Error {
  override readonly name = 'RaftchatCallError';
  /** The gRPC status code (stable: switch on it). */
  readonly code: status;
  /** The server's status details, without the code prefix grpc-js adds to `message`. */
  readonly details: string;
  /** The `host:port` that answered last, when one did. */
  readonly server: string | undefined;
  readonly attempts: number;

  constructor(
    code: status,
    details: string,
    context: { server?: string; attempts?: number; cause?: unknown } = {},
  ) {
    super(`${status[code] ?? code}: ${details}`, { cause: context.cause });
    this.code = code;
    this.details = details;
    this.server = context.server;
    this.attempts = context.attempts ?? 1;
  }

  /** The code's name as gRPC spells it, e.g. `UNAVAILABLE`. */
  get codeName(): string {
    return status[this.code] ?? String(this.code);
  }
}

export function isServiceError(error: unknown): error is ServiceError {
  return (
    error instanceof Error &&
    typeof (error as Partial<ServiceError>).code === 'number' &&
    typeof (error as Partial<ServiceError>).details === 'string'
  );
}

/** Wraps whatever a call failed with; anything that is not a gRPC status becomes UNKNOWN. */
export function toCallError(error: unknown, server: string | undefined, attempts: number): RaftchatCallError {
  if (error instanceof RaftchatCallError) return error;
  if (isServiceError(error)) {
    return new RaftchatCallError(error.code, error.details, { server, attempts, cause: error });
  }
  const details = error instanceof Error ? error.message : String(error);
  return new RaftchatCallError(status.UNKNOWN, details, { server, attempts, cause: error });
}
