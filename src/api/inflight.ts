// Server interceptors for the limits grpc-js itself decides on or that must hold before any handler
// runs: calls in flight per client connection, and requests over grpc.max_receive_message_length.
import { ServerInterceptingCall, status, type ServerInterceptor } from '@grpc/grpc-js';
import type { LimitListener } from './limits.js';

/**
 * Counts the calls open on each client connection and refuses one more than `maxPerConnection`
 * with RESOURCE_EXHAUSTED, before the request is read or a handler runs. A connection is what
 * grpc-js's getPeer() names: the client's address and port, one TCP connection (one HTTP/2
 * session) — so the limit bounds what one connection can pile on, and a client with many calls to
 * make spreads them over connections or waits.
 *
 * A slot is taken when the call's headers arrive and given back exactly once, on whichever comes
 * first: the status passing through here (ok or error, from a handler or a refusal), or grpc-js's
 * onCancel, which every call's listeners hear when its stream closes — after a status, on client
 * cancellation, on the deadline grpc-js enforces itself, and when the connection drops.
 */
export class InFlightLimiter {
  private readonly openByConnection = new Map<string, number>();

  constructor(
    private readonly maxPerConnection: number,
    private readonly onRefused: LimitListener,
  ) {}

  /** Calls open on `connection` (a getPeer() string), or on every connection. */
  open(connection?: string): number {
    if (connection !== undefined) return this.openByConnection.get(connection) ?? 0;
    let total = 0;
    for (const count of this.openByConnection.values()) total += count;
    return total;
  }

  /** Must run after every other interceptor (last in the server's list), so they see its refusals. */
  readonly interceptor: ServerInterceptor = (_method, call) => {
    const connection = call.getPeer();
    let holding = false;
    const release = (): void => {
      if (!holding) return;
      holding = false;
      const count = (this.openByConnection.get(connection) ?? 1) - 1;
      if (count <= 0) this.openByConnection.delete(connection);
      else this.openByConnection.set(connection, count);
    };
    const intercepting: ServerInterceptingCall = new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            const open = this.openByConnection.get(connection) ?? 0;
            if (open >= this.maxPerConnection) {
              this.onRefused('inflight_per_connection');
              // The handler never hears of this call: its metadata is not passed on.
              intercepting.sendStatus({
                code: status.RESOURCE_EXHAUSTED,
                details: `too many calls in flight on this connection (at most ${this.maxPerConnection}); retry when some have finished`,
              });
              return;
            }
            this.openByConnection.set(connection, open + 1);
            holding = true;
            nextMetadata(metadata);
          },
          onCancel: release,
        }),
      sendStatus: (callStatus, next) => {
        release();
        next(callStatus);
      },
    });
    return intercepting;
  };
}

/**
 * Counts requests that grpc-js refuses for being larger than grpc.max_receive_message_length (or
 * decompressing to more). grpc-js ends such a call inside its base call, calling that object's own
 * sendStatus, so no interceptor's sendStatus sees it: this one must be the innermost (first in the
 * server's list), where `call` is that base call, and observes its sendStatus. It changes nothing
 * about the call. test/api/limit-metrics.test.ts fails if a grpc-js upgrade moves the check.
 */
export function oversizeRequestCounter(onRefused: LimitListener): ServerInterceptor {
  return (_method, call) => {
    const sendStatus = call.sendStatus.bind(call);
    call.sendStatus = (callStatus) => {
      if (callStatus.code === status.RESOURCE_EXHAUSTED && callStatus.details?.startsWith('Received message') === true) {
        onRefused('max_receive_bytes');
      }
      sendStatus(callStatus);
    };
    return new ServerInterceptingCall(call);
  };
}
