// Calls with raw request bytes through grpc-js: the client serializes nothing, so whatever bytes the
// fuzz made reach the server's decoder as they are. Every call has a deadline; none can hang the run.
import * as grpc from '@grpc/grpc-js';
import type { MetadataEntry } from './credentials.js';

const identity = (bytes: Buffer): Buffer => bytes;

/** How a call ended: its status, and the response or streamed messages' bytes it got before. */
export interface CallOutcome {
  code: grpc.status;
  details: string;
  responses: Buffer[];
}

export function toMetadata(entries: readonly MetadataEntry[]): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [key, value] of entries) metadata.add(key, value);
  return metadata;
}

export function unaryCall(client: grpc.Client, path: string, request: Uint8Array, metadata: readonly MetadataEntry[], deadlineMs: number): Promise<CallOutcome> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, identity, identity, Buffer.from(request), toMetadata(metadata), { deadline: Date.now() + deadlineMs }, (err, response) => {
      if (err !== null) resolve({ code: err.code, details: err.details, responses: [] });
      else resolve({ code: grpc.status.OK, details: '', responses: response === undefined ? [] : [response] });
    });
  });
}

/**
 * A server-streaming call that the client cancels after `cancelAfterMs` (if it is still open then).
 * `cancelled` says whether the final status is the client's own cancellation rather than the server's.
 */
export function streamCall(
  client: grpc.Client,
  path: string,
  request: Uint8Array,
  metadata: readonly MetadataEntry[],
  cancelAfterMs: number,
  deadlineMs: number,
): Promise<CallOutcome & { cancelled: boolean }> {
  return new Promise((resolve) => {
    const responses: Buffer[] = [];
    const stream = client.makeServerStreamRequest(path, identity, identity, Buffer.from(request), toMetadata(metadata), {
      deadline: Date.now() + deadlineMs,
    });
    let cancelled = false;
    const timer = setTimeout(() => {
      cancelled = true;
      stream.cancel();
    }, cancelAfterMs);
    stream.on('data', (chunk: Buffer) => responses.push(chunk));
    // grpc-js reports a non-OK end as 'error' and always emits 'status' last.
    stream.on('error', () => undefined);
    stream.on('status', (s: grpc.StatusObject) => {
      clearTimeout(timer);
      resolve({ code: s.code, details: s.details, responses, cancelled: cancelled && s.code === grpc.status.CANCELLED });
    });
  });
}
