// The chat state machine's command semantics, applied to a real classic-level keyspace.
import assert from 'node:assert/strict';
import { StoredMessage } from '../../src/gen/raftchat/command/v1/command.js';
import { getAccount, isSessionRevoked, listMessages, unreadCount } from '../../src/chat/index.js';
import { accountKey, counterKey, dedupKey, messageKey, revocationKey } from '../../src/chat/keys.js';
import {
  ChatHarness,
  counted,
  deleteAccount,
  deleteMessages,
  errorCode,
  errorMessage,
  markRead,
  register,
  revoke,
  send,
  sent,
} from './harness.js';

describe('ChatStateMachine', () => {
  let chat: ChatHarness;
  beforeEach(async () => {
    chat = await ChatHarness.open();
  });
  afterEach(async () => {
    await chat.close();
  });

  /** Counts unread messages by scanning the inbox, to check the counter against. */
  async function scannedUnread(username: string): Promise<number> {
    const { messages } = await listMessages(chat.keyspace, username, { unreadOnly: true, limit: 1000 });
    return messages.length;
  }

  describe('Register', () => {
    it('stores the account with its hash, salt and creation time', async () => {
      const result = await chat.apply(register('alice', 1234));
      assert.deepEqual(result, { kind: { $case: 'register', value: { username: 'alice' } } });
      const account = await getAccount(chat.keyspace, 'alice');
      assert.deepEqual(account, {
        username: 'alice',
        passwordHash: new Uint8Array([1, 2, 3]),
        salt: new Uint8Array([4, 5]),
        createdAtUnixMs: 1234,
        sessionsValidAfterUnixMs: 0,
      });
    });

    it('refuses a taken username with ALREADY_EXISTS and keeps the first account', async () => {
      await chat.apply(register('alice', 1));
      const result = await chat.apply(register('alice', 2));
      assert.equal(errorCode(result), 'ALREADY_EXISTS');
      assert.equal((await getAccount(chat.keyspace, 'alice'))?.createdAtUnixMs, 1);
    });

    it('refuses a username that would break the key layout with INVALID_ARGUMENT and writes nothing', async () => {
      for (const username of ['', 'bob/x', 'Bob', 'a'.repeat(33)]) {
        assert.equal(errorCode(await chat.apply(register(username))), 'INVALID_ARGUMENT', username);
      }
      assert.deepEqual(await chat.contents(), []);
    });

    it('refuses an empty password hash with INVALID_ARGUMENT', async () => {
      const result = await chat.apply({
        kind: { $case: 'register', value: { username: 'alice', passwordHash: new Uint8Array(0), salt: new Uint8Array([1]), createdAtUnixMs: 1 } },
      });
      assert.equal(errorCode(result), 'INVALID_ARGUMENT');
      assert.equal(await getAccount(chat.keyspace, 'alice'), undefined);
    });
  });

  describe('Send', () => {
    beforeEach(async () => {
      await chat.applyBatch([register('alice'), register('bob')]);
    });

    it('stores the message in the recipient inbox with the log index as its id', async () => {
      const batch = await chat.applyBatch([send('alice', 'bob', 'hi', '', 5_000)]);
      const index = batch.indexes[0]!;
      const expected = { id: index, sender: 'alice', recipient: 'bob', body: 'hi', sentAtUnixMs: 5_000, read: false };
      assert.deepEqual(sent(batch.results.get(index)), { message: expected, duplicate: false });
      assert.deepEqual((await listMessages(chat.keyspace, 'bob')).messages, [expected]);
      assert.deepEqual((await listMessages(chat.keyspace, 'alice')).messages, []);
      assert.equal(await unreadCount(chat.keyspace, 'bob'), 1);
      assert.deepEqual(batch.events.messages, [expected]);
    });

    it('refuses an unknown sender with NOT_FOUND naming the sender', async () => {
      const result = await chat.apply(send('carol', 'bob', 'hi'));
      assert.equal(errorCode(result), 'NOT_FOUND');
      assert.match(errorMessage(result), /sender carol/);
      assert.equal(await unreadCount(chat.keyspace, 'bob'), 0);
    });

    it('refuses an unknown recipient with NOT_FOUND naming the recipient', async () => {
      const result = await chat.apply(send('alice', 'carol', 'hi', 'req-1'));
      assert.equal(errorCode(result), 'NOT_FOUND');
      assert.match(errorMessage(result), /recipient carol/);
      // A failed send leaves no dedup record: a retry after registering carol can still succeed.
      assert.equal(await chat.keyspace.get(dedupKey('alice', 0, 'req-1')), undefined);
    });

    it('lets a user send to themselves', async () => {
      const { message } = sent(await chat.apply(send('alice', 'alice', 'note to self')));
      assert.equal(message.recipient, 'alice');
      assert.equal(await unreadCount(chat.keyspace, 'alice'), 1);
    });
  });

  describe('MarkRead', () => {
    let ids: number[];
    beforeEach(async () => {
      await chat.applyBatch([register('alice'), register('bob')]);
      const batch = await chat.applyBatch([send('alice', 'bob', 'one'), send('alice', 'bob', 'two'), send('bob', 'alice', 'three')]);
      ids = batch.indexes;
    });

    it('marks the caller’s unread messages read and returns how many changed', async () => {
      assert.equal(counted(await chat.apply(markRead('bob', [ids[0]!, ids[1]!]))), 2);
      assert.equal(await unreadCount(chat.keyspace, 'bob'), 0);
      const { messages } = await listMessages(chat.keyspace, 'bob');
      assert.deepEqual(messages.map((m) => m.read), [true, true]);
    });

    it('does not count messages that were already read, or ids named twice', async () => {
      assert.equal(counted(await chat.apply(markRead('bob', [ids[0]!, ids[0]!]))), 1);
      assert.equal(counted(await chat.apply(markRead('bob', [ids[0]!, ids[1]!]))), 1);
      assert.equal(await unreadCount(chat.keyspace, 'bob'), 0);
    });

    it('changes nothing for ids in another user’s inbox or that do not exist', async () => {
      const before = await chat.contents();
      // ids[2] is in alice's inbox; bob may not touch it.
      assert.equal(counted(await chat.apply(markRead('bob', [ids[2]!, 999_999, 0]))), 0);
      assert.deepEqual(await chat.contents(), before);
      assert.equal(await unreadCount(chat.keyspace, 'alice'), 1);
    });

    it('refuses an account that does not exist with NOT_FOUND', async () => {
      assert.equal(errorCode(await chat.apply(markRead('carol', [ids[0]!]))), 'NOT_FOUND');
    });
  });

  describe('DeleteMessages', () => {
    let ids: number[];
    beforeEach(async () => {
      await chat.applyBatch([register('alice'), register('bob')]);
      const batch = await chat.applyBatch([send('alice', 'bob', 'one'), send('alice', 'bob', 'two'), send('bob', 'alice', 'three')]);
      ids = batch.indexes;
    });

    it('deletes the caller’s messages, returns how many, and keeps the unread counter exact', async () => {
      await chat.apply(markRead('bob', [ids[0]!]));
      assert.equal(counted(await chat.apply(deleteMessages('bob', [ids[0]!, ids[1]!, ids[1]!]))), 2);
      assert.deepEqual((await listMessages(chat.keyspace, 'bob')).messages, []);
      assert.equal(await unreadCount(chat.keyspace, 'bob'), 0);
      assert.equal(await chat.keyspace.get(counterKey('bob')), undefined, 'a zero counter is no key');
    });

    it('deletes a read message without touching the unread counter', async () => {
      await chat.apply(markRead('bob', [ids[0]!]));
      assert.equal(counted(await chat.apply(deleteMessages('bob', [ids[0]!]))), 1);
      assert.equal(await unreadCount(chat.keyspace, 'bob'), 1);
      assert.equal(await scannedUnread('bob'), 1);
    });

    it('changes nothing for ids in another user’s inbox', async () => {
      const before = await chat.contents();
      assert.equal(counted(await chat.apply(deleteMessages('bob', [ids[2]!]))), 0);
      assert.deepEqual(await chat.contents(), before);
      assert.equal((await listMessages(chat.keyspace, 'alice')).messages.length, 1);
    });
  });

  describe('DeleteAccount', () => {
    it('deletes the account, its inbox, counter, dedup records and revocations, and nothing of others', async () => {
      await chat.applyBatch([register('alice'), register('bob'), register('bo')]);
      await chat.applyBatch([
        send('alice', 'bob', 'to bob', 'a-1'),
        send('bob', 'alice', 'to alice', 'b-1'),
        send('alice', 'bo', 'to bo'),
        revoke('bob', 'session-1', 10_000, 1_000),
      ]);
      const batch = await chat.applyBatch([deleteAccount('bob')]);
      assert.deepEqual(batch.events.deletedAccounts, ['bob']);
      const keys = (await chat.contents()).map(([key]) => key);
      assert.equal(keys.filter((key) => /^[amnder]\/bob(\/|$)/.test(key)).length, 0, keys.join(' '));
      // bob's outgoing message stays in alice's inbox; "bo", a prefix of "bob", is untouched.
      assert.equal((await listMessages(chat.keyspace, 'alice')).messages.length, 1);
      assert.equal((await listMessages(chat.keyspace, 'bo')).messages.length, 1);
      assert.equal(await unreadCount(chat.keyspace, 'bo'), 1);
      assert.ok(keys.includes(dedupKey('alice', 0, 'a-1')));
    });

    it('refuses an account that does not exist with NOT_FOUND', async () => {
      assert.equal(errorCode(await chat.apply(deleteAccount('nobody'))), 'NOT_FOUND');
    });

    it('frees the username: registering it again starts with an empty inbox', async () => {
      await chat.applyBatch([register('alice'), register('bob')]);
      await chat.apply(send('alice', 'bob', 'old'));
      await chat.apply(deleteAccount('bob'));
      assert.equal(errorCode(await chat.apply(send('alice', 'bob', 'x'))), 'NOT_FOUND');
      assert.equal(errorCode(await chat.apply(register('bob'))), undefined);
      assert.deepEqual((await listMessages(chat.keyspace, 'bob')).messages, []);
      assert.equal(await unreadCount(chat.keyspace, 'bob'), 0);
    });
  });

  describe('RevokeSessions', () => {
    beforeEach(async () => {
      await chat.apply(register('alice'));
    });

    it('records one revoked session until its expiry', async () => {
      const batch = await chat.applyBatch([revoke('alice', 's1', 5_000, 1_000)]);
      assert.deepEqual(batch.events.revokedUsers, ['alice']);
      assert.equal(await isSessionRevoked(chat.keyspace, 'alice', 's1'), true);
      assert.equal(await isSessionRevoked(chat.keyspace, 'alice', 's2'), false);
    });

    it('prunes the user’s revocations that have expired by the time of a later revocation', async () => {
      await chat.apply(revoke('alice', 's1', 5_000, 1_000));
      await chat.apply(revoke('alice', 's2', 9_000, 1_000));
      await chat.apply(revoke('alice', 's3', 20_000, 6_000));
      assert.equal(await chat.keyspace.get(revocationKey('alice', 's1')), undefined);
      assert.equal(await isSessionRevoked(chat.keyspace, 'alice', 's2'), true);
      assert.equal(await isSessionRevoked(chat.keyspace, 'alice', 's3'), true);
    });

    it('with no session id, moves the account’s sessions-valid-after bound forward and never back', async () => {
      await chat.apply(revoke('alice', '', 0, 7_000));
      assert.equal((await getAccount(chat.keyspace, 'alice'))?.sessionsValidAfterUnixMs, 7_000);
      await chat.apply(revoke('alice', '', 0, 3_000));
      assert.equal((await getAccount(chat.keyspace, 'alice'))?.sessionsValidAfterUnixMs, 7_000);
      assert.equal((await getAccount(chat.keyspace, 'alice'))?.createdAtUnixMs, 1_000);
    });

    it('refuses an account that does not exist with NOT_FOUND', async () => {
      assert.equal(errorCode(await chat.apply(revoke('bob', 's1', 5_000, 1_000))), 'NOT_FOUND');
    });
  });

  describe('malformed entries', () => {
    it('answers undecodable bytes with INVALID_ARGUMENT and goes on applying the batch', async () => {
      const batch = await chat.applyBatch([new Uint8Array([0xff, 0xff, 0xff]), register('alice')]);
      assert.equal(errorCode(batch.results.get(batch.indexes[0]!)), 'INVALID_ARGUMENT');
      assert.equal(errorCode(batch.results.get(batch.indexes[1]!)), undefined);
      assert.ok(await getAccount(chat.keyspace, 'alice'));
    });

    it('answers a command of a kind it does not know with INVALID_ARGUMENT', async () => {
      // Field 15, varint 1: a command kind from a future version.
      const result = await chat.apply(new Uint8Array([15 << 3, 1]));
      assert.equal(errorCode(result), 'INVALID_ARGUMENT');
      assert.equal(errorCode(await chat.apply(new Uint8Array(0))), 'INVALID_ARGUMENT');
    });

    it('refuses a batch whose indexes do not increase', async () => {
      await assert.rejects(
        chat.machine.applyBatch(chat.keyspace, [
          { index: 5, data: new Uint8Array(0) },
          { index: 5, data: new Uint8Array(0) },
        ]),
        { name: 'StateMachineError', code: 'INVALID_BATCH' },
      );
    });
  });

  it('stores messages as StoredMessage under m/<recipient>/<16-hex id>', async () => {
    await chat.applyBatch([register('alice'), register('bob')]);
    const { message } = sent(await chat.apply(send('alice', 'bob', 'hi')));
    assert.equal(messageKey('bob', message.id), `m/bob/${message.id.toString(16).padStart(16, '0')}`);
    const bytes = await chat.keyspace.get(messageKey('bob', message.id));
    assert.deepEqual(StoredMessage.decode(bytes!), message);
    assert.ok(await chat.keyspace.get(accountKey('alice')));
  });
});
