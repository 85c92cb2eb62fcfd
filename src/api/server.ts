// The client-facing gRPC server of one replica: ChatService, ClusterService, grpc.health.v1 and server
// reflection on one port.
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { ChatServiceService, ClusterServiceService } from '../gen/chat/v1/chat.js';
import { Authenticator } from './auth.js';
import { CallRunner } from './calls.js';
import { chatService } from './chat-service.js';
import { clusterService } from './cluster-service.js';
import { HealthReporter } from './health.js';
import { InFlightLimiter, oversizeRequestCounter } from './inflight.js';
import { LoginThrottle } from './login-throttle.js';
import { resolveLimits, type ApiServerOptions } from './options.js';
import { addReflection } from './reflection.js';
import { SubscriptionHub } from './subscriptions.js';
import { TokenSigner } from './tokens.js';
import { withTolerantDecoding } from './malformed.js';

export interface ApiServer {
  /** The port bound (the chosen one when the address asked for port 0). */
  port: number;
  server: grpc.Server;
  health: HealthReporter;
  /** Live Subscribe streams (for metrics). */
  subscriptions: Pick<SubscriptionHub, 'streams'>;
  /** Calls open per client connection (for tests and debugging). */
  inFlight: Pick<InFlightLimiter, 'open'>;
  /** Keys the login throttle remembers (for tests and memory checks). */
  loginThrottle: Pick<LoginThrottle, 'keys'>;
  /** Reports NOT_SERVING, ends Subscribe streams with UNAVAILABLE, lets unary calls finish (briefly), stops. */
  close(): Promise<void>;
}

/** How long close() lets unary calls finish before cancelling everything still open. */
const closeGraceMs = 2_000;

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const limits = resolveLimits(options.limits);
  const logger = options.logger;
  const calls = new CallRunner(logger, limits.defaultDeadlineMs, options.observer);
  const inFlight = new InFlightLimiter(limits.maxInFlightPerConnection, calls.limitExceeded);
  const server = new grpc.Server({
    'grpc.max_receive_message_length': limits.maxReceiveBytes,
    // Subscribers may sit idle for a long time: keepalive notices peers that vanished.
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
    // Innermost first: the oversize counter must see grpc-js's own refusals; the in-flight limit
    // goes last, nearest the handlers, so the caller's interceptors (metrics) see its refusals.
    interceptors: [oversizeRequestCounter(calls.limitExceeded), ...(options.interceptors ?? []), inFlight.interceptor],
  });
  const auth = new Authenticator(new TokenSigner(options.auth.tokenKey, options.auth.tokenTtlMs), options.replica, options.auth.adminToken);
  const subscriptions = new SubscriptionHub(options.replica, limits.maxSubscriptionsPerUser);
  const loginThrottle = new LoginThrottle({
    perUsername: { perMinute: limits.loginFailuresPerUsernamePerMinute, burst: limits.loginFailureBurstPerUsername },
    perPeer: { perMinute: limits.loginFailuresPerPeerPerMinute, burst: limits.loginFailureBurstPerPeer },
    maxKeys: limits.loginThrottleMaxKeys,
    nowMs: options.nowMs ?? Date.now,
  });
  const replica = options.replica;
  server.addService(withTolerantDecoding(ChatServiceService), chatService({ replica, auth, limits, subscriptions, calls, logger, loginThrottle }));
  server.addService(withTolerantDecoding(ClusterServiceService), clusterService({ replica, auth, calls, version: packageVersion() }));
  const health = new HealthReporter(options.replica, limits.healthPollIntervalMs);
  health.implementation.addToServer(server);
  addReflection(server);

  const credentials = options.credentials ?? grpc.ServerCredentials.createInsecure();
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(options.address, credentials, (err, boundPort) => (err === null ? resolve(boundPort) : reject(err)));
    });
  } catch (err) {
    health.stop();
    subscriptions.close();
    server.forceShutdown();
    throw err;
  }
  logger.info({ address: options.address, port }, 'client API listening');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      health.stop();
      // Streams never finish by themselves: end them now, so shutdown waits only for unary calls.
      subscriptions.close();
      const force = setTimeout(() => server.forceShutdown(), closeGraceMs);
      force.unref();
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    return closing;
  };
  return { port, server, health, subscriptions, inFlight, loginThrottle, close };
}

/** The version in package.json, reported by GetStatus; '' when it cannot be read. */
function packageVersion(): string {
  try {
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && 'version' in parsed && typeof parsed.version === 'string') return parsed.version;
  } catch {
    // Fall through: the version is informational.
  }
  return '';
}
