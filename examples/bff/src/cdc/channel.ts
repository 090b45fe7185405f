import {
  type ApplyOutcome,
  type InvalidationSource,
  inProcessSource,
  normalizeSalesforceEvent,
  redisStreamPublisher,
  redisStreamSource,
} from '@org/cache-cdc';

/** What publishing one change event did. */
export type Delivery =
  /** The in-process source applied it before answering: here is what it dropped. */
  | { via: 'in-process'; outcome: ApplyOutcome }
  /** Appended to the Redis stream: every instance's consumer group applies it shortly after. */
  | { via: 'redis-stream'; stream: string; entryId: string };

/**
 * Where change events come from, and how the dev endpoints (POST /dev/cdc, the simulator) inject
 * a Salesforce change event the way production would.
 */
export interface CdcChannel {
  kind: Delivery['via'];
  /** For people: `in-process`, `redis-stream bff:cdc (group bff, consumer host-42)`. */
  description: string;
  /** What the invalidator subscribes to. */
  source: InvalidationSource;
  /**
   * Delivers one Salesforce change event (Pub/Sub API or CometD JSON shape) through the real
   * path. Rejects with a CacheError E_INVALID_EVENT for anything else.
   */
  publish(salesforceEvent: unknown): Promise<Delivery>;
  /** Releases what publishing opened (the invalidator stops the source itself). */
  close(): Promise<void>;
}

/** Events delivered by the process itself: local development and single-instance runs. */
export function inProcessChannel(): CdcChannel {
  const source = inProcessSource({
    name: 'salesforce-dev',
    normalize: (input) => normalizeSalesforceEvent(input),
  });
  return {
    kind: 'in-process',
    description: 'in-process',
    source,
    publish: async (salesforceEvent) => ({ via: 'in-process', outcome: await source.emit(salesforceEvent) }),
    close: async () => {},
  };
}

/**
 * Events through a Redis stream, as in production: a bridge process appends Salesforce's events
 * (here, the dev endpoints through the same publisher), and the service's consumer group applies
 * each one once. Instances share the store (Redis, or tiered with a bus reaching every L1), so
 * one group per service is enough: whichever instance applies an event, all of them see it.
 */
export function redisStreamChannel(options: {
  url: string;
  stream: string;
  group: string;
  consumer: string;
}): CdcChannel {
  const { url, stream, group, consumer } = options;
  const source = redisStreamSource({ url, stream, group, consumer });
  const publisher = redisStreamPublisher({ url, stream });
  return {
    kind: 'redis-stream',
    description: `redis-stream ${stream} (group ${group}, consumer ${consumer})`,
    source,
    publish: async (salesforceEvent) => {
      const entryId = await publisher.append(normalizeSalesforceEvent(salesforceEvent));
      return { via: 'redis-stream', stream, entryId };
    },
    close: () => publisher.close(),
  };
}
