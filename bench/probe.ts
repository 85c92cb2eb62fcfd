// What the benchmark reads about processes and the machine: CPU time and resident memory from
// /proc (Linux), the load average, and the machine's description for the report.
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** User plus system CPU time of `pid` in milliseconds, or undefined if it is gone. */
export function cpuTimeMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; fields after it are counted from its closing ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Resident set size of `pid` in MiB (what `ps -o rss` shows, /1024), or undefined if it is gone. */
export function rssMiB(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? undefined : Number(match[1]) / 1024;
  } catch {
    return undefined;
  }
}

/** CPU used by each process between construction and `percent()`, in percent of one core. */
export class CpuMeter {
  private readonly startedAtMs = performance.now();
  private readonly before: Map<string, { pid: number; cpuMs: number }>;

  constructor(pids: ReadonlyMap<string, number>) {
    this.before = new Map([...pids].map(([name, pid]) => [name, { pid, cpuMs: cpuTimeMs(pid) ?? 0 }]));
  }

  percent(): Record<string, number> {
    const elapsedMs = performance.now() - this.startedAtMs;
    const out: Record<string, number> = {};
    for (const [name, { pid, cpuMs }] of this.before) {
      const now = cpuTimeMs(pid);
      if (now !== undefined) out[name] = round(((now - cpuMs) / elapsedMs) * 100, 0);
    }
    return out;
  }
}

/** Samples the RSS of a set of processes while running; keeps each one's maximum. */
export class RssSampler {
  private readonly peakMiB: Record<string, number> = {};
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pids: () => ReadonlyMap<string, number>,
    intervalMs = 500,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  stop(): Record<string, number> {
    clearInterval(this.timer);
    this.sample();
    return Object.fromEntries(Object.entries(this.peakMiB).map(([k, v]) => [k, round(v, 1)]));
  }

  private sample(): void {
    for (const [name, pid] of this.pids()) {
      const rss = rssMiB(pid);
      if (rss !== undefined) this.peakMiB[name] = Math.max(this.peakMiB[name] ?? 0, rss);
    }
  }
}

/** The RSS of each process now, in MiB. */
export function rssNow(pids: ReadonlyMap<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, pid] of pids) {
    const rss = rssMiB(pid);
    if (rss !== undefined) out[name] = round(rss, 1);
  }
  return out;
}

/** The 1-minute load average, as `uptime` prints it. */
export function loadAverage1m(): number {
  return round(os.loadavg()[0]!, 2);
}

export interface MachineInfo {
  cpus: number;
  model: string;
  memoryGiB: number;
  node: string;
  os: string;
  /** cpuSpeedMs() before the cluster started and after it stopped: how fast this host's cores ran. */
  cpu_speed_ms?: { before: number; after: number };
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    model: cpus[0]?.model ?? 'unknown',
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
  };
}

/**
 * Milliseconds one core takes over a fixed integer loop (best of three), timed while nothing else of
 * the benchmark runs. A virtual machine's cores run slower while its host is busy, and every figure
 * with them: on the development VM a plain loop like this one took 410 ms at one hour and 460–590 ms
 * the next. The report prints it beside the machine so two runs can be told apart by their host.
 */
export function cpuSpeedMs(): number {
  let best = Infinity;
  for (let attempt = 0; attempt < 3; attempt++) {
    const startedAt = performance.now();
    let sink = 0;
    for (let i = 0; i < 300_000_000; i++) sink += i % 7;
    best = Math.min(best, performance.now() - startedAt);
    if (sink < 0) throw new Error('unreachable');
  }
  return round(best, 0);
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
