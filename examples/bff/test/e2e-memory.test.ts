import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BffClient } from './support/bff-client.js';
import { cacheScenarios } from './support/scenarios.js';
import { type BffProcess, startBff } from './support/service.js';

describe('the BFF on the in-memory store (the default)', { timeout: 30_000 }, () => {
  let service: BffProcess;
  let client: BffClient;

  beforeAll(async () => {
    service = await startBff({ SERVICES_CACHE_SAFETY_TTL_SECONDS: '3600' });
    client = new BffClient(service.url);
  }, 30_000);

  afterAll(async () => {
    await service?.stop();
  });

  it('prints the store, the CDC source and the URLs to open', async () => {
    const banner = service.output();
    expect(banner).toContain('store:      in-memory (memory)');
    expect(banner).toContain('cdc source: in-process');
    for (const path of ['/dashboard', '/health', '/metrics', '/api/orders/001ACME', '/dev/cdc'])
      expect(banner).toContain(`${service.url}${path}`);
    expect(banner).toMatch(/curl -X POST \S+\/dev\/cdc/);
    expect((await client.dashboard()).store).toEqual({ name: 'in-memory', kind: 'memory' });
  });

  cacheScenarios(() => client, { safetyTtlSeconds: 3600 });
});
