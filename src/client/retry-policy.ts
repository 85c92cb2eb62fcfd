// Which failures a call may retry on another server. UNAVAILABLE is the API's "safe to retry"
// answer (no leader, no quorum, or no connection at all); anything else may mean the request was
// processed, so only calls that are safe to repeat retry those.
import { status } from '@grpc/grpc-js';

/**
 * `idempotent`: repeating the call has the effect of calling it once (reads, and SendMessage,
 * which always carries a request_id). `unsafe`: a repeat could act twice or fail differently
 * (Register, DeleteAccount, AddMember, RemoveMember).
 */
export type Idempotency = 'idempotent' | 'unsafe';

export function isRetryableCode(code: status, idempotency: Idempotency): boolean {
  if (code === status.UNAVAILABLE) return true;
  if (idempotency === 'unsafe') return false;
  // A per-attempt deadline (a hung or partitioned replica) or a lost race: try elsewhere.
  return code === status.DEADLINE_EXCEEDED || code === status.ABORTED;
}

/**
 * Codes that end a watch: retrying cannot fix them (bad token, bad request, missing account).
 * Everything else — a dying replica's UNAVAILABLE, CANCELLED, INTERNAL RST_STREAM — resubscribes.
 */
export function isFatalStreamCode(code: status): boolean {
  return (
    code === status.UNAUTHENTICATED ||
    code === status.PERMISSION_DENIED ||
    code === status.INVALID_ARGUMENT ||
    code === status.NOT_FOUND ||
    code === status.FAILED_PRECONDITION ||
    code === status.UNIMPLEMENTED
  );
}
