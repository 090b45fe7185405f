import { randomUUID } from 'node:crypto';

/** A Salesforce change event in the Pub/Sub API's JSON shape, as POST /dev/cdc accepts it. */
export function changeEvent(input: {
  entity: string;
  ids: string[];
  changeType?: string;
  changedFields?: string[];
  values?: Record<string, unknown>;
}): unknown {
  return {
    replayId: Math.floor(Math.random() * 1e12),
    payload: {
      ChangeEventHeader: {
        entityName: input.entity,
        recordIds: input.ids,
        changeType: input.changeType ?? 'UPDATE',
        changeOrigin: 'com/salesforce/api/rest/62.0',
        transactionKey: randomUUID(),
        sequenceNumber: 1,
        commitTimestamp: Date.now(),
        commitUser: '005TESTUSER',
        changedFields: input.changedFields ?? ['Status', 'LastModifiedDate'],
      },
      ...input.values,
    },
  };
}

/** The same event as CometD delivers it (`{ channel, data: { schema, payload, event } }`). */
export function asCometd(event: unknown): unknown {
  const { replayId, payload } = event as { replayId: number; payload: unknown };
  return { channel: '/data/OrderChangeEvent', data: { schema: 'x1', payload, event: { replayId } } };
}
