// `npm run bench:apply`: the state machine's apply path alone, the way a replica runs it — a real
// ReplicaStore on a temp dir, ChatStateMachine.applyBatch over its keyspace, then store.applyBatch.
// Prints commands/s and CPU µs per command per batch size; it measures, it never fails. CPU is the
// whole process's (LevelDB's thread pool and compaction included) while applying; appending the
// entries to the log first is not counted. KEYSPACE MB is what a snapshot would carry.
//
//   node --import tsx bench/apply.ts [--commands 50000] [--batches 1,16,64] [--users 16] [--body-bytes 200]
//   node --cpu-prof --cpu-prof-dir /tmp/prof --import tsx bench/apply.ts --batches 16
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ChatStateMachine, encodeCommand, type CommandEntry } from '../src/chat/index.js';
import type { Command } from '../src/gen/raftchat/command/v1/command.js';
import { EntryType, type Entry } from '../src/raft/types.js';
import { ReplicaStore } from '../src/storage/index.js';

const TERM = 1;

const { values: flags } = parseArgs({
  options: {
    commands: { type: 'string', default: '50000' },
    batches: { type: 'string', default: '1,16,64' },
    users: { type: 'string', default: '16' },
    'body-bytes': { type: 'string', default: '200' },
  },
});
const commandCount = Number(flags.commands);
const batchSizes = flags.batches.split(',').map(Number);
const userCount = Number(flags.users);
const bodyBytes = Number(flags['body-bytes']);

interface PointResult {
  batchSize: number;
  commands: number;
  wallMs: number;
  /** Wall time inside ChatStateMachine.applyBatch; the rest of wallMs is ReplicaStore.applyBatch. */
  machineMs: number;
  cpuUs: number;
  /** CPU while inside ChatStateMachine.applyBatch; the rest of cpuUs is ReplicaStore.applyBatch. */
  machineCpuUs: number;
  keyspaceBytes: number;
  dedupBytes: number;
}

/** One measured point: a fresh store, the users registered, then `commandCount` sends in batches. */
async function runPoint(batchSize: number): Promise<PointResult> {
  const directory = await mkdtemp(join(tmpdir(), 'raftchat-bench-apply-'));
  const store = await ReplicaStore.open(directory);
  const machine = new ChatStateMachine();
  const users = Array.from({ length: userCount }, (_, i) => `user${i}`);
  const body = 'x'.repeat(bodyBytes);
  let nextIndex = 1;

  /** Persists the batch's log entries (not measured: that is the Ready's append, not apply). */
  const logBatch = async (commands: Command[]): Promise<Entry[]> => {
    const entries = commands.map((command): Entry => ({ term: TERM, index: nextIndex++, type: EntryType.Normal, data: encodeCommand(command) }));
    await store.persist({ entries }, { sync: false });
    return entries;
  };
  let machineMs = 0;
  let machineCpuUs = 0;
  /** What replica.ts's applyCommands does with one Ready's committed entries. */
  const apply = async (entries: Entry[]): Promise<void> => {
    const commands: CommandEntry[] = entries.map((e) => ({ index: e.index, data: e.data }));
    const startMs = performance.now();
    const cpuBefore = process.cpuUsage();
    const { ops } = await machine.applyBatch(store.keyspace(), commands);
    const cpu = process.cpuUsage(cpuBefore);
    machineCpuUs += cpu.user + cpu.system;
    machineMs += performance.now() - startMs;
    const last = entries[entries.length - 1]!;
    await store.applyBatch(ops, last.index, last.term);
  };

  try {
    await apply(await logBatch(users.map((username) => register(username))));
    machineMs = 0;
    machineCpuUs = 0;
    let wallMs = 0;
    let cpuUs = 0;
    let sentAtUnixMs = 1_700_000_000_000;
    for (let done = 0; done < commandCount; ) {
      const size = Math.min(batchSize, commandCount - done);
      const commands = Array.from({ length: size }, (_, i): Command => {
        const n = done + i;
        const sender = users[n % userCount]!;
        const recipient = users[(n * 7 + 3) % userCount]!;
        return { kind: { $case: 'send', value: { sender, recipient, body, requestId: `req-${n}`, sentAtUnixMs: sentAtUnixMs++ } } };
      });
      const entries = await logBatch(commands);
      const cpuBefore = process.cpuUsage();
      const startMs = performance.now();
      await apply(entries);
      wallMs += performance.now() - startMs;
      const cpu = process.cpuUsage(cpuBefore);
      cpuUs += cpu.user + cpu.system;
      done += size;
    }
    const { keyspaceBytes, dedupBytes } = await measureKeyspace(store);
    return { batchSize, commands: commandCount, wallMs, machineMs, cpuUs, machineCpuUs, keyspaceBytes, dedupBytes };
  } finally {
    await store.close();
    await rm(directory, { recursive: true, force: true });
  }
}

function register(username: string): Command {
  return {
    kind: { $case: 'register', value: { username, passwordHash: new Uint8Array(32), salt: new Uint8Array(16), createdAtUnixMs: 1 } },
  };
}

/** Bytes of every key and value in the keyspace (what a snapshot carries), and of the dedup records. */
async function measureKeyspace(store: ReplicaStore): Promise<{ keyspaceBytes: number; dedupBytes: number }> {
  let keyspaceBytes = 0;
  let dedupBytes = 0;
  for await (const [key, value] of store.keyspace().iterator()) {
    const bytes = Buffer.byteLength(key) + value.length;
    keyspaceBytes += bytes;
    if (key.startsWith('d/') || key.startsWith('e/')) dedupBytes += bytes;
  }
  return { keyspaceBytes, dedupBytes };
}

console.log(`apply benchmark: ${commandCount} sends of ${bodyBytes} B among ${userCount} users, node ${process.version}`);
console.log('BATCH  COMMANDS/S  CPU µs/CMD  (MACHINE  STORE)  WALL µs/CMD  (MACHINE  STORE)  KEYSPACE MB  DEDUP SHARE');
for (const batchSize of batchSizes) {
  const r = await runPoint(batchSize);
  console.log(
    [
      String(r.batchSize).padStart(5),
      Math.round(r.commands / (r.wallMs / 1000)).toString().padStart(11),
      (r.cpuUs / r.commands).toFixed(1).padStart(11),
      (r.machineCpuUs / r.commands).toFixed(1).padStart(10),
      ((r.cpuUs - r.machineCpuUs) / r.commands).toFixed(1).padStart(7),
      ' ',
      ((r.wallMs * 1000) / r.commands).toFixed(1).padStart(12),
      ((r.machineMs * 1000) / r.commands).toFixed(1).padStart(10),
      (((r.wallMs - r.machineMs) * 1000) / r.commands).toFixed(1).padStart(7),
      ' ',
      (r.keyspaceBytes / 1e6).toFixed(2).padStart(12),
      `${((100 * r.dedupBytes) / r.keyspaceBytes).toFixed(0)}%`.padStart(12),
    ].join(''),
  );
}
