// The fuzz's own oracle, checked without a cluster: the wire writer writes what it claims, every
// credential it calls "refused" is refused by the server's own token checks, the verdict flags what
// it must (and tolerates a known finding only for the input that causes it), and the end-of-run
// check fails a lost, duplicated or altered message.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { loadSync } from '@grpc/proto-loader';
import { bearerCredential } from '../../src/api/auth.js';
import { TokenSigner } from '../../src/api/tokens.js';
import type { SendMessageRequest } from '../../src/gen/chat/v1/chat.js';
import type { ReplicaObservation } from '../../src/chaos/checker.js';
import { assertFuzzSendsIntact } from './checks.js';
import { credential, resolveCredential, type FuzzSession } from './credentials.js';
import { METHODS, decodeRequest } from './methods.js';
import { sendPayload } from './requests.js';
import { judge, type Observation } from './verdict.js';
import { bytesField, overlongVarint, stringField, varint, varintField } from './wire.js';

const protoRoot = fileURLToPath(new URL('../../proto/', import.meta.url));

/** How methods.ts names a .proto field's type; anything else shows up as itself in the diff. */
function fuzzFieldType(field: { type: string; label: string }): string {
  const repeated = field.label === 'LABEL_REPEATED' ? 'repeated-' : '';
  const base: Record<string, string> = {
    TYPE_STRING: 'string',
    TYPE_UINT64: 'uint64',
    TYPE_UINT32: 'uint32',
    TYPE_BOOL: 'bool',
    TYPE_ENUM: 'enum',
  };
  return repeated + (base[field.type] ?? field.type);
}

const tokenKey = new Uint8Array(32).fill(7);
const signer = new TokenSigner(tokenKey, 3_600_000);
const account = { username: 'fuzz-user', createdAtUnixMs: 1_700_000_000_000, sessionsValidAfterUnixMs: 0 };

function liveSession(): FuzzSession {
  const { token } = signer.issue(account, Date.now());
  return { username: account.username, token, accountCreatedAtUnixMs: account.createdAtUnixMs };
}

/** Whether the server's checks (src/api/auth.ts, tokens.ts) would take these entries as the account's session. */
function acceptedAsSession(entries: ReturnType<typeof resolveCredential>['metadata']): boolean {
  const metadata = new grpc.Metadata();
  for (const [key, value] of entries) metadata.add(key, value);
  const token = bearerCredential(metadata);
  if (token === undefined) return false;
  try {
    const claims = signer.verify(token, Date.now());
    return claims.username === account.username && claims.accountCreatedAtUnixMs === account.createdAtUnixMs;
  } catch {
    return false;
  }
}

describe('the fuzz oracle', () => {
  it('knows every method of chat.proto and every field of its request, as the .proto declares them', () => {
    type ProtoField = { name: string; number: number; type: string; label: string };
    type ProtoMethod = { path: string; requestStream: boolean; responseStream: boolean; requestType: { type: { field: ProtoField[] } } };
    const definition = loadSync('chat/v1/chat.proto', { includeDirs: [protoRoot], keepCase: true });
    const declared = ['chat.v1.ChatService', 'chat.v1.ClusterService'].flatMap((service) =>
      Object.values(definition[service] as unknown as Record<string, ProtoMethod>).map((m) => ({
        path: m.path,
        streaming: m.requestStream || m.responseStream,
        fields: m.requestType.type.field.map((f) => ({ number: f.number, name: f.name, type: fuzzFieldType(f) })),
      })),
    );
    const byNumber = (a: { number: number }, b: { number: number }) => a.number - b.number;
    const known = METHODS.map((m) => ({ path: m.path, streaming: m.streaming, fields: [...m.fields].sort(byNumber) }));
    const sortByPath = <T extends { path: string }>(list: T[]) => list.sort((a, b) => a.path.localeCompare(b.path));
    assert.deepEqual(sortByPath(known), sortByPath(declared.map((m) => ({ ...m, fields: m.fields.sort(byNumber) }))));
  });

  describe('credentials', () => {
    it('are accepted by the server\'s token checks exactly when the fuzz says they grant its session', () => {
      const session = liveSession();
      fc.assert(
        fc.property(fc.oneof(credential('grpc-js'), credential('http2')), (c) => {
          const resolved = resolveCredential(c, session, tokenKey);
          assert.equal(acceptedAsSession(resolved.metadata), resolved.grantsSession, `credential ${c.kind}`);
        }),
        { numRuns: 500 },
      );
    });

    it('include the live session often enough to reach the handlers behind authentication', () => {
      const kinds = fc.sample(credential('grpc-js'), { numRuns: 1000, seed: 1 }).map((c) => c.kind);
      assert.ok(kinds.filter((k) => k === 'session').length > 250, 'fewer than a quarter of the calls carry a valid session');
    });
  });

  describe('wire writer', () => {
    it('writes varints as protobuf does, negative numbers as ten bytes of two\'s complement', () => {
      assert.deepEqual([...varint(1n)], [0x01]);
      assert.deepEqual([...varint(300n)], [0xac, 0x02]);
      const minusOne = varint(-1n);
      assert.equal(minusOne.length, 10);
      assert.equal(minusOne[9], 0x01);
    });

    it('writes requests the server\'s decoder reads back, a lone surrogate arriving as U+FFFD', () => {
      const bytes = Buffer.concat([stringField(1, 'bob'), stringField(2, 'a\uD800b'), stringField(3, 'r1')]);
      const request = decodeRequest('/chat.v1.ChatService/SendMessage', bytes) as SendMessageRequest;
      assert.deepEqual(request, { recipient: 'bob', body: 'a\uFFFDb', requestId: 'r1' });
    });

    it('writes what the server\'s decoder must refuse: an overlong varint and a length beyond the buffer', () => {
      const path = '/chat.v1.ChatService/ListMessages';
      assert.notEqual(decodeRequest(path, varintField(2, 5n)), undefined);
      assert.equal(decodeRequest(path, Buffer.concat([Buffer.of(0x10), overlongVarint(5n, 12)])), undefined);
      assert.equal(decodeRequest(path, bytesField(9, Buffer.from('abc'), 50)), undefined);
    });

    it('makes good sends that decode to an existing recipient', () => {
      fc.assert(
        fc.property(sendPayload({ usernames: ['alice', 'bob'] }), (bytes) => {
          const request = decodeRequest('/chat.v1.ChatService/SendMessage', bytes) as SendMessageRequest | undefined;
          assert.ok(request !== undefined);
          assert.ok(['alice', 'bob'].includes(request.recipient));
        }),
        { numRuns: 100 },
      );
    });
  });

  describe('verdict', () => {
    const base: Observation = {
      label: 'test',
      access: 'session',
      grantsSession: false,
      via: 'grpc-js',
      code: grpc.status.INVALID_ARGUMENT,
      details: 'body: must not be empty',
      clientCancelled: false,
    };

    it('accepts a refusal a caller can act on', () => {
      assert.equal(judge(base).finding, undefined);
    });

    it('flags raftchat\'s own INTERNAL whatever the input was', () => {
      const verdict = judge({ ...base, code: grpc.status.INTERNAL, details: 'internal error; the server log has the details' });
      assert.match(verdict.finding ?? '', /INTERNAL/);
    });

    it('flags "Error deserializing request" (raftchat answers INVALID_ARGUMENT to bytes that do not decode)', () => {
      assert.match(judge({ ...base, code: grpc.status.INTERNAL, details: 'Error deserializing request' }).finding ?? '', /INTERNAL/);
    });

    it('flags a success without a valid session, and any membership change without the admin token', () => {
      assert.match(judge({ ...base, code: grpc.status.OK }).finding ?? '', /without a valid session/);
      assert.equal(judge({ ...base, code: grpc.status.OK, grantsSession: true }).finding, undefined);
      assert.match(judge({ ...base, code: grpc.status.OK, access: 'admin', grantsSession: true }).finding ?? '', /admin token/);
    });

    it('flags UNKNOWN, and CANCELLED the client did not ask for', () => {
      assert.match(judge({ ...base, code: grpc.status.UNKNOWN }).finding ?? '', /UNKNOWN/);
      assert.match(judge({ ...base, code: grpc.status.CANCELLED }).finding ?? '', /CANCELLED/);
      assert.equal(judge({ ...base, code: grpc.status.CANCELLED, clientCancelled: true }).finding, undefined);
    });
  });

  describe('end-of-run check of the fuzz\'s acknowledged sends', () => {
    const sent = { id: 7, sender: 'fuzz-user', recipient: 'fuzz-user', body: 'h\u00e9llo \u{1F600}' };
    const replica = (name: string, bodies: string[]): ReplicaObservation => ({
      replica: name,
      inboxes: new Map([['fuzz-user', bodies.map((body) => ({ id: 7, sender: 'fuzz-user', recipient: 'fuzz-user', body }))]]),
      digest: { appliedIndex: 9, digest: 'd' },
    });
    const noDeletions = { owner: 'fuzz-user', ids: new Set<number>() };

    it('passes a message stored once, identically, on every replica', () => {
      assert.deepEqual(assertFuzzSendsIntact([sent], noDeletions, [replica('n0', [sent.body]), replica('n1', [sent.body])]), { checked: 1, deleted: 0, unreadable: 0 });
    });

    it('fails a message missing, duplicated or altered on any replica', () => {
      assert.throws(() => assertFuzzSendsIntact([sent], noDeletions, [replica('n0', [sent.body]), replica('n1', [])]), /stored 0 times on n1/);
      assert.throws(() => assertFuzzSendsIntact([sent], noDeletions, [replica('n0', [sent.body, sent.body])]), /stored 2 times on n0/);
      assert.throws(() => assertFuzzSendsIntact([sent], noDeletions, [replica('n0', ['h\u00e9llo \uFFFD'])]), /body differs on n0/);
    });

    it('lets a message the fuzz deleted be gone, but only from every replica at once', () => {
      const deleted = { owner: 'fuzz-user', ids: new Set([7]) };
      assert.deepEqual(assertFuzzSendsIntact([sent], deleted, [replica('n0', []), replica('n1', [])]), { checked: 0, deleted: 1, unreadable: 0 });
      assert.throws(() => assertFuzzSendsIntact([sent], deleted, [replica('n0', []), replica('n1', [sent.body])]), /stored 0 times on n0/);
    });
  });
});
