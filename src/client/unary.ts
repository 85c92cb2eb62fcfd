// Turns one callback-style grpc-js unary call into a promise that an AbortSignal can cancel.
import type { CallOptions, ClientUnaryCall, Metadata, ServiceError } from '@grpc/grpc-js';

/** The 4-argument overload every generated unary method has. */
export type UnaryMethod<Request, Response> = (
  request: Request,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Response) => void,
) => ClientUnaryCall;

export function invokeUnary<Request, Response>(
  method: UnaryMethod<Request, Response>,
  request: Request,
  metadata: Metadata,
  deadline: Date,
  signal?: AbortSignal,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => call.cancel();
    const call = method(request, metadata, { deadline }, (error, response) => {
      signal?.removeEventListener('abort', onAbort);
      if (error !== null) reject(error);
      else resolve(response);
    });
    if (signal?.aborted === true) call.cancel();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}
