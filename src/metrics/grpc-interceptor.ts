// A @grpc/grpc-js server interceptor (`new grpc.Server({ interceptors: [...] })`) that records
// every call, unary or streaming, into GrpcServerMetrics: started, messages, handled with its code,
// and handling time from the call's arrival to its status.
import { performance } from 'node:perf_hooks';
import { ServerInterceptingCall, status as GrpcStatus, type ServerInterceptor } from '@grpc/grpc-js';
import { methodLabels, type GrpcServerMetrics } from './grpc-metrics.js';

export function grpcServerMetricsInterceptor(metrics: { readonly grpc: GrpcServerMetrics }): ServerInterceptor {
  const grpc = metrics.grpc;
  return (methodDescriptor, call) => {
    const labels = methodLabels(methodDescriptor);
    const startedMs = performance.now();
    let handled = false;
    const finish = (code: number): void => {
      if (handled) return;
      handled = true;
      grpc.callHandled(labels, code, (performance.now() - startedMs) / 1000);
    };
    grpc.callStarted(labels);
    return new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMessage: (message, nextMessage) => {
            grpc.messageReceived(labels);
            nextMessage(message);
          },
          // grpc-js tells every call's listeners onCancel when its stream closes, after a status
          // too. Reaching here unhandled means no status went through the interceptors: either
          // grpc-js's own deadline timer answered DEADLINE_EXCEEDED, or the client went away.
          onCancel: () => finish(deadlinePassed(call.getDeadline()) ? GrpcStatus.DEADLINE_EXCEEDED : GrpcStatus.CANCELLED),
        }),
      sendMessage: (message, next) => {
        grpc.messageSent(labels);
        next(message);
      },
      sendStatus: (status, next) => {
        finish(status.code);
        next(status);
      },
    });
  };
}

function deadlinePassed(deadline: Date | number): boolean {
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(deadlineMs) && deadlineMs <= Date.now();
}
