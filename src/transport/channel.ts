// gRPC channel and server options for the peer port: keepalive that notices a dead peer within
// ~15 s even on an idle stream, fast reconnects, and message limits sized from maxBatchBytes.

import type { ChannelOptions } from '@grpc/grpc-js';

/** Head-room above maxBatchBytes: one message may exceed the batch cap (it is then sent alone). */
const MESSAGE_MARGIN_BYTES = 1 << 20;

export const KEEPALIVE_TIME_MS = 10_000;
export const KEEPALIVE_TIMEOUT_MS = 5_000;

export function maxMessageBytes(maxBatchBytes: number): number {
  return maxBatchBytes + MESSAGE_MARGIN_BYTES;
}

export function clientChannelOptions(maxBatchBytes: number): ChannelOptions {
  return {
    'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
    'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
    'grpc.keepalive_permit_without_calls': 1,
    // The channel's own reconnect back-off (default 1 s → 120 s) would hide a peer that came back;
    // keep it within the transport's own 50 ms → 2 s.
    'grpc.initial_reconnect_backoff_ms': 50,
    'grpc.max_reconnect_backoff_ms': 2_000,
    'grpc.max_send_message_length': maxMessageBytes(maxBatchBytes),
    'grpc.max_receive_message_length': maxMessageBytes(maxBatchBytes),
  };
}

export function serverChannelOptions(maxBatchBytes: number): ChannelOptions {
  return {
    'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
    'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
    'grpc.max_send_message_length': maxMessageBytes(maxBatchBytes),
    'grpc.max_receive_message_length': maxMessageBytes(maxBatchBytes),
  };
}
