// Forward over loopback gRPC: a command round trip, deadlines, and how a remote handler's errors and
// transport failures come back as TransportError codes.

import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { TransportError } from '../../src/transport/index.js';
import type { TransportErrorCode } from '../../src/transport/index.js';
import { connectAll, message, startTestPeer, waitFor } from './helpers.js';
import type { TestPeer, TestPeerOptions } from './helpers.js';

function expectTransportError(code: TransportErrorCode, more: Partial<Pick<TransportError, 'status' | 'remoteCode'>> = {}) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof TransportError, `not a TransportError: ${String(err)}`);
    assert.equal(err.code, code);
    if ('status' in more) assert.equal(err.status, more.status);
    if ('remoteCode' in more) assert.equal(err.remoteCode, more.remoteCode);
    return true;
  };
}

describe('transport: forwarding commands', () => {
  let peers: TestPeer[] = [];

  afterEach(async () => {
    await Promise.all(peers.map((peer) => peer.close()));
    peers = [];
  });

  async function leaderWith(onForward: NonNullable<TestPeerOptions['handlers']>['onForward']): Promise<[TestPeer, TestPeer]> {
    const leader = await startTestPeer('n1', { handlers: { onForward } });
    const follower = await startTestPeer('n2');
    peers = [leader, follower];
    connectAll(peers);
    return [leader, follower];
  }

  it('hands a command to the leader and returns its index and result', async () => {
    const seen: Array<{ command: number[]; deadlineMs: number; from: string }> = [];
    const [, follower] = await leaderWith(async (command, deadlineMs, from) => {
      seen.push({ command: [...command], deadlineMs, from });
      return { index: 42, result: new Uint8Array([7, 7, 7]) };
    });
    const deadlineMs = Date.now() + 5_000;
    const answer = await follower.transport.forward('n1', new Uint8Array([1, 2, 3]), deadlineMs);
    assert.equal(answer.index, 42);
    assert.deepEqual([...answer.result], [7, 7, 7]);
    assert.deepEqual(seen, [{ command: [1, 2, 3], deadlineMs, from: 'n2' }]);
  });

  it('fails with DEADLINE_EXCEEDED when the leader does not answer in time', async () => {
    const [, follower] = await leaderWith(() => new Promise(() => {}));
    const started = Date.now();
    await assert.rejects(
      follower.transport.forward('n1', new Uint8Array([1]), Date.now() + 200),
      expectTransportError('DEADLINE_EXCEEDED', { status: status.DEADLINE_EXCEEDED, remoteCode: undefined }),
    );
    assert.ok(Date.now() - started < 5_000);
  });

  it("keeps the leader's own error code: UNAVAILABLE stays UNAVAILABLE, others are REMOTE", async () => {
    let code = 'UNAVAILABLE';
    const [, follower] = await leaderWith(async () => {
      throw Object.assign(new Error(`replica says ${code}`), { code });
    });
    await assert.rejects(
      follower.transport.forward('n1', new Uint8Array([1]), Date.now() + 5_000),
      expectTransportError('UNAVAILABLE', { status: status.UNAVAILABLE, remoteCode: 'UNAVAILABLE' }),
    );
    code = 'PROPOSAL_DROPPED';
    await assert.rejects(
      follower.transport.forward('n1', new Uint8Array([1]), Date.now() + 5_000),
      expectTransportError('REMOTE', { status: status.ABORTED, remoteCode: 'PROPOSAL_DROPPED' }),
    );
    code = 'DEADLINE_EXCEEDED';
    await assert.rejects(
      follower.transport.forward('n1', new Uint8Array([1]), Date.now() + 5_000),
      expectTransportError('DEADLINE_EXCEEDED', { status: status.DEADLINE_EXCEEDED, remoteCode: 'DEADLINE_EXCEEDED' }),
    );
  });

  it('maps a handler that throws without a code to INTERNAL', async () => {
    const [, follower] = await leaderWith(() => {
      throw new Error('boom');
    });
    await assert.rejects(
      follower.transport.forward('n1', new Uint8Array([1]), Date.now() + 5_000),
      expectTransportError('INTERNAL', { status: status.UNKNOWN, remoteCode: undefined }),
    );
  });

  it('waits for a leader whose peer port comes up shortly after the call, instead of failing', async () => {
    const probe = await startTestPeer('n1');
    const port = probe.server.port;
    await probe.close();
    const follower = await startTestPeer('n2');
    peers = [follower];
    follower.transport.setPeers(new Map([['n1', `127.0.0.1:${port}`]]));
    // The raft stream finds the port closed first, leaving the channel in its reconnect back-off.
    follower.transport.send([message({ from: 'n2', to: 'n1' })]);
    await waitFor(() => follower.unreachable.includes('n1'), 'the first connection to fail');
    const answer = follower.transport.forward('n1', new Uint8Array([5]), Date.now() + 10_000);
    const leader = await startTestPeer('n1', { port, handlers: { onForward: async (command) => ({ index: command[0]!, result: new Uint8Array() }) } });
    peers.push(leader);
    assert.equal((await answer).index, 5);
  });

  it('fails with UNKNOWN_PEER, UNAVAILABLE and CLOSED without a peer, with a dead peer, and after close', async () => {
    const follower = await startTestPeer('n2');
    peers = [follower];
    await assert.rejects(follower.transport.forward('n1', new Uint8Array([1]), Date.now() + 5_000), expectTransportError('UNKNOWN_PEER'));
    follower.transport.setPeers(new Map([['n1', '127.0.0.1:1']]));
    // No connection within the connect wait: the command never left (no gRPC status), retry is safe.
    await assert.rejects(
      follower.transport.forward('n1', new Uint8Array([1]), Date.now() + 5_000),
      expectTransportError('UNAVAILABLE', { status: undefined, remoteCode: undefined }),
    );
    await follower.transport.close();
    await assert.rejects(follower.transport.forward('n1', new Uint8Array([1]), Date.now() + 5_000), expectTransportError('CLOSED'));
  });
});
