// The peer transport's public surface: PeerTransport (sending) and startPeerServer (receiving).

export { PeerTransport } from './transport.js';
export type { ForwardResult, PeerStatus, PeerTransportOptions } from './transport.js';
export { addPeerService, startPeerServer } from './server.js';
export type { PeerHandlers, PeerServer, PeerServerOptions, PeerServiceOptions } from './server.js';
export type { IncomingSnapshot } from './server-snapshot.js';
export type { SnapshotSource } from './snapshot-send.js';
export { SnapshotDigest } from './snapshot-digest.js';
export type { KeyValuePair } from './snapshot-digest.js';
export { TransportError } from './errors.js';
export type { TransportErrorCode } from './errors.js';
export type { PeerSecret } from './auth.js';
