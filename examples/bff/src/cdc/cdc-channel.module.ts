import { Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { BffConfig } from '../config/bff-config.js';
import { BFF_SETTINGS } from '../config/config.module.js';
import type { CdcChannel } from './channel.js';
import { chooseCdcChannel } from './choose-channel.js';
import { RecentInvalidations } from './recent-invalidations.js';

/** The injection token of the change-event channel chosen at start-up (in-process or Redis stream). */
export const CDC_CHANNEL = Symbol('CdcChannel');

/** Closes what publishing opened (the stream publisher's connection) once the application has stopped. */
@Injectable()
export class CdcChannelCloser implements OnApplicationShutdown {
  constructor(@Inject(CDC_CHANNEL) private readonly channel: CdcChannel) {}

  async onApplicationShutdown(): Promise<void> {
    await this.channel.close();
  }
}

/**
 * Where change events come from, and the log of the last ones handled: shared by the
 * invalidator's wiring (`CacheCdcModule`), the dev endpoints and the dashboard.
 */
@Module({
  providers: [
    {
      provide: CDC_CHANNEL,
      useFactory: (config: BffConfig) => chooseCdcChannel(config),
      inject: [BFF_SETTINGS],
    },
    { provide: RecentInvalidations, useFactory: () => new RecentInvalidations(50) },
    CdcChannelCloser,
  ],
  exports: [CDC_CHANNEL, RecentInvalidations],
})
export class CdcChannelModule {}
