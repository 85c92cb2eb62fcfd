#!/usr/bin/env node
// chatctl: the raftchat command-line client. This file only wires the process (argv, stdio,
// environment, Ctrl+C, exit code) to the commands in ./commands/.
import { processOutput } from './output.js';
import { terminalPrompt } from './commands/password.js';
import { runChatctl, type ChatctlDependencies } from './commands/program.js';
import { registerShellCommand } from './commands/shell.js';

const interrupted = new AbortController();
// The first Ctrl+C (or SIGTERM, as a CronJob's deadline sends) cancels the running call or ends
// `watch`/`chaos` with their summary; a second one leaves at once.
const interrupt = (): void => {
  if (interrupted.signal.aborted) process.exit(130);
  interrupted.abort();
};
process.on('SIGINT', interrupt);
process.on('SIGTERM', interrupt);

const deps: ChatctlDependencies = {
  env: process.env,
  out: processOutput(),
  stdin: process.stdin,
  stdout: process.stdout,
  prompt: process.stdin.isTTY === true ? terminalPrompt(process.stdin, process.stderr) : undefined,
  signal: interrupted.signal,
  extraCommands: [registerShellCommand],
};

process.exitCode = await runChatctl(process.argv.slice(2), deps);
