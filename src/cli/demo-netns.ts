// Network namespaces as hosts on one machine: a bridge in the root namespace (with its own address,
// so this process reaches the hosts) and one namespace per host joined to it by a veth pair. Link
// faults are iptables rules inside a host's namespace. Used by the host tests and `demo --hosts`.
//
// Safety: no packet may ever be sent to a host address before the bridge and its connected route
// exist, or it would follow the default route off the machine. `NetnsLab.create` checks the kernel's
// route for every host address points at the bridge before it returns, and tears down on any failure.

import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface NetnsLabOptions {
  /** Prefix of every namespace and link this lab creates; leftovers with it are removed first. At most 7 characters. */
  prefix: string;
  /** The first three octets of a private /24 no route on this machine uses, e.g. '10.231.77'. */
  subnet24: string;
  hosts: number;
}

export interface NetnsHost {
  index: number;
  /** Network namespace name. */
  namespace: string;
  ip: string;
}

/** How a link fault applies, seen from `from`: `out` drops from→to, `in` drops to→from. */
export type LinkDirection = 'both' | 'out' | 'in';

export class NetnsSetupError extends Error {
  readonly code = 'NETNS_SETUP';
}

const BRIDGE_HOST_OCTET = 254;
const LINK_NAME_MAX = 15;

export class NetnsLab {
  readonly hosts: readonly NetnsHost[];
  readonly bridge: string;
  readonly bridgeIp: string;
  private readonly prefix: string;
  private readonly subnet24: string;
  private destroyed = false;
  private readonly onExit = (): void => this.destroySync();
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.destroySync();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };

  private constructor(options: NetnsLabOptions) {
    if (!/^[a-z][a-z0-9]{0,6}$/.test(options.prefix)) throw new NetnsSetupError(`prefix must be 1-7 lowercase letters/digits, got "${options.prefix}"`);
    if (!/^(10|192\.168|172\.(1[6-9]|2\d|3[01]))(\.\d{1,3}){1,2}$/.test(options.subnet24) || options.subnet24.split('.').length !== 3) {
      throw new NetnsSetupError(`subnet24 must be the first three octets of a private /24, got "${options.subnet24}"`);
    }
    if (options.hosts < 1 || options.hosts > 200) throw new NetnsSetupError(`hosts must be 1..200, got ${options.hosts}`);
    this.prefix = options.prefix;
    this.subnet24 = options.subnet24;
    this.bridge = `${options.prefix}-br`;
    this.bridgeIp = `${options.subnet24}.${BRIDGE_HOST_OCTET}`;
    this.hosts = Array.from({ length: options.hosts }, (_, index) => ({
      index,
      namespace: `${options.prefix}-${index}`,
      ip: `${options.subnet24}.${index + 1}`,
    }));
  }

  /**
   * Removes leftovers of a crashed run with the same prefix, creates the bridge, the namespaces and
   * their links, verifies every host address routes to the bridge, and arranges teardown on exit,
   * SIGINT and SIGTERM. Needs root.
   */
  static create(options: NetnsLabOptions): NetnsLab {
    const lab = new NetnsLab(options);
    removeLeftovers(options.prefix);
    lab.assertSubnetUnused();
    process.once('exit', lab.onExit);
    process.once('SIGINT', lab.onSignal);
    process.once('SIGTERM', lab.onSignal);
    try {
      lab.build();
      lab.assertRoutedToBridge();
    } catch (err) {
      lab.destroySync();
      throw err;
    }
    return lab;
  }

  host(index: number): NetnsHost {
    const host = this.hosts[index];
    if (host === undefined) throw new RangeError(`no host ${index}: the lab has ${this.hosts.length}`);
    return host;
  }

  /** The command line that runs `command args…` inside host `index`'s namespace. */
  commandIn(index: number, command: string, args: readonly string[]): { command: string; args: string[] } {
    return { command: 'ip', args: ['netns', 'exec', this.host(index).namespace, command, ...args] };
  }

  /** Drops packets between hosts `from` and `to` (rules live in `from`'s namespace). */
  cut(from: number, to: number, direction: LinkDirection = 'both'): void {
    const peerIp = this.host(to).ip;
    if (direction !== 'in') this.iptables(from, ['-A', 'OUTPUT', '-d', peerIp, '-j', 'DROP']);
    if (direction !== 'out') this.iptables(from, ['-A', 'INPUT', '-s', peerIp, '-j', 'DROP']);
  }

  /** Cuts every link between the two groups; this process (on the bridge address) still reaches all hosts. */
  partition(side: readonly number[], otherSide: readonly number[]): void {
    for (const a of side) for (const b of otherSide) this.cut(a, b, 'both');
  }

  /** Cuts `index` from every other host; its clients on the bridge address still reach it. */
  isolate(index: number): void {
    this.partition([index], this.hosts.map((h) => h.index).filter((i) => i !== index));
  }

  /** Drops each packet between `index` and any other host, both ways, with `probability`. */
  flaky(index: number, probability: number): void {
    if (!(probability > 0 && probability < 1)) throw new RangeError(`probability must be in (0, 1), got ${probability}`);
    const random = ['-m', 'statistic', '--mode', 'random', '--probability', String(probability), '-j', 'DROP'];
    for (const other of this.hosts) {
      if (other.index === index) continue;
      this.iptables(index, ['-A', 'OUTPUT', '-d', other.ip, ...random]);
      this.iptables(index, ['-A', 'INPUT', '-s', other.ip, ...random]);
    }
  }

  /** Removes every fault: the namespaces are ours, so their filter tables hold only our rules. */
  heal(): void {
    for (const host of this.hosts) this.iptables(host.index, ['-F']);
  }

  /** The iptables rules now in host `index`'s namespace (`iptables -S`). */
  rules(index: number): string[] {
    return run('ip', ['netns', 'exec', this.host(index).namespace, 'iptables', '-w', '-S'])
      .split('\n')
      .filter((line) => line.startsWith('-A'));
  }

  /** Kills whatever still runs in the namespaces and deletes them and the bridge, in parallel. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    this.detachHandlers();
    for (const host of this.hosts) killNamespaceProcesses(host.namespace);
    // Delete each veth pair explicitly: the kernel removes a pair with its namespace only some time
    // after `ip netns del` returns, so a check right after teardown would still see the root ends.
    await Promise.all(this.hosts.map((h) => execFileAsync('ip', ['link', 'del', `${this.prefix}-v${h.index}`]).catch(() => undefined)));
    await Promise.all(this.hosts.map((h) => execFileAsync('ip', ['netns', 'del', h.namespace]).catch(() => undefined)));
    await execFileAsync('ip', ['link', 'del', this.bridge]).catch(() => undefined);
  }

  /** The same, synchronously: for process 'exit' and signal handlers. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.detachHandlers();
    removeLeftovers(this.prefix);
  }

  private detachHandlers(): void {
    process.off('exit', this.onExit);
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }

  private build(): void {
    run('ip', ['link', 'add', this.bridge, 'type', 'bridge']);
    run('ip', ['addr', 'add', `${this.bridgeIp}/24`, 'dev', this.bridge]);
    run('ip', ['link', 'set', this.bridge, 'up']);
    for (const host of this.hosts) {
      const rootEnd = `${this.prefix}-v${host.index}`;
      if (rootEnd.length > LINK_NAME_MAX) throw new NetnsSetupError(`link name ${rootEnd} is longer than ${LINK_NAME_MAX}`);
      run('ip', ['netns', 'add', host.namespace]);
      run('ip', ['link', 'add', rootEnd, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.namespace]);
      run('ip', ['link', 'set', rootEnd, 'master', this.bridge]);
      run('ip', ['link', 'set', rootEnd, 'up']);
      // No default route inside: a host can reach only the bridge's /24, never beyond the machine.
      run('ip', ['-n', host.namespace, 'addr', 'add', `${host.ip}/24`, 'dev', 'eth0']);
      run('ip', ['-n', host.namespace, 'link', 'set', 'eth0', 'up']);
      run('ip', ['-n', host.namespace, 'link', 'set', 'lo', 'up']);
    }
  }

  /** No route on this machine may already cover our /24 (another lab, a VPN, the uplink). */
  private assertSubnetUnused(): void {
    const routes = JSON.parse(run('ip', ['-j', '-4', 'route', 'show', 'table', 'all'])) as Array<{ dst?: string; dev?: string }>;
    for (const route of routes) {
      if (route.dst === undefined || route.dst === 'default') continue;
      if (cidrsOverlap(route.dst, `${this.subnet24}.0/24`)) {
        throw new NetnsSetupError(`${this.subnet24}.0/24 overlaps the existing route ${route.dst} dev ${route.dev ?? '?'}; pick another subnet`);
      }
    }
  }

  private assertRoutedToBridge(): void {
    for (const host of this.hosts) {
      const [route] = JSON.parse(run('ip', ['-j', 'route', 'get', host.ip])) as Array<{ dev?: string }>;
      if (route?.dev !== this.bridge) {
        throw new NetnsSetupError(`${host.ip} routes via ${route?.dev ?? 'nothing'}, not ${this.bridge}: refusing to send anything to it`);
      }
    }
  }

  private iptables(index: number, args: readonly string[]): void {
    run('ip', ['netns', 'exec', this.host(index).namespace, 'iptables', '-w', ...args]);
  }
}

function run(command: string, args: readonly string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new NetnsSetupError(`${command} ${args.join(' ')} failed: ${stderr.trim() || (err as Error).message}`);
  }
}

function tryRun(command: string, args: readonly string[]): string {
  try {
    return run(command, args);
  } catch {
    return '';
  }
}

/** SIGKILL to every process in `namespace` (only ours run there), by pid. */
function killNamespaceProcesses(namespace: string): void {
  for (const pid of tryRun('ip', ['netns', 'pids', namespace]).split('\n').map(Number)) {
    if (!Number.isInteger(pid) || pid <= 0) continue;
    try {
      process.kill(pid, 'SIGCONT');
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Deletes every namespace and link whose name starts with `<prefix>-`, e.g. after a crashed run. */
export function removeLeftovers(prefix: string): void {
  const mine = (name: string): boolean => name.startsWith(`${prefix}-`);
  const namespaces = tryRun('ip', ['netns', 'list'])
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter(mine);
  for (const ns of namespaces) killNamespaceProcesses(ns);
  for (const ns of namespaces) tryRun('ip', ['netns', 'del', ns]);
  const links = (JSON.parse(tryRun('ip', ['-j', 'link', 'show']) || '[]') as Array<{ ifname: string }>).map((l) => l.ifname).filter(mine);
  // veth ends first (they go with their namespace anyway), the bridge last.
  for (const link of links.sort((a, b) => Number(a.endsWith('-br')) - Number(b.endsWith('-br')))) tryRun('ip', ['link', 'del', link]);
}

function cidrsOverlap(a: string, b: string): boolean {
  const [aStart, aBits] = parseCidr(a);
  const [bStart, bBits] = parseCidr(b);
  const bits = Math.min(aBits, bBits);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return ((aStart & mask) >>> 0) === ((bStart & mask) >>> 0);
}

function parseCidr(cidr: string): [number, number] {
  const [address = '', bitsText] = cidr.split('/');
  const octets = address.split('.').map(Number);
  while (octets.length < 4) octets.push(0);
  const value = octets.reduce((acc, o) => ((acc << 8) | (o & 255)) >>> 0, 0);
  return [value, bitsText === undefined ? 32 : Number(bitsText)];
}
