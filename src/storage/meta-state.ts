// Reading the small meta records every consumer needs (applied point, configuration, members, live
// generation) with their defaults, optionally through a database snapshot for a consistent view.
import type { AbstractSnapshot } from 'abstract-level';
import type { MemberInfo } from '../gen/raftchat/command/v1/command.js';
import type { ConfState, HardState, SnapshotMetadata } from '../raft/types.js';
import { ioError } from './errors.js';
import type { MetaLevel } from './layout.js';
import {
  MetaKey,
  decodeAppliedPoint,
  decodeConfState,
  decodeGeneration,
  decodeHardState,
  decodeIdentity,
  decodeMembers,
  decodeSnapshotMetadata,
  type AppliedPoint,
  type Identity,
} from './meta-codec.js';

export interface MetaState {
  hardState: HardState;
  /** The compaction point; index 0/term 0 when the log was never compacted. */
  snapshot: SnapshotMetadata;
  /** Defaults to the compaction point: nothing after it was applied. */
  applied: AppliedPoint;
  /** The configuration as of `applied`; defaults to the snapshot's. */
  confState: ConfState;
  members: MemberInfo[];
  identity: Identity;
  generation: number;
  /** A generation left by an interrupted snapshot installation, if any. */
  staging: number | undefined;
  /** A generation an installation replaced whose keys may remain, if any. */
  retired: number | undefined;
}

export async function readMetaState(meta: MetaLevel, location: string, snapshot?: AbstractSnapshot): Promise<MetaState> {
  const keys: string[] = Object.values(MetaKey);
  let values: (string | undefined)[];
  try {
    values = await meta.getMany(keys, { snapshot });
  } catch (err) {
    throw ioError(location, 'reading the meta records', err);
  }
  const stored = new Map(keys.map((key, i) => [key, values[i]]));
  const read = <T>(key: string, decode: (location: string, key: string, text: string) => T): T | undefined => {
    const text = stored.get(key);
    return text === undefined ? undefined : decode(location, key, text);
  };
  const emptyConf: ConfState = { voters: [], learners: [] };
  const snap = read(MetaKey.snapshot, decodeSnapshotMetadata) ?? { index: 0, term: 0, confState: emptyConf };
  return {
    hardState: read(MetaKey.hardState, decodeHardState) ?? { term: 0, vote: '', commit: 0 },
    snapshot: snap,
    applied: read(MetaKey.applied, decodeAppliedPoint) ?? { index: snap.index, term: snap.term },
    confState: read(MetaKey.confState, decodeConfState) ?? snap.confState,
    members: read(MetaKey.members, decodeMembers) ?? [],
    identity: read(MetaKey.identity, decodeIdentity) ?? { clusterId: '', incarnation: '' },
    generation: read(MetaKey.generation, decodeGeneration) ?? 0,
    staging: read(MetaKey.staging, decodeGeneration),
    retired: read(MetaKey.retired, decodeGeneration),
  };
}
