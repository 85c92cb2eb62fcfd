// What one replica offers the layers above it (src/api, src/k8s, src/cli): proposing commands,
// linearizable read barriers, live events, status and membership. Implemented by Replica (replica.ts).

import type { EventEmitter } from 'node:events';
import type { Command, CommandResult, MemberInfo, StoredMessage } from '../gen/raftchat/command/v1/command.js';
import type { Keyspace } from '../storage/keyspace.js';

export type ReplicaErrorCode =
  /** No leader is known, or the leader cannot reach a quorum: safe to retry elsewhere/later. */
  | 'UNAVAILABLE'
  /** The deadline passed before the command was applied (it may still be applied later). */
  | 'DEADLINE_EXCEEDED'
  /** The proposal was overtaken by a leader change and will never be applied: safe to retry. */
  | 'PROPOSAL_DROPPED'
  /** Too many proposals pending. */
  | 'RESOURCE_EXHAUSTED'
  /** The replica is stopping or has stopped. */
  | 'STOPPED'
  /** A membership request that the current configuration does not allow. */
  | 'FAILED_PRECONDITION'
  | 'NOT_FOUND'
  | 'INVALID_ARGUMENT';

export class ReplicaError extends Error {
  readonly code: ReplicaErrorCode;
  constructor(code: ReplicaErrorCode, message: string) {
    super(message);
    this.name = 'ReplicaError';
    this.code = code;
  }
}

export type ReplicaRole = 'follower' | 'pre-candidate' | 'candidate' | 'leader' | 'learner';

export interface MemberStatus {
  id: string;
  peerAddress: string;
  clientAddress: string;
  voter: boolean;
  /** Leader's view; 0 elsewhere. */
  matchIndex: number;
  reachable: boolean;
  lag: number;
  progressState: string;
  /** The member's volume identity as recorded when it was added ('' if added by hand). */
  incarnation: string;
}

export interface ReplicaStatus {
  nodeId: string;
  clusterId: string;
  /** This replica's volume identity: new each time it starts on an empty data directory. */
  incarnation: string;
  role: ReplicaRole;
  term: number;
  leaderId: string;
  commitIndex: number;
  appliedIndex: number;
  firstIndex: number;
  lastIndex: number;
  snapshotIndex: number;
  members: MemberStatus[];
}

export interface ProposeOptions {
  /** Absolute wall-clock deadline (ms since epoch). */
  deadlineMs: number;
}

/** Events a replica emits, all after the state they describe is durable and applied locally. */
export interface ReplicaEvents {
  /** A message was stored by apply (at index message.id). */
  message: [StoredMessage];
  /** An account was deleted (its subscriptions should end). */
  accountDeleted: [string];
  /** Sessions of a user were revoked. */
  sessionsRevoked: [string];
  role: [ReplicaRole, string /* leaderId */];
  /**
   * A snapshot replaced the keyspace up to this applied index: the messages, deletions and
   * revocations it brought emitted no events of their own, so live readers must re-read.
   */
  snapshotInstalled: [number];
  /** The replica hit a fatal error (disk, corruption, invariant) and stopped serving. */
  fatal: [Error];
}

export interface ReplicaApi {
  readonly nodeId: string;
  readonly clusterId: string;
  /** The chat keyspace as of the applied index; read through src/chat's query functions. */
  keyspace(): ChatKeyspace;
  /**
   * Proposes `command` (forwarding it to the leader when this replica is not the leader) and
   * resolves with its result once the command has been applied (by the leader; a follower's own
   * linearizable reads still see it, through readBarrier).
   * Rejects with ReplicaError (UNAVAILABLE, DEADLINE_EXCEEDED, PROPOSAL_DROPPED, STOPPED).
   */
  propose(command: Command, options: ProposeOptions): Promise<{ index: number; result: CommandResult }>;
  /** Resolves once this replica has applied everything committed before the call (ReadIndex). */
  readBarrier(options: ProposeOptions): Promise<void>;
  readonly events: EventEmitter<ReplicaEvents>;
  status(): ReplicaStatus;
  /** Adds `member` as a learner; promotes it to voter once caught up unless asLearner. */
  addMember(member: MemberInfo, options: ProposeOptions & { asLearner?: boolean }): Promise<MemberStatus[]>;
  removeMember(id: string, options: ProposeOptions): Promise<MemberStatus[]>;
  /** Resolves with the new leader's id. An empty `toId` picks the most caught-up voter. */
  transferLeadership(toId: string, options: ProposeOptions): Promise<string>;
  /** Hash of the chat keyspace at the applied index, read through one database snapshot. */
  digest(): Promise<{ appliedIndex: number; digest: string; accounts: number; messages: number }>;
  /** True once the replica has caught up with the leader's commit index (for readiness). */
  isCaughtUp(): boolean;
}

/** The chat keyspace (utf8 string keys, binary values), swapped whole when a snapshot installs. */
export type ChatKeyspace = Keyspace;
