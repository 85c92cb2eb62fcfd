// A cluster with TLS on the client port and mutual TLS on the peer port, from certificates made for
// this run: replicas elect a leader and replicate over mTLS, clients chat over TLS (writes through
// followers are forwarded over the peer port), chatctl speaks TLS, and plaintext is refused.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { TestCluster, call } from '../support/cluster.js';
import { makePki, type Pki } from '../support/pki.js';
import { ChatServiceClient, type ListMessagesResponse, type LoginResponse, type SendMessageResponse } from '../../src/gen/chat/v1/chat.js';

describe('a cluster with TLS on both ports', function () {
  this.timeout(120_000);
  let dir: string;
  let pki: Pki;
  let cluster: TestCluster;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'raftchat-tls-it-'));
    pki = makePki(dir);
    cluster = await TestCluster.start({
      replicas: 3,
      flags: ['--tls-cert-file', pki.certFile, '--tls-key-file', pki.keyFile, '--tls-ca-file', pki.caFile, '--tls-client', 'true', '--tls-peer', 'true'],
      credentials: grpc.credentials.createSsl(pki.ca),
    });
  });
  after(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('elects a leader over mutual TLS and serves chat over TLS through every replica', async () => {
    await call(cluster.chat('n0'), 'register', { username: 'tina', password: 'tina-password' });
    await call(cluster.chat('n1'), 'register', { username: 'tom', password: 'tom-password' });
    const login = await call<unknown, LoginResponse>(cluster.chat('n2'), 'login', { username: 'tina', password: 'tina-password' });
    const ids: number[] = [];
    for (const via of ['n0', 'n1', 'n2']) {
      const sent = await call<unknown, SendMessageResponse>(cluster.chat(via), 'sendMessage', { recipient: 'tom', body: `over tls via ${via}`, requestId: `tls-${via}` }, { token: login.token });
      ids.push(sent.message!.id);
    }
    const tom = await call<unknown, LoginResponse>(cluster.chat('n1'), 'login', { username: 'tom', password: 'tom-password' });
    const inbox = await call<unknown, ListMessagesResponse>(cluster.chat('n2'), 'listMessages', { unreadOnly: false, afterId: 0, limit: 10, consistency: 0 }, { token: tom.token });
    assert.deepEqual(inbox.messages.map((m) => m.id), ids);
  });

  it('refuses a plaintext client on the client port', async () => {
    const plain = new ChatServiceClient(cluster.node('n0').clientAddress, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
    try {
      await assert.rejects(
        call(plain, 'login', { username: 'tina', password: 'tina-password' }, { timeoutMs: 3000 }),
        (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED,
      );
    } finally {
      plain.close();
    }
  });

  it('lets chatctl speak TLS when RAFTCHAT_TLS_CLIENT and RAFTCHAT_TLS_CA_FILE are set', async () => {
    const repo = resolve(import.meta.dirname, '../..');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', join(repo, 'src/cli/chatctl.ts'), '--servers', cluster.node('n1').clientAddress, '--json', 'status'],
      { cwd: repo, env: { ...process.env, RAFTCHAT_TLS_CLIENT: 'true', RAFTCHAT_TLS_CA_FILE: pki.caFile, RAFTCHAT_CONFIG_DIR: dir } },
    );
    const view = JSON.parse(stdout) as { leaderId: string; rows: unknown[] };
    assert.notEqual(view.leaderId, '');
    assert.equal(view.rows.length, 3);
  });
});
