// chatctl's commands run in-process against a real (fake) gRPC ChatService on loopback: what they
// send, what they print, the session cache and the exit codes.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { emptyChatState, fakeChat, type FakeChatState } from './support/fake-chat.js';
import { startFakeServer, type FakeServer } from './support/fake-server.js';
import { runCli } from './support/run-cli.js';

describe('chatctl commands', () => {
  let server: FakeServer;
  let state: FakeChatState;
  let configDir = '';
  let env: Record<string, string> = {};

  beforeEach(async () => {
    state = emptyChatState();
    state.passwords.set('alice', 'alice-password');
    state.passwords.set('bob', 'bob-password');
    server = await startFakeServer(fakeChat(state));
    configDir = await mkdtemp(path.join(os.tmpdir(), 'chatctl-'));
    env = { RAFTCHAT_SERVERS: server.address, RAFTCHAT_CONFIG_DIR: configDir };
  });
  afterEach(async () => {
    await server.stop();
    await rm(configDir, { recursive: true, force: true });
  });

  const sessionFile = (): string => path.join(configDir, 'session.json');
  const loginAsAlice = (): Promise<void> =>
    writeFile(sessionFile(), JSON.stringify({ username: 'alice', token: 'tok-alice', expiresAtUnixMs: 99 }), { mode: 0o600 });

  it('login reads the password from stdin and caches the token in session.json with mode 0600', async () => {
    const run = await runCli(['login', 'alice', '--password-stdin'], env, 'alice-password\n');
    assert.equal(run.code, 0, run.stderr.join('\n'));
    assert.deepEqual(run.stdout, ['logged in as alice: 0 unread messages']);
    assert.equal((await stat(sessionFile())).mode & 0o777, 0o600);
    const session = JSON.parse(await readFile(sessionFile(), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(session, { username: 'alice', token: 'tok-alice', expiresAtUnixMs: 99 });
    assert.ok(!run.stdout.join('').includes('tok-alice'), 'the token is not printed');
  });

  it('login takes the password from RAFTCHAT_PASSWORD for scripts', async () => {
    const run = await runCli(['--json', 'login', 'bob'], { ...env, RAFTCHAT_PASSWORD: 'bob-password' });
    assert.equal(run.code, 0, run.stderr.join('\n'));
    assert.deepEqual(JSON.parse(run.stdout[0] ?? ''), { username: 'bob', unreadCount: 0, expiresAtUnixMs: 99 });
  });

  it('refuses a password on the command line as a usage error, without calling the server', async () => {
    const run = await runCli(['login', 'alice', '--password', 'alice-password'], env);
    assert.equal(run.code, 2);
    assert.match(run.stderr.join('\n'), /unknown option '--password'/);
    assert.equal(state.requests.length, 0);
  });

  it('says where a password can come from when there is no terminal, stdin flag or env', async () => {
    const run = await runCli(['login', 'alice'], env);
    assert.equal(run.code, 2);
    assert.match(run.stderr[0] ?? '', /^error: no password: use --password-stdin, set RAFTCHAT_PASSWORD/);
  });

  it('register asks the server once and tells the user to log in', async () => {
    const run = await runCli(['register', 'carol', '--password-stdin'], env, 'carol-password');
    assert.equal(run.code, 0, run.stderr.join('\n'));
    assert.equal(state.passwords.get('carol'), 'carol-password');
    assert.match(run.stdout[0] ?? '', /registered carol/);
  });

  it('prints one line with the gRPC code and message and exits 1 when the server refuses', async () => {
    const run = await runCli(['register', 'alice', '--password-stdin'], env, 'whatever-password');
    assert.equal(run.code, 1);
    assert.deepEqual(run.stderr, ['error: ALREADY_EXISTS: username taken']);
  });

  it('send joins the words into one body, passes --request-id and the bearer token', async () => {
    await loginAsAlice();
    const run = await runCli(['send', 'bob', 'hello', 'there', '--request-id', 'req-1'], env);
    assert.equal(run.code, 0, run.stderr.join('\n'));
    assert.deepEqual(run.stdout, ['sent #1 to bob']);
    const sent = state.requests.find((r) => r.method === 'sendMessage');
    assert.deepEqual(sent?.request, { recipient: 'bob', body: 'hello there', requestId: 'req-1' });
    assert.equal(sent?.authorization, 'Bearer tok-alice');
  });

  it('send prints the stored message as JSON with --json', async () => {
    await loginAsAlice();
    const run = await runCli(['send', '--json', 'bob', 'hi'], env);
    const parsed = JSON.parse(run.stdout[0] ?? '') as { message: { id: number; body: string }; duplicate: boolean };
    assert.equal(parsed.message.body, 'hi');
    assert.equal(parsed.duplicate, false);
  });

  it('commands that need a session say how to get one and exit 1', async () => {
    const run = await runCli(['send', 'bob', 'hi'], env);
    assert.equal(run.code, 1);
    assert.deepEqual(run.stderr, ['error: not logged in: run `chatctl login <username>` first']);
  });

  it('read passes --unread, --after, --limit and --stale and prints one line per message', async () => {
    await writeFile(sessionFile(), JSON.stringify({ username: 'bob', token: 'tok-bob', expiresAtUnixMs: 1 }));
    state.messages.push(
      { id: 4, sender: 'alice', recipient: 'bob', body: 'old', sentAtUnixMs: 0, read: false },
      { id: 8, sender: 'alice', recipient: 'bob', body: 'first', sentAtUnixMs: 0, read: false },
      { id: 9, sender: 'alice', recipient: 'bob', body: 'second', sentAtUnixMs: 0, read: true },
    );
    const run = await runCli(['read', '--unread', '--after', '5', '--limit', '10', '--stale'], env);
    assert.equal(run.code, 0, run.stderr.join('\n'));
    assert.deepEqual(state.requests.at(-1)?.request, { unreadOnly: true, afterId: 5, limit: 10, consistency: 1 });
    assert.equal(run.stdout.length, 1);
    assert.match(run.stdout[0] ?? '', /^\*#8 .* alice → bob {2}first$/);
  });

  it('mark-read and delete take ids as separate words or comma lists', async () => {
    await loginAsAlice();
    const marked = await runCli(['mark-read', '3', '4,5'], env);
    assert.deepEqual(marked.stdout, ['marked 3 messages read']);
    assert.deepEqual(state.requests.at(-1)?.request, { ids: [3, 4, 5] });
    const deleted = await runCli(['delete', '7'], env);
    assert.deepEqual(deleted.stdout, ['deleted 1 message']);
  });

  it('rejects an id that is not a positive integer with exit code 2', async () => {
    await loginAsAlice();
    const run = await runCli(['mark-read', '3', 'x7'], env);
    assert.equal(run.code, 2);
    assert.equal(state.requests.length, 0);
  });

  it('accounts --all follows page tokens to the end', async () => {
    await loginAsAlice();
    for (const name of ['carol', 'dave', 'erin']) state.passwords.set(name, 'x');
    const run = await runCli(['accounts', '--page-size', '2', '--all'], env);
    assert.deepEqual(run.stdout, ['alice', 'bob', 'carol', 'dave', 'erin']);
    assert.equal(state.requests.filter((r) => r.method === 'listAccounts').length, 3);
    const onePage = await runCli(['accounts', '--page-size', '2'], env);
    assert.deepEqual(onePage.stdout, ['alice', 'bob']);
    assert.match(onePage.stderr.join('\n'), /more accounts match/);
  });

  it('logout ends the session on the server and removes the cached token', async () => {
    await loginAsAlice();
    const run = await runCli(['logout', '--all'], env);
    assert.equal(run.code, 0, run.stderr.join('\n'));
    assert.deepEqual(state.requests.at(-1)?.request, { allSessions: true });
    await assert.rejects(stat(sessionFile()), { code: 'ENOENT' });
  });

  it('delete-account checks the password and forgets the session', async () => {
    await loginAsAlice();
    const run = await runCli(['delete-account', '--password-stdin'], env, 'alice-password\n');
    assert.equal(run.code, 0, run.stderr.join('\n'));
    assert.equal(state.passwords.has('alice'), false);
    await assert.rejects(stat(sessionFile()), { code: 'ENOENT' });
  });

  it('exits 2 on an unknown command, a bad --timeout and a malformed --servers', async () => {
    assert.equal((await runCli(['fly'], env)).code, 2);
    assert.equal((await runCli(['--timeout', 'soon', 'status'], env)).code, 2);
    assert.equal((await runCli(['--servers', 'no-port', 'status'], env)).code, 2);
    assert.equal((await runCli([], env)).code, 2);
  });

  it('exits 0 after printing --help', async () => {
    const run = await runCli(['--help'], env);
    assert.equal(run.code, 0);
    assert.match(run.stdout.join('\n'), /Usage: chatctl/);
  });
});
