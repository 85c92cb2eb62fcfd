// Free loopback ports for the e2e: single ones from the kernel (port 0), and a block for
// LocalCluster, whose replica i uses base+i, base+100+i and base+200+i.
import { createServer, type AddressInfo, type Server } from 'node:net';
import { randomInt } from 'node:crypto';

function listen(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function freePort(): Promise<number> {
  const server = await listen(0);
  if (server === undefined) throw new Error('could not listen on 127.0.0.1:0');
  const port = (server.address() as AddressInfo).port;
  await close(server);
  return port;
}

/**
 * A base port whose client, peer and metrics ports for `replicas` replicas are all free right now
 * (another test may still take one before the cluster binds it; the cluster then fails loudly).
 */
export async function freeLocalClusterBasePort(replicas: number, attempts = 30): Promise<number> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const base = randomInt(20_000, 40_000);
    const ports = [0, 100, 200].flatMap((offset) => Array.from({ length: replicas }, (_, i) => base + offset + i));
    const servers: Server[] = [];
    let free = true;
    for (const port of ports) {
      const server = await listen(port);
      if (server === undefined) {
        free = false;
        break;
      }
      servers.push(server);
    }
    await Promise.all(servers.map(close));
    if (free) return base;
  }
  throw new Error(`no free block of ports for ${replicas} replicas after ${attempts} attempts`);
}
