import { Module } from '@nestjs/common';
import { CacheModule } from '@org/cache-nestjs';
import { CdcChannelModule } from '../cdc/cdc-channel.module.js';
import { HttpRequestCounter } from './http-requests.js';
import { ObservabilityController } from './observability.controller.js';
import {
  BucketReader,
  DashboardService,
  DOMAIN_DEFINITIONS,
  MetricsService,
  serviceDomainsProvider,
} from './observability.providers.js';

@Module({
  imports: [CacheModule.forFeature(DOMAIN_DEFINITIONS), CdcChannelModule],
  controllers: [ObservabilityController],
  providers: [
    serviceDomainsProvider,
    BucketReader,
    DashboardService,
    MetricsService,
    { provide: HttpRequestCounter, useFactory: () => new HttpRequestCounter() },
  ],
  exports: [HttpRequestCounter],
})
export class ObservabilityModule {}
