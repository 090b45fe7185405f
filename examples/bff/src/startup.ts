import type { Server } from 'node:net';
import type { Cache } from '@org/cache-core';

/** Listens on `port`/`host`; resolves to the base URL to print, rejects with one line for people. */
export function listen(server: Server, port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(new Error(listenFailure(error, port, host)));
    };
    const onListening = () => {
      server.off('error', onError);
      const address = server.address();
      const actual = typeof address === 'object' && address !== null ? address.port : port;
      const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
      resolve(`http://${shown.includes(':') ? `[${shown}]` : shown}:${actual}`);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

function listenFailure(error: NodeJS.ErrnoException, port: number, host: string): string {
  if (error.code === 'EADDRINUSE')
    return `PORT ${port} is already in use on ${host}: stop what listens there, or set PORT to a free port (0 = any)`;
  if (error.code === 'EACCES')
    return `PORT ${port} on ${host} needs privileges this process lacks: set PORT to 1024 or above`;
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND')
    return `HOST ${host} is not an address of this machine: set HOST (default 127.0.0.1)`;
  return `cannot listen on ${host}:${port} (PORT, HOST): ${error.message}`;
}

/**
 * One line when REDIS_URL is set but Redis does not answer at start-up, undefined otherwise. The
 * service still starts (degraded: reads go to the upstreams, /health answers 503) and recovers by
 * itself once Redis answers, as it would after an outage.
 */
export async function redisWarning(cache: Cache, redisUrl: string | undefined): Promise<string | undefined> {
  if (redisUrl === undefined) return undefined;
  const health = await cache.health();
  if (health.store.status !== 'down') return undefined;
  return `REDIS_URL ${withoutCredentials(redisUrl)} is not reachable (${health.store.reason ?? 'no answer'}): starting degraded, reads go to the upstreams and /health answers 503 until Redis answers`;
}

function withoutCredentials(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}
