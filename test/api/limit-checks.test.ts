// The pieces behind the limit count: the username bound kept in step with src/chat, the refusal's
// retry-after trailer and text, and the status it maps to.
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { pino } from 'pino';
import { ValidationError, validateUsername } from '../../src/chat/validation.js';
import { toStatus } from '../../src/api/errors.js';
import { LimitExceededError, retryAfterKey, type LimitName } from '../../src/api/limits.js';
import * as check from '../../src/api/validate.js';
import { decodeStatusDetails } from './helpers/status-details.js';

const logger = pino({ level: 'silent' });

describe('the limit checks', () => {
  it('bound usernames exactly where src/chat\'s pattern does', () => {
    assert.equal(validateUsername('a'.repeat(check.usernameMaxChars)), 'a'.repeat(check.usernameMaxChars));
    assert.throws(() => validateUsername('a'.repeat(check.usernameMaxChars + 1)), ValidationError);
  });

  it('leave src/chat\'s error untouched and count only a value over its bound', () => {
    const seen: LimitName[] = [];
    const onLimit = (limit: LimitName) => seen.push(limit);
    const long = 'a'.repeat(33);
    assert.throws(() => check.username(long, 'recipient', onLimit), (err: unknown) => {
      assert.ok(err instanceof ValidationError);
      assert.equal(err.field, 'recipient');
      return true;
    });
    assert.throws(() => check.username('BAD', 'recipient', onLimit), ValidationError);
    assert.equal(check.username('bob', 'recipient', onLimit), 'bob');
    assert.deepEqual(seen, ['username_length']);
  });
});

describe('LimitExceededError', () => {
  it('maps to RESOURCE_EXHAUSTED with a retry-after trailer in whole seconds and a RetryInfo hint', () => {
    const result = toStatus(new LimitExceededError('login_throttle_peer', 'too many failed logins from this address', 2.2), logger, 'm');
    assert.equal(result.code, status.RESOURCE_EXHAUSTED);
    assert.equal(result.details, 'too many failed logins from this address; retry after 3 s (RetryInfo retry_delay: 3s)');
    assert.deepEqual(result.metadata?.get(retryAfterKey), ['3']);
    const [details] = result.metadata?.get('grpc-status-details-bin') ?? [];
    assert.ok(details instanceof Uint8Array);
    assert.deepEqual(decodeStatusDetails(details), {
      code: status.RESOURCE_EXHAUSTED,
      message: result.details,
      details: [{ typeUrl: 'type.googleapis.com/google.rpc.RetryInfo', retryDelaySeconds: 3 }],
    });
  });

  it('asks for at least one second, and sends no trailer when waiting alone does not help', () => {
    assert.equal(new LimitExceededError('login_throttle_username', 'x', 0.001).retryAfterSeconds, 1);
    const result = toStatus(new LimitExceededError('subscriptions_per_user', 'at most 16 Subscribe streams per user: close one first'), logger, 'm');
    assert.deepEqual(result, { code: status.RESOURCE_EXHAUSTED, details: 'at most 16 Subscribe streams per user: close one first' });
  });
});
