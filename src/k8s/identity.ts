// Who this pod is in the cluster: its member id is its pod name, its ordinal comes from that name,
// and every member's addresses are the stable DNS names the headless Service gives StatefulSet pods.

import { KubernetesError } from './errors.js';

export interface StatefulSetIdentity {
  namespace: string;
  statefulSet: string;
  headlessService: string;
  clusterDomain: string;
  /** Ports every pod listens on (the same in every pod of a StatefulSet). */
  clientPort: number;
  peerPort: number;
  /**
   * TEST ONLY: `<dns-host>/client` or `<dns-host>/peer` → `host:port` replacements of derived
   * addresses, for running pods as local processes (no cluster DNS, one port per process).
   * Empty in a real cluster.
   */
  addressOverrides: ReadonlyMap<string, string>;
}

export interface MemberAddresses {
  clientAddress: string;
  peerAddress: string;
}

/** `<statefulset>-<n>`: the StatefulSet controller names pods this way, n a decimal without leading zeros. */
export function podName(statefulSet: string, ordinal: number): string {
  return `${statefulSet}-${ordinal}`;
}

/** The ordinal of a pod of `statefulSet`, or undefined when `memberId` is not one of its pods. */
export function ordinalOf(memberId: string, statefulSet: string): number | undefined {
  const prefix = `${statefulSet}-`;
  if (!memberId.startsWith(prefix)) return undefined;
  const digits = memberId.slice(prefix.length);
  if (!/^(0|[1-9][0-9]{0,8})$/.test(digits)) return undefined;
  return Number(digits);
}

/** Like ordinalOf, for this pod's own name: a pod that is not a StatefulSet pod cannot run here. */
export function requireOrdinal(memberId: string, statefulSet: string): number {
  const ordinal = ordinalOf(memberId, statefulSet);
  if (ordinal === undefined) {
    throw new KubernetesError(
      'INVALID_IDENTITY',
      `pod name "${memberId}" is not "${statefulSet}-<ordinal>": check RAFTCHAT_ID (metadata.name) and RAFTCHAT_STATEFULSET`,
    );
  }
  return ordinal;
}

/** The stable DNS name of a StatefulSet pod behind its headless Service. */
export function podHost(identity: StatefulSetIdentity, pod: string): string {
  return `${pod}.${identity.headlessService}.${identity.namespace}.svc.${identity.clusterDomain}`;
}

/** The addresses a member advertises, and that peers use to reach ordinal `ordinal`. */
export function memberAddresses(identity: StatefulSetIdentity, pod: string): MemberAddresses {
  const host = podHost(identity, pod);
  return {
    clientAddress: identity.addressOverrides.get(`${host}/client`) ?? `${host}:${identity.clientPort}`,
    peerAddress: identity.addressOverrides.get(`${host}/peer`) ?? `${host}:${identity.peerPort}`,
  };
}

/** Parses `from=to,from=to` (TEST ONLY, see StatefulSetIdentity.addressOverrides). */
export function parseAddressOverrides(text: string): Map<string, string> {
  const overrides = new Map<string, string>();
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0 || eq === part.length - 1) {
      throw new KubernetesError('INVALID_IDENTITY', `address override "${part}" is not <dns-host>/<client|peer>=host:port`);
    }
    overrides.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return overrides;
}

/** The port of a `host:port` listen address (`0.0.0.0:50051` → 50051). */
export function portOf(address: string): number {
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new KubernetesError('INVALID_IDENTITY', `"${address}" has no valid port`);
  }
  return port;
}
