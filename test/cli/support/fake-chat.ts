// An in-memory ChatService for the chatctl tests: enough behaviour to check what the CLI sends
// and prints, recording every request it gets.
import { status, type Metadata, type ServerWritableStream } from '@grpc/grpc-js';
import {
  ListAccountsResponse,
  type ChatServiceServer,
  type Message,
  type SubscribeRequest,
} from '../../../src/gen/chat/v1/chat.js';
import { grpcError } from './fake-server.js';

export interface FakeChatState {
  passwords: Map<string, string>;
  messages: Message[];
  requests: Array<{ method: string; request: unknown; authorization: string | undefined }>;
  nextId: number;
}

function userOf(metadata: Metadata): string | undefined {
  const value = metadata.get('authorization')[0];
  return typeof value === 'string' && value.startsWith('Bearer tok-') ? value.slice('Bearer tok-'.length) : undefined;
}

export function fakeChat(state: FakeChatState): Partial<ChatServiceServer> {
  const record = (method: string, request: unknown, metadata: Metadata): string | undefined => {
    const authorization = metadata.get('authorization')[0];
    state.requests.push({ method, request, authorization: typeof authorization === 'string' ? authorization : undefined });
    return userOf(metadata);
  };
  return {
    register: (call, callback) => {
      record('register', call.request, call.metadata);
      if (state.passwords.has(call.request.username)) return callback(grpcError(status.ALREADY_EXISTS, 'username taken'));
      state.passwords.set(call.request.username, call.request.password);
      callback(null, { username: call.request.username });
    },
    login: (call, callback) => {
      record('login', call.request, call.metadata);
      if (state.passwords.get(call.request.username) !== call.request.password) {
        return callback(grpcError(status.UNAUTHENTICATED, 'wrong username or password'));
      }
      const unread = state.messages.filter((m) => m.recipient === call.request.username && !m.read).length;
      callback(null, { token: `tok-${call.request.username}`, unreadCount: unread, expiresAtUnixMs: 99, username: call.request.username });
    },
    logout: (call, callback) => {
      record('logout', call.request, call.metadata);
      callback(null, {});
    },
    listAccounts: (call, callback) => {
      record('listAccounts', call.request, call.metadata);
      const names = [...state.passwords.keys()].sort();
      const start = call.request.pageToken === '' ? 0 : Number(call.request.pageToken);
      const size = call.request.pageSize || 100;
      const page = names.slice(start, start + size);
      const next = start + size < names.length ? String(start + size) : '';
      callback(null, ListAccountsResponse.fromPartial({ usernames: page, nextPageToken: next }));
    },
    sendMessage: (call, callback) => {
      const sender = record('sendMessage', call.request, call.metadata);
      if (sender === undefined) return callback(grpcError(status.UNAUTHENTICATED, 'no token'));
      if (!state.passwords.has(call.request.recipient)) {
        return callback(grpcError(status.NOT_FOUND, `no such user ${call.request.recipient}`));
      }
      const message: Message = {
        id: state.nextId++,
        sender,
        recipient: call.request.recipient,
        body: call.request.body,
        sentAtUnixMs: Date.UTC(2026, 10, 23, 12, 0, 0),
        read: false,
      };
      state.messages.push(message);
      callback(null, { message, duplicate: false });
    },
    listMessages: (call, callback) => {
      const user = record('listMessages', call.request, call.metadata);
      const mine = state.messages.filter(
        (m) => m.recipient === user && m.id > call.request.afterId && (!call.request.unreadOnly || !m.read),
      );
      const limit = call.request.limit || 100;
      callback(null, { messages: mine.slice(0, limit), more: mine.length > limit });
    },
    markRead: (call, callback) => {
      record('markRead', call.request, call.metadata);
      callback(null, { updated: call.request.ids.length });
    },
    deleteMessages: (call, callback) => {
      record('deleteMessages', call.request, call.metadata);
      callback(null, { deleted: call.request.ids.length });
    },
    deleteAccount: (call, callback) => {
      const user = record('deleteAccount', call.request, call.metadata);
      if (user === undefined || state.passwords.get(user) !== call.request.password) {
        return callback(grpcError(status.PERMISSION_DENIED, 'wrong password'));
      }
      state.passwords.delete(user);
      callback(null, {});
    },
    subscribe: (call: ServerWritableStream<SubscribeRequest, Message>) => {
      const user = record('subscribe', call.request, call.metadata);
      for (const m of state.messages) if (m.recipient === user && m.id > call.request.afterId) call.write(m);
    },
  };
}

export function emptyChatState(): FakeChatState {
  return { passwords: new Map(), messages: [], requests: [], nextId: 1 };
}
