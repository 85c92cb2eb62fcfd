// The fuzz's actions, as plain data fast-check generates, shrinks and prints: a unary call with raw
// request bytes, a Subscribe cancelled at a random moment, and raw HTTP/2 requests (truncated
// frames, resets, dropped connections, headers no gRPC client sends).
import fc from 'fast-check';
import { credential, type Credential, type MetadataEntry } from './credentials.js';
import type { StreamEnding } from './h2.js';
import { METHODS, UNARY_METHODS, method, shortName, type MethodSpec } from './methods.js';
import { payload, sendPayload, type KnownNames, type Payload } from './requests.js';
import { printableString } from './values.js';

/** How the gRPC message frame of a raw request is built. */
export type Framing =
  | { kind: 'exact' }
  /** The length prefix announces `missingBytes` more than follow: a truncated message. */
  | { kind: 'short'; missingBytes: number }
  /** The compressed flag set, whatever grpc-encoding says. */
  | { kind: 'compressed-flag' }
  | { kind: 'two-messages' }
  | { kind: 'no-message' };

/** Headers no well-behaved gRPC client sends. */
export type HeaderTwist =
  | { kind: 'none' }
  | { kind: 'header'; name: 'grpc-timeout' | 'grpc-encoding' | 'content-type' | ':method'; value: string }
  | { kind: 'omit'; name: 'te' | 'content-type' }
  | { kind: 'path'; path: string };

export type Action =
  | { kind: 'unary'; replica: number; path: string; payload: Payload; credential: Credential; metadata: MetadataEntry[] }
  | { kind: 'subscribe'; replica: number; payload: Payload; credential: Credential; cancelAfterMs: number }
  | {
      kind: 'raw';
      replica: number;
      path: string;
      payload: Payload;
      credential: Credential;
      framing: Framing;
      twist: HeaderTwist;
      ending: StreamEnding;
      endAfterMs: number;
    };

const extraMetadata: fc.Arbitrary<MetadataEntry[]> = fc.array(
  fc.oneof(
    // A key ending in -bin carries binary values; a text key must not end so.
    fc.tuple(
      fc.stringMatching(/^x-[a-z0-9_.-]{1,16}$/).filter((key) => !key.endsWith('-bin')),
      fc.oneof(printableString(64), fc.integer({ min: 1, max: 16 * 1024 }).map((n) => 'v'.repeat(n))),
    ),
    fc.tuple(fc.stringMatching(/^x-[a-z0-9_.-]{1,16}-bin$/), fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b))),
  ),
  { maxLength: 3 },
);

const framing: fc.Arbitrary<Framing> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Framing>({ kind: 'exact' }) },
  { weight: 4, arbitrary: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.constant(0x7fffffff)).map((missingBytes): Framing => ({ kind: 'short', missingBytes })) },
  { weight: 1, arbitrary: fc.constant<Framing>({ kind: 'compressed-flag' }) },
  { weight: 1, arbitrary: fc.constant<Framing>({ kind: 'two-messages' }) },
  { weight: 1, arbitrary: fc.constant<Framing>({ kind: 'no-message' }) },
);

const twist: fc.Arbitrary<HeaderTwist> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<HeaderTwist>({ kind: 'none' }) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('garbage', '-1S', '0n', '1n', '99999999H', '123456789012S', '5', 'S', '1.5S')
      .map((value): HeaderTwist => ({ kind: 'header', name: 'grpc-timeout', value })),
  },
  { weight: 1, arbitrary: fc.constantFrom('gzip', 'deflate', 'identity', 'bogus', 'gzip, deflate').map((value): HeaderTwist => ({ kind: 'header', name: 'grpc-encoding', value })) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('application/grpc+json', 'application/grpc+proto', 'application/grpc-web', 'text/plain', 'application/grpcx')
      .map((value): HeaderTwist => ({ kind: 'header', name: 'content-type', value })),
  },
  { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT').map((value): HeaderTwist => ({ kind: 'header', name: ':method', value })) },
  { weight: 1, arbitrary: fc.constantFrom('te' as const, 'content-type' as const).map((name): HeaderTwist => ({ kind: 'omit', name })) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('/chat.v1.ChatService/Nope', '/', '/chat.v1.ChatService/', '//chat.v1.ChatService/Login', '/chat.v1.ChatService/Login/extra', '/%ff%fe')
      .map((path): HeaderTwist => ({ kind: 'path', path })),
  },
);

const replica = fc.integer({ min: 0, max: 2 });

function unaryAction(spec: MethodSpec, known: KnownNames): fc.Arbitrary<Action> {
  return fc
    .record({ replica, payload: payload(spec, known), credential: credential('grpc-js'), metadata: extraMetadata })
    .map((a): Action => ({ kind: 'unary', path: spec.path, ...a }));
}

function goodSendAction(known: KnownNames): fc.Arbitrary<Action> {
  return fc
    .record({ at: replica, bytes: sendPayload(known) })
    .map(({ at, bytes }): Action => ({
      kind: 'unary',
      path: '/chat.v1.ChatService/SendMessage',
      replica: at,
      payload: { shape: 'well-formed', bytes },
      credential: { kind: 'session' },
      metadata: [],
    }));
}

function subscribeAction(known: KnownNames): fc.Arbitrary<Action> {
  return fc
    .record({
      replica,
      payload: payload(method('/chat.v1.ChatService/Subscribe'), known),
      credential: credential('grpc-js'),
      // From before the server has even read the request to well into the replay.
      cancelAfterMs: fc.integer({ min: 0, max: 400 }),
    })
    .map((a): Action => ({ kind: 'subscribe', ...a }));
}

function rawAction(spec: MethodSpec, known: KnownNames): fc.Arbitrary<Action> {
  return fc
    .record({
      replica,
      payload: payload(spec, known),
      credential: credential('http2'),
      framing,
      twist,
      ending: fc.constantFrom<StreamEnding>('end', 'reset', 'disconnect'),
      endAfterMs: fc.integer({ min: 0, max: 200 }),
    })
    .map((a): Action => ({ kind: 'raw', path: spec.path, ...a }));
}

/**
 * Any action, with a printable form that keeps fast-check's counterexample short. The arbitraries
 * are built once per method (building them per draw, in a chain, costs more than the calls).
 */
export function action(known: KnownNames): fc.Arbitrary<Action> {
  return fc
    .oneof(
      { weight: 6, arbitrary: fc.oneof(...UNARY_METHODS.map((spec) => unaryAction(spec, known))) },
      // Sends that should succeed, so acknowledged hostile bodies are checked on every replica.
      { weight: 2, arbitrary: goodSendAction(known) },
      { weight: 2, arbitrary: subscribeAction(known) },
      { weight: 2, arbitrary: fc.oneof(...METHODS.map((spec) => rawAction(spec, known))) },
    )
    .map((a) => Object.assign(a, { [fc.toStringMethod]: () => describeAction(a) }));
}

/** `SendMessage@1 unary well-formed 57 B 0a05...; credential garbled`: enough to read a report by. */
export function describeAction(a: Action): string {
  const path = a.kind === 'subscribe' ? '/chat.v1.ChatService/Subscribe' : a.path;
  const bytes = a.payload.bytes;
  const preview = Buffer.from(bytes.subarray(0, 48)).toString('hex') + (bytes.length > 48 ? '…' : '');
  const parts = [`${shortName(method(path))}@${a.replica}`, a.kind, `${a.payload.shape} ${bytes.length} B [${preview}]`, `credential ${JSON.stringify(a.credential, bytesAsLength)}`];
  if (a.kind === 'unary' && a.metadata.length > 0) parts.push(`metadata ${a.metadata.map(([k, v]) => `${k}(${v.length})`).join(',')}`);
  if (a.kind === 'subscribe') parts.push(`cancel after ${a.cancelAfterMs} ms`);
  if (a.kind === 'raw') parts.push(`framing ${JSON.stringify(a.framing)}`, `twist ${JSON.stringify(a.twist)}`, `${a.ending} after ${a.endAfterMs} ms`);
  return parts.join('; ');
}

function bytesAsLength(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (typeof value === 'string' && value.length > 64) return `${value.slice(0, 32)}…(${value.length} chars)`;
  return value;
}
