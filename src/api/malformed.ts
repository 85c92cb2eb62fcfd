// Requests whose bytes do not decode. grpc-js answers INTERNAL ("Error deserializing request") when a
// service's requestDeserialize throws — the server's fault, by that code, when it is the caller's.
// The services are registered with deserializers that return a MalformedRequest instead, and the
// handlers answer it with INVALID_ARGUMENT like any other bad input.
import { status, type MethodDefinition, type ServiceDefinition } from '@grpc/grpc-js';
import { ApiError } from './errors.js';

export class MalformedRequest {
  constructor(readonly reason: string) {}
}

/** `service` with every request deserializer made total: a decoding error becomes a MalformedRequest. */
export function withTolerantDecoding<S extends ServiceDefinition>(service: S): S {
  const tolerant: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(service) as [string, MethodDefinition<unknown, unknown>][]) {
    tolerant[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return method.requestDeserialize(bytes);
        } catch (err) {
          // Numbers beyond 2^53 (uint64 ids), lengths past the end, wire types that do not exist…
          return new MalformedRequest(err instanceof Error ? err.message : String(err));
        }
      },
    };
  }
  return tolerant as S;
}

/** Throws INVALID_ARGUMENT when the request did not decode. */
export function requireDecoded(request: unknown): void {
  if (request instanceof MalformedRequest) {
    throw new ApiError(status.INVALID_ARGUMENT, `the request is not a valid protobuf message for this method: ${request.reason}`);
  }
}
