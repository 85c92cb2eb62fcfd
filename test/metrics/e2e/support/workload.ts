// A bounded chat workload over RaftchatClient: users register, log in, watch their inbox and send
// each other messages, with a few requests that are refused on purpose (bad input, bad password)
// so error and rejection series carry real data. Runs until stop().
import { setTimeout as delay } from 'node:timers/promises';
import { RaftchatClient } from '../../../../src/client/index.js';

export interface WorkloadOptions {
  servers: readonly string[];
  users: number;
  /** Pause between two calls of one user's loop; keeps 5 replicas + Prometheus within 2 cores. */
  pauseMs: number;
  /** Stop even if stop() is never called. */
  maxDurationMs: number;
}

export class Workload {
  sent = 0;
  failed = 0;
  refused = 0;
  private readonly clients: RaftchatClient[] = [];
  private readonly abort = new AbortController();
  private loops: Array<Promise<void>> = [];
  private stopAtMs = 0;

  constructor(private readonly options: WorkloadOptions) {}

  /** Registers and logs in every user, and opens an inbox watch for half of them. */
  async start(): Promise<void> {
    const run = Date.now().toString(36);
    const names = Array.from({ length: this.options.users }, (_, i) => `u${i}_${run}`);
    for (const username of names) {
      const client = new RaftchatClient({ servers: this.options.servers, deadlineMs: 20_000 });
      this.clients.push(client);
      await client.register({ username, password: 'correct-horse-battery' });
      await client.login({ username, password: 'correct-horse-battery' });
    }
    this.stopAtMs = Date.now() + this.options.maxDurationMs;
    for (const [i, client] of this.clients.entries()) {
      if (i % 2 === 0) this.loops.push(client.watch({ onMessage: () => undefined, signal: this.abort.signal }).then(() => undefined, () => undefined));
      this.loops.push(this.userLoop(client, names[(i + 1) % names.length], i));
    }
  }

  private running(): boolean {
    return !this.abort.signal.aborted && Date.now() < this.stopAtMs;
  }

  private async userLoop(client: RaftchatClient, recipient: string, index: number): Promise<void> {
    for (let step = 0; this.running(); step++) {
      try {
        await client.sendMessage({ recipient, body: `message ${step} from user ${index}` }, { signal: this.abort.signal });
        this.sent++;
        if (step % 5 === 0) {
          const inbox = await client.listMessages({ unreadOnly: true, limit: 20 }, { signal: this.abort.signal });
          if (inbox.messages.length > 0) await client.markRead({ ids: inbox.messages.map((m) => m.id) }, { signal: this.abort.signal });
        }
        if (step % 10 === 0) await client.listAccounts({ pattern: 'u*', pageSize: 10 }, { signal: this.abort.signal });
        if (step % 15 === index % 15) await this.refusedCall(client);
      } catch {
        if (this.running()) this.failed++;
      }
      await delay(this.options.pauseMs).catch(() => undefined);
    }
  }

  /** A request the API must refuse: an invalid username, or a wrong password. */
  private async refusedCall(client: RaftchatClient): Promise<void> {
    const probe = new RaftchatClient({ servers: client.servers, deadlineMs: 5_000 });
    try {
      await probe.register({ username: 'Not A Valid Name!', password: 'whatever-password' });
    } catch {
      this.refused++;
    }
    try {
      await probe.login({ username: 'nobody_here', password: 'wrong-password-123' });
    } catch {
      this.refused++;
    } finally {
      probe.close();
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.loops);
    this.loops = [];
    for (const client of this.clients) client.close();
  }
}
