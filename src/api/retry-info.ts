// The standard machine-readable form of "retry after N seconds": a google.rpc.Status carrying a
// google.rpc.RetryInfo, in the `grpc-status-details-bin` trailer that gRPC clients decode
// (Go's status.FromError(err).Details(), grpcurl, ...). Encoded by hand: four tiny messages.
import { BinaryWriter } from '@bufbuild/protobuf/wire';

/** The trailer gRPC reserves for a serialized google.rpc.Status. */
export const statusDetailsKey = 'grpc-status-details-bin';

const retryInfoTypeUrl = 'type.googleapis.com/google.rpc.RetryInfo';

/**
 * google.rpc.Status { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3; }
 * with one detail: RetryInfo { google.protobuf.Duration retry_delay = 1; } of `retryAfterSeconds`.
 * `code` and `message` must be the call's own status code and details, as the gRPC spec requires.
 */
export function retryInfoStatus(code: number, message: string, retryAfterSeconds: number): Buffer {
  // Duration { int64 seconds = 1; int32 nanos = 2; }: whole seconds, nanos left at zero.
  const retryInfo = new BinaryWriter().tag(1, 2).fork().tag(1, 0).int64(retryAfterSeconds).join().finish();
  const any = new BinaryWriter().tag(1, 2).string(retryInfoTypeUrl).tag(2, 2).bytes(retryInfo).finish();
  const status = new BinaryWriter().tag(1, 0).int32(code).tag(2, 2).string(message).tag(3, 2).bytes(any).finish();
  return Buffer.from(status);
}
