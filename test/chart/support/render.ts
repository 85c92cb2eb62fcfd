// `helm template` of the chart into parsed objects, and small finders over them.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadAll } from 'js-yaml';
import { CHART_DIR, helm, type Helm, type RunResult } from './tools.js';

export type Values = { [key: string]: unknown };

/** One rendered Kubernetes object; the fields every object has are typed, the rest read through helpers. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

export interface RenderOptions {
  /** Values on top of values.yaml (passed as a file, like `-f`). */
  values?: Values;
  release?: string;
  namespace?: string;
  /** More helm arguments, e.g. --skip-tests or --kubeconfig. */
  extraArgs?: readonly string[];
}

/** A private HELM_* home per suite; `dispose` removes it. */
export async function helmHome(): Promise<{ dir: string; dispose: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'raftchat-chart-'));
  return { dir, dispose: () => rm(dir, { recursive: true, force: true }) };
}

export async function templateRaw(which: Helm, home: string, options: RenderOptions = {}): Promise<RunResult> {
  const args = ['template', options.release ?? 'raftchat', CHART_DIR, '--namespace', options.namespace ?? 'raftchat'];
  if (options.values !== undefined) {
    const file = path.join(home, `values-${process.hrtime.bigint()}.json`);
    await writeFile(file, JSON.stringify(options.values)); // JSON is YAML
    args.push('--values', file);
  }
  args.push(...(options.extraArgs ?? []));
  return helm(which, args, home);
}

/** Renders and parses; a failed render throws with helm's stderr. */
export async function render(which: Helm, home: string, options: RenderOptions = {}): Promise<K8sObject[]> {
  const result = await templateRaw(which, home, options);
  if (result.code !== 0) throw new Error(`${which.name} template failed (exit ${result.code}):\n${result.stderr}`);
  return parseManifests(result.stdout);
}

export function parseManifests(text: string): K8sObject[] {
  return loadAll(text)
    .filter((doc) => doc !== null && doc !== undefined)
    .map((doc) => {
      if (!isK8sObject(doc)) throw new Error(`not a Kubernetes object: ${JSON.stringify(doc).slice(0, 200)}`);
      return doc;
    });
}

function isK8sObject(doc: unknown): doc is K8sObject {
  if (typeof doc !== 'object' || doc === null) return false;
  const o = doc as Record<string, unknown>;
  const meta = o['metadata'];
  return (
    typeof o['apiVersion'] === 'string' &&
    typeof o['kind'] === 'string' &&
    typeof meta === 'object' &&
    meta !== null &&
    typeof (meta as Record<string, unknown>)['name'] === 'string'
  );
}

/** The only object of a kind (and name, when given); throws when there is not exactly one. */
export function only(objects: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) {
    throw new Error(`expected one ${kind}${name === undefined ? '' : ` ${name}`}, found ${found.length}`);
  }
  return found[0]!;
}

/** Reads a nested field by path (`at(sts, 'spec', 'template', 'spec')`), undefined when any step is missing. */
export function at(value: unknown, ...keys: (string | number)[]): unknown {
  let current = value;
  for (const key of keys) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}
