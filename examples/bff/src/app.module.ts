import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, DiscoveryModule } from '@nestjs/core';
import { CatalogModule } from './catalog/catalog.module.js';
import { CdcModule } from './cdc/cdc.module.js';
import { BffSettingsModule, bffConfigModule } from './config/config.module.js';
import { DashboardModule } from './dashboard/dashboard.module.js';
import { HealthModule } from './health/health.module.js';
import { HttpErrorFilter } from './http/http-error.filter.js';
import { RouteTable } from './http/route-table.js';
import { InvoicesModule } from './invoices/invoices.module.js';
import { ObservabilityModule } from './observability/observability.module.js';
import { OrdersModule } from './orders/orders.module.js';
import { PricingModule } from './pricing/pricing.module.js';
import { cacheModule, StoreModule } from './store/cache-setup.module.js';
import { UpstreamModule } from './upstream/upstream.module.js';

/**
 * The backend-for-frontend. `forRoot` validates the environment first (`overrides` replace some
 * of its variables, for the in-process tests) and rejects with a message naming a bad variable.
 */
@Module({})
// biome-ignore lint/complexity/noStaticOnlyClass: a Nest dynamic module is a class with static factories.
export class AppModule {
  static async forRoot(overrides: Record<string, string> = {}): Promise<DynamicModule> {
    return {
      module: AppModule,
      imports: [
        await bffConfigModule(overrides),
        BffSettingsModule,
        StoreModule,
        cacheModule,
        UpstreamModule,
        OrdersModule,
        CatalogModule,
        InvoicesModule,
        PricingModule,
        CdcModule,
        HealthModule,
        ObservabilityModule,
        DashboardModule,
        DiscoveryModule,
      ],
      providers: [RouteTable, { provide: APP_FILTER, useClass: HttpErrorFilter }],
    };
  }
}
