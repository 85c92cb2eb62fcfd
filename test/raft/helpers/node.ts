// Helpers for unit tests that drive a single RawNode by hand: build one, drain its Readys, and
// fabricate peer messages.
import {
  MemoryStorage, MessageType, RawNode, mulberry32,
  type Config, type Message, type NodeId, type Ready,
} from '../../../src/raft/index.js';

export function newRawNode(id: NodeId, voters: NodeId[], overrides: Partial<Config> = {}, learners: NodeId[] = []): { raw: RawNode; storage: MemoryStorage } {
  const storage = MemoryStorage.bootstrap({ voters, learners });
  const raw = new RawNode({
    id, storage, electionTicks: 10, heartbeatTicks: 1, maxBytesPerMessage: 1 << 20, maxInflightMessages: 256,
    preVote: false, checkQuorum: false, random: mulberry32(7), ...overrides,
  });
  return { raw, storage };
}

/** Persist and acknowledge every Ready; returns the messages and Readys seen. */
export function drain(raw: RawNode, storage: MemoryStorage): { messages: Message[]; readys: Ready[] } {
  const messages: Message[] = [];
  const readys: Ready[] = [];
  while (raw.hasReady()) {
    const rd = raw.ready();
    if (rd.snapshot !== undefined) storage.applySnapshot(rd.snapshot);
    storage.append(rd.entries);
    if (rd.hardState !== undefined) storage.setHardState(rd.hardState);
    messages.push(...rd.messages);
    readys.push(rd);
    raw.advance(rd);
  }
  return { messages, readys };
}

export function msg(fields: Partial<Message> & { type: MessageType; from: NodeId; to: NodeId }): Message {
  return {
    term: 0, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, hintTerm: 0,
    context: new Uint8Array(), ...fields,
  };
}

/** Make `raw` (a member of `voters`) leader of term 1 by granting it every vote. */
export function makeLeader(raw: RawNode, storage: MemoryStorage, voters: NodeId[]): Message[] {
  raw.campaign();
  const { messages } = drain(raw, storage);
  const id = raw.status().id;
  const term = raw.status().hardState.term;
  for (const v of voters) {
    if (v === id) continue;
    raw.step(msg({ type: MessageType.VoteResp, from: v, to: id, term }));
  }
  return [...messages, ...drain(raw, storage).messages];
}
