// `npm run bench:raft`: the Raft core alone. Five RawNodes in one process over MemoryStorage, messages
// handed over in memory, proposals of 100-200 bytes pushed in batches. Prints proposals committed
// per second and the cost per delivered message; it measures, it never fails.
import { MemoryStorage, RawNode, mulberry32, type Message, type NodeId } from '../src/raft/index.js';

const MEMBERS = 5;
const BATCH_PROPOSALS = 256;
const WARMUP_PROPOSALS = 50_000;
const MEASURED_PROPOSALS = 500_000;
const COMPACT_EVERY_PROPOSALS = 20_000;
const COMPACT_KEEP_ENTRIES = 1_000;

interface Member {
  id: NodeId;
  storage: MemoryStorage;
  node: RawNode;
  appliedNormal: number;
  applied: number;
}

const ids = Array.from({ length: MEMBERS }, (_, i) => `n${i + 1}`);
const members = new Map<NodeId, Member>();
for (const [i, id] of ids.entries()) {
  const storage = MemoryStorage.bootstrap({ voters: ids, learners: [] });
  const node = new RawNode({
    id,
    storage,
    electionTicks: 10,
    heartbeatTicks: 1,
    maxBytesPerMessage: 1 << 20,
    maxInflightMessages: 256,
    preVote: true,
    checkQuorum: true,
    random: mulberry32(i + 1),
  });
  members.set(id, { id, storage, node, appliedNormal: 0, applied: 0 });
}

let queue: Message[] = [];
let messagesDelivered = 0;
let readiesHandled = 0;

/** Run every Ready and deliver every message until the cluster is quiet. */
function pump(): void {
  for (;;) {
    for (const member of members.values()) {
      const node = member.node;
      while (node.hasReady()) {
        const ready = node.ready();
        readiesHandled++;
        if (ready.snapshot !== undefined) member.storage.applySnapshot(ready.snapshot);
        if (ready.entries.length > 0) member.storage.append(ready.entries);
        if (ready.hardState !== undefined) member.storage.setHardState(ready.hardState);
        for (const message of ready.messages) queue.push(message);
        for (const entry of ready.committedEntries) {
          member.applied = entry.index;
          if (entry.data.length > 0) member.appliedNormal++;
        }
        node.advance(ready);
      }
    }
    if (queue.length === 0) return;
    const delivering = queue;
    queue = [];
    for (const message of delivering) {
      members.get(message.to)?.node.step(message);
      messagesDelivered++;
    }
  }
}

function compactAll(): void {
  for (const member of members.values()) {
    const upTo = member.applied - COMPACT_KEEP_ENTRIES;
    if (upTo <= member.storage.firstIndex()) continue;
    member.storage.createSnapshot(upTo, member.node.status().confState, new Uint8Array());
    member.storage.compact(upTo);
  }
}

const random = mulberry32(42);
const payloads = Array.from({ length: 1024 }, () => {
  const bytes = new Uint8Array(100 + Math.floor(random() * 101));
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
});

const leader = members.get('n1') as Member;
leader.node.campaign();
pump();
if (leader.node.status().softState.role !== 'leader') throw new Error('bench: n1 did not become leader');

/** Propose `count` entries on the leader in batches; returns when all are committed and applied there. */
function run(count: number): void {
  const target = leader.appliedNormal + count;
  let proposed = 0;
  let sinceCompact = 0;
  while (proposed < count) {
    const batch = Math.min(BATCH_PROPOSALS, count - proposed);
    for (let i = 0; i < batch; i++) leader.node.propose(payloads[(proposed + i) & 1023] as Uint8Array);
    proposed += batch;
    sinceCompact += batch;
    pump();
    for (const member of members.values()) member.node.tick();
    pump();
    if (sinceCompact >= COMPACT_EVERY_PROPOSALS) {
      compactAll();
      sinceCompact = 0;
    }
  }
  if (leader.appliedNormal < target) throw new Error(`bench: only ${leader.appliedNormal} of ${target} applied`);
}

run(WARMUP_PROPOSALS);
const messagesBefore = messagesDelivered;
const readiesBefore = readiesHandled;
const started = performance.now();
run(MEASURED_PROPOSALS);
const seconds = (performance.now() - started) / 1000;
const messages = messagesDelivered - messagesBefore;
const readies = readiesHandled - readiesBefore;

const perSecond = Math.round(MEASURED_PROPOSALS / seconds);
process.stdout.write(
  [
    `raft core: ${MEMBERS} members in one process, batches of ${BATCH_PROPOSALS} proposals of 100-200 B`,
    `  ${MEASURED_PROPOSALS} proposals committed in ${seconds.toFixed(2)} s: ${perSecond.toLocaleString('en-US')} proposals/s`,
    `  ${messages} messages delivered (${((seconds * 1e6) / messages).toFixed(2)} us per message step), ${readies} Readies (${((seconds * 1e6) / readies).toFixed(2)} us each)`,
    `  ${((seconds * 1e9) / MEASURED_PROPOSALS).toFixed(0)} ns per proposal, all five members applying`,
    '',
  ].join('\n'),
);
