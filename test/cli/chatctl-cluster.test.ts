// chatctl's cluster commands against several fake replicas on loopback: the merged status table,
// digest agreement, membership calls, and the real entry point run as a process.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { status as grpcStatus } from '@grpc/grpc-js';
import {
  AddMemberResponse,
  GetDigestResponse,
  GetStatusResponse,
  Member,
  type ClusterServiceServer,
} from '../../src/gen/chat/v1/chat.js';
import { deadAddress, grpcError, startFakeServer, type FakeServer } from './support/fake-server.js';
import { runCli } from './support/run-cli.js';

const CHATCTL = fileURLToPath(new URL('../../src/cli/chatctl.ts', import.meta.url));

function member(id: string, clientAddress: string, matchIndex: number, lag: number, reachable: boolean): Member {
  return Member.fromPartial({ id, clientAddress, peerAddress: `peer-${id}`, voter: true, matchIndex, lag, reachable });
}

describe('chatctl cluster commands', () => {
  const servers: FakeServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });
  const start = async (cluster: Partial<ClusterServiceServer>): Promise<FakeServer> => {
    const s = await startFakeServer({}, cluster);
    servers.push(s);
    return s;
  };

  /** n0 leads, n1 follows, n2's address is dead. */
  async function threeReplicas(): Promise<{ env: Record<string, string>; addresses: string[] }> {
    const dead = await deadAddress();
    const addresses: string[] = [];
    const statusOf = (id: string, role: string): ClusterServiceServer['getStatus'] => (_call, callback) => {
      const members =
        role === 'leader'
          ? [member('n0', addresses[0]!, 12, 0, true), member('n1', addresses[1]!, 11, 1, true), member('n2', dead, 3, 9, false)]
          : [member('n0', addresses[0]!, 0, 0, false), member('n1', addresses[1]!, 0, 0, false), member('n2', dead, 0, 0, false)];
      callback(
        null,
        GetStatusResponse.fromPartial({ nodeId: id, role, term: 4, leaderId: 'n0', commitIndex: 12, appliedIndex: role === 'leader' ? 12 : 11, clusterId: 'c-1', members }),
      );
    };
    const n0 = await start({ getStatus: statusOf('n0', 'leader') });
    const n1 = await start({ getStatus: statusOf('n1', 'follower') });
    addresses.push(n0.address, n1.address, dead);
    return { env: { RAFTCHAT_SERVERS: addresses.join(','), RAFTCHAT_CONFIG_DIR: '/nonexistent' }, addresses };
  }

  it('status merges each replica\'s own view with the leader\'s view into one row per member', async () => {
    const { env, addresses } = await threeReplicas();
    const run = await runCli(['--timeout', '2000', 'status'], env);
    assert.equal(run.code, 0, run.stderr.join('\n'));
    assert.equal(run.stdout[0], 'cluster c-1  leader n0  term 4');
    assert.match(run.stdout[1] ?? '', /^ID\s+ROLE\s+VOTER\s+TERM\s+COMMIT\/APPLIED\s+MATCH\/LAG\s+REACHABLE\s+CLIENT ADDRESS$/);
    const rows = run.stdout.slice(2).map((line) => line.split(/\s{2,}/));
    assert.deepEqual(rows, [
      ['n0', 'leader', 'yes', '4', '12/12', '12/0', 'yes', addresses[0]],
      ['n1', 'follower', 'yes', '4', '12/11', '11/1', 'yes', addresses[1]],
      ['n2', 'unreachable', 'yes', '-', '-', '3/9', 'no', addresses[2]],
    ]);
    assert.match(run.stderr.join('\n'), new RegExp(`${addresses[2]}: UNAVAILABLE`));
  });

  it('status --json gives the same rows for scripts', async () => {
    const { env } = await threeReplicas();
    const run = await runCli(['--json', 'status'], env);
    const parsed = JSON.parse(run.stdout[0] ?? '') as { leaderId: string; rows: Array<{ id: string; role: string; lag?: number }> };
    assert.equal(parsed.leaderId, 'n0');
    assert.deepEqual(
      parsed.rows.map((r) => [r.id, r.role, r.lag]),
      [
        ['n0', 'leader', 0],
        ['n1', 'follower', 1],
        ['n2', 'unreachable', 9],
      ],
    );
  });

  it('status exits 1 when no server answers', async () => {
    const run = await runCli(['--timeout', '500', 'status'], { RAFTCHAT_SERVERS: await deadAddress(), RAFTCHAT_CONFIG_DIR: '/x' });
    assert.equal(run.code, 1);
    assert.match(run.stderr.at(-1) ?? '', /^error: no server answered GetStatus$/);
  });

  it('digest reports agreement when replicas at one applied index hold the same digest', async () => {
    const a = await start({ getDigest: (_c, cb) => cb(null, GetDigestResponse.fromPartial({ appliedIndex: 7, digest: 'aa', accounts: 2, messages: 3 })) });
    const b = await start({ getDigest: (_c, cb) => cb(null, GetDigestResponse.fromPartial({ appliedIndex: 7, digest: 'aa', accounts: 2, messages: 3 })) });
    const run = await runCli(['digest'], { RAFTCHAT_SERVERS: `${a.address},${b.address}`, RAFTCHAT_CONFIG_DIR: '/x' });
    assert.equal(run.code, 0, run.stderr.join('\n'));
    assert.equal(run.stdout.at(-1), 'all answering replicas agree');
  });

  it('digest exits 1 and names the index when replicas at one applied index differ', async () => {
    const a = await start({ getDigest: (_c, cb) => cb(null, GetDigestResponse.fromPartial({ appliedIndex: 7, digest: 'aa' })) });
    const b = await start({ getDigest: (_c, cb) => cb(null, GetDigestResponse.fromPartial({ appliedIndex: 7, digest: 'bb' })) });
    const c = await start({ getDigest: (_c, cb) => cb(null, GetDigestResponse.fromPartial({ appliedIndex: 9, digest: 'cc' })) });
    const run = await runCli(['--json', 'digest'], { RAFTCHAT_SERVERS: [a, b, c].map((s) => s.address).join(','), RAFTCHAT_CONFIG_DIR: '/x' });
    assert.equal(run.code, 1);
    assert.deepEqual((JSON.parse(run.stdout[0] ?? '') as { verdict: string; divergedAt: number[] }).divergedAt, [7]);
    assert.match(run.stderr.join('\n'), /DIVERGED at applied index 7/);
  });

  it('members add sends --learner and the admin token, then prints the new membership', async () => {
    let seen: { request: unknown; authorization: unknown } | undefined;
    const s = await start({
      addMember: (call, callback) => {
        seen = { request: call.request, authorization: call.metadata.get('authorization')[0] };
        callback(null, AddMemberResponse.fromPartial({ members: [member('n5', '127.0.0.1:50056', 0, 0, false)] }));
      },
    });
    const env = { RAFTCHAT_SERVERS: s.address, RAFTCHAT_CONFIG_DIR: '/x', RAFTCHAT_ADMIN_TOKEN: 'admin-secret' };
    const run = await runCli(['members', 'add', 'n5', '127.0.0.1:50156', '127.0.0.1:50056', '--learner'], env);
    assert.equal(run.code, 0, run.stderr.join('\n'));
    assert.deepEqual(seen, {
      request: { id: 'n5', peerAddress: '127.0.0.1:50156', clientAddress: '127.0.0.1:50056', asLearner: true, incarnation: '' },
      authorization: 'Bearer admin-secret',
    });
    assert.match(run.stdout[1] ?? '', /^n5\s+yes\s+peer-n5\s+127\.0\.0\.1:50056$/);
  });

  it('transfer-leader and members remove report the server\'s refusal with its code', async () => {
    const s = await start({
      transferLeadership: (call, callback) => callback(null, { leaderId: call.request.toId }),
      removeMember: (_call, callback) => callback(grpcError(grpcStatus.FAILED_PRECONDITION, 'a membership change is in flight')),
    });
    const env = { RAFTCHAT_SERVERS: s.address, RAFTCHAT_CONFIG_DIR: '/x' };
    assert.deepEqual((await runCli(['transfer-leader', 'n3'], env)).stdout, ['leader is now n3']);
    const removed = await runCli(['members', 'remove', 'n3'], env);
    assert.equal(removed.code, 1);
    assert.deepEqual(removed.stderr, ['error: FAILED_PRECONDITION: a membership change is in flight']);
  });

  it('runs as a program: the entry has a node shebang and prints status as JSON', async function () {
    this.timeout(20_000);
    assert.equal((await readFile(CHATCTL, 'utf8')).split('\n')[0], '#!/usr/bin/env node');
    const { env } = await threeReplicas();
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CHATCTL, '--json', 'status'], {
      env: { ...process.env, ...env },
    });
    assert.equal((JSON.parse(stdout) as { leaderId: string }).leaderId, 'n0');
  });
});
