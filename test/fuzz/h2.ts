// Raw HTTP/2 requests to a gRPC server, below anything grpc-js would let a client do: a message frame
// that announces more bytes than it sends, a stream reset or a connection dropped mid-call, headers
// no gRPC client sends. Answers are read as HTTP/2 sees them (status, grpc-status, grpc-message).
import http2 from 'node:http2';

/** How the request side ends: half-close, RST_STREAM(CANCEL), or the whole connection torn down. */
export type StreamEnding = 'end' | 'reset' | 'disconnect';

export interface RawRequest {
  address: string;
  path: string;
  /** Replace or add to the headers of a plain gRPC request (`:method`, `content-type`, `te`...). */
  headers: Readonly<Record<string, string>>;
  /** Headers of a plain gRPC request to leave out (`te`, `content-type`). */
  omitHeaders?: readonly string[];
  body: Buffer;
  ending: StreamEnding;
  /** How long after sending the body the ending happens. */
  endAfterMs: number;
  /** Gives up on an answer after this long and tears the connection down. */
  timeoutMs: number;
}

export interface RawOutcome {
  httpStatus: number | undefined;
  grpcStatus: number | undefined;
  grpcMessage: string;
  /** The stream closed (answered, reset or torn down) before timeoutMs. */
  closed: boolean;
  error: string | undefined;
}

export function rawRequest(request: RawRequest): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const outcome: RawOutcome = { httpStatus: undefined, grpcStatus: undefined, grpcMessage: '', closed: false, error: undefined };
    const session = http2.connect(`http://${request.address}`);
    let settled = false;
    const settle = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(giveUp);
      clearTimeout(ending);
      session.destroy();
      resolve(outcome);
    };
    const giveUp = setTimeout(settle, request.timeoutMs);
    let ending: NodeJS.Timeout | undefined;
    session.on('error', (err) => {
      outcome.error ??= err.message;
      settle();
    });
    const headers: http2.OutgoingHttpHeaders = {
      ':method': 'POST',
      ':path': request.path,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...request.headers,
    };
    for (const name of request.omitHeaders ?? []) delete headers[name];
    const stream = session.request(headers, { endStream: false });
    const readStatus = (h: http2.IncomingHttpHeaders): void => {
      const code = h['grpc-status'];
      if (typeof code === 'string') outcome.grpcStatus = Number(code);
      const message = h['grpc-message'];
      if (typeof message === 'string') outcome.grpcMessage = safeDecode(message);
    };
    stream.on('response', (h) => {
      outcome.httpStatus = h[':status'];
      readStatus(h);
    });
    stream.on('trailers', readStatus);
    stream.on('data', () => undefined);
    stream.on('error', (err) => {
      outcome.error ??= err.message;
    });
    stream.on('close', () => {
      outcome.closed = true;
      settle();
    });
    stream.write(request.body);
    ending = setTimeout(() => {
      if (request.ending === 'end') stream.end();
      else if (request.ending === 'reset') stream.close(http2.constants.NGHTTP2_CANCEL);
      else session.destroy();
    }, request.endAfterMs);
  });
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
