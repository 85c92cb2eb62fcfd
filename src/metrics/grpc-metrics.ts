// gRPC server metrics under go-grpc-prometheus's names and labels, so dashboards and alerts written
// for Go services (grpc_server_handled_total{grpc_type,grpc_service,grpc_method,grpc_code}) work as-is.
import { status as GrpcStatus } from '@grpc/grpc-js';
import { Counter, Histogram, type Registry } from 'prom-client';
import { grpcHandlingSecondsBuckets } from './buckets.js';

/** go-grpc-prometheus's grpc_type values. */
export type GrpcType = 'unary' | 'client_stream' | 'server_stream' | 'bidi_stream';

/** Go's codes.Code.String() for each status code: the values of the grpc_code label. */
const goCodeNames: Readonly<Record<GrpcStatus, string>> = {
  [GrpcStatus.OK]: 'OK',
  [GrpcStatus.CANCELLED]: 'Canceled',
  [GrpcStatus.UNKNOWN]: 'Unknown',
  [GrpcStatus.INVALID_ARGUMENT]: 'InvalidArgument',
  [GrpcStatus.DEADLINE_EXCEEDED]: 'DeadlineExceeded',
  [GrpcStatus.NOT_FOUND]: 'NotFound',
  [GrpcStatus.ALREADY_EXISTS]: 'AlreadyExists',
  [GrpcStatus.PERMISSION_DENIED]: 'PermissionDenied',
  [GrpcStatus.RESOURCE_EXHAUSTED]: 'ResourceExhausted',
  [GrpcStatus.FAILED_PRECONDITION]: 'FailedPrecondition',
  [GrpcStatus.ABORTED]: 'Aborted',
  [GrpcStatus.OUT_OF_RANGE]: 'OutOfRange',
  [GrpcStatus.UNIMPLEMENTED]: 'Unimplemented',
  [GrpcStatus.INTERNAL]: 'Internal',
  [GrpcStatus.UNAVAILABLE]: 'Unavailable',
  [GrpcStatus.DATA_LOSS]: 'DataLoss',
  [GrpcStatus.UNAUTHENTICATED]: 'Unauthenticated',
};

export const grpcCodeNames: readonly string[] = Object.values(goCodeNames);

/** The grpc_code label value of a status code; codes outside the 17 defined ones are `Unknown`, as in Go. */
export function grpcCodeName(code: number): string {
  return goCodeNames[code as GrpcStatus] ?? 'Unknown';
}

export function grpcType(requestStream: boolean, responseStream: boolean): GrpcType {
  if (requestStream) return responseStream ? 'bidi_stream' : 'client_stream';
  return responseStream ? 'server_stream' : 'unary';
}

/** Splits `/chat.v1.ChatService/SendMessage` into its service and method labels. */
export function splitMethodPath(path: string): { service: string; method: string } {
  const slash = path.lastIndexOf('/');
  if (slash <= 0) return { service: 'unknown', method: path.replace(/^\//, '') || 'unknown' };
  return { service: path.slice(path.startsWith('/') ? 1 : 0, slash), method: path.slice(slash + 1) };
}

/** The labels that identify one method of one service. */
export interface GrpcMethodLabels {
  grpc_type: GrpcType;
  grpc_service: string;
  grpc_method: string;
}

/** A method as grpc-js describes it in a ServiceDefinition or to a server interceptor. */
export interface GrpcMethodDescription {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
}

export function methodLabels(method: GrpcMethodDescription): GrpcMethodLabels {
  const { service, method: name } = splitMethodPath(method.path);
  return { grpc_type: grpcType(method.requestStream, method.responseStream), grpc_service: service, grpc_method: name };
}

export class GrpcServerMetrics {
  private readonly started: Counter<keyof GrpcMethodLabels>;
  private readonly handled: Counter<keyof GrpcMethodLabels | 'grpc_code'>;
  private readonly handlingSeconds: Histogram<keyof GrpcMethodLabels>;
  private readonly received: Counter<keyof GrpcMethodLabels>;
  private readonly sent: Counter<keyof GrpcMethodLabels>;

  constructor(registry: Registry) {
    const registers = [registry];
    const labelNames = ['grpc_type', 'grpc_service', 'grpc_method'] as const;
    this.started = new Counter({ name: 'grpc_server_started_total', help: 'Total number of RPCs started on the server.', labelNames, registers });
    this.handled = new Counter({
      name: 'grpc_server_handled_total',
      help: 'Total number of RPCs completed on the server, regardless of success or failure.',
      labelNames: [...labelNames, 'grpc_code'] as const,
      registers,
    });
    this.handlingSeconds = new Histogram({
      name: 'grpc_server_handling_seconds',
      help: 'Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.',
      labelNames,
      buckets: [...grpcHandlingSecondsBuckets],
      registers,
    });
    this.received = new Counter({ name: 'grpc_server_msg_received_total', help: 'Total number of RPC stream messages received on the server.', labelNames, registers });
    this.sent = new Counter({ name: 'grpc_server_msg_sent_total', help: 'Total number of gRPC stream messages sent by the server.', labelNames, registers });
  }

  /**
   * Creates every series of `methods` at zero (like go-grpc-prometheus's InitializeMetrics), so
   * rates and error ratios return 0 rather than nothing before the first call or failure.
   * Pass a grpc-js ServiceDefinition, e.g. `ChatServiceService`.
   */
  initialize(methods: Readonly<Record<string, GrpcMethodDescription>>): void {
    for (const method of Object.values(methods)) {
      const labels = methodLabels(method);
      this.started.inc(labels, 0);
      this.received.inc(labels, 0);
      this.sent.inc(labels, 0);
      this.handlingSeconds.zero(labels);
      for (const grpc_code of grpcCodeNames) this.handled.inc({ ...labels, grpc_code }, 0);
    }
  }

  callStarted(labels: GrpcMethodLabels): void {
    this.started.inc(labels);
  }

  messageReceived(labels: GrpcMethodLabels): void {
    this.received.inc(labels);
  }

  messageSent(labels: GrpcMethodLabels): void {
    this.sent.inc(labels);
  }

  callHandled(labels: GrpcMethodLabels, code: number, seconds: number): void {
    this.handled.inc({ ...labels, grpc_code: grpcCodeName(code) });
    this.handlingSeconds.observe(labels, seconds);
  }
}
