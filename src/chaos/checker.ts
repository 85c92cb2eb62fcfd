// The chaos checker: after a fault scenario and once the cluster has settled, proves that every
// acknowledged message is on every replica exactly once and in the same order, that subscribers
// saw their inboxes, and that the replicas' state digests agree. This file is its public face.
export { checkObservations } from './checker-rules.js';
export type { ObservedMessage, Observations, ReplicaObservation } from './checker-rules.js';
export { verifyWorkload, observeReplicas } from './checker-collect.js';
export type { CollectOptions, ReplicaEndpoint } from './checker-collect.js';
export { formatReport } from './checker-report.js';
export type * from './checker-report.js';
