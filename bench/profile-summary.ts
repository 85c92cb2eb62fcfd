// Summarizes V8 CPU profiles (`npm run bench -- --cpu-prof DIR`, or any node --cpu-prof output):
// self time by area of the code (our folders, each dependency, node internals, GC) and the top
// functions. Usage: node --import tsx bench/profile-summary.ts DIR_OR_FILES... [--top N] [--skip-s S]
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where a function lives, coarse enough to say which part of the system costs what. */
function areaOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules !== null) return modules[1]!;
  const ours = /\/(?:dist|src)\/([^/]+)\//.exec(url);
  if (ours !== null) return `raftchat/${ours[1]}`;
  if (url.startsWith('node:internal/')) return `node:internal/${url.slice(14).split('/')[0]}`;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  return url;
}

async function summarize(file: string, top: number, skipS: number): Promise<string[]> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  // Skip the start (module loading, connecting) and keep the steady state.
  let atUs = profile.startTime;
  const fromUs = profile.startTime + skipS * 1e6;
  profile.samples.forEach((id, i) => {
    const deltaUs = profile.timeDeltas[i] ?? 0;
    atUs += deltaUs;
    if (atUs >= fromUs) selfUs.set(id, (selfUs.get(id) ?? 0) + deltaUs);
  });
  const totalUs = profile.endTime - Math.max(profile.startTime, fromUs);
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    const area = areaOf(frame.url, frame.functionName);
    areas.set(area, (areas.get(area) ?? 0) + us);
    const where = frame.url === '' ? '' : ` ${frame.url.replace(/^.*\/(node_modules|dist|src)\//, '$1/')}:${frame.lineNumber + 1}`;
    const key = `${frame.functionName || '(anonymous)'}${where}`;
    functions.set(key, (functions.get(key) ?? 0) + us);
  }
  // Inclusive time of our own functions (self plus everything they call): which of our calls
  // the time is spent under. A recursive frame is counted once per sample.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      if (!/\/(dist|src)\/(raft|storage|node|chat|api|transport|metrics|client|cli)\//.test(frame.url) || frame.url.includes('node_modules')) continue;
      const key = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*\/(dist|src)\//, '$1/')}:${frame.lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }
  const busyUs = totalUs - (areas.get('(idle)') ?? 0);
  const pct = (us: number): string => `${((us / totalUs) * 100).toFixed(1)}%`;
  const lines = [`${path.basename(file)}: ${(totalUs / 1e6).toFixed(1)} s profiled, ${pct(busyUs)} busy`];
  lines.push('  by area (self time, % of wall time):');
  for (const [area, us] of [...areas].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`    ${pct(us).padStart(6)}  ${area}`);
  lines.push('  top functions:');
  for (const [fn, us] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`    ${pct(us).padStart(6)}  ${fn}`);
  lines.push('  our functions, inclusive:');
  for (const [fn, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`    ${pct(us).padStart(6)}  ${fn}`);
  return lines;
}

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 20;
const skipAt = args.indexOf('--skip-s');
const skip = skipAt >= 0 ? Number(args.splice(skipAt, 2)[1]) : 0;
const files: string[] = [];
for (const arg of args) {
  if ((await stat(arg)).isDirectory()) {
    for (const name of (await readdir(arg)).sort()) if (name.endsWith('.cpuprofile')) files.push(path.join(arg, name));
  } else files.push(arg);
}
for (const file of files) process.stdout.write(`${(await summarize(file, top, skip)).join('\n')}\n\n`);
