// A real Prometheus for the e2e: started on 127.0.0.1 with a generated static scrape config (1 s
// interval), the alert rules loaded and a temporary storage directory; stopped by its pid.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { waitFor } from '../../support/wait.js';

export interface PrometheusOptions {
  /** Working directory: config, TSDB and log go here. */
  dir: string;
  /** host:port of every /metrics endpoint, scraped as job `jobName`. */
  targets: readonly string[];
  jobName: string;
  /** Rule files (absolute paths), evaluated every second. */
  ruleFiles: readonly string[];
}

export interface Series {
  metric: Record<string, string>;
  value?: [number, string];
  values?: Array<[number, string]>;
}

export interface AlertingRule {
  type: 'alerting' | 'recording';
  name: string;
  query: string;
  health: string;
  lastError?: string;
}

interface ApiResponse<T> {
  status: 'success' | 'error';
  data: T;
  error?: string;
  errorType?: string;
}

/** Fails with the reason when prometheus/promtool are not installed. */
export function requirePrometheusBinaries(): void {
  for (const tool of ['prometheus', 'promtool']) {
    const found = spawnSync(tool, ['--version'], { stdio: 'ignore' });
    if (found.error !== undefined || found.status !== 0) {
      throw new Error(`${tool} is not installed: run scripts/install-prometheus.sh (apt-get install prometheus)`);
    }
  }
}

export class Prometheus {
  private constructor(
    readonly baseUrl: string,
    private readonly child: ChildProcess,
    private readonly exited: Promise<void>,
    readonly logFile: string,
  ) {}

  static async start(options: PrometheusOptions): Promise<Prometheus> {
    const port = await freePort();
    const config = join(options.dir, 'prometheus.yml');
    // JSON is YAML: no YAML library needed to write the config.
    writeFileSync(
      config,
      JSON.stringify(
        {
          global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
          rule_files: options.ruleFiles,
          scrape_configs: [{ job_name: options.jobName, static_configs: [{ targets: options.targets }] }],
        },
        null,
        2,
      ),
    );
    const logFile = join(options.dir, 'prometheus.log');
    const log = createWriteStream(logFile);
    const child = spawn(
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(options.dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=1h',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const prometheus = new Prometheus(`http://127.0.0.1:${port}`, child, exited, logFile);
    try {
      await waitFor('Prometheus to be ready', async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}; see ${logFile}`);
        const res = await fetch(`${prometheus.baseUrl}/-/ready`);
        return res.ok ? true : undefined;
      }, 30_000, 100);
    } catch (err) {
      await prometheus.stop();
      throw err;
    }
    return prometheus;
  }

  private async api<T>(path: string, params: Record<string, string>): Promise<T> {
    const res = await fetch(`${this.baseUrl}/api/v1/${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
    });
    const body = (await res.json()) as ApiResponse<T>;
    if (body.status !== 'success') throw new Error(`${body.errorType ?? 'error'}: ${body.error ?? res.statusText}`);
    return body.data;
  }

  /** An instant query, at `timeSeconds` (default now). */
  async query(expr: string, timeSeconds?: number): Promise<Series[]> {
    const params: Record<string, string> = { query: expr };
    if (timeSeconds !== undefined) params['time'] = String(timeSeconds);
    const data = await this.api<{ resultType: string; result: Series[] | [number, string] }>('query', params);
    if (data.resultType === 'scalar') return [{ metric: {}, value: data.result as [number, string] }];
    return data.result as Series[];
  }

  /** The single number an instant query returns (throws unless exactly one series). */
  async scalar(expr: string, timeSeconds?: number): Promise<number> {
    const result = await this.query(expr, timeSeconds);
    if (result.length !== 1 || result[0].value === undefined) throw new Error(`${expr}: expected one series, got ${result.length}`);
    return Number(result[0].value[1]);
  }

  async queryRange(expr: string, startSeconds: number, endSeconds: number, stepSeconds: number): Promise<Series[]> {
    const data = await this.api<{ result: Series[] }>('query_range', {
      query: expr,
      start: String(startSeconds),
      end: String(endSeconds),
      step: String(stepSeconds),
    });
    return data.result;
  }

  async rules(): Promise<AlertingRule[]> {
    const res = await fetch(`${this.baseUrl}/api/v1/rules`);
    const body = (await res.json()) as ApiResponse<{ groups: Array<{ rules: AlertingRule[] }> }>;
    return body.data.groups.flatMap((g) => g.rules);
  }

  async labelValues(label: string, match: string): Promise<string[]> {
    const res = await fetch(`${this.baseUrl}/api/v1/label/${label}/values?${new URLSearchParams({ 'match[]': match }).toString()}`);
    return ((await res.json()) as ApiResponse<string[]>).data;
  }

  /** SIGTERM to our own child by pid, SIGKILL if it has not exited within 10 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(killer);
  }
}
