// ClusterService: this replica's view of the cluster (open to anyone) and membership changes (admin
// token when one is configured). Membership requests are proposed through the replica like any write.
import type { ClusterServiceServer, GetStatusResponse, Member } from '../gen/chat/v1/chat.js';
import type { MemberStatus, ReplicaApi, ReplicaStatus } from '../node/types.js';
import type { Authenticator } from './auth.js';
import type { CallContext, CallRunner } from './calls.js';
import { invalidArgument } from './errors.js';

export interface ClusterServiceDeps {
  replica: ReplicaApi;
  auth: Authenticator;
  calls: CallRunner;
  /** Reported in GetStatus. */
  version: string;
}

export function clusterService(deps: ClusterServiceDeps): ClusterServiceServer {
  const { replica, auth } = deps;
  const handler = <Req, Res>(method: string, handle: (request: Req, context: CallContext) => Promise<Res>) =>
    deps.calls.unary('chat.v1.ClusterService', method, handle);

  return {
    getStatus: handler('GetStatus', async () => toStatusResponse(replica.status(), deps.version)),

    addMember: handler('AddMember', async (request, { metadata, deadlineMs }) => {
      auth.requireAdmin(metadata);
      memberId('id', request.id);
      hostPort('peer_address', request.peerAddress, true);
      hostPort('client_address', request.clientAddress, false);
      // A replica asking for itself sends its volume's incarnation; an operator's request has none.
      const member = {
        id: request.id,
        peerAddress: request.peerAddress,
        clientAddress: request.clientAddress,
        incarnation: request.incarnation,
        learnerOnly: request.asLearner,
      };
      const members = await replica.addMember(member, { deadlineMs, asLearner: request.asLearner });
      return { members: members.map(toMember) };
    }),

    removeMember: handler('RemoveMember', async (request, { metadata, deadlineMs }) => {
      auth.requireAdmin(metadata);
      memberId('id', request.id);
      const members = await replica.removeMember(request.id, { deadlineMs });
      return { members: members.map(toMember) };
    }),

    transferLeadership: handler('TransferLeadership', async (request, { metadata, deadlineMs }) => {
      auth.requireAdmin(metadata);
      if (request.toId !== '') memberId('to_id', request.toId);
      return { leaderId: await replica.transferLeadership(request.toId, { deadlineMs }) };
    }),

    getDigest: handler('GetDigest', async () => {
      const d = await replica.digest();
      return { appliedIndex: d.appliedIndex, digest: d.digest, accounts: d.accounts, messages: d.messages };
    }),
  };
}

const memberIdPattern = /^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/;

/** Member ids are pod names on Kubernetes: DNS labels (RFC 1123), dots allowed. */
function memberId(field: string, value: string): void {
  if (!memberIdPattern.test(value)) throw invalidArgument(field, 'must be 1..63 characters of a-z 0-9 . - starting and ending alphanumeric');
}

const hostPortPattern = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

function hostPort(field: string, value: string, required: boolean): void {
  if (value === '' && !required) return;
  const match = hostPortPattern.exec(value);
  const port = match === null ? NaN : Number(match[2]);
  if (match === null || port < 1 || port > 65535) throw invalidArgument(field, 'must be host:port with a port in 1..65535');
}

export function toStatusResponse(s: ReplicaStatus, version: string): GetStatusResponse {
  return {
    nodeId: s.nodeId,
    role: s.role,
    term: s.term,
    leaderId: s.leaderId,
    commitIndex: s.commitIndex,
    appliedIndex: s.appliedIndex,
    members: s.members.map(toMember),
    clusterId: s.clusterId,
    firstIndex: s.firstIndex,
    lastIndex: s.lastIndex,
    snapshotIndex: s.snapshotIndex,
    version,
    incarnation: s.incarnation,
  };
}

function toMember(m: MemberStatus): Member {
  return {
    id: m.id,
    peerAddress: m.peerAddress,
    clientAddress: m.clientAddress,
    voter: m.voter,
    matchIndex: m.matchIndex,
    reachable: m.reachable,
    lag: m.lag,
    progressState: m.progressState,
    incarnation: m.incarnation,
  };
}
