// Chat-level metrics: messages sent, accounts, live Subscribe streams, writes forwarded to the
// leader, and requests the API turned away — by reason or by limit, never by user or message.
import { Counter, Gauge, type Registry } from 'prom-client';
import { readCount, type CountSource } from './status.js';

/** Why the API refused a request; anything else is counted as `other` so the label stays bounded. */
export const rejectReasons = [
  'invalid_argument',
  'unauthenticated',
  'permission_denied',
  'resource_exhausted',
  'unavailable',
  'deadline_exceeded',
  'other',
] as const;
export type RejectReason = (typeof rejectReasons)[number];

/** Maps a gRPC code name (`INVALID_ARGUMENT`, `InvalidArgument`) or a reason to its label value. */
export function rejectReason(codeOrReason: string): RejectReason {
  const snake = codeOrReason.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  return (rejectReasons as readonly string[]).includes(snake) ? (snake as RejectReason) : 'other';
}

/**
 * The API's abuse limits (src/api/limits.ts's limitNames, kept equal by a test): the `limit` label
 * of raftchat_api_limit_exceeded_total. Anything else is counted as `other`.
 */
export const apiLimitNames = [
  'max_receive_bytes',
  'body_bytes',
  'username_length',
  'password_length',
  'request_id_length',
  'pattern_length',
  'page_size',
  'ids_count',
  'subscriptions_per_user',
  'subscription_backlog',
  'inflight_per_connection',
  'login_throttle_username',
  'login_throttle_peer',
  'other',
] as const;
export type ApiLimitName = (typeof apiLimitNames)[number];

/** The label value for a limit name; unknown names become `other` so the label stays bounded. */
export function apiLimitName(limit: string): ApiLimitName {
  return (apiLimitNames as readonly string[]).includes(limit) ? (limit as ApiLimitName) : 'other';
}

/** A finished API call as src/api's ApiObserver reports it (`code` is the status name, `INVALID_ARGUMENT`). */
export interface HandledCallLike {
  service: string;
  method: string;
  code: string;
  durationSeconds: number;
}

/** Codes that mean the API refused the request; the rest are outcomes (OK, NOT_FOUND) or failures. */
const refusalCodes = new Set(['INVALID_ARGUMENT', 'UNAUTHENTICATED', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'UNAVAILABLE', 'DEADLINE_EXCEEDED', 'FAILED_PRECONDITION']);

export class ChatMetrics {
  private readonly messagesSent: Counter;
  private readonly forwardedWrites: Counter;
  private readonly rejected: Counter<'reason'>;
  private readonly limitsExceeded: Counter<'limit'>;
  private readonly subscribers: Gauge;
  private accountsSource: CountSource | undefined;
  private subscribersSource: CountSource | undefined;

  constructor(registry: Registry) {
    const registers = [registry];
    this.messagesSent = new Counter({
      name: 'raftchat_chat_messages_sent_total',
      help: 'SendMessage calls this replica answered OK (a retry answered with the first result counts again).',
      registers,
    });
    this.forwardedWrites = new Counter({
      name: 'raftchat_chat_forwarded_writes_total',
      help: 'Writes this replica forwarded to the leader because it was not the leader.',
      registers,
    });
    this.rejected = new Counter({
      name: 'raftchat_chat_requests_rejected_total',
      help: 'Requests the API refused before or instead of proposing them, by reason.',
      labelNames: ['reason'] as const,
      registers,
    });
    for (const reason of rejectReasons) this.rejected.inc({ reason }, 0);
    this.limitsExceeded = new Counter({
      name: 'raftchat_api_limit_exceeded_total',
      help: 'Requests the API refused because they went over one of its limits (sizes, rates, concurrency), by limit.',
      labelNames: ['limit'] as const,
      registers,
    });
    for (const limit of apiLimitNames) this.limitsExceeded.inc({ limit }, 0);
    const subscribers = () => this.subscribersSource;
    this.subscribers = new Gauge({
      name: 'raftchat_chat_subscribers',
      help: 'Live Subscribe streams on this replica.',
      registers,
      async collect() {
        const source = subscribers();
        const count = source === undefined ? undefined : await readCount(source);
        if (count !== undefined) this.set(count);
      },
    });
    const accounts = () => this.accountsSource;
    new Gauge({
      name: 'raftchat_chat_accounts',
      help: 'Accounts in this replica\'s copy of the chat keyspace.',
      registers,
      async collect() {
        const source = accounts();
        if (source === undefined) return;
        // A failed read (e.g. the replica is stopping) keeps the last value rather than failing the scrape.
        const count = await readCount(source);
        if (count !== undefined) this.set(count);
      },
    });
  }

  messageSent(): void {
    this.messagesSent.inc();
  }

  /**
   * src/api's ApiObserver: `startApiServer({ ..., observer: metrics.apiObserver })` counts messages
   * (SendMessage answered OK) and refusals by reason with no other call site.
   */
  readonly apiObserver = {
    callHandled: (call: HandledCallLike): void => {
      if (call.code === 'OK') {
        if (call.service === 'chat.v1.ChatService' && call.method === 'SendMessage') this.messageSent();
      } else if (refusalCodes.has(call.code)) {
        this.requestRejected(call.code);
      }
    },
    limitExceeded: (limit: string): void => this.limitExceeded(limit),
  };

  /** One request refused by the API limit `limit` (a name from apiLimitNames). */
  limitExceeded(limit: string): void {
    this.limitsExceeded.inc({ limit: apiLimitName(limit) });
  }

  forwardedWrite(): void {
    this.forwardedWrites.inc();
  }

  requestRejected(reason: string): void {
    this.rejected.inc({ reason: rejectReason(reason) });
  }

  /** +1 when a Subscribe stream starts, -1 when it ends (however it ends); or see setSubscribersSource. */
  subscriberDelta(delta: 1 | -1): void {
    this.subscribers.inc(delta);
  }

  setAccountsSource(source: CountSource): void {
    this.accountsSource = source;
  }

  /** Reads the live stream count at scrape time instead of tracking subscriberDelta() calls. */
  setSubscribersSource(source: CountSource): void {
    this.subscribersSource = source;
  }
}
