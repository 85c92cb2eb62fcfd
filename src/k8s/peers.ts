// The few ClusterService calls a pod makes to its peers: who is in the cluster (GetStatus), and
// please add / remove me (AddMember, RemoveMember, sent to the leader). One gRPC call each.

import * as grpc from '@grpc/grpc-js';
import { ClusterServiceClient, type GetStatusResponse } from '../gen/chat/v1/chat.js';

export interface PeerCallOptions {
  deadlineMs: number;
  /** Membership calls carry the admin token when the cluster requires one. */
  adminToken?: string;
  /** TLS when the client port uses it; plaintext otherwise. */
  credentials?: grpc.ChannelCredentials;
}

export function getStatus(address: string, options: PeerCallOptions): Promise<GetStatusResponse> {
  return call(address, options, (client, md, callOptions, done) => client.getStatus({}, md, callOptions, done));
}

export async function addMember(
  address: string,
  member: { id: string; peerAddress: string; clientAddress: string; incarnation: string },
  options: PeerCallOptions,
): Promise<void> {
  await call(address, options, (client, md, callOptions, done) =>
    client.addMember({ ...member, asLearner: false }, md, callOptions, done),
  );
}

export async function removeMember(address: string, id: string, options: PeerCallOptions): Promise<void> {
  await call(address, options, (client, md, callOptions, done) => client.removeMember({ id }, md, callOptions, done));
}

type Start<T> = (
  client: ClusterServiceClient,
  metadata: grpc.Metadata,
  callOptions: Partial<grpc.CallOptions>,
  done: (err: grpc.ServiceError | null, response: T) => void,
) => void;

function call<T>(address: string, options: PeerCallOptions, start: Start<T>): Promise<T> {
  const client = new ClusterServiceClient(address, options.credentials ?? grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  if (options.adminToken !== undefined && options.adminToken !== '') metadata.set('authorization', `Bearer ${options.adminToken}`);
  return new Promise<T>((resolve, reject) => {
    start(client, metadata, { deadline: options.deadlineMs }, (err, response) => {
      client.close();
      if (err !== null) reject(err);
      else resolve(response);
    });
  });
}
