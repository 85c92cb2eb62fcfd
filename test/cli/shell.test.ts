// `chatctl shell` driven through its input stream: the same commands, one shared session, and
// new messages for the logged-in user printed as they arrive.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { buildCliConfig } from '../../src/cli/config.js';
import { runShell } from '../../src/cli/commands/shell.js';
import { emptyChatState, fakeChat, type FakeChatState } from './support/fake-chat.js';
import { startFakeServer, waitFor, type FakeServer } from './support/fake-server.js';
import { cliDependencies } from './support/run-cli.js';

describe('chatctl shell', () => {
  let server: FakeServer;
  let state: FakeChatState;
  let configDir = '';

  beforeEach(async () => {
    state = emptyChatState();
    state.passwords.set('alice', 'alice-password');
    state.passwords.set('bob', 'bob-password');
    state.messages.push(
      { id: 1, sender: 'bob', recipient: 'alice', body: 'seen already', sentAtUnixMs: 0, read: true },
      { id: 2, sender: 'bob', recipient: 'alice', body: 'are you there?', sentAtUnixMs: 0, read: false },
    );
    state.nextId = 3;
    server = await startFakeServer(fakeChat(state));
    configDir = await mkdtemp(path.join(os.tmpdir(), 'chatctl-shell-'));
  });
  afterEach(async () => {
    await server.stop();
    await rm(configDir, { recursive: true, force: true });
  });

  it('runs commands line by line and prints unread incoming messages live', async () => {
    await writeFile(path.join(configDir, 'session.json'), JSON.stringify({ username: 'alice', token: 'tok-alice', expiresAtUnixMs: 1 }));
    const env = { RAFTCHAT_SERVERS: server.address, RAFTCHAT_CONFIG_DIR: configDir };
    const input = new PassThrough();
    const output = new PassThrough();
    let printed = '';
    output.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));

    const shell = runShell(buildCliConfig({}, env), cliDependencies(env), { input, output, terminal: false });
    input.write('help\n');
    input.write(`send bob "hello 'bob'" again\n`);
    input.write('mark-read 2 oops\n');
    await waitFor(() => printed.includes('sent #3') && printed.includes('new: ') && printed.includes('error:'), 5_000, 'output');
    input.write('exit\n');
    await shell;

    assert.match(printed, /commands \(the same as chatctl <command>/);
    assert.match(printed, /new: \*#2 .* bob → alice {2}are you there\?/);
    assert.ok(!printed.includes('seen already'), 'messages already read are not news');
    assert.match(printed, /sent #3 to bob/);
    assert.equal(state.messages.at(-1)?.body, "hello 'bob' again");
    assert.match(printed, /error: "oops" is not a message id/);
  });

  it('refuses --password-stdin, whose stdin is the shell itself', async () => {
    const env = { RAFTCHAT_SERVERS: server.address, RAFTCHAT_CONFIG_DIR: configDir };
    const input = new PassThrough();
    const output = new PassThrough();
    let printed = '';
    output.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));
    const shell = runShell(buildCliConfig({}, env), cliDependencies(env), { input, output, terminal: false });
    input.write('login alice --password-stdin\n');
    await waitFor(() => printed.includes('error:'), 5_000, 'the refusal');
    input.end();
    await shell;
    assert.match(printed, /error: --password-stdin does not work in the shell/);
    assert.equal(state.requests.filter((r) => r.method === 'login').length, 0);
  });
});
