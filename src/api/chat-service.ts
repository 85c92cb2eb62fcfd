// ChatService: accounts, sessions and messages. Writes are proposed through the replica (and so
// through Raft); reads come from this replica's keyspace, after a read barrier unless stale is asked.
import { status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { getAccount, listAccounts, listMessages, unreadCount, type Account } from '../chat/queries.js';
import { dummyVerify, hashPassword, verifyPassword } from '../chat/password.js';
import { ReadConsistency, type ChatServiceServer, type LoginResponse } from '../gen/chat/v1/chat.js';
import type { ChatKeyspace, ReplicaApi } from '../node/types.js';
import type { Authenticator } from './auth.js';
import type { CallContext, CallRunner } from './calls.js';
import { execute, toMessage } from './commands.js';
import { ApiError, invalidArgument } from './errors.js';
import type { LoginThrottle } from './login-throttle.js';
import type { ApiLimits } from './options.js';
import { subscribeHandler } from './subscribe.js';
import type { SubscriptionHub } from './subscriptions.js';
import * as check from './validate.js';

export interface ChatServiceDeps {
  replica: ReplicaApi;
  auth: Authenticator;
  limits: ApiLimits;
  subscriptions: SubscriptionHub;
  calls: CallRunner;
  logger: Logger;
  loginThrottle: LoginThrottle;
}

/** One message for a wrong password and for an unknown user, so Login does not reveal which accounts exist. */
const badCredentials = 'invalid username or password';

export function chatService(deps: ChatServiceDeps): ChatServiceServer {
  const { replica, auth, limits } = deps;
  const handler = <Req, Res>(method: string, handle: (request: Req, context: CallContext) => Promise<Res>) =>
    deps.calls.unary('chat.v1.ChatService', method, handle);

  /** Linearizable reads wait for this replica to apply everything committed before the call (Raft thesis §6.4). */
  const readAt = async (consistency: ReadConsistency, deadlineMs: number): Promise<void> => {
    if (consistency === ReadConsistency.READ_CONSISTENCY_STALE) return;
    if (consistency !== ReadConsistency.READ_CONSISTENCY_LINEARIZABLE) throw invalidArgument('consistency', 'unknown value');
    await replica.readBarrier({ deadlineMs });
  };

  /** A new session for an account whose password was just checked. */
  const newSession = async (account: Account, keyspace: ChatKeyspace): Promise<LoginResponse> => {
    const { token, claims } = auth.signer.issue(account, Date.now());
    return {
      token,
      unreadCount: await unreadCount(keyspace, account.username),
      expiresAtUnixMs: claims.expiresAtUnixMs,
      username: account.username,
    };
  };

  return {
    register: handler('Register', async (request, { deadlineMs, limitExceeded }) => {
      check.username(request.username, 'username', limitExceeded);
      check.newPassword(request.password, 'password', limitExceeded);
      // scrypt runs here, once, on the replica that took the call: the log carries only the hash.
      const { hash, salt } = await hashPassword(request.password);
      const value = { username: request.username, passwordHash: hash, salt, createdAtUnixMs: Date.now() };
      const result = await execute(replica, { kind: { $case: 'register', value } }, 'register', deadlineMs);
      return { username: result.username };
    }),

    login: handler('Login', async (request, { deadlineMs, peer, limitExceeded }) => {
      check.username(request.username, 'username', limitExceeded);
      check.passwordToCheck('password', request.password, limitExceeded);
      // Before the account is read: a throttled name is refused the same way whether it exists or not.
      const attempt = deps.loginThrottle.begin(request.username, peer);
      let passwordWrong = false;
      try {
        await replica.readBarrier({ deadlineMs });
        const keyspace = replica.keyspace();
        const account = await getAccount(keyspace, request.username);
        if (account === undefined) {
          // As slow as a real check, so timing does not reveal which usernames exist.
          await dummyVerify(request.password);
          passwordWrong = true;
          throw new ApiError(status.UNAUTHENTICATED, badCredentials);
        }
        if (!(await verifyPassword(request.password, account.passwordHash, account.salt))) {
          passwordWrong = true;
          throw new ApiError(status.UNAUTHENTICATED, badCredentials);
        }
        return await newSession(account, keyspace);
      } finally {
        // Only a wrong password counts against the throttle: a success, or a failure before any
        // password was checked (no quorum, deadline), gives its token back.
        if (!passwordWrong) attempt.refund();
      }
    }),

    logout: handler('Logout', async (request, { metadata, deadlineMs }) => {
      const session = await auth.authenticate(metadata, deadlineMs);
      const now = Date.now();
      const value = {
        username: session.username,
        sessionId: request.allSessions ? '' : session.sessionId,
        // Revocation records can be forgotten once the tokens they refuse would have expired anyway.
        expiresAtUnixMs: request.allSessions ? now + auth.signer.ttlMs : session.expiresAtUnixMs,
        atUnixMs: now,
      };
      await execute(replica, { kind: { $case: 'revokeSessions', value } }, 'empty', deadlineMs);
      return {};
    }),

    listAccounts: handler('ListAccounts', async (request, { metadata, deadlineMs, limitExceeded }) => {
      const pattern = check.pattern(request.pattern, 'pattern', limitExceeded);
      const pageSize = check.pageSize(request.pageSize, 'page_size', limitExceeded);
      await readAt(request.consistency, deadlineMs);
      await auth.authenticate(metadata, deadlineMs);
      const page = await listAccounts(replica.keyspace(), { pattern, pageSize, pageToken: request.pageToken });
      return { usernames: page.usernames, nextPageToken: page.nextPageToken };
    }),

    sendMessage: handler('SendMessage', async (request, { metadata, deadlineMs, limitExceeded }) => {
      check.username(request.recipient, 'recipient', limitExceeded);
      check.body(request.body, limits.maxBodyBytes, 'body', limitExceeded);
      const requestId = check.requestId(request.requestId, 'request_id', limitExceeded);
      const session = await auth.authenticate(metadata, deadlineMs);
      const value = { sender: session.username, recipient: request.recipient, body: request.body, requestId, sentAtUnixMs: Date.now() };
      const result = await execute(replica, { kind: { $case: 'send', value } }, 'send', deadlineMs);
      if (result.message === undefined) throw new Error('a send result without its message');
      return { message: toMessage(result.message), duplicate: result.duplicate };
    }),

    listMessages: handler('ListMessages', async (request, { metadata, deadlineMs, limitExceeded }) => {
      const afterId = check.afterId('after_id', request.afterId);
      const limit = check.pageSize(request.limit, 'limit', limitExceeded);
      await readAt(request.consistency, deadlineMs);
      const session = await auth.authenticate(metadata, deadlineMs);
      const page = await listMessages(replica.keyspace(), session.username, { unreadOnly: request.unreadOnly, afterId, limit });
      return { messages: page.messages.map(toMessage), more: page.more };
    }),

    markRead: handler('MarkRead', async (request, { metadata, deadlineMs, limitExceeded }) => {
      const ids = check.ids(request.ids, 'ids', limitExceeded);
      const session = await auth.authenticate(metadata, deadlineMs);
      const value = { username: session.username, ids };
      const result = await execute(replica, { kind: { $case: 'markRead', value } }, 'count', deadlineMs);
      return { updated: result.count };
    }),

    deleteMessages: handler('DeleteMessages', async (request, { metadata, deadlineMs, limitExceeded }) => {
      const ids = check.ids(request.ids, 'ids', limitExceeded);
      const session = await auth.authenticate(metadata, deadlineMs);
      const value = { username: session.username, ids };
      const result = await execute(replica, { kind: { $case: 'deleteMessages', value } }, 'count', deadlineMs);
      return { deleted: result.count };
    }),

    deleteAccount: handler('DeleteAccount', async (request, { metadata, deadlineMs, limitExceeded }) => {
      check.passwordToCheck('password', request.password, limitExceeded);
      await replica.readBarrier({ deadlineMs });
      const session = await auth.authenticate(metadata, deadlineMs);
      const account = await getAccount(replica.keyspace(), session.username);
      if (account === undefined || !(await verifyPassword(request.password, account.passwordHash, account.salt))) {
        throw new ApiError(status.PERMISSION_DENIED, 'password: does not match; the account was not deleted');
      }
      await execute(replica, { kind: { $case: 'deleteAccount', value: { username: session.username } } }, 'empty', deadlineMs);
      return {};
    }),

    subscribe: subscribeHandler(deps),
  };
}
