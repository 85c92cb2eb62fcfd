// The list of `host:port` servers a client knows and which one it tries next. A server that
// answered stays preferred; a failure moves on to the next one in the list.

export class InvalidServerAddressError extends Error {
  override readonly name = 'InvalidServerAddressError';
  readonly code = 'INVALID_SERVER_ADDRESS';
  constructor(readonly address: string) {
    super(`invalid server address "${address}": expected host:port`);
  }
}

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** Checks one `host:port` (IPv6 in brackets) and returns it trimmed. */
export function parseServerAddress(address: string): string {
  const trimmed = address.trim();
  const match = HOST_PORT.exec(trimmed);
  const port = match === null ? NaN : Number(match[2]);
  if (!(port >= 1 && port <= 65_535)) throw new InvalidServerAddressError(address);
  return trimmed;
}

/** Parses `a:1,b:2` (commas and/or whitespace) into a de-duplicated list. */
export function parseServerList(list: string): string[] {
  const servers = list
    .split(/[\s,]+/)
    .filter((part) => part.length > 0)
    .map(parseServerAddress);
  return [...new Set(servers)];
}

export class ServerRing {
  readonly servers: readonly string[];
  private preferredIndex = 0;

  constructor(servers: readonly string[]) {
    if (servers.length === 0) throw new InvalidServerAddressError('(empty list)');
    this.servers = servers.map(parseServerAddress);
  }

  /** The server the next attempt goes to. */
  current(): string {
    return this.servers[this.preferredIndex] as string;
  }

  /** Moves past `failed` (if it is still the current one) and returns the new current server. */
  advance(failed: string): string {
    if (this.current() === failed) this.preferredIndex = (this.preferredIndex + 1) % this.servers.length;
    return this.current();
  }
}
