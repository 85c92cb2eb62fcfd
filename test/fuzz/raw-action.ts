// Turns a raw fuzz action into the HTTP/2 request it stands for — its credential as headers, its
// header twist, its gRPC framing — and sends it.
import type { Action, Framing, HeaderTwist } from './actions.js';
import type { MetadataEntry } from './credentials.js';
import { rawRequest, type RawOutcome } from './h2.js';
import { grpcFrame } from './wire.js';

export type RawAction = Extract<Action, { kind: 'raw' }>;

/** How long a raw streaming call is watched after its request ends before the fuzz hangs up. */
const STREAM_WATCH_MS = 1_000;

export function sendRaw(a: RawAction, address: string, metadata: readonly MetadataEntry[], streaming: boolean, deadlineMs: number): Promise<RawOutcome> {
  // Node's HTTP/2 client sends authorization once only: repeated values go comma-joined, the way
  // HTTP folds repeated fields.
  const headers: Record<string, string> = {};
  for (const [key, value] of metadata) {
    const text = typeof value === 'string' ? value : value.toString('base64');
    headers[key] = headers[key] === undefined ? text : `${headers[key]}, ${text}`;
  }
  const twisted = applyTwist(a.twist, a.path, headers);
  return rawRequest({
    address,
    path: twisted.path,
    headers: twisted.headers,
    omitHeaders: twisted.omit,
    body: frame(a.framing, a.payload.bytes),
    ending: a.ending,
    endAfterMs: a.endAfterMs,
    // A Subscribe that was accepted streams until cancelled: wait a moment for a refusal, then leave.
    timeoutMs: streaming ? a.endAfterMs + STREAM_WATCH_MS : deadlineMs,
  });
}

function frame(f: Framing, bytes: Uint8Array): Buffer {
  switch (f.kind) {
    case 'exact':
      return grpcFrame(bytes);
    case 'short':
      return grpcFrame(bytes, { declaredLength: Math.min(0xffffffff, bytes.length + f.missingBytes) });
    case 'compressed-flag':
      return grpcFrame(bytes, { compressed: true });
    case 'two-messages':
      return Buffer.concat([grpcFrame(bytes), grpcFrame(bytes)]);
    case 'no-message':
      return Buffer.alloc(0);
  }
}

function applyTwist(t: HeaderTwist, path: string, headers: Record<string, string>): { path: string; headers: Record<string, string>; omit: string[] } {
  switch (t.kind) {
    case 'none':
      return { path, headers, omit: [] };
    case 'header':
      return { path, headers: { ...headers, [t.name]: t.value }, omit: [] };
    case 'omit':
      return { path, headers, omit: [t.name] };
    case 'path':
      return { path: t.path, headers, omit: [] };
  }
}
