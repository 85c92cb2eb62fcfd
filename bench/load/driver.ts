// The benchmark's handle on its load generator child process: start it, run a load, stop it.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromGenerator, LoadUser, Progress, Recovered, RunRequest, RunResult, ToGenerator } from './protocol.js';

export type RunSpec = Omit<RunRequest, 'type' | 'runId'>;

/** A load run in progress: its result, and the controls a failover trial needs. */
export interface RunningLoad {
  readonly result: Promise<RunResult>;
  /** Resolves at the first acknowledgement of a request started at or after `killedAtMs`. */
  recoveredAfter(killedAtMs: number): Promise<Recovered>;
  stop(): void;
}

export class LoadDriver {
  private nextRunId = 1;
  private readonly listeners = new Set<(message: FromGenerator) => void>();
  private failure: Error | undefined;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (message: FromGenerator) => {
      if (message.type === 'failed') this.failure = new Error(`load generator: ${message.message}`);
      for (const listener of [...this.listeners]) listener(message);
    });
  }

  /** Forks the generator (with `execArgv`: tsx's loader, since it is TypeScript) and hands it the cluster and users. */
  static async start(addresses: readonly string[], users: readonly LoadUser[], bodyBytes: number, execArgv: readonly string[]): Promise<LoadDriver> {
    const entry = fileURLToPath(new URL('./generator.ts', import.meta.url));
    const child = fork(entry, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [...execArgv] });
    const driver = new LoadDriver(child);
    const ready = driver.next((m) => m.type === 'ready');
    driver.send({ type: 'init', addresses, users, bodyBytes });
    await ready;
    return driver;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  run(spec: RunSpec, onProgress?: (progress: Progress) => void): RunningLoad {
    const runId = this.nextRunId++;
    const progress = (message: FromGenerator): void => {
      if (message.type === 'progress' && message.runId === runId) onProgress?.(message);
    };
    this.listeners.add(progress);
    const result = this.next((m): m is RunResult => m.type === 'result' && m.runId === runId).finally(() => this.listeners.delete(progress)) as Promise<RunResult>;
    this.send({ type: 'run', runId, ...spec });
    return {
      result,
      recoveredAfter: (killedAtMs) => {
        const recovered = this.next((m): m is Recovered => m.type === 'recovered' && m.runId === runId) as Promise<Recovered>;
        this.send({ type: 'mark', runId, killedAtMs });
        return recovered;
      },
      stop: () => this.send({ type: 'stop', runId }),
    };
  }

  close(): void {
    if (this.child.connected) this.child.disconnect();
    this.child.kill('SIGTERM');
  }

  private send(message: ToGenerator): void {
    this.child.send(message);
  }

  /** The next message matching `match`; rejects if the generator fails or exits first. */
  private next(match: (message: FromGenerator) => boolean): Promise<FromGenerator> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => {
        cleanup();
        reject(new Error(`load generator exited (code ${code ?? '?'})`));
      };
      const listener = (message: FromGenerator): void => {
        if (match(message)) {
          cleanup();
          resolve(message);
        } else if (this.failure !== undefined) {
          cleanup();
          reject(this.failure);
        }
      };
      const cleanup = (): void => {
        this.listeners.delete(listener);
        this.child.off('exit', onExit);
      };
      this.listeners.add(listener);
      this.child.once('exit', onExit);
    });
  }
}
