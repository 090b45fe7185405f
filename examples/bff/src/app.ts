import type { Server } from 'node:http';
import { createInvalidator, type Invalidator } from '@org/cache-cdc';
import { type Cache, createCache, ttl } from '@org/cache-core';
import type { CdcChannel } from './cdc/channel.js';
import { chooseCdcChannel } from './cdc/choose-channel.js';
import { RecentInvalidations, recordedSource } from './cdc/recent-invalidations.js';
import { invalidationRules } from './cdc/rules.js';
import { CdcSimulator } from './cdc/simulator.js';
import type { BffConfig } from './config.js';
import { createCatalog } from './domains/catalog.js';
import { createInvoices } from './domains/invoices.js';
import { createOrders } from './domains/orders.js';
import { createPricing } from './domains/pricing.js';
import { Router } from './http/router.js';
import { createHttpServer } from './http/server.js';
import { bucketReports } from './observability/bucket-stats.js';
import { HttpRequestCounter } from './observability/http-requests.js';
import { createServiceMetrics } from './observability/service-metrics.js';
import { apiRoutes } from './routes/api.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { devRoutes } from './routes/dev.js';
import { classifyError } from './routes/error-classes.js';
import { observabilityRoutes } from './routes/observability.js';
import { type ChosenStore, chooseStore } from './store.js';
import { SalesforceSimulator } from './upstream/salesforce.js';
import { WhmcsSimulator } from './upstream/whmcs.js';

export interface Bff {
  server: Server;
  cache: Cache;
  invalidator: Invalidator;
  store: Pick<ChosenStore, 'name' | 'kind'>;
  cdc: Pick<CdcChannel, 'kind' | 'description'>;
  /** Starts listening; resolves to the base URL. */
  listen(): Promise<string>;
  /** Stops the simulator, the invalidator, the cache and the server. Idempotent. */
  close(): Promise<void>;
}

/** Wires the service: store, cache and domains, upstreams, change events, routes. */
export async function createBff(config: BffConfig): Promise<Bff> {
  const chosen = chooseStore(config);
  const cache = createCache({ store: chosen.store, prefix: config.cachePrefix, strategy: ttl('5m') });

  const salesforce = new SalesforceSimulator({ latencyMs: config.upstream.salesforceLatencyMs });
  const whmcs = new WhmcsSimulator({
    latencyMs: config.upstream.whmcsLatencyMs,
    failureRate: config.upstream.whmcsFailureRate,
    slowRate: config.upstream.whmcsSlowRate,
  });
  const orders = createOrders(cache, { safetyTtlMs: config.safetyTtlMs, salesforce });
  const catalog = createCatalog(cache, { safetyTtlMs: config.safetyTtlMs, salesforce });
  const invoices = createInvoices(cache, { whmcs });
  const pricing = createPricing(cache, { salesforce });

  const invalidator = createInvalidator(cache, invalidationRules(orders));
  const recent = new RecentInvalidations(50);
  const channel = chooseCdcChannel(config);
  const simulator = new CdcSimulator({ publish: (event) => channel.publish(event), salesforce });
  try {
    await invalidator.subscribe(recordedSource(channel.source, recent));
  } catch (error) {
    await Promise.allSettled([invalidator.close(), channel.close(), cache.close()]);
    throw error;
  }

  const http = new HttpRequestCounter();
  const domains = [orders.domain, catalog.domain, invoices.domain, pricing.domain];
  const metrics = createServiceMetrics({
    cache,
    buckets: () => bucketReports(domains),
    invalidator,
    upstreams: [salesforce.usage, whmcs.usage],
    http,
  });
  const router = new Router();
  apiRoutes(router, { orders, catalog, invoices, pricing });
  observabilityRoutes(router, {
    cache,
    domains,
    invalidator,
    recent,
    store: chosen,
    salesforce: salesforce.usage,
    whmcs: whmcs.usage,
    metrics,
  });
  devRoutes(router, { channel, simulator, maxBodyBytes: config.maxBodyBytes });
  dashboardRoutes(router, { publicDir: config.publicDir });
  const server = createHttpServer({
    router,
    classify: classifyError,
    onRequest: (entry) => http.record(entry),
  });

  let closing: Promise<void> | undefined;
  const close = async () => {
    simulator.stop();
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await invalidator.close();
    await channel.close();
    await cache.close();
    metrics.dispose();
    // Requests still running have had their answer (or their error); cut the keep-alive rest.
    server.closeAllConnections();
    await serverClosed;
  };

  return {
    server,
    cache,
    invalidator,
    store: { name: chosen.name, kind: chosen.kind },
    cdc: { kind: channel.kind, description: channel.description },
    listen: () =>
      new Promise<string>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          const address = server.address();
          const port = typeof address === 'object' && address !== null ? address.port : config.port;
          const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
          resolve(`http://${host.includes(':') ? `[${host}]` : host}:${port}`);
        });
      }),
    close: () => {
      closing ??= close();
      return closing;
    },
  };
}
