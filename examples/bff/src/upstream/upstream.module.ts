import { Global, Module } from '@nestjs/common';
import type { BffConfig } from '../config/bff-config.js';
import { BFF_SETTINGS } from '../config/config.module.js';
import { SalesforceSimulator } from './salesforce.js';
import { WhmcsSimulator } from './whmcs.js';

/** The simulated upstreams, one of each per process, with the configured latency and failures. */
@Global()
@Module({
  providers: [
    {
      provide: SalesforceSimulator,
      useFactory: (config: BffConfig) =>
        new SalesforceSimulator({ latencyMs: config.upstream.salesforceLatencyMs }),
      inject: [BFF_SETTINGS],
    },
    {
      provide: WhmcsSimulator,
      useFactory: (config: BffConfig) =>
        new WhmcsSimulator({
          latencyMs: config.upstream.whmcsLatencyMs,
          failureRate: config.upstream.whmcsFailureRate,
          slowRate: config.upstream.whmcsSlowRate,
        }),
      inject: [BFF_SETTINGS],
    },
  ],
  exports: [SalesforceSimulator, WhmcsSimulator],
})
export class UpstreamModule {}
