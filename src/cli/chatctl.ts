#!/usr/bin/env node
// chatctl: the raftchat command-line client. This file only wires the process (argv, stdio,
// environment, Ctrl+C, exit code) to the commands in ./commands/.
import { processOutput } from './output.js';
import { terminalPrompt } from './commands/password.js';
import { runChatctl, type ChatctlDependencies } from './commands/program.js';
import { registerShellCommand } from './commands/shell.js';

const interrupted = new AbortController();
process.on('SIGINT', () => {
  // The first Ctrl+C cancels the running call or ends `watch`; a second one leaves at once.
  if (interrupted.signal.aborted) process.exit(130);
  interrupted.abort();
});

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
