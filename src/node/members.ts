// The member address table: who the members are and where to reach them. It changes only when a
// configuration change is applied (the addresses travel in the ConfChange's context) or a snapshot
// is installed (they travel in the snapshot's data), so every replica agrees on it at each index.

import { MemberInfo } from '../gen/raftchat/command/v1/command.js';
import { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';
import type { ConfState } from '../raft/types.js';
import type { MemberStatus } from './types.js';

export type MemberTable = Map<string, MemberInfo>;

export function encodeMemberInfo(member: MemberInfo): Uint8Array {
  return MemberInfo.encode(member).finish();
}

export function decodeMemberInfo(bytes: Uint8Array): MemberInfo {
  return MemberInfo.decode(bytes);
}

/** A table as bytes: a length-delimited run of MemberInfo records, sorted by id. */
export function encodeMemberTable(table: MemberTable): Uint8Array {
  const writer = new BinaryWriter();
  for (const id of [...table.keys()].sort()) writer.uint32(10).bytes(encodeMemberInfo(table.get(id)!));
  return writer.finish();
}

export function decodeMemberTable(bytes: Uint8Array): MemberTable {
  const table: MemberTable = new Map();
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 !== 1) {
      reader.skip(tag & 7);
      continue;
    }
    const member = decodeMemberInfo(reader.bytes());
    table.set(member.id, member);
  }
  return table;
}

/** Peer addresses of everyone but `selfId`, for the transport. */
export function peerAddresses(table: MemberTable, selfId: string): Map<string, string> {
  const peers = new Map<string, string>();
  for (const [id, member] of table) if (id !== selfId && member.peerAddress !== '') peers.set(id, member.peerAddress);
  return peers;
}

export function isVoter(confState: ConfState, id: string): boolean {
  return confState.voters.includes(id);
}

/** The members of `confState` with their addresses, voters first, then learners, each by id. */
export function describeMembers(table: MemberTable, confState: ConfState): MemberStatus[] {
  const ids = [...[...confState.voters].sort(), ...[...confState.learners].sort()];
  return ids.map((id) => {
    const info = table.get(id);
    return {
      id,
      peerAddress: info?.peerAddress ?? '',
      clientAddress: info?.clientAddress ?? '',
      voter: isVoter(confState, id),
      matchIndex: 0,
      reachable: false,
      lag: 0,
      progressState: '',
      incarnation: info?.incarnation ?? '',
    };
  });
}
