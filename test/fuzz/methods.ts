// Every method of the public API with the shape of its request (proto/chat/v1/chat.proto) and what
// it takes to be allowed to call it — the fuzz's map of the surface it attacks. Kept by hand (who may
// call a method is not in the .proto); oracle.test.ts checks the paths and fields against chat.proto.

import { ChatServiceService, ClusterServiceService } from '../../src/gen/chat/v1/chat.js';

export type FieldType = 'string' | 'uint64' | 'uint32' | 'bool' | 'enum' | 'repeated-uint64';

export interface FieldSpec {
  number: number;
  name: string;
  type: FieldType;
}

/** Who may succeed: anyone, a caller with a session token, or the operator (admin token). */
export type Access = 'open' | 'session' | 'admin';

export interface MethodSpec {
  /** The HTTP/2 path, `/chat.v1.ChatService/SendMessage`. */
  path: string;
  streaming: boolean;
  access: Access;
  fields: readonly FieldSpec[];
}

const chat = (name: string) => `/chat.v1.ChatService/${name}`;
const cluster = (name: string) => `/chat.v1.ClusterService/${name}`;
const consistency: FieldSpec = { number: 4, name: 'consistency', type: 'enum' };

export const METHODS: readonly MethodSpec[] = [
  { path: chat('Register'), streaming: false, access: 'open', fields: [
    { number: 1, name: 'username', type: 'string' },
    { number: 2, name: 'password', type: 'string' },
  ] },
  { path: chat('Login'), streaming: false, access: 'open', fields: [
    { number: 1, name: 'username', type: 'string' },
    { number: 2, name: 'password', type: 'string' },
  ] },
  { path: chat('Logout'), streaming: false, access: 'session', fields: [{ number: 1, name: 'all_sessions', type: 'bool' }] },
  { path: chat('ListAccounts'), streaming: false, access: 'session', fields: [
    { number: 1, name: 'pattern', type: 'string' },
    { number: 2, name: 'page_size', type: 'uint32' },
    { number: 3, name: 'page_token', type: 'string' },
    consistency,
  ] },
  { path: chat('SendMessage'), streaming: false, access: 'session', fields: [
    { number: 1, name: 'recipient', type: 'string' },
    { number: 2, name: 'body', type: 'string' },
    { number: 3, name: 'request_id', type: 'string' },
  ] },
  { path: chat('ListMessages'), streaming: false, access: 'session', fields: [
    { number: 1, name: 'unread_only', type: 'bool' },
    { number: 2, name: 'after_id', type: 'uint64' },
    { number: 3, name: 'limit', type: 'uint32' },
    consistency,
  ] },
  { path: chat('MarkRead'), streaming: false, access: 'session', fields: [{ number: 1, name: 'ids', type: 'repeated-uint64' }] },
  { path: chat('DeleteMessages'), streaming: false, access: 'session', fields: [{ number: 1, name: 'ids', type: 'repeated-uint64' }] },
  { path: chat('DeleteAccount'), streaming: false, access: 'session', fields: [{ number: 1, name: 'password', type: 'string' }] },
  { path: chat('Subscribe'), streaming: true, access: 'session', fields: [{ number: 1, name: 'after_id', type: 'uint64' }] },
  { path: cluster('GetStatus'), streaming: false, access: 'open', fields: [] },
  { path: cluster('GetDigest'), streaming: false, access: 'open', fields: [] },
  // The fuzz never holds the admin token: a membership call that succeeds is an authorization bypass.
  { path: cluster('AddMember'), streaming: false, access: 'admin', fields: [
    { number: 1, name: 'id', type: 'string' },
    { number: 2, name: 'peer_address', type: 'string' },
    { number: 3, name: 'client_address', type: 'string' },
    { number: 4, name: 'as_learner', type: 'bool' },
    { number: 5, name: 'incarnation', type: 'string' },
  ] },
  { path: cluster('RemoveMember'), streaming: false, access: 'admin', fields: [{ number: 1, name: 'id', type: 'string' }] },
  { path: cluster('TransferLeadership'), streaming: false, access: 'admin', fields: [{ number: 1, name: 'to_id', type: 'string' }] },
];

export const UNARY_METHODS = METHODS.filter((m) => !m.streaming);

export function method(path: string): MethodSpec {
  const found = METHODS.find((m) => m.path === path);
  if (found === undefined) throw new Error(`no method ${path}`);
  return found;
}

/** The short name for reports: `SendMessage`. */
export function shortName(spec: MethodSpec): string {
  return spec.path.slice(spec.path.lastIndexOf('/') + 1);
}

type RequestDecoder = (bytes: Buffer) => unknown;

/** The generated decoders the server itself runs on each request (src/gen, through grpc-js). */
const decoders = new Map<string, RequestDecoder>(
  [...Object.values(ChatServiceService), ...Object.values(ClusterServiceService)].map((d): [string, RequestDecoder] => [d.path, (b) => d.requestDeserialize(b)]),
);

/** Decodes a request the way the server will; undefined when the server's decoder throws on it. */
export function decodeRequest(path: string, bytes: Uint8Array): unknown {
  const decode = decoders.get(path);
  if (decode === undefined) throw new Error(`no decoder for ${path}`);
  try {
    return decode(Buffer.from(bytes));
  } catch {
    return undefined;
  }
}
