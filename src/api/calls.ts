// Adapters between grpc-js handlers and async functions: every call gets a bounded deadline, every
// failure (thrown or rejected) leaves through toStatus(), and every finished call is reported to the
// observer (metrics). Nothing escapes into grpc-js.
import { status, type Metadata, type ServerUnaryCall, type handleUnaryCall } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { toStatus, type StatusResponse } from './errors.js';
import { LimitExceededError, type LimitName } from './limits.js';
import { requireDecoded } from './malformed.js';

/** What a handler needs besides its request. */
export interface CallContext {
  /** Absolute wall-clock deadline (ms since epoch) for proposals and read barriers. */
  deadlineMs: number;
  metadata: Metadata;
  /** The client's address as grpc-js reports it (`127.0.0.1:53412`), for per-address limits. */
  peer: string;
  /** Counts a request refused by one of the API's limits (a field over its size bound). */
  limitExceeded: (limit: LimitName) => void;
}

export interface HandledCall {
  /** `chat.v1.ChatService` */
  service: string;
  /** `SendMessage` */
  method: string;
  /** The gRPC status code's name: `OK`, `UNAVAILABLE`, ... */
  code: string;
  durationSeconds: number;
}

/** Told of every finished call, e.g. to count grpc_server_handled_total. Must not throw (it is guarded). */
export interface ApiObserver {
  callHandled(call: HandledCall): void;
  /** Told of every request refused by one of the API's limits (raftchat_api_limit_exceeded_total). */
  limitExceeded?(limit: LimitName): void;
}

/** The call's own gRPC deadline when it has one; otherwise now + defaultDeadlineMs, so no call hangs. */
export function callDeadlineMs(deadline: Date | number, defaultDeadlineMs: number): number {
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  if (!Number.isFinite(ms)) return Date.now() + defaultDeadlineMs;
  // Finish a little before the client gives up, so that a refusal it can act on (UNAVAILABLE: no
  // leader, no quorum) reaches it instead of its own DEADLINE_EXCEEDED: a quarter of the time left,
  // at most a second.
  const remainingMs = ms - Date.now();
  return remainingMs <= 0 ? ms : Math.floor(ms - Math.min(1000, remainingMs / 4));
}

export class CallRunner {
  constructor(
    readonly logger: Logger,
    readonly defaultDeadlineMs: number,
    private readonly observer: ApiObserver | undefined,
  ) {}

  unary<Req, Res>(
    service: string,
    method: string,
    handle: (request: Req, context: CallContext) => Promise<Res>,
  ): handleUnaryCall<Req, Res> {
    return (call: ServerUnaryCall<Req, Res>, callback) => {
      const done = this.startTimer(service, method);
      const context: CallContext = {
        deadlineMs: callDeadlineMs(call.getDeadline(), this.defaultDeadlineMs),
        metadata: call.metadata,
        peer: call.getPeer(),
        limitExceeded: this.limitExceeded,
      };
      Promise.resolve()
        .then(() => {
          requireDecoded(call.request);
          return handle(call.request, context);
        })
        .then(
          (response) => {
            done(status.OK);
            callback(null, response);
          },
          (err: unknown) => {
            const result = this.toStatus(err, `${service}/${method}`);
            done(result.code);
            callback(result);
          },
        );
    };
  }

  /** toStatus(), counting a refusal by one of the API's limits on the way. */
  toStatus(err: unknown, method: string): StatusResponse {
    if (err instanceof LimitExceededError) this.limitExceeded(err.limit);
    return toStatus(err, this.logger, method);
  }

  /** Tells the observer that `limit` refused a request; safe to call from anywhere (it never throws). */
  readonly limitExceeded = (limit: LimitName): void => {
    if (this.observer?.limitExceeded === undefined) return;
    try {
      this.observer.limitExceeded(limit);
    } catch (err) {
      this.logger.warn({ err }, 'the API observer threw; ignoring');
    }
  };

  /** Starts timing a call; the returned function reports it once, with its final code. */
  startTimer(service: string, method: string): (code: status) => void {
    const startNs = process.hrtime.bigint();
    let reported = false;
    return (code) => {
      if (reported || this.observer === undefined) return;
      reported = true;
      const durationSeconds = Number(process.hrtime.bigint() - startNs) / 1e9;
      try {
        this.observer.callHandled({ service, method, code: status[code] ?? String(code), durationSeconds });
      } catch (err) {
        this.logger.warn({ err }, 'the API observer threw; ignoring');
      }
    };
  }
}
