import { Inject, Injectable, Module, type OnModuleDestroy } from '@nestjs/common';
import type { DomainOf } from '@org/cache-core';
import { CacheModule, getDomainToken } from '@org/cache-nestjs';
import { CacheCdcModule } from '@org/cache-nestjs/cdc';
import { ordersDomain } from '../orders/orders.domain.js';
import { SalesforceSimulator } from '../upstream/salesforce.js';
import { CDC_CHANNEL, CdcChannelModule } from './cdc-channel.module.js';
import type { CdcChannel } from './channel.js';
import { DevController } from './dev.controller.js';
import { RecentInvalidations, recordedSource } from './recent-invalidations.js';
import { invalidationRules } from './rules.js';
import { CdcSimulator } from './simulator.js';

/** Stops the simulator first thing on shutdown: no new events while the rest closes. */
@Injectable()
export class SimulatorStopper implements OnModuleDestroy {
  constructor(@Inject(CdcSimulator) private readonly simulator: CdcSimulator) {}

  onModuleDestroy(): void {
    this.simulator.stop();
  }
}

/**
 * Change Data Capture: `CacheCdcModule` creates the invalidator with the cache, subscribes the
 * chosen source (recorded for the dashboard) once the application has started and stops it
 * before shutdown; the dev endpoints publish events through the same channel.
 */
@Module({
  imports: [
    CdcChannelModule,
    CacheCdcModule.forRootAsync({
      imports: [CdcChannelModule, CacheModule.forFeature([ordersDomain])],
      inject: [getDomainToken(ordersDomain), CDC_CHANNEL, RecentInvalidations],
      useFactory: (
        orders: DomainOf<typeof ordersDomain>,
        channel: CdcChannel,
        recent: RecentInvalidations,
      ) => ({
        rules: invalidationRules(orders),
        sources: [recordedSource(channel.source, recent)],
      }),
    }),
  ],
  controllers: [DevController],
  providers: [
    {
      provide: CdcSimulator,
      useFactory: (channel: CdcChannel, salesforce: SalesforceSimulator) =>
        new CdcSimulator({ publish: (event) => channel.publish(event), salesforce }),
      inject: [CDC_CHANNEL, SalesforceSimulator],
    },
    SimulatorStopper,
  ],
  exports: [CdcChannelModule],
})
export class CdcModule {}
