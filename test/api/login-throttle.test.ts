// Login throttling over real gRPC: per username and per client address, RESOURCE_EXHAUSTED with a
// retry-after trailer, no difference between existing and unknown usernames, recovery on the clock.
import assert from 'node:assert/strict';
import { status, type ServiceError } from '@grpc/grpc-js';
import { retryAfterKey } from '../../src/api/index.js';
import { LoginThrottle } from '../../src/api/login-throttle.js';
import { ReplicaError } from '../../src/node/types.js';
import { call, rejectsWith } from './helpers/harness.js';
import { decodeStatusDetails } from './helpers/status-details.js';
import { startLimitHarness, type LimitHarness } from './helpers/limit-harness.js';

const password = 'correct horse battery';

function login(h: LimitHarness, username: string, pass: string) {
  return call(h.chat.login.bind(h.chat), { username, password: pass });
}

function retryAfterSeconds(err: ServiceError): number {
  const values = err.metadata.get(retryAfterKey);
  assert.equal(values.length, 1, 'exactly one retry-after trailer');
  return Number(values[0]);
}

describe('login throttling per username', function () {
  let h: LimitHarness;
  beforeEach(async () => {
    // 2 failures at once, then one every 10 s; the per-address limit is out of the way.
    h = await startLimitHarness({
      loginFailureBurstPerUsername: 2,
      loginFailuresPerUsernamePerMinute: 6,
      loginFailureBurstPerPeer: 1_000,
      loginFailuresPerPeerPerMinute: 1_000,
    });
    await call(h.chat.register.bind(h.chat), { username: 'alice', password });
  });
  afterEach(async () => {
    await h.close();
  });

  it('refuses the attempt after the burst of failures with RESOURCE_EXHAUSTED and a retry-after trailer, even with the right password', async () => {
    await rejectsWith(login(h, 'alice', 'wrong password 1'), status.UNAUTHENTICATED);
    await rejectsWith(login(h, 'alice', 'wrong password 2'), status.UNAUTHENTICATED);
    const err = await rejectsWith(login(h, 'alice', password), status.RESOURCE_EXHAUSTED, /too many failed logins for this username/);
    assert.equal(retryAfterSeconds(err), 10);
    assert.match(err.details, /retry after 10 s \(RetryInfo retry_delay: 10s\)/);
    assert.deepEqual(h.exceeded, ['login_throttle_username']);
  });

  it('also says when to retry as a google.rpc.RetryInfo in grpc-status-details-bin', async () => {
    await rejectsWith(login(h, 'alice', 'wrong password 1'), status.UNAUTHENTICATED);
    await rejectsWith(login(h, 'alice', 'wrong password 2'), status.UNAUTHENTICATED);
    const err = await rejectsWith(login(h, 'alice', password), status.RESOURCE_EXHAUSTED);
    const [bytes] = err.metadata.get('grpc-status-details-bin');
    assert.ok(Buffer.isBuffer(bytes), 'a binary status-details trailer');
    assert.deepEqual(decodeStatusDetails(bytes), {
      code: status.RESOURCE_EXHAUSTED,
      message: err.details,
      details: [{ typeUrl: 'type.googleapis.com/google.rpc.RetryInfo', retryDelaySeconds: 10 }],
    });
  });

  it('throttles an unknown username exactly like an existing one: same code, message and retry-after', async () => {
    const refusals: ServiceError[] = [];
    for (const username of ['alice', 'nobody']) {
      await rejectsWith(login(h, username, 'wrong password 1'), status.UNAUTHENTICATED, /^invalid username or password$/);
      await rejectsWith(login(h, username, 'wrong password 2'), status.UNAUTHENTICATED, /^invalid username or password$/);
      refusals.push(await rejectsWith(login(h, username, 'wrong password 3'), status.RESOURCE_EXHAUSTED));
    }
    const [known, unknown] = refusals as [ServiceError, ServiceError];
    assert.equal(unknown.details, known.details);
    assert.equal(retryAfterSeconds(unknown), retryAfterSeconds(known));
    assert.deepEqual(h.exceeded, ['login_throttle_username', 'login_throttle_username']);
  });

  it('admits the username again once the retry-after time has passed, and not before', async () => {
    await rejectsWith(login(h, 'alice', 'wrong password 1'), status.UNAUTHENTICATED);
    await rejectsWith(login(h, 'alice', 'wrong password 2'), status.UNAUTHENTICATED);
    const err = await rejectsWith(login(h, 'alice', password), status.RESOURCE_EXHAUSTED);
    const waitMs = retryAfterSeconds(err) * 1000;
    h.clock.nowMs += waitMs - 1_000;
    await rejectsWith(login(h, 'alice', password), status.RESOURCE_EXHAUSTED, /retry after 1 s/);
    h.clock.nowMs += 1_000;
    const ok = await login(h, 'alice', password);
    assert.equal(ok.username, 'alice');
  });

  it('does not count successful logins, and a success does not reset the failures before it', async () => {
    for (let i = 0; i < 4; i++) assert.equal((await login(h, 'alice', password)).username, 'alice');
    await rejectsWith(login(h, 'alice', 'wrong password 1'), status.UNAUTHENTICATED);
    await login(h, 'alice', password);
    await rejectsWith(login(h, 'alice', 'wrong password 2'), status.UNAUTHENTICATED);
    await rejectsWith(login(h, 'alice', password), status.RESOURCE_EXHAUSTED);
  });

  it('does not count an attempt that failed before any password was checked (no quorum)', async () => {
    h.replica.failWith = new ReplicaError('UNAVAILABLE', 'no quorum');
    for (let i = 0; i < 3; i++) await rejectsWith(login(h, 'alice', 'wrong password'), status.UNAVAILABLE);
    h.replica.failWith = undefined;
    await rejectsWith(login(h, 'alice', 'wrong password 1'), status.UNAUTHENTICATED);
    await rejectsWith(login(h, 'alice', 'wrong password 2'), status.UNAUTHENTICATED);
    await rejectsWith(login(h, 'alice', password), status.RESOURCE_EXHAUSTED);
  });
});

describe('login throttling per client address', function () {
  let h: LimitHarness;
  beforeEach(async () => {
    // 3 failures at once from one address, then one every 30 s; usernames are out of the way.
    h = await startLimitHarness({
      loginFailureBurstPerPeer: 3,
      loginFailuresPerPeerPerMinute: 2,
      loginFailureBurstPerUsername: 1_000,
      loginFailuresPerUsernamePerMinute: 1_000,
    });
    await call(h.chat.register.bind(h.chat), { username: 'alice', password });
  });
  afterEach(async () => {
    await h.close();
  });

  it('refuses a password spray over many usernames from one address once its burst is spent', async () => {
    for (const username of ['u1', 'u2', 'u3']) await rejectsWith(login(h, username, 'Winter2026!'), status.UNAUTHENTICATED);
    const err = await rejectsWith(login(h, 'u4', 'Winter2026!'), status.RESOURCE_EXHAUSTED, /too many failed logins from this address/);
    assert.equal(retryAfterSeconds(err), 30);
    // The address is throttled whatever the username, known or not.
    const known = await rejectsWith(login(h, 'alice', password), status.RESOURCE_EXHAUSTED);
    assert.equal(known.details, err.details);
    assert.deepEqual(h.exceeded, ['login_throttle_peer', 'login_throttle_peer']);
  });

  it('counts every connection from one address together, and recovers after the retry-after time', async () => {
    const other = h.newClient();
    for (const username of ['u1', 'u2', 'u3']) await rejectsWith(login(h, username, 'Winter2026!'), status.UNAUTHENTICATED);
    const err = await rejectsWith(call(other.login.bind(other), { username: 'alice', password }), status.RESOURCE_EXHAUSTED);
    h.clock.nowMs += retryAfterSeconds(err) * 1000;
    const ok = await call(other.login.bind(other), { username: 'alice', password });
    assert.equal(ok.username, 'alice');
  });
});

describe('the login throttle\'s memory', () => {
  it('remembers at most maxKeys usernames and addresses however many are sprayed', () => {
    const throttle = new LoginThrottle({
      perUsername: { perMinute: 5, burst: 10 },
      perPeer: { perMinute: 20, burst: 40 },
      maxKeys: 1_000,
      nowMs: () => 0,
    });
    // 50,000 distinct usernames from 50,000 distinct addresses, every attempt a failure.
    for (let i = 0; i < 50_000; i++) {
      throttle.begin(`user${i}`, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:40000`);
      assert.ok(throttle.keys().usernames <= 1_000 && throttle.keys().peers <= 1_000);
    }
    assert.deepEqual(throttle.keys(), { usernames: 1_000, peers: 1_000 });
  });

  it('counts IPv6 clients by their /64, so rotating addresses inside one network does not help', () => {
    const throttle = new LoginThrottle({
      perUsername: { perMinute: 1_000, burst: 1_000 },
      perPeer: { perMinute: 1, burst: 2 },
      maxKeys: 100,
      nowMs: () => 0,
    });
    throttle.begin('a', '2001:db8:1:2::1:5000');
    throttle.begin('b', '[2001:db8:1:2:ffff::9]:5001');
    assert.throws(() => throttle.begin('c', '2001:db8:1:2:abcd::77:5002'), { limit: 'login_throttle_peer' });
    assert.doesNotThrow(() => throttle.begin('d', '2001:db8:1:3::1:5003'));
  });
});
