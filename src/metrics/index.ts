// raftchat's metrics: a per-replica prom-client registry with typed hooks, the gRPC server
// interceptor, and the /metrics HTTP endpoint. See README.md for every metric and where it is fed.
export { createMetrics, ReplicaMetrics, type MetricsOptions } from './replica-metrics.js';
export { grpcServerMetricsInterceptor } from './grpc-interceptor.js';
export { startMetricsServer, parseListenAddress, MetricsAddressError, type MetricsServer, type MetricsText } from './server.js';
export type { StatusSnapshot, MemberSnapshot, StatusSource, CountSource } from './status.js';
export { GrpcServerMetrics, grpcCodeName, grpcType, type GrpcType, type GrpcMethodDescription } from './grpc-metrics.js';
export { RaftMetrics, proposalFailureReasons, proposalFailureReason, type ProposalFailureReason } from './raft-metrics.js';
export { ChatMetrics, rejectReasons, rejectReason, type RejectReason, type HandledCallLike } from './chat-metrics.js';
export { apiLimitNames, apiLimitName, type ApiLimitName } from './chat-metrics.js';
