// The retry loop behind every unary call: try the preferred server; on a retryable failure wait a
// jittered, growing delay and try the next one, until the call's overall deadline passes.
import { status } from '@grpc/grpc-js';
import { fullJitterDelayMs, type BackoffPolicy } from './backoff.js';
import { RaftchatCallError, toCallError } from './errors.js';
import { isRetryableCode, type Idempotency } from './retry-policy.js';
import type { ServerRing } from './servers.js';
import { isAborted, sleepMs } from './sleep.js';

/** What the client is about to do after a failed attempt; for progress lines in a CLI. */
export interface RetryEvent {
  /** The server the next attempt goes to. */
  server: string;
  /** The server whose attempt just failed. */
  failedServer: string;
  /** The 1-based number of the attempt that just failed. */
  attempt: number;
  error: RaftchatCallError;
  /** How long the client waits before the next attempt. */
  delayMs: number;
}

export interface FailoverSettings {
  ring: ServerRing;
  backoff: BackoffPolicy;
  /** Longest one attempt may take when the call is idempotent (a hung replica is skipped). */
  attemptTimeoutMs: number;
  random: () => number;
  onRetry?: ((event: RetryEvent) => void) | undefined;
}

export interface FailoverCall<Response> {
  idempotency: Idempotency;
  /** The overall budget for every attempt and wait together. */
  deadlineMs: number;
  signal?: AbortSignal | undefined;
  attempt: (server: string, deadline: Date, signal: AbortSignal | undefined) => Promise<Response>;
}

export async function callWithFailover<Response>(
  settings: FailoverSettings,
  call: FailoverCall<Response>,
): Promise<Response> {
  const giveUpAtMs = Date.now() + call.deadlineMs;
  let lastError: RaftchatCallError | undefined;
  for (let attempt = 1; ; attempt++) {
    const server = settings.ring.current();
    // An unsafe call must not be cut off by a per-attempt timer: a timeout could hide a success
    // and the retry would act twice. It gets the whole remaining budget instead.
    const attemptEndMs =
      call.idempotency === 'idempotent' ? Math.min(giveUpAtMs, Date.now() + settings.attemptTimeoutMs) : giveUpAtMs;
    try {
      return await call.attempt(server, new Date(attemptEndMs), call.signal);
    } catch (caught) {
      const error = toCallError(caught, server, attempt);
      if (isAborted(call.signal)) throw cancelled(attempt, server);
      if (!isRetryableCode(error.code, call.idempotency)) throw error;
      // An attempt cut off by the call's own deadline says only that time ran out; the error that
      // made us retry until then (UNAVAILABLE: no quorum, a hung server's timeout) is the one
      // the caller can act on, so it stays the one reported.
      if (error.code === status.DEADLINE_EXCEEDED && attemptEndMs >= giveUpAtMs) {
        throw deadlineExceeded(call.deadlineMs, lastError ?? error, attempt, lastError === undefined ? undefined : server);
      }
      lastError = error;
      const next = settings.ring.advance(server);
      const remainingMs = giveUpAtMs - Date.now();
      if (remainingMs <= 0) break;
      const delayMs = Math.min(fullJitterDelayMs(attempt - 1, settings.backoff, settings.random), remainingMs);
      settings.onRetry?.({ server: next, failedServer: server, attempt, error, delayMs });
      await sleepMs(delayMs, call.signal);
      if (isAborted(call.signal)) throw cancelled(attempt, server);
      if (Date.now() >= giveUpAtMs) break;
    }
  }
  throw deadlineExceeded(call.deadlineMs, lastError, lastError?.attempts ?? 0);
}

function cancelled(attempts: number, server: string): RaftchatCallError {
  return new RaftchatCallError(status.CANCELLED, 'cancelled by the caller', { attempts, server });
}

/** `cutOffServer`: the server whose attempt was still running when the deadline came, if not the last error's. */
function deadlineExceeded(
  deadlineMs: number,
  lastError: RaftchatCallError | undefined,
  attempts: number,
  cutOffServer?: string,
): RaftchatCallError {
  const last = lastError === undefined ? '' : `; last error from ${lastError.server ?? '?'}: ${lastError.message}`;
  const cutOff = cutOffServer === undefined ? '' : `; the attempt on ${cutOffServer} was still waiting at the deadline`;
  return new RaftchatCallError(status.DEADLINE_EXCEEDED, `no server answered within ${deadlineMs} ms${last}${cutOff}`, {
    server: lastError?.server,
    attempts,
    cause: lastError,
  });
}
