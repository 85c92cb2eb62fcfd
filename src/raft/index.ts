// The public surface of the Raft core. Everything outside src/raft imports from here only.
export * from './types.js';
export { RaftError, InvariantError, assert, type RaftErrorCode } from './errors.js';
export { RawNode } from './raw-node.js';
export {
  checkPeerMessage, MAX_TERM, type PeerMessageRefusal, type PeerMessageRefusalCode, type ReceiverView,
} from './peer-message.js';
export { MemoryStorage } from './storage.js';
export { encodeConfChange, decodeConfChange } from './confchange/codec.js';
export { applyChange as applyConfChangeToConfState } from './confchange/changer.js';
export { mulberry32 } from './prng.js';
export { entrySizeBytes } from './util.js';
export { maySendBeforePersist } from './ready-order.js';
