// One gRPC channel per server, opened on first use and shared by the chat and cluster stubs.
import { credentials as grpcCredentials, type ChannelCredentials } from '@grpc/grpc-js';
import { ChatServiceClient, ClusterServiceClient } from '../gen/chat/v1/chat.js';

interface Stubs {
  chat: ChatServiceClient;
  cluster: ClusterServiceClient;
}

export class ChannelPool {
  private readonly stubs = new Map<string, Stubs>();
  private readonly credentials: ChannelCredentials;

  constructor(credentials?: ChannelCredentials) {
    this.credentials = credentials ?? grpcCredentials.createInsecure();
  }

  chat(server: string): ChatServiceClient {
    return this.open(server).chat;
  }

  cluster(server: string): ClusterServiceClient {
    return this.open(server).cluster;
  }

  close(): void {
    for (const { chat } of this.stubs.values()) chat.close();
    this.stubs.clear();
  }

  private open(server: string): Stubs {
    let stubs = this.stubs.get(server);
    if (stubs === undefined) {
      const chat = new ChatServiceClient(server, this.credentials, {
        // Fail fast on a dead address instead of queueing for seconds; the caller moves on.
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1_000,
        // A partitioned or frozen replica sends no RST: keepalive pings notice it, so a watch
        // moves on within ~15 s instead of waiting forever. (grpc-js servers do not police pings.)
        'grpc.keepalive_time_ms': 10_000,
        'grpc.keepalive_timeout_ms': 5_000,
      });
      const cluster = new ClusterServiceClient(server, this.credentials, { channelOverride: chat.getChannel() });
      stubs = { chat, cluster };
      this.stubs.set(server, stubs);
    }
    return stubs;
  }
}
