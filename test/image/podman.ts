// Runs podman for the image test with this directory's containers.conf (runc, and ulimits an
// unprivileged container may set), and builds the raftchat image from a local base image.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const containersConf = `${here}containers.conf`;
export const IMAGE = 'localhost/raftchat:image-test';

export interface Completed {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs a command to completion; never rejects on a non-zero exit (the caller asserts on `code`). */
export function exec(command: string, args: readonly string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Completed> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      [...args],
      {
        env: { ...process.env, CONTAINERS_CONF: containersConf, ...options.env },
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number') return reject(new Error(`${command} ${args.join(' ')}: ${error.message}\n${stderr}`));
        resolve({ stdout, stderr, code: error === null ? 0 : Number(error.code) });
      },
    );
  });
}

export function podman(args: readonly string[], timeoutMs?: number): Promise<Completed> {
  return exec('podman', args, timeoutMs === undefined ? {} : { timeoutMs });
}

/** Like podman(), but a non-zero exit is an error carrying podman's output. */
export async function podmanOk(args: readonly string[], timeoutMs?: number): Promise<string> {
  const result = await podman(args, timeoutMs);
  if (result.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** The local base image (node + npm + the libraries they need), built once and cached by tag. */
export async function buildBaseImage(): Promise<string> {
  const result = await exec('bash', [`${here}build-base.sh`], { timeoutMs: 10 * 60_000 });
  if (result.code !== 0) throw new Error(`build-base.sh exited ${result.code}\n${result.stderr}`);
  return result.stdout.trim().split('\n').pop()!;
}

/**
 * `podman build` of the repository's Dockerfile on `baseImage`. The build stage's `npm ci` needs the
 * npm registry, so the build shares the host's network (--network=host); the runtime does not.
 */
export async function buildImage(baseImage: string): Promise<void> {
  await podmanOk(['build', '--network=host', '--build-arg', `BASE_IMAGE=${baseImage}`, '-t', IMAGE, repoRoot], 20 * 60_000);
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${randomBytes(3).toString('hex')}`;
}
