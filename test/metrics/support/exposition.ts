// A small parser of the Prometheus text exposition format (0.0.4), enough to check what an endpoint
// serves: families with their TYPE and HELP, and every sample with its labels and value.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string): Family => {
    let f = families.get(name);
    if (f === undefined) {
      f = { name, type: 'untyped', help: '', samples: [] };
      families.set(name, f);
    }
    return f;
  };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta !== null) {
      if (meta[1] === 'HELP') family(meta[2]).help = meta[3];
      else family(meta[2]).type = meta[3];
      continue;
    }
    if (line.startsWith('#')) continue;
    const sample = parseSample(line);
    family(familyOf(sample.name, families)).samples.push(sample);
  }
  return families;
}

function parseSample(line: string): Sample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( \d+)?$/.exec(line);
  if (m === null) throw new Error(`not a sample line: ${line}`);
  const labels: Record<string, string> = {};
  const labelText = m[3] ?? '';
  const labelPattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
  let consumed = 0;
  for (let l = labelPattern.exec(labelText); l !== null; l = labelPattern.exec(labelText)) {
    labels[l[1]] = l[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    consumed += l[0].length;
  }
  if (consumed !== labelText.length) throw new Error(`malformed labels: ${line}`);
  return { name: m[1], labels, value: Number(m[4]) };
}

/** A histogram's _bucket/_sum/_count samples belong to the family declared without the suffix. */
function familyOf(sampleName: string, families: Map<string, Family>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (sampleName.endsWith(suffix)) {
      const base = sampleName.slice(0, -suffix.length);
      const f = families.get(base);
      if (f !== undefined && (f.type === 'histogram' || f.type === 'summary')) return base;
    }
  }
  return sampleName;
}

/** The value of the one sample of `name` whose labels include `labels`; throws if none or several. */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const matches = [...families.values()]
    .flatMap((f) => f.samples)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (matches.length !== 1) throw new Error(`expected one sample ${name}${JSON.stringify(labels)}, found ${matches.length}`);
  return matches[0].value;
}
