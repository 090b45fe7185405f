import type { ServerResponse } from 'node:http';
import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Cache } from '@org/cache-core';
import { InjectCache } from '@org/cache-nestjs';
import { sendText } from '../http/respond.js';
import { cacheHealthPayload } from './cache-health-payload.js';
import { BucketReader, DashboardService, MetricsService } from './observability.providers.js';

/** The seed's cache payload, Prometheus metrics and the dashboard's JSON. */
@Controller()
export class ObservabilityController {
  constructor(
    @InjectCache() private readonly cache: Cache,
    @Inject(BucketReader) private readonly buckets: BucketReader,
    @Inject(DashboardService) private readonly dashboard: DashboardService,
    @Inject(MetricsService) private readonly metrics: MetricsService,
  ) {}

  /** Exactly the payload the hand-written services returned (dashboards and alerts read it). */
  @Get('api/health/services/cache')
  cachePayload() {
    return cacheHealthPayload(this.cache, this.buckets.reports());
  }

  @Get('metrics')
  async prometheus(@Res() res: ServerResponse): Promise<void> {
    const { registry } = this.metrics.metrics;
    sendText(res, 200, registry.contentType, await registry.metrics());
  }

  @Get('api/dashboard')
  state() {
    return this.dashboard.state();
  }

  /** The last minutes of samples, so a page opened now draws its charts at once. */
  @Get('api/dashboard/history')
  history() {
    return this.dashboard.history();
  }
}
