// Read queries over a real keyspace: account listing by glob with paging, inbox listing, sessions.
import assert from 'node:assert/strict';
import {
  getAccount,
  listAccounts,
  listMessages,
  sessionStatus,
  ValidationError,
} from '../../src/chat/index.js';
import { ChatHarness, markRead, register, revoke, send } from './harness.js';

describe('chat queries', () => {
  let chat: ChatHarness;
  beforeEach(async () => {
    chat = await ChatHarness.open();
  });
  afterEach(async () => {
    await chat.close();
  });

  describe('listAccounts', () => {
    const names = ['al', 'alice', 'alicia', 'allan', 'bob', 'bobby', 'carol', 'x.y', 'x-y', 'xay'];
    beforeEach(async () => {
      await chat.applyBatch(names.map((name) => register(name)));
    });

    async function all(pattern: string, pageSize: number, maxKeysScanned?: number): Promise<{ pages: string[][] }> {
      const pages: string[][] = [];
      let pageToken = '';
      do {
        const page = await listAccounts(chat.keyspace, { pattern, pageSize, pageToken, maxKeysScanned });
        pages.push(page.usernames);
        pageToken = page.nextPageToken;
        assert.ok(pages.length < 100, 'paging must end');
      } while (pageToken !== '');
      return { pages };
    }

    it('lists every account in order with an empty pattern, and no token after the last page', async () => {
      const page = await listAccounts(chat.keyspace, {});
      assert.deepEqual(page, { usernames: [...names].sort(), nextPageToken: '' });
    });

    it('matches * as any run and ? as exactly one character', async () => {
      assert.deepEqual((await listAccounts(chat.keyspace, { pattern: 'al*' })).usernames, ['al', 'alice', 'alicia', 'allan']);
      assert.deepEqual((await listAccounts(chat.keyspace, { pattern: 'ali??' })).usernames, ['alice']);
      assert.deepEqual((await listAccounts(chat.keyspace, { pattern: '*y' })).usernames, ['bobby', 'x-y', 'x.y', 'xay']);
      assert.deepEqual((await listAccounts(chat.keyspace, { pattern: 'bob' })).usernames, ['bob']);
    });

    it('matches . and - literally', async () => {
      assert.deepEqual((await listAccounts(chat.keyspace, { pattern: 'x.y' })).usernames, ['x.y']);
      assert.deepEqual((await listAccounts(chat.keyspace, { pattern: 'x?y' })).usernames, ['x-y', 'x.y', 'xay']);
    });

    it('pages through matches with no gaps or repeats, the last page carrying no token', async () => {
      const { pages } = await all('*', 3);
      assert.deepEqual(pages.map((p) => p.length), [3, 3, 3, 1]);
      assert.deepEqual(pages.flat(), [...names].sort());
    });

    it('gives no token when the last page is exactly full', async () => {
      const { pages } = await all('al*', 2);
      assert.deepEqual(pages, [['al', 'alice'], ['alicia', 'allan']]);
    });

    it('pages a pattern with a wildcard in the middle', async () => {
      const { pages } = await all('*l*', 2);
      assert.deepEqual(pages.flat(), ['al', 'alice', 'alicia', 'allan', 'carol']);
    });

    it('stops a page after scanning its key budget and resumes from there', async () => {
      const { pages } = await all('*y', 10, 3);
      assert.deepEqual(pages.flat(), ['bobby', 'x-y', 'x.y', 'xay']);
      assert.ok(pages.length > 1);
    });

    it('refuses a page token it did not issue, naming page_token', () => {
      return assert.rejects(listAccounts(chat.keyspace, { pageToken: 'not a token!' }), (err: unknown) => {
        assert.ok(err instanceof ValidationError);
        assert.equal(err.code, 'INVALID_ARGUMENT');
        assert.equal(err.field, 'page_token');
        return true;
      });
    });

    it('refuses a bad pattern or page size, naming the field', async () => {
      await assert.rejects(listAccounts(chat.keyspace, { pattern: 'A*' }), { field: 'pattern' });
      await assert.rejects(listAccounts(chat.keyspace, { pageSize: 1001 }), { field: 'page_size' });
    });
  });

  describe('listMessages', () => {
    let ids: number[];
    beforeEach(async () => {
      await chat.applyBatch([register('alice'), register('bob')]);
      const batch = await chat.applyBatch(Array.from({ length: 7 }, (_, i) => send('alice', 'bob', `m${i}`)));
      ids = batch.indexes;
      await chat.apply(markRead('bob', [ids[1]!, ids[3]!]));
    });

    it('lists the inbox oldest first', async () => {
      const { messages, more } = await listMessages(chat.keyspace, 'bob');
      assert.deepEqual(messages.map((m) => m.id), ids);
      assert.equal(more, false);
    });

    it('pages with after_id and says when more remain', async () => {
      const first = await listMessages(chat.keyspace, 'bob', { limit: 4 });
      assert.deepEqual(first.messages.map((m) => m.body), ['m0', 'm1', 'm2', 'm3']);
      assert.equal(first.more, true);
      const second = await listMessages(chat.keyspace, 'bob', { limit: 4, afterId: first.messages.at(-1)!.id });
      assert.deepEqual(second.messages.map((m) => m.body), ['m4', 'm5', 'm6']);
      assert.equal(second.more, false);
    });

    it('lists only unread messages when asked', async () => {
      const { messages } = await listMessages(chat.keyspace, 'bob', { unreadOnly: true, limit: 3 });
      assert.deepEqual(messages.map((m) => m.body), ['m0', 'm2', 'm4']);
      const rest = await listMessages(chat.keyspace, 'bob', { unreadOnly: true, afterId: messages.at(-1)!.id });
      assert.deepEqual(rest.messages.map((m) => m.body), ['m5', 'm6']);
    });

    it('lists nothing for a user with no inbox, without reaching into a user whose name extends it', async () => {
      await chat.apply(register('bo'));
      assert.deepEqual(await listMessages(chat.keyspace, 'bo'), { messages: [], more: false });
    });

    it('refuses a negative after_id and a limit over 1000, naming the field', async () => {
      await assert.rejects(listMessages(chat.keyspace, 'bob', { afterId: -1 }), { field: 'after_id' });
      await assert.rejects(listMessages(chat.keyspace, 'bob', { limit: 5000 }), { field: 'limit' });
    });
  });

  describe('sessions', () => {
    beforeEach(async () => {
      await chat.apply(register('alice', 50));
    });

    it('treats a session as valid until it, or every session issued up to a time, is revoked', async () => {
      assert.equal(await sessionStatus(chat.keyspace, 'alice', 's1', 100), 'valid');
      await chat.apply(revoke('alice', 's1', 10_000, 200));
      assert.equal(await sessionStatus(chat.keyspace, 'alice', 's1', 100), 'revoked');
      assert.equal(await sessionStatus(chat.keyspace, 'alice', 's2', 100), 'valid');
      await chat.apply(revoke('alice', '', 0, 300));
      assert.equal(await sessionStatus(chat.keyspace, 'alice', 's2', 300), 'revoked');
      assert.equal(await sessionStatus(chat.keyspace, 'alice', 's3', 301), 'valid');
      assert.equal(await sessionStatus(chat.keyspace, 'nobody', 's1', 301), 'no-account');
    });

    it('refuses a token issued before the account was created, as one of a deleted namesake', async () => {
      await chat.apply(register('bob', 5_000));
      assert.equal(await sessionStatus(chat.keyspace, 'bob', 's1', 4_999), 'revoked');
      assert.equal(await sessionStatus(chat.keyspace, 'bob', 's1', 5_000), 'valid');
    });

    it('answers getAccount for an unknown or malformed username with undefined', async () => {
      assert.equal(await getAccount(chat.keyspace, 'nobody'), undefined);
      assert.equal(await getAccount(chat.keyspace, 'a/../alice'), undefined);
    });
  });
});
