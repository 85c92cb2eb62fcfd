// The one mapping from raftchat's errors to gRPC codes, case by case.
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { pino } from 'pino';
import { ApiError, commandError, toStatus } from '../../src/api/errors.js';
import { ValidationError } from '../../src/chat/validation.js';
import { ReplicaError, type ReplicaErrorCode } from '../../src/node/types.js';

const silent = pino({ level: 'silent' });
const map = (err: unknown) => toStatus(err, silent, 'test/Method');

describe('the mapping of errors to gRPC status codes', function () {
  it('maps a ValidationError to INVALID_ARGUMENT naming the field, and TOO_LARGE to RESOURCE_EXHAUSTED', () => {
    const invalid = map(new ValidationError('INVALID_ARGUMENT', 'username', 'must be 1 to 32 characters'));
    assert.deepEqual(invalid, { code: status.INVALID_ARGUMENT, details: 'username: must be 1 to 32 characters' });
    assert.equal(map(new ValidationError('TOO_LARGE', 'body', 'too big')).code, status.RESOURCE_EXHAUSTED);
  });

  it('maps each ReplicaError code to the code a client can act on, saying when a retry is safe', () => {
    const expected: Record<ReplicaErrorCode, status> = {
      UNAVAILABLE: status.UNAVAILABLE,
      PROPOSAL_DROPPED: status.UNAVAILABLE,
      STOPPED: status.UNAVAILABLE,
      DEADLINE_EXCEEDED: status.DEADLINE_EXCEEDED,
      RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
      FAILED_PRECONDITION: status.FAILED_PRECONDITION,
      NOT_FOUND: status.NOT_FOUND,
      INVALID_ARGUMENT: status.INVALID_ARGUMENT,
    };
    for (const [code, grpcCode] of Object.entries(expected)) {
      const mapped = map(new ReplicaError(code as ReplicaErrorCode, 'no leader'));
      assert.equal(mapped.code, grpcCode, code);
      if (grpcCode === status.UNAVAILABLE) assert.match(mapped.details, /safe to retry/);
    }
  });

  it('maps the state machine\'s refusals to the codes of the same name', () => {
    for (const code of ['ALREADY_EXISTS', 'NOT_FOUND', 'PERMISSION_DENIED', 'FAILED_PRECONDITION', 'INVALID_ARGUMENT'] as const) {
      const err = commandError({ code, message: 'refused' });
      assert.equal(map(err).code, status[code]);
      assert.equal(map(err).details, 'refused');
    }
  });

  it('keeps an ApiError\'s own code and message', () => {
    assert.deepEqual(map(new ApiError(status.PERMISSION_DENIED, 'no')), { code: status.PERMISSION_DENIED, details: 'no' });
  });

  it('reports anything unexpected as INTERNAL without its detail', () => {
    const mapped = map(new Error('ENOENT /secret/path'));
    assert.equal(mapped.code, status.INTERNAL);
    assert.ok(!mapped.details.includes('/secret/path'));
    assert.equal(map('a string').code, status.INTERNAL);
  });
});
