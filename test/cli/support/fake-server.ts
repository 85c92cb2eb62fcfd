// Small real gRPC servers on loopback for the client and CLI tests: each implements only the
// handlers a test gives it; every other method answers UNIMPLEMENTED.
import net from 'node:net';
import { Metadata, Server, ServerCredentials, status, type ServiceError, type UntypedServiceImplementation } from '@grpc/grpc-js';
import {
  ChatServiceService,
  ClusterServiceService,
  type ChatServiceServer,
  type ClusterServiceServer,
} from '../../../src/gen/chat/v1/chat.js';

export interface FakeServer {
  address: string;
  server: Server;
  /** Kills every open call at once, like a replica dying. */
  kill(): void;
  stop(): Promise<void>;
}

export function grpcError(code: status, details: string): ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new Metadata() });
}

function withDefaults<T extends UntypedServiceImplementation>(
  service: Record<string, unknown>,
  handlers: Partial<T>,
): T {
  const all: UntypedServiceImplementation = {};
  for (const name of Object.keys(service)) {
    all[name] = (call: unknown, callback?: (error: ServiceError) => void) => {
      const unimplemented = grpcError(status.UNIMPLEMENTED, `${name} not implemented by this fake`);
      if (typeof callback === 'function') callback(unimplemented);
      else (call as { emit(event: 'error', error: ServiceError): void }).emit('error', unimplemented);
    };
  }
  return { ...all, ...handlers } as T;
}

export async function startFakeServer(
  chat: Partial<ChatServiceServer> = {},
  cluster: Partial<ClusterServiceServer> = {},
): Promise<FakeServer> {
  const server = new Server();
  server.addService(ChatServiceService, withDefaults<ChatServiceServer>(ChatServiceService, chat));
  server.addService(ClusterServiceService, withDefaults<ClusterServiceServer>(ClusterServiceService, cluster));
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, boundPort) =>
      error === null ? resolve(boundPort) : reject(error),
    );
  });
  return {
    address: `127.0.0.1:${port}`,
    server,
    kill: () => server.forceShutdown(),
    stop: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        // Streams that never end would hold tryShutdown forever.
        setTimeout(() => server.forceShutdown(), 200).unref();
      }),
  };
}

/** A loopback address nothing listens on: bind port 0, note the port, close. */
export async function deadAddress(): Promise<string> {
  const socket = net.createServer();
  await new Promise<void>((resolve) => socket.listen(0, '127.0.0.1', resolve));
  const { port } = socket.address() as net.AddressInfo;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

/** Polls `predicate` until it holds, failing after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > giveUpAt) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
