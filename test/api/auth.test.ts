// Authentication over gRPC: missing, forged, expired and revoked tokens and deleted accounts are
// UNAUTHENTICATED; membership calls need the admin token when one is configured.
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { TokenSigner } from '../../src/api/tokens.js';
import { hashPassword } from '../../src/chat/password.js';
import { call, rejectsWith, signUp, startHarness, tokenKey, type Harness } from './helpers/harness.js';

const listRequest = { unreadOnly: false, afterId: 0, limit: 0, consistency: 0 };
/** An account as a token issuer sees it, for tokens the server did not issue itself. */
const account = (username: string) => ({ username, createdAtUnixMs: 0, sessionsValidAfterUnixMs: 0 });

describe('authentication of user sessions', function () {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  const list = (token?: string) => call(h.chat.listMessages.bind(h.chat), listRequest, token);

  it('refuses a call without credentials, saying how to send them', async () => {
    await rejectsWith(list(), status.UNAUTHENTICATED, /authorization: Bearer/);
  });

  it('refuses a forged token without echoing it', async () => {
    const forged = new TokenSigner(new Uint8Array(32).fill(9), 60_000).issue(account('alice'), Date.now()).token;
    await signUp(h, 'alice');
    const err = await rejectsWith(list(forged), status.UNAUTHENTICATED);
    assert.ok(!err.details.includes(forged));
  });

  it('refuses an expired token', async () => {
    await signUp(h, 'alice');
    const expired = new TokenSigner(tokenKey, 1).issue(account('alice'), Date.now() - 10).token;
    await rejectsWith(list(expired), status.UNAUTHENTICATED, /expired/);
  });

  it('refuses a token for an account that does not exist', async () => {
    const token = new TokenSigner(tokenKey, 60_000).issue(account('nobody'), Date.now()).token;
    await rejectsWith(list(token), status.UNAUTHENTICATED);
  });

  it('refuses a logged-out session but keeps the user\'s other sessions', async () => {
    const first = await signUp(h, 'alice');
    const second = (await call(h.chat.login.bind(h.chat), { username: 'alice', password: 'correct horse battery' })).token;
    await call(h.chat.logout.bind(h.chat), { allSessions: false }, first);
    await rejectsWith(list(first), status.UNAUTHENTICATED, /revoked/);
    await list(second);
  });

  it('refuses every earlier session after a logout of all sessions', async () => {
    const first = await signUp(h, 'alice');
    const second = (await call(h.chat.login.bind(h.chat), { username: 'alice', password: 'correct horse battery' })).token;
    await call(h.chat.logout.bind(h.chat), { allSessions: true }, second);
    await rejectsWith(list(first), status.UNAUTHENTICATED);
    await rejectsWith(list(second), status.UNAUTHENTICATED);
  });

  it('catches up through a read barrier before refusing a token for an account it has not applied yet', async () => {
    // Login ran on a replica ahead of this one: the token names an account this keyspace lacks so far.
    const createdAtUnixMs = Date.now() - 1_000;
    const carol = { username: 'carol', createdAtUnixMs, sessionsValidAfterUnixMs: 0 };
    const token = new TokenSigner(tokenKey, 60_000).issue(carol, Date.now()).token;
    const { hash, salt } = await hashPassword('correct horse battery');
    h.replica.duringReadBarrier = async () => {
      h.replica.duringReadBarrier = undefined;
      const value = { username: 'carol', passwordHash: hash, salt, createdAtUnixMs };
      await h.replica.propose({ kind: { $case: 'register', value } }, { deadlineMs: Date.now() + 5_000 });
    };
    const page = await call(h.chat.listMessages.bind(h.chat), { ...listRequest, consistency: 1 }, token);
    assert.deepEqual(page.messages, []);
    assert.equal(h.replica.duringReadBarrier, undefined, 'the barrier ran');
  });

  it('refuses the token of a deleted account', async () => {
    const token = await signUp(h, 'alice');
    await call(h.chat.deleteAccount.bind(h.chat), { password: 'correct horse battery' }, token);
    await rejectsWith(list(token), status.UNAUTHENTICATED, /no longer exists/);
    await rejectsWith(call(h.chat.sendMessage.bind(h.chat), { recipient: 'alice', body: 'x', requestId: '' }, token), status.UNAUTHENTICATED);
  });
});

describe('authorization of membership calls', function () {
  let h: Harness;
  before(async () => {
    h = await startHarness({ adminToken: 'admin-secret-token' });
  });
  after(async () => {
    await h.close();
  });

  const add = (token?: string) => call(h.cluster.addMember.bind(h.cluster), { id: 'n9', peerAddress: '127.0.0.1:7009', clientAddress: '', asLearner: true, incarnation: '' }, token);

  it('needs no credentials for GetStatus and GetDigest', async () => {
    const s = await call(h.cluster.getStatus.bind(h.cluster), {});
    assert.equal(s.nodeId, 'n0');
    await call(h.cluster.getDigest.bind(h.cluster), {});
  });

  it('refuses membership calls without credentials with UNAUTHENTICATED', async () => {
    await rejectsWith(add(), status.UNAUTHENTICATED);
    await rejectsWith(call(h.cluster.removeMember.bind(h.cluster), { id: 'n0' }), status.UNAUTHENTICATED);
    await rejectsWith(call(h.cluster.transferLeadership.bind(h.cluster), { toId: '' }), status.UNAUTHENTICATED);
  });

  it('refuses a wrong admin token with UNAUTHENTICATED', async () => {
    await rejectsWith(add('not-the-admin-token'), status.UNAUTHENTICATED);
  });

  it('refuses a user session token with PERMISSION_DENIED', async () => {
    const user = await signUp(h, 'alice');
    await rejectsWith(add(user), status.PERMISSION_DENIED);
  });

  it('accepts the admin token', async () => {
    const res = await add('admin-secret-token');
    assert.ok(res.members.some((m) => m.id === 'n9' && !m.voter));
  });
});
