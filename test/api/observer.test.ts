// The observer hook (metrics) hears of every finished call, unary or stream, with its final code.
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import type { HandledCall } from '../../src/api/index.js';
import { bearer, call, rejectsWith, signUp, startHarness, waitFor, type Harness } from './helpers/harness.js';

describe('the API observer', function () {
  let h: Harness;
  const handled: HandledCall[] = [];
  before(async () => {
    h = await startHarness({
      observer: {
        callHandled: (c) => {
          handled.push(c);
          if (c.method === 'GetDigest') throw new Error('a broken observer must not break the call');
        },
      },
    });
  });
  after(async () => {
    await h.close();
  });

  it('reports each unary call with its service, method, code and duration', async () => {
    const token = await signUp(h, 'alice');
    await rejectsWith(call(h.chat.sendMessage.bind(h.chat), { recipient: 'ghost', body: 'x', requestId: '' }, token), status.NOT_FOUND);
    const seen = handled.map((c) => `${c.service}/${c.method} ${c.code}`);
    assert.deepEqual(seen, ['chat.v1.ChatService/Register OK', 'chat.v1.ChatService/Login OK', 'chat.v1.ChatService/SendMessage NOT_FOUND']);
    assert.ok(handled.every((c) => c.durationSeconds >= 0 && c.durationSeconds < 30));
  });

  it('still answers when the observer throws', async () => {
    const digest = await call(h.cluster.getDigest.bind(h.cluster), {});
    assert.ok(digest.appliedIndex >= 1);
  });

  it('reports a Subscribe stream when it ends, as CANCELLED when the client went away', async () => {
    const token = (await call(h.chat.login.bind(h.chat), { username: 'alice', password: 'correct horse battery' })).token;
    const stream = h.chat.subscribe({ afterId: 0 }, bearer(token));
    stream.on('error', () => undefined);
    await waitFor(() => h.api.subscriptions.streams('alice') === 1, 5_000, 'the stream to start');
    stream.cancel();
    await waitFor(() => handled.some((c) => c.method === 'Subscribe'), 5_000, 'the stream to be reported');
    assert.equal(handled.find((c) => c.method === 'Subscribe')?.code, 'CANCELLED');
  });
});
