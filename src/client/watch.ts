// A Subscribe that outlives the replica serving it: when the stream breaks, resubscribe on the
// next server from the last id delivered. The server replays every id > after_id, so nothing is
// skipped; ids are strictly increasing, so anything at or below the last one is a replay to drop.
import { Metadata, status, type ClientReadableStream } from '@grpc/grpc-js';
import type { Message } from '../gen/chat/v1/chat.js';
import type { ChatServiceClient } from '../gen/chat/v1/chat.js';
import { fullJitterDelayMs, type BackoffPolicy } from './backoff.js';
import { RaftchatCallError, toCallError } from './errors.js';
import type { RetryEvent } from './failover.js';
import { isFatalStreamCode } from './retry-policy.js';
import type { ServerRing } from './servers.js';
import { sleepMs } from './sleep.js';

export interface WatchOptions {
  /** Deliver messages with id > afterId (0: the whole inbox, then live ones). */
  afterId?: number;
  /** Called once per message, in id order, never twice for one id. */
  onMessage: (message: Message) => void;
  /** Aborting ends the watch; the returned promise then resolves. */
  signal?: AbortSignal;
  /** Called each time a stream is open on a server (first time and after every failover). */
  onSubscribed?: (server: string) => void;
  /** Overrides the client's onRetry for this watch. */
  onRetry?: (event: RetryEvent) => void;
}

export interface WatchDependencies {
  ring: ServerRing;
  backoff: BackoffPolicy;
  random: () => number;
  chat: (server: string) => ChatServiceClient;
  metadata: () => Metadata;
  onRetry?: ((event: RetryEvent) => void) | undefined;
}

type StreamOutcome =
  | { kind: 'aborted' }
  | { kind: 'broken'; error: RaftchatCallError; delivered: number }
  | { kind: 'handler-failed'; error: unknown };

/** Resolves (with the last id delivered) when `signal` aborts; rejects on an error no other server could fix (e.g. a bad token). */
export async function watchInbox(deps: WatchDependencies, options: WatchOptions): Promise<number> {
  let lastId = options.afterId ?? 0;
  let failuresInARow = 0;
  const onRetry = options.onRetry ?? deps.onRetry;
  for (;;) {
    if (options.signal?.aborted === true) return lastId;
    const server = deps.ring.current();
    const outcome = await new Promise<StreamOutcome>((resolve) => {
      const stream = deps.chat(server).subscribe({ afterId: lastId }, deps.metadata());
      followStream(stream, server, options, {
        deliver(message) {
          if (message.id <= lastId) return false;
          lastId = message.id;
          options.onMessage(message);
          return true;
        },
        done: resolve,
      });
    });
    if (outcome.kind === 'aborted') return lastId;
    if (outcome.kind === 'handler-failed') throw outcome.error;
    if (isFatalStreamCode(outcome.error.code)) throw outcome.error;
    // A stream that delivered something was healthy: start the back-off over.
    failuresInARow = outcome.delivered > 0 ? 1 : failuresInARow + 1;
    const next = deps.ring.advance(server);
    const delayMs = fullJitterDelayMs(failuresInARow - 1, deps.backoff, deps.random);
    onRetry?.({ server: next, failedServer: server, attempt: failuresInARow, error: outcome.error, delayMs });
    await sleepMs(delayMs, options.signal);
  }
}

interface StreamSink {
  /** Returns whether the message was new. */
  deliver(message: Message): boolean;
  done(outcome: StreamOutcome): void;
}

function followStream(
  stream: ClientReadableStream<Message>,
  server: string,
  options: WatchOptions,
  sink: StreamSink,
): void {
  let delivered = 0;
  let settled = false;
  let announced = false;
  const announce = (): void => {
    if (!announced) {
      announced = true;
      options.onSubscribed?.(server);
    }
  };
  const finish = (outcome: StreamOutcome): void => {
    if (settled) return;
    settled = true;
    options.signal?.removeEventListener('abort', onAbort);
    stream.removeAllListeners('data');
    // Keep an error listener: a late 'error' from a cancelled stream must not crash the process.
    stream.on('error', () => undefined);
    stream.cancel();
    sink.done(outcome);
  };
  const onAbort = (): void => finish({ kind: 'aborted' });
  if (options.signal?.aborted === true) {
    queueMicrotask(onAbort);
    return;
  }
  options.signal?.addEventListener('abort', onAbort, { once: true });
  stream.on('metadata', announce);
  stream.on('data', (message: Message) => {
    announce();
    try {
      if (sink.deliver(message)) delivered++;
    } catch (error) {
      // The caller's handler threw: stop and hand its error back rather than carry on.
      finish({ kind: 'handler-failed', error });
    }
  });
  stream.on('error', (error: unknown) => {
    finish({ kind: 'broken', error: toCallError(error, server, 1), delivered });
  });
  stream.on('end', () => {
    // A live stream ends only when its replica shuts down: resubscribe elsewhere.
    finish({
      kind: 'broken',
      error: new RaftchatCallError(status.UNAVAILABLE, 'stream ended by the server', { server }),
      delivered,
    });
  });
}
