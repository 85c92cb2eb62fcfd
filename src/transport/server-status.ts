// Turns an error thrown by a peer handler (the replica's) into the gRPC status the caller receives:
// a unary call's status, or a ForwardOutcome's fields. Errors with a string `code` keep it (in
// trailing metadata, or the outcome's remote_code), so the calling side can tell the
// handler's own UNAVAILABLE (no leader) from a dead connection (see errors.ts fromServiceError).

import { Metadata, status } from '@grpc/grpc-js';
import type { StatusObject } from '@grpc/grpc-js';
import { REMOTE_CODE_KEY, TransportError } from './errors.js';

/** The replica's error codes (src/node ReplicaErrorCode) and the nearest gRPC status. */
const STATUS_BY_CODE: Readonly<Record<string, status>> = {
  UNAVAILABLE: status.UNAVAILABLE,
  STOPPED: status.UNAVAILABLE,
  DEADLINE_EXCEEDED: status.DEADLINE_EXCEEDED,
  PROPOSAL_DROPPED: status.ABORTED,
  RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  NOT_FOUND: status.NOT_FOUND,
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
};

const STATUS_BY_TRANSPORT_CODE: Partial<Record<TransportError['code'], status>> = {
  CORRUPT_SNAPSHOT: status.DATA_LOSS,
  SNAPSHOT_INCOMPLETE: status.ABORTED,
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
};

/** A handler's failure as the caller will see it: gRPC status, details and the handler's own code. */
export interface HandlerFailure {
  code: status;
  details: string;
  remoteCode: string | undefined;
}

export function handlerFailure(err: unknown): HandlerFailure {
  const details = err instanceof Error ? err.message : String(err);
  const transportStatus = err instanceof TransportError ? STATUS_BY_TRANSPORT_CODE[err.code] : undefined;
  if (transportStatus !== undefined) return { code: transportStatus, details, remoteCode: undefined };
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return { code: status.UNKNOWN, details, remoteCode: undefined };
  return { code: STATUS_BY_CODE[code] ?? status.UNKNOWN, details, remoteCode: code };
}

export function handlerErrorStatus(err: unknown): Partial<StatusObject> {
  const { code, details, remoteCode } = handlerFailure(err);
  if (remoteCode === undefined) return { code, details };
  const metadata = new Metadata();
  metadata.set(REMOTE_CODE_KEY, remoteCode);
  return { code, details, metadata };
}
