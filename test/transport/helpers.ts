// Shared pieces of the transport tests: message builders, loggers, bounded waits, and a replica
// stand-in (a real PeerServer plus a PeerTransport) that records what it receives.

import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { MessageType } from '../../src/raft/types.js';
import type { Entry, Message, NodeId } from '../../src/raft/types.js';
import { PeerTransport, startPeerServer } from '../../src/transport/index.js';
import type { PeerHandlers, PeerServer, PeerServerOptions, PeerTransportOptions, SnapshotSource } from '../../src/transport/index.js';

export const CLUSTER_ID = 'cluster-test';
export const SECRET = 'correct horse battery staple';
export const MAX_BATCH_BYTES = 1 << 20;

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** A real pino logger whose lines land in `lines` (parsed), for checking what gets logged. */
export function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

export function message(fields: Partial<Message> & { to: NodeId; from: NodeId }): Message {
  return {
    type: MessageType.App,
    term: 1,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    hintTerm: 0,
    context: new Uint8Array(0),
    ...fields,
  };
}

export function entry(index: number, data: string): Entry {
  return { term: 1, index, type: 0, data: new TextEncoder().encode(data) };
}

/** A message with its byte fields as plain arrays, for deepEqual across Buffer and Uint8Array. */
export function plain(m: Message): object {
  return {
    ...m,
    snapshot: m.snapshot,
    context: [...m.context],
    entries: m.entries.map((e) => ({ ...e, data: [...e.data] })),
  };
}

/** Resolves once `condition` holds; fails the test after `timeoutMs`. Polls, never sleeps blindly. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const noSnapshots = (): SnapshotSource => {
  throw new Error('no snapshot source in this test');
};

/** One replica's transport half: its server, its sending transport, and what it saw. */
export interface TestPeer {
  id: NodeId;
  server: PeerServer;
  address: string;
  transport: PeerTransport;
  received: Message[];
  /** One entry per onMessages call, i.e. per RaftBatch received. */
  batchSizes: number[];
  unreachable: NodeId[];
  snapshotsDone: Array<{ peer: NodeId; ok: boolean }>;
  close(): Promise<void>;
}

export interface TestPeerOptions {
  port?: number;
  clusterId?: string;
  secret?: string;
  logger?: Logger;
  handlers?: Partial<PeerHandlers>;
  server?: Partial<PeerServerOptions>;
  transport?: Partial<PeerTransportOptions>;
}

export async function startTestPeer(id: NodeId, options: TestPeerOptions = {}): Promise<TestPeer> {
  const received: Message[] = [];
  const batchSizes: number[] = [];
  const unreachable: NodeId[] = [];
  const snapshotsDone: Array<{ peer: NodeId; ok: boolean }> = [];
  const logger = options.logger ?? silentLogger();
  const clusterId = options.clusterId ?? CLUSTER_ID;
  const secret = options.secret ?? SECRET;
  const server = await startPeerServer({
    address: `127.0.0.1:${options.port ?? 0}`,
    selfId: id,
    clusterId,
    peerSecret: secret,
    logger,
    maxBatchBytes: MAX_BATCH_BYTES,
    handlers: {
      onMessages: (messages) => {
        batchSizes.push(messages.length);
        received.push(...messages);
      },
      onSnapshot: async () => {
        throw new Error('no snapshots expected');
      },
      onForward: async () => {
        throw new Error('no forwards expected');
      },
      ...options.handlers,
    },
    ...options.server,
  });
  const transport = new PeerTransport({
    selfId: id,
    clusterId,
    peerSecret: secret,
    logger,
    maxBatchBytes: MAX_BATCH_BYTES,
    onUnreachable: (peer) => unreachable.push(peer),
    snapshotSource: noSnapshots,
    onSnapshotDone: (peer, ok) => snapshotsDone.push({ peer, ok }),
    ...options.transport,
  });
  return {
    id,
    server,
    address: `127.0.0.1:${server.port}`,
    transport,
    received,
    batchSizes,
    unreachable,
    snapshotsDone,
    close: async () => {
      await transport.close();
      await server.close();
    },
  };
}

/** Points every peer's transport at all the others. */
export function connectAll(peers: readonly TestPeer[]): void {
  const addresses = new Map(peers.map((peer) => [peer.id, peer.address]));
  for (const peer of peers) peer.transport.setPeers(addresses);
}
