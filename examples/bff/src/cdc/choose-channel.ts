import type { BffConfig } from '../config/bff-config.js';
import { type CdcChannel, inProcessChannel, redisStreamChannel } from './channel.js';

/**
 * The one place the change-event source is chosen, at start-up: the Redis stream when the
 * service runs on Redis (CDC_SOURCE=in-process overrides it), the in-process source otherwise.
 */
export function chooseCdcChannel(config: Pick<BffConfig, 'redisUrl' | 'cdc'>): CdcChannel {
  if (config.redisUrl === undefined || config.cdc.source === 'in-process') return inProcessChannel();
  const { stream, group, consumer } = config.cdc;
  return redisStreamChannel({ url: config.redisUrl, stream, group, consumer });
}
