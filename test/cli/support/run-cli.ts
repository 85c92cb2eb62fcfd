// Runs chatctl in-process with captured output, a chosen environment and stdin.
import { PassThrough, Readable } from 'node:stream';
import { runChatctl, type ChatctlDependencies } from '../../../src/cli/commands/program.js';
import type { Output } from '../../../src/cli/output.js';

export interface CliRun {
  code: number;
  stdout: string[];
  stderr: string[];
}

export interface CaptureOutput extends Output {
  stdoutLines: string[];
  stderrLines: string[];
}

export function captureOutput(): CaptureOutput {
  const stdoutLines: string[] = [];
  const stderrLines: string[] = [];
  return {
    stdoutLines,
    stderrLines,
    stdout: (line) => void stdoutLines.push(...line.split('\n')),
    stderr: (line) => void stderrLines.push(...line.split('\n')),
  };
}

export function cliDependencies(env: Record<string, string>, stdinText = ''): ChatctlDependencies & { out: CaptureOutput } {
  return {
    env,
    out: captureOutput(),
    stdin: Readable.from(stdinText === '' ? [] : [Buffer.from(stdinText)]),
    stdout: new PassThrough(),
    prompt: undefined,
    signal: new AbortController().signal,
  };
}

export async function runCli(argv: string[], env: Record<string, string>, stdinText = ''): Promise<CliRun> {
  const deps = cliDependencies(env, stdinText);
  const code = await runChatctl(argv, deps);
  return { code, stdout: deps.out.stdoutLines, stderr: deps.out.stderrLines };
}
