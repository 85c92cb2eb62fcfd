// The load generator: a child process that keeps N requests in flight against every replica
// through raw generated grpc-js clients (the thinnest client there is), and reports acknowledged
// operations, latency percentiles and its own CPU. Driven over IPC by load/driver.ts.
import * as grpc from '@grpc/grpc-js';
import { ChatServiceClient, ReadConsistency } from '../../src/gen/chat/v1/chat.js';
import { LatencyRecorder } from './latencies.js';
import { nowMs, type FromGenerator, type InitRequest, type LoadUser, type RunRequest, type ToGenerator } from './protocol.js';

const PROGRESS_INTERVAL_MS = 500;
const RETRY_PAUSE_MS = 5;
const LIST_LIMIT = 10;

function post(message: FromGenerator): void {
  process.send?.(message);
}

let setup: { init: InitRequest; body: string } | undefined;
const runs = new Map<number, LoadRun>();

/** One closed-loop run: `concurrency` workers, each sending its next request when the last ends. */
class LoadRun {
  private readonly clients: ChatServiceClient[];
  private readonly latencies = new LatencyRecorder();
  private readonly errorCodes: Record<string, number> = {};
  private stopped = false;
  private measuring = false;
  private acked = 0;
  private errors = 0;
  private measuredOps = 0;
  private measuredErrors = 0;
  private sequence = 0;
  private killedAtMs: number | undefined;

  constructor(
    private readonly request: RunRequest,
    private readonly users: readonly LoadUser[],
    private readonly body: string,
    addresses: readonly string[],
  ) {
    // Own subchannels per run: a replica killed in an earlier run must not leave a channel in
    // reconnect backoff behind for this one.
    const options = { 'grpc.use_local_subchannel_pool': 1 };
    this.clients = addresses.map((address) => new ChatServiceClient(address, grpc.credentials.createInsecure(), options));
  }

  async execute(): Promise<void> {
    const { concurrency, warmupMs, durationMs } = this.request;
    const progress = setInterval(() => post({ type: 'progress', runId: this.request.runId, acked: this.acked, errors: this.errors }), PROGRESS_INTERVAL_MS);
    const workers = Array.from({ length: concurrency }, (_, w) => this.worker(w));
    await sleep(warmupMs);
    const cpuBefore = process.cpuUsage();
    const startMs = nowMs();
    this.measuring = !this.stopped;
    await Promise.race([sleep(durationMs), this.untilStopped()]);
    this.measuring = false;
    const measuredMs = nowMs() - startMs;
    const cpu = process.cpuUsage(cpuBefore);
    this.stopped = true;
    clearInterval(progress);
    post({
      type: 'result',
      runId: this.request.runId,
      ops: this.measuredOps,
      errors: this.measuredErrors,
      errorCodes: this.errorCodes,
      measuredMs,
      latency: this.latencies.summary(),
      clientCpuPercent: ((cpu.user + cpu.system) / 1000 / measuredMs) * 100,
    });
    await Promise.all(workers);
    for (const client of this.clients) client.close();
  }

  stop(): void {
    this.stopped = true;
  }

  mark(killedAtMs: number): void {
    this.killedAtMs = killedAtMs;
  }

  private untilStopped(): Promise<void> {
    return new Promise((resolve) => {
      const check = setInterval(() => {
        if (!this.stopped) return;
        clearInterval(check);
        resolve();
      }, 10);
    });
  }

  private async worker(w: number): Promise<void> {
    // Workers are spread evenly over replicas and users; each sends to the next user.
    let replica = w % this.clients.length;
    const user = this.users[w % this.users.length]!;
    const recipient = this.users[(w + 1) % this.users.length]!.username;
    while (!this.stopped) {
      const startedMs = nowMs();
      try {
        await this.call(this.clients[replica]!, user, recipient);
        const endedMs = nowMs();
        this.acked++;
        if (this.measuring) {
          this.measuredOps++;
          this.latencies.record(endedMs - startedMs);
        }
        if (this.killedAtMs !== undefined && startedMs >= this.killedAtMs) {
          post({ type: 'recovered', runId: this.request.runId, ackedAtMs: endedMs });
          this.killedAtMs = undefined;
        }
        const target = this.request.targetOps;
        if (target !== undefined && this.acked >= target) this.stopped = true;
      } catch (error) {
        this.errors++;
        if (this.measuring) {
          this.measuredErrors++;
          const name = grpc.status[(error as grpc.ServiceError).code] ?? 'UNKNOWN';
          this.errorCodes[name] = (this.errorCodes[name] ?? 0) + 1;
        }
        if (this.request.retryOnError) {
          replica = (replica + 1) % this.clients.length;
          await sleep(RETRY_PAUSE_MS);
        }
      }
    }
  }

  private call(client: ChatServiceClient, user: LoadUser, recipient: string): Promise<void> {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${user.token}`);
    const options = { deadline: Date.now() + this.request.deadlineMs };
    return new Promise((resolve, reject) => {
      const done = (error: grpc.ServiceError | null): void => (error === null ? resolve() : reject(error));
      if (this.request.mode === 'send') {
        const requestId = `${process.pid}-${this.request.runId}-${this.sequence++}`;
        client.sendMessage({ recipient, body: this.body, requestId }, metadata, options, done);
      } else {
        const request = { unreadOnly: false, afterId: 0, limit: LIST_LIMIT, consistency: ReadConsistency.READ_CONSISTENCY_LINEARIZABLE };
        client.listMessages(request, metadata, options, done);
      }
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A readable body of exactly `bytes` ASCII characters. */
function makeBody(bytes: number): string {
  const words = 'the quick brown fox jumps over the lazy dog while raft keeps every replica in step ';
  return words.repeat(Math.ceil(bytes / words.length)).slice(0, bytes);
}

process.on('message', (message: ToGenerator) => {
  switch (message.type) {
    case 'init':
      setup = { init: message, body: makeBody(message.bodyBytes) };
      post({ type: 'ready' });
      return;
    case 'run': {
      if (setup === undefined) {
        post({ type: 'failed', message: 'run before init' });
        return;
      }
      const run = new LoadRun(message, setup.init.users, setup.body, setup.init.addresses);
      runs.set(message.runId, run);
      run
        .execute()
        .catch((error: unknown) => post({ type: 'failed', message: (error as Error).message }))
        .finally(() => runs.delete(message.runId));
      return;
    }
    case 'mark':
      runs.get(message.runId)?.mark(message.killedAtMs);
      return;
    case 'stop':
      runs.get(message.runId)?.stop();
      return;
  }
});
process.on('disconnect', () => process.exit(0));
