// Forwarded writes alone: a real PeerServer (the leader, whose handler answers at once) and a real
// PeerTransport (the follower) in one process over loopback, unary Forward against ForwardStream.
// Prints CPU µs per forward (both ends together) and forwards/s; it measures, it never fails.
//
//   node --import tsx bench/forward.ts [--forwards 10000] [--in-flight 64] [--command-bytes 200] [--rounds 3]
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { PeerTransport, startPeerServer } from '../src/transport/index.js';
import type { PeerServer } from '../src/transport/index.js';

const CLUSTER_ID = 'bench-forward';
const SECRET = 'bench secret';
const MAX_BATCH_BYTES = 4 << 20;

const { values: flags } = parseArgs({
  options: {
    forwards: { type: 'string', default: '10000' },
    'in-flight': { type: 'string', default: '64' },
    'command-bytes': { type: 'string', default: '200' },
    rounds: { type: 'string', default: '3' },
  },
});
const forwardCount = Number(flags.forwards);
const inFlight = Number(flags['in-flight']);
const commandBytes = Number(flags['command-bytes']);
const rounds = Number(flags.rounds);

type Mode = 'unary' | 'stream';

interface PointResult {
  mode: Mode;
  wallMs: number;
  cpuUs: number;
}

/** `count` forwards, at most `inFlight` outstanding, each answered by the leader at once. */
async function runPoint(mode: Mode, server: PeerServer, count: number): Promise<PointResult> {
  const logger = pino({ level: 'silent' });
  const transport = new PeerTransport({
    selfId: 'n2',
    clusterId: CLUSTER_ID,
    peerSecret: SECRET,
    logger,
    maxBatchBytes: MAX_BATCH_BYTES,
    forwardMode: mode,
    onUnreachable: () => {},
    snapshotSource: () => {
      throw new Error('no snapshots in this bench');
    },
    onSnapshotDone: () => {},
  });
  transport.setPeers(new Map([['n1', `127.0.0.1:${server.port}`]]));
  const command = new Uint8Array(commandBytes).fill(7);
  // Warm up: the connection, the stream, the JIT.
  await Promise.all(Array.from({ length: inFlight }, () => transport.forward('n1', command, Date.now() + 10_000)));

  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < count) {
      started++;
      await transport.forward('n1', command, Date.now() + 30_000);
    }
  };
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const wallMs = performance.now() - wallBefore;
  const cpu = process.cpuUsage(cpuBefore);
  await transport.close();
  return { mode, wallMs, cpuUs: cpu.user + cpu.system };
}

async function main(): Promise<void> {
  let index = 0;
  const result = new Uint8Array(16).fill(1);
  const server = await startPeerServer({
    address: '127.0.0.1:0',
    selfId: 'n1',
    clusterId: CLUSTER_ID,
    peerSecret: SECRET,
    logger: pino({ level: 'silent' }),
    maxBatchBytes: MAX_BATCH_BYTES,
    handlers: {
      onMessages: () => {},
      onSnapshot: async () => {
        throw new Error('no snapshots in this bench');
      },
      onForward: async () => ({ index: ++index, result }),
    },
  });
  console.log(`forward bench: ${forwardCount} forwards, ${inFlight} in flight, ${commandBytes}-byte commands, ${rounds} rounds`);
  console.log('mode    round  forwards/s  cpu µs/forward');
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const mode of ['unary', 'stream'] as const) {
        const point = await runPoint(mode, server, forwardCount);
        const perSecond = (forwardCount / point.wallMs) * 1000;
        console.log(`${mode.padEnd(7)} ${String(round).padStart(5)}  ${perSecond.toFixed(0).padStart(10)}  ${(point.cpuUs / forwardCount).toFixed(1).padStart(14)}`);
      }
    }
  } finally {
    await server.close();
  }
}

await main();
