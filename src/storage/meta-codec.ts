// The replica's metadata records (hard state, snapshot point, applied index, membership, identity) as
// JSON under fixed keys of the meta sublevel: tiny, rarely written, and readable in a database dump.
// Decoding validates the shape so a damaged record stops the replica instead of steering it wrong.
import { MemberInfo } from '../gen/raftchat/command/v1/command.js';
import type { ConfState, HardState, SnapshotMetadata } from '../raft/types.js';
import { StorageError } from './errors.js';

/** The keys of the meta sublevel. */
export const MetaKey = {
  hardState: 'hardState',
  /** The compaction point: the last index folded into the state machine and dropped from the log. */
  snapshot: 'snapshot',
  /** { index, term } of the last entry applied to the keyspace; written with the keyspace changes. */
  applied: 'applied',
  /** The configuration as of the applied index (the snapshot's may be older). */
  confState: 'confState',
  members: 'members',
  identity: 'identity',
  /** The live keyspace generation. */
  generation: 'generation',
  /** A generation being filled by a snapshot installation; cleared on open if present. */
  staging: 'staging',
  /** A generation replaced by an installed snapshot whose keys are still being deleted. */
  retired: 'retired',
} as const;

export interface AppliedPoint {
  index: number;
  term: number;
}

export interface Identity {
  clusterId: string;
  incarnation: string;
}

export function encodeMeta(value: unknown): string {
  return JSON.stringify(value);
}

/** A decoder for one meta record: throws 'CORRUPT' naming the database and key when the shape is wrong. */
type Decoder<T> = (location: string, key: string, text: string) => T;

function parse(location: string, key: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw corrupt(location, key, 'not JSON');
  }
}

function corrupt(location: string, key: string, why: string): StorageError {
  return new StorageError('CORRUPT', `database ${location}: meta record '${key}' is corrupt: ${why}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isIndex(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

function asConfState(v: unknown): ConfState | undefined {
  if (!isRecord(v) || !isStringArray(v.voters) || !isStringArray(v.learners)) return undefined;
  return { voters: [...v.voters], learners: [...v.learners] };
}

export const decodeHardState: Decoder<HardState> = (location, key, text) => {
  const v = parse(location, key, text);
  if (!isRecord(v) || !isIndex(v.term) || typeof v.vote !== 'string' || !isIndex(v.commit)) {
    throw corrupt(location, key, 'expected { term, vote, commit }');
  }
  return { term: v.term, vote: v.vote, commit: v.commit };
};

export const decodeSnapshotMetadata: Decoder<SnapshotMetadata> = (location, key, text) => {
  const v = parse(location, key, text);
  const confState = isRecord(v) ? asConfState(v.confState) : undefined;
  if (!isRecord(v) || !isIndex(v.index) || !isIndex(v.term) || confState === undefined) {
    throw corrupt(location, key, 'expected { index, term, confState }');
  }
  return { index: v.index, term: v.term, confState };
};

export const decodeAppliedPoint: Decoder<AppliedPoint> = (location, key, text) => {
  const v = parse(location, key, text);
  if (!isRecord(v) || !isIndex(v.index) || !isIndex(v.term)) throw corrupt(location, key, 'expected { index, term }');
  return { index: v.index, term: v.term };
};

export const decodeConfState: Decoder<ConfState> = (location, key, text) => {
  const confState = asConfState(parse(location, key, text));
  if (confState === undefined) throw corrupt(location, key, 'expected { voters, learners }');
  return confState;
};

/** Members are stored in the protobuf JSON mapping, so fields added to MemberInfo later read back. */
export function encodeMembers(members: MemberInfo[]): string {
  return JSON.stringify(members.map((m) => MemberInfo.toJSON(m)));
}

export const decodeMembers: Decoder<MemberInfo[]> = (location, key, text) => {
  const v = parse(location, key, text);
  if (!Array.isArray(v) || !v.every((m) => isRecord(m) && typeof m.id === 'string' && m.id !== '')) {
    throw corrupt(location, key, 'expected an array of members, each with an id');
  }
  return v.map((m: unknown) => MemberInfo.fromJSON(m));
};

export const decodeIdentity: Decoder<Identity> = (location, key, text) => {
  const v = parse(location, key, text);
  if (!isRecord(v) || typeof v.clusterId !== 'string' || typeof v.incarnation !== 'string') {
    throw corrupt(location, key, 'expected { clusterId, incarnation }');
  }
  return { clusterId: v.clusterId, incarnation: v.incarnation };
};

export const decodeGeneration: Decoder<number> = (location, key, text) => {
  const v = parse(location, key, text);
  if (!isIndex(v)) throw corrupt(location, key, 'expected a generation number');
  return v;
};
