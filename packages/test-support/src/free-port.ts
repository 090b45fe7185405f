import { createServer } from 'node:net';

const HOST = '127.0.0.1';
/** Redis Cluster's bus listens on the client port + 10000. */
export const CLUSTER_BUS_OFFSET = 10_000;

/** Whether `port` can be bound on 127.0.0.1 right now. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: HOST, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function ephemeralPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: HOST, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not read the bound port'))));
    });
  });
}

/**
 * A port that was free a moment ago (bind to 0, read the port, close). Another process can still
 * take it before redis-server binds it; startRedisServer retries on "Address already in use".
 * With `clusterBus`, port + 10000 must be a valid port and free as well.
 */
export async function freePort(options: { clusterBus?: boolean } = {}): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await ephemeralPort();
    if (!options.clusterBus) return port;
    const bus = port + CLUSTER_BUS_OFFSET;
    if (bus <= 65_535 && (await isPortFree(bus))) return port;
  }
  throw new Error(
    `no free port${options.clusterBus ? ' with a free cluster bus port (+10000)' : ''} in 50 tries`,
  );
}
