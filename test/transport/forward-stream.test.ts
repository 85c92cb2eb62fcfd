// Forwarding on ForwardStream over loopback gRPC: many commands on one stream, outcomes out of order,
// the same errors as unary Forward, and — what replica.ts relies on to retry safely — a command that
// may have reached the leader is never reported as one that certainly did not.

import assert from 'node:assert/strict';
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import type { ServerDuplexStream, ServerUnaryCall, UntypedServiceImplementation, sendUnaryData } from '@grpc/grpc-js';
import { ForwardRequest, PeerServiceService } from '../../src/gen/raftchat/peer/v1/peer.js';
import type { ForwardResponse } from '../../src/gen/raftchat/peer/v1/peer.js';
import { TransportError } from '../../src/transport/index.js';
import type { PeerHandlers } from '../../src/transport/index.js';
import { connectAll, startTestPeer, waitFor } from './helpers.js';
import type { TestPeer, TestPeerOptions } from './helpers.js';

type OnForward = PeerHandlers['onForward'];

/** What replica.ts treats as "never reached the leader": the only errors it retries blindly. */
function neverSent(err: TransportError): boolean {
  return err.code === 'UNKNOWN_PEER' || err.code === 'CLOSED' || (err.code === 'UNAVAILABLE' && err.status === undefined);
}

async function failure(promise: Promise<unknown>): Promise<TransportError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof TransportError, `not a TransportError: ${String(err)}`);
    return err;
  }
  assert.fail('the forward succeeded');
}

function bytes(n: number): Uint8Array {
  return new Uint8Array([n & 0xff, (n >> 8) & 0xff]);
}

function number(b: Uint8Array): number {
  return b[0]! | (b[1]! << 8);
}

/** A bare gRPC server with only the given PeerService methods, standing in for other versions. */
async function rawPeerServer(methods: UntypedServiceImplementation): Promise<{ address: string; server: Server }> {
  const server = new Server();
  const definition = Object.fromEntries(
    Object.keys(methods).map((name) => [name, PeerServiceService[name as keyof typeof PeerServiceService]]),
  );
  server.addService(definition, methods);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  return { address: `127.0.0.1:${port}`, server };
}

describe('transport: forwarding on one stream', () => {
  let peers: TestPeer[] = [];
  let servers: Server[] = [];

  afterEach(async () => {
    await Promise.all(peers.map((peer) => peer.close()));
    for (const server of servers) server.forceShutdown();
    peers = [];
    servers = [];
  });

  async function leaderWith(onForward: OnForward, options: TestPeerOptions = {}): Promise<[TestPeer, TestPeer]> {
    const leader = await startTestPeer('n1', { ...options, handlers: { onForward } });
    const follower = await startTestPeer('n2', { transport: options.transport });
    peers = [leader, follower];
    connectAll(peers);
    return [leader, follower];
  }

  it('completes many concurrent forwards, each with its own index and result', async () => {
    const seen: number[] = [];
    const [, follower] = await leaderWith(async (command, _deadlineMs, from) => {
      assert.equal(from, 'n2');
      seen.push(number(command));
      return { index: 1000 + number(command), result: command };
    });
    const count = 2_000;
    const answers = await Promise.all(
      Array.from({ length: count }, (_, i) => follower.transport.forward('n1', bytes(i), Date.now() + 10_000)),
    );
    answers.forEach((answer, i) => {
      assert.equal(answer.index, 1000 + i);
      assert.equal(number(answer.result), i);
    });
    assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: count }, (_, i) => i), 'each command handled exactly once');
  });

  it('matches outcomes that settle in the reverse order to their commands', async () => {
    const settle: Array<() => void> = [];
    const [, follower] = await leaderWith(
      (command) => new Promise((resolve) => settle.push(() => resolve({ index: number(command), result: command }))),
    );
    const answers = Array.from({ length: 50 }, (_, i) => follower.transport.forward('n1', bytes(i), Date.now() + 10_000));
    await waitFor(() => settle.length === 50, 'every command at the leader');
    for (const resolve of settle.reverse()) resolve();
    const results = await Promise.all(answers);
    results.forEach((answer, i) => assert.equal(answer.index, i));
  });

  it("fails each command exactly as unary Forward does for the same handler error", async () => {
    const errors: Array<unknown> = [
      Object.assign(new Error('not the leader (leader: n3)'), { code: 'NOT_LEADER' }),
      Object.assign(new Error('dropped'), { code: 'PROPOSAL_DROPPED' }),
      Object.assign(new Error('too many'), { code: 'RESOURCE_EXHAUSTED' }),
      Object.assign(new Error('no quorum'), { code: 'UNAVAILABLE' }),
      Object.assign(new Error('late'), { code: 'DEADLINE_EXCEEDED' }),
      Object.assign(new Error('stopping'), { code: 'STOPPED' }),
      new Error('boom'),
    ];
    const onForward: OnForward = async (command) => {
      throw errors[command[0]!];
    };
    const leader = await startTestPeer('n1', { handlers: { onForward } });
    const streamed = await startTestPeer('n2');
    const unary = await startTestPeer('n3', { transport: { forwardMode: 'unary' } });
    peers = [leader, streamed, unary];
    connectAll(peers);
    for (let i = 0; i < errors.length; i++) {
      const viaStream = await failure(streamed.transport.forward('n1', new Uint8Array([i]), Date.now() + 5_000));
      const viaUnary = await failure(unary.transport.forward('n1', new Uint8Array([i]), Date.now() + 5_000));
      const shape = (err: TransportError) => ({ code: err.code, status: err.status, remoteCode: err.remoteCode, message: err.message });
      assert.deepEqual(shape(viaStream), shape(viaUnary), `handler error ${i}`);
    }
  });

  it('fails a command with DEADLINE_EXCEEDED at its deadline while the stream carries on', async () => {
    const [, follower] = await leaderWith(async (command) => {
      if (command[0] === 0) return new Promise(() => {});
      return { index: 7, result: new Uint8Array() };
    });
    const started = Date.now();
    const late = await failure(follower.transport.forward('n1', new Uint8Array([0]), Date.now() + 200));
    assert.equal(late.code, 'DEADLINE_EXCEEDED');
    assert.equal(late.status, status.DEADLINE_EXCEEDED);
    assert.equal(late.remoteCode, undefined);
    assert.ok(Date.now() - started < 5_000);
    assert.equal((await follower.transport.forward('n1', new Uint8Array([1]), Date.now() + 5_000)).index, 7);
  });

  it('refuses commands beyond the in-flight bound of a stream with RESOURCE_EXHAUSTED', async () => {
    const [, follower] = await leaderWith(() => new Promise(() => {}), { server: { maxForwardsInFlight: 4 } });
    const stuck = Array.from({ length: 4 }, (_, i) => follower.transport.forward('n1', bytes(i), Date.now() + 60_000));
    for (const answer of stuck) answer.catch(() => {});
    const refused = await failure(follower.transport.forward('n1', bytes(4), Date.now() + 60_000));
    assert.equal(refused.code, 'REMOTE');
    assert.equal(refused.remoteCode, 'RESOURCE_EXHAUSTED');
    assert.equal(refused.status, status.RESOURCE_EXHAUSTED);
  });

  it('reports a command written to a stream that then broke as ambiguous, never as never-sent', async () => {
    let atLeader = 0;
    const [leader, follower] = await leaderWith(() => {
      atLeader++;
      return new Promise(() => {});
    });
    const answers = Array.from({ length: 3 }, (_, i) => failure(follower.transport.forward('n1', bytes(i), Date.now() + 30_000)));
    await waitFor(() => atLeader === 3, 'the commands at the leader');
    await leader.server.close();
    for (const err of await Promise.all(answers)) {
      assert.equal(err.code, 'UNAVAILABLE');
      assert.notEqual(err.status, undefined, 'a status says the command may have been applied');
      assert.ok(!neverSent(err));
    }
  });

  it('reports commands still queued behind back-pressure when the stream breaks as never sent, and written ones as ambiguous', async () => {
    // A leader that accepts the stream but never reads: HTTP/2 flow control fills, write() returns false.
    let opened = false;
    const stalled = await rawPeerServer({
      forwardStream: (call: ServerDuplexStream<Buffer, unknown>) => {
        opened = true;
        call.pause();
      },
    });
    servers.push(stalled.server);
    const follower = await startTestPeer('n2', { transport: { maxBatchBytes: 64 << 10 } });
    peers = [follower];
    follower.transport.setPeers(new Map([['n1', stalled.address]]));
    // 40 KiB each against a 64 KiB batch cap: one command per batch, so most wait in the queue.
    const command = new Uint8Array(40 << 10);
    const answers = Array.from({ length: 60 }, () => failure(follower.transport.forward('n1', command, Date.now() + 30_000)));
    await waitFor(() => opened, 'the stream at the leader');
    stalled.server.forceShutdown();
    const errors = await Promise.all(answers);
    const kinds = errors.map((err) => (neverSent(err) ? 'never-sent' : 'ambiguous'));
    assert.ok(kinds.includes('ambiguous'), 'some commands were written');
    assert.ok(kinds.includes('never-sent'), 'some commands were still queued');
    // Written in order: every ambiguous one comes before every never-sent one.
    assert.equal(kinds.lastIndexOf('ambiguous') < kinds.indexOf('never-sent'), true, kinds.join(','));
    for (const err of errors) assert.equal(err.code, 'UNAVAILABLE');
  });

  it('falls back to unary Forward for a leader that does not serve ForwardStream', async () => {
    const seen: number[] = [];
    const old = await rawPeerServer({
      forward: (call: ServerUnaryCall<ForwardRequest, ForwardResponse>, callback: sendUnaryData<ForwardResponse>) => {
        seen.push(call.request.command[0]!);
        callback(null, { index: 100 + call.request.command[0]!, result: new Uint8Array([9]) });
      },
    });
    servers.push(old.server);
    const follower = await startTestPeer('n2');
    peers = [follower];
    follower.transport.setPeers(new Map([['n1', old.address]]));
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => follower.transport.forward('n1', new Uint8Array([i]), Date.now() + 10_000)));
    answers.forEach((answer, i) => assert.equal(answer.index, 100 + i));
    // Later ones go straight to unary.
    assert.equal((await follower.transport.forward('n1', new Uint8Array([50]), Date.now() + 10_000)).index, 150);
    assert.deepEqual([...seen].sort((a, b) => a - b), [...Array.from({ length: 20 }, (_, i) => i), 50], 'each command handled exactly once');
  });

  it('refuses a stream from a replica with the wrong secret with REFUSED, and nothing reaches the handler', async () => {
    let handled = 0;
    const leader = await startTestPeer('n1', {
      handlers: {
        onForward: async () => {
          handled++;
          return { index: 1, result: new Uint8Array() };
        },
      },
    });
    const intruder = await startTestPeer('n2', { secret: 'wrong secret' });
    peers = [leader, intruder];
    intruder.transport.setPeers(new Map([['n1', leader.address]]));
    const errors = await Promise.all(
      Array.from({ length: 3 }, () => failure(intruder.transport.forward('n1', new Uint8Array([1]), Date.now() + 5_000))),
    );
    for (const err of errors) {
      assert.equal(err.code, 'REFUSED');
      assert.equal(err.status, status.UNAUTHENTICATED);
    }
    assert.equal(handled, 0);
  });

  it('fails the commands to a removed peer: ambiguous once written, CLOSED while still queued', async () => {
    let atLeader = 0;
    const [, follower] = await leaderWith(async (command) => {
      atLeader++;
      if (command[0] === 0) return { index: 1, result: new Uint8Array() };
      return new Promise(() => {});
    });
    // The connection is up, so the next forward queues its command without waiting.
    await follower.transport.forward('n1', new Uint8Array([0]), Date.now() + 5_000);
    const written = failure(follower.transport.forward('n1', new Uint8Array([1]), Date.now() + 30_000));
    await waitFor(() => atLeader === 2, 'the command at the leader');
    // This callback runs after the next forward has queued its command but before the flush writes it.
    setImmediate(() => follower.transport.setPeers(new Map()));
    const queued = failure(follower.transport.forward('n1', new Uint8Array([2]), Date.now() + 30_000));
    const [writtenErr, queuedErr] = await Promise.all([written, queued]);
    assert.equal(writtenErr.code, 'UNAVAILABLE');
    assert.ok(!neverSent(writtenErr), 'a written command may still be applied');
    assert.equal(queuedErr.code, 'CLOSED');
    assert.equal(atLeader, 2);
  });
});
