// The small pure parts of chatctl: configuration from flags and env, shell word splitting, tables,
// error lines, and the client's back-off and server-list parsing.
import assert from 'node:assert/strict';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { buildCliConfig, configDirFrom, DEFAULT_SERVERS } from '../../src/cli/config.js';
import { UsageError } from '../../src/cli/commands/errors.js';
import { splitWords } from '../../src/cli/commands/words.js';
import { conciseDetails, formatError, formatTable } from '../../src/cli/output.js';
import { backoffCeilingMs, parseServerList, RaftchatCallError } from '../../src/client/index.js';

describe('chatctl configuration', () => {
  it('defaults to the five local replicas, a 10 s timeout and ~/.config/raftchat', () => {
    const config = buildCliConfig({}, { HOME: '/home/u' });
    assert.deepEqual(config.servers, DEFAULT_SERVERS.split(','));
    assert.equal(config.timeoutMs, 10_000);
    assert.equal(config.configDir, '/home/u/.config/raftchat');
    assert.equal(config.json, false);
    assert.equal(config.passwordFromEnv, undefined);
  });

  it('takes --servers over RAFTCHAT_SERVERS, and RAFTCHAT_SERVERS over the default', () => {
    assert.deepEqual(buildCliConfig({}, { RAFTCHAT_SERVERS: 'a:1, b:2' }).servers, ['a:1', 'b:2']);
    assert.deepEqual(buildCliConfig({ servers: 'c:3' }, { RAFTCHAT_SERVERS: 'a:1' }).servers, ['c:3']);
  });

  it('puts the session under RAFTCHAT_CONFIG_DIR, else XDG_CONFIG_HOME/raftchat', () => {
    assert.equal(configDirFrom({ RAFTCHAT_CONFIG_DIR: '/t/c', XDG_CONFIG_HOME: '/x' }), '/t/c');
    assert.equal(configDirFrom({ XDG_CONFIG_HOME: '/x' }), path.join('/x', 'raftchat'));
  });

  it('rejects a zero or non-numeric --timeout and a server without a port as usage errors', () => {
    assert.throws(() => buildCliConfig({ timeout: '0' }, {}), UsageError);
    assert.throws(() => buildCliConfig({ timeout: '5s' }, {}), UsageError);
    assert.throws(() => buildCliConfig({ servers: 'localhost' }, {}), UsageError);
  });
});

describe('shell word splitting', () => {
  it('splits on whitespace and groups quoted text', () => {
    assert.deepEqual(splitWords(`send bob "hi there" 'it''s' a\\ b`), ['send', 'bob', 'hi there', 'its', 'a b']);
    assert.deepEqual(splitWords('   '), []);
    assert.deepEqual(splitWords('x ""'), ['x', '']);
  });

  it('refuses an unterminated quote', () => {
    assert.throws(() => splitWords('send bob "oops'), UsageError);
  });
});

describe('chatctl output', () => {
  it('aligns table columns and shows missing cells as -', () => {
    assert.deepEqual(formatTable(['ID', 'OK'], [['n0', true], ['n10', undefined]]), ['ID   OK', 'n0   yes', 'n10  -']);
  });

  it('prints call errors as CODE: details, shortening grpc-js connection failures', () => {
    const details = 'No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:9. Resolution note: ';
    assert.equal(conciseDetails(details), 'no connection (ECONNREFUSED)');
    assert.equal(formatError(new RaftchatCallError(status.NOT_FOUND, 'no such user bob')), 'NOT_FOUND: no such user bob');
  });
});

describe('client helpers', () => {
  it('doubles the back-off ceiling per retry up to the maximum', () => {
    const policy = { baseDelayMs: 100, maxDelayMs: 1_000 };
    assert.deepEqual([0, 1, 2, 3, 4, 60].map((n) => backoffCeilingMs(n, policy)), [100, 200, 400, 800, 1_000, 1_000]);
  });

  it('parses server lists, dropping duplicates and accepting bracketed IPv6', () => {
    assert.deepEqual(parseServerList('a:1,a:1 [::1]:50051'), ['a:1', '[::1]:50051']);
    assert.throws(() => parseServerList('a:99999'));
  });
});
