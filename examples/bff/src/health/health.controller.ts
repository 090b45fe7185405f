import type { ServerResponse } from 'node:http';
import { Controller, Get, Inject, Res, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheck, type HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import type { Invalidator } from '@org/cache-cdc';
import type { CacheHealth } from '@org/cache-core';
import { CacheHealthIndicator } from '@org/cache-nestjs';
import { InjectInvalidator } from '@org/cache-nestjs/cdc';
import { sendJson } from '../http/respond.js';
import { CHOSEN_STORE } from '../store/cache-setup.module.js';
import type { ChosenStore } from '../store/choose-store.js';

/** What `CacheHealthIndicator` puts in a check's details (see its docs). */
type CacheDetails = Pick<CacheHealth, 'timestamp' | 'store'> & { cacheStatus: CacheHealth['status'] };

/**
 * GET /health through @nestjs/terminus and `CacheHealthIndicator`: terminus decides the status
 * code (503 when the cache is `down`: store unreachable, circuit open, the change-event source
 * down; 200 when `up` or `degraded`). The body keeps the service's documented shape (`status`,
 * `timestamp`, `store`, `subscriber`, which dashboards and the tests read) and adds terminus's own
 * result under `terminus`.
 */
@Controller()
export class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(CacheHealthIndicator) private readonly cacheHealth: CacheHealthIndicator,
    @InjectInvalidator() private readonly invalidator: Invalidator,
    @Inject(CHOSEN_STORE) private readonly store: ChosenStore,
  ) {}

  @Get('health')
  @HealthCheck()
  async check(@Res() res: ServerResponse): Promise<void> {
    const result = await this.health
      .check([() => this.cacheHealth.isHealthy('cache')])
      .catch((error: unknown) => {
        if (error instanceof ServiceUnavailableException) return error.getResponse() as HealthCheckResult;
        throw error;
      });
    const cache = (result.details.cache ?? result.error?.cache) as unknown as CacheDetails | undefined;
    if (cache === undefined) throw new Error(`terminus reported no cache check: ${JSON.stringify(result)}`);
    const { name: _name, ...store } = cache.store;
    sendJson(res, result.status === 'error' || result.status === 'shutting_down' ? 503 : 200, {
      status: cache.cacheStatus,
      timestamp: cache.timestamp,
      store: { name: this.store.name, kind: this.store.kind, ...store },
      subscriber: this.invalidator.health(),
      terminus: result,
    });
  }
}
