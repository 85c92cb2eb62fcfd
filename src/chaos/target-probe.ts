// The two questions a chaos target asks a replica over gRPC: is it ready (grpc.health.v1, service
// "": SERVING once caught up with the leader), and who does it think leads (ClusterService.GetStatus).
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { RaftchatClient } from '../client/index.js';
import type { ReplicaEndpoint } from './checker.js';

interface HealthCheckResponse {
  status?: string | number;
}

type HealthClient = grpc.Client & {
  check(
    request: { service: string },
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, response?: HealthCheckResponse) => void,
  ): grpc.ClientUnaryCall;
};

const HealthClientConstructor = grpc.makeClientConstructor(
  healthService as unknown as grpc.ServiceDefinition,
  'grpc.health.v1.Health',
) as unknown as new (address: string, credentials: grpc.ChannelCredentials) => HealthClient;

/** SERVING is 1 on the wire; proto-loader may hand it over as the enum's name instead. */
function isServing(status: string | number | undefined): boolean {
  return status === 'SERVING' || status === 1;
}

/** Readiness of the replica at `address`; false when it does not answer within `deadlineMs`. */
export function checkReady(address: string, deadlineMs: number, credentials?: grpc.ChannelCredentials): Promise<boolean> {
  const client = new HealthClientConstructor(address, credentials ?? grpc.credentials.createInsecure());
  return new Promise<boolean>((resolve) => {
    client.check({ service: '' }, { deadline: Date.now() + deadlineMs }, (error, response) => {
      client.close();
      resolve(error === null && isServing(response?.status));
    });
  });
}

/** The leader's member id as the first replica that knows one reports it; undefined if none does. */
export async function findLeaderId(
  endpoints: readonly ReplicaEndpoint[],
  deadlineMs: number,
  credentials?: grpc.ChannelCredentials,
): Promise<string | undefined> {
  if (endpoints.length === 0) return undefined;
  const client = new RaftchatClient({
    servers: endpoints.map((e) => e.address),
    deadlineMs,
    attemptTimeoutMs: deadlineMs,
    ...(credentials !== undefined ? { credentials } : {}),
  });
  try {
    const answers = await Promise.all(
      endpoints.map((e) => client.statusOf(e.address, { deadlineMs }).then((s) => s.leaderId, () => '')),
    );
    return answers.find((id) => id !== '');
  } finally {
    client.close();
  }
}

/** 0.0.0.0 and [::] are where a replica listens, not where to reach it: use loopback instead. */
export function dialable(address: string): string {
  return address.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[::\]:/, '[::1]:');
}
