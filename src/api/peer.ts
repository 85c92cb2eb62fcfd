// Who is calling, as far as the network can tell: the client's address from grpc-js's getPeer()
// (`1.2.3.4:5678`, `::1:5678`, `[::1]:5678`), reduced to the key a per-address limit counts by.
import { isIPv4, isIPv6 } from 'node:net';

/**
 * The address part of a getPeer() string, without the port. grpc-js writes `${address}:${port}`
 * without brackets even for IPv6, so `::1:5000` is ambiguous on its face; it always appends the
 * port of a TCP socket, so a trailing `:digits` is taken as the port whenever what precedes it is
 * an address. Anything else (`unknown`, a Unix socket path) is returned as it is.
 */
export function peerHost(peer: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(peer);
  if (bracketed !== null) return bracketed[1]!;
  const portAt = peer.lastIndexOf(':');
  if (portAt > 0 && /^\d+$/.test(peer.slice(portAt + 1))) {
    const host = peer.slice(0, portAt);
    if (isIPv4(host) || isIPv6(host)) return host;
  }
  return peer;
}

/**
 * The key a per-address limit counts by. An IPv4 address (also when written IPv4-mapped,
 * `::ffff:1.2.3.4`) is its own key; an IPv6 address counts by its /64 network, because one
 * subscriber is routinely handed a whole /64 and could otherwise take a fresh address per attempt.
 */
export function peerKey(peer: string): string {
  const host = peerHost(peer);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  if (mapped !== null) return mapped[1]!;
  if (!isIPv6(host)) return host;
  return `${expandIPv6(host).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, as lower-case hex without leading zeros. */
function expandIPv6(address: string): string[] {
  const withoutZone = address.split('%')[0]!;
  const [head = '', tail] = withoutZone.split('::');
  const groups = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  // An embedded IPv4 tail (`::1.2.3.4`) stands for two groups.
  const width = (gs: string[]): number => gs.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const missing = 8 - width(left) - width(right);
  const all = [...left, ...Array<string>(Math.max(0, missing)).fill('0'), ...right];
  return all.map((g) => (g.includes('.') ? g : (parseInt(g, 16) || 0).toString(16)));
}
