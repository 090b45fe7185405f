import {
  ALL_RECORDS,
  type InvalidationEvent,
  normalizeSalesforceEvent,
  parseInvalidationEvent,
} from '@org/cache-cdc';
import { isCacheError } from '@org/cache-core';
import { describe, expect, it } from 'vitest';
import {
  COMMIT_TIMESTAMP,
  GAP_TYPES,
  header,
  ids,
  orderActivated,
  orderActivatedCometd,
  orderCreated,
  orderCreatedBigint,
  orderCreatedStrings,
  orderGap,
  orderItemDeleted,
  orderOverflow,
  ordersMerged,
  ordersWildcard,
  pubSubEvent,
  replayIdBytes,
  TRANSACTION_KEY,
} from './fixtures/salesforce-events.js';

function invalidEventError(run: () => unknown): Error & { code: string } {
  try {
    run();
  } catch (error) {
    expect(isCacheError(error)).toBe(true);
    return error as Error & { code: string };
  }
  throw new Error('expected an E_INVALID_EVENT error');
}

describe('normalizeSalesforceEvent: the documented shapes', () => {
  it('turns a Pub/Sub API UPDATE into an event with its fields, values, position and change id', () => {
    expect(normalizeSalesforceEvent(orderActivated)).toEqual({
      source: 'salesforce',
      entity: 'Order',
      ids: [ids.order1],
      kind: 'update',
      fields: ['LastModifiedDate', 'Status'],
      // Unchanged fields are null in a change event: they are not values.
      values: { Status: 'Activated', LastModifiedDate: COMMIT_TIMESTAMP },
      position: '18098167',
      changeId: `${TRANSACTION_KEY}:1`,
      committedAt: COMMIT_TIMESTAMP,
    });
  });

  // JSON.parse keeps "__proto__" as an own key: copied by assignment it would become the values'
  // prototype, and a rule reading `event.values.AccountId` would see whatever the event put there.
  it('never lets a field named __proto__ become the prototype of the event values', () => {
    const raw = JSON.parse(JSON.stringify(orderActivated)) as { payload: Record<string, unknown> };
    Object.defineProperty(raw.payload, '__proto__', {
      value: { AccountId: 'injected' },
      enumerable: true,
      configurable: true,
      writable: true,
    });
    const event = normalizeSalesforceEvent(raw);
    expect(Object.getPrototypeOf(event.values)).toBe(Object.prototype);
    expect((event.values as Record<string, unknown>).AccountId).toBeUndefined();
    expect(event.values).toEqual({ Status: 'Activated', LastModifiedDate: COMMIT_TIMESTAMP });
  });

  it('reads longs given as bigint, and keeps the event JSON-safe', () => {
    const event = normalizeSalesforceEvent(orderCreatedBigint);
    expect(event.position).toBe('18098210');
    expect(event.changeId).toBe('0000a6b8-5d6e-7f80-1b2c-3d4e5f6a7b83:2');
    expect(event.committedAt).toBe(COMMIT_TIMESTAMP);
    expect(event.values).toEqual({
      AccountId: ids.account,
      Status: 'Draft',
      CreatedDate: String(COMMIT_TIMESTAMP),
    });
    // A bigint left anywhere would make this throw (a Redis stream or HTTP source serialises events).
    expect(parseInvalidationEvent(JSON.parse(JSON.stringify(event)))).toEqual(event);
  });

  it('reads longs given as decimal strings', () => {
    const event = normalizeSalesforceEvent(orderCreatedStrings);
    expect(event.position).toBe('18098210');
    expect(event.changeId).toBe('0000a6b8-5d6e-7f80-1b2c-3d4e5f6a7b83:3');
    expect(event.committedAt).toBe(COMMIT_TIMESTAMP);
    expect(event.kind).toBe('create');
  });

  it('reads a raw 8-byte replay id exactly, past what a JS number holds', () => {
    const big = 2n ** 53n + 1n;
    expect(normalizeSalesforceEvent({ ...orderActivated, replayId: replayIdBytes(big) }).position).toBe(
      '9007199254740993',
    );
    expect(
      normalizeSalesforceEvent({ ...orderActivated, replayId: Buffer.from(replayIdBytes(18_098_167n)) })
        .position,
    ).toBe('18098167');
  });

  it('reads a CometD message and its data alone, with the replay id of its event', () => {
    const expected: InvalidationEvent = {
      source: 'salesforce',
      entity: 'Order',
      ids: [ids.order2],
      kind: 'update',
      fields: ['LastModifiedDate', 'Status'],
      values: { Status: 'Activated', LastModifiedDate: '2023-10-04T18:35:13.000Z' },
      position: '123',
      changeId: '0001b7c9-6e7f-8091-2c3d-4e5f6a7b8c94:1',
      committedAt: COMMIT_TIMESTAMP,
    };
    expect(orderActivatedCometd.channel).toBe('/data/OrderChangeEvent');
    expect(normalizeSalesforceEvent(orderActivatedCometd)).toEqual(expected);
    expect(normalizeSalesforceEvent(orderActivatedCometd.data)).toEqual(expected);
  });

  it('names the source it is given', () => {
    expect(normalizeSalesforceEvent(orderActivated, { source: 'sf-prod' }).source).toBe('sf-prod');
  });

  it('produces events the invalidator accepts, for every fixture', () => {
    const fixtures = [
      orderActivated,
      orderCreated,
      orderCreatedBigint,
      orderCreatedStrings,
      ordersMerged,
      ordersWildcard,
      orderOverflow,
      orderItemDeleted,
      orderActivatedCometd,
      orderActivatedCometd.data,
      ...GAP_TYPES.map(orderGap),
    ];
    for (const fixture of fixtures) {
      const event = normalizeSalesforceEvent(fixture);
      expect(parseInvalidationEvent(event)).toEqual(event);
    }
  });
});

describe('normalizeSalesforceEvent: what each change means for the cache', () => {
  it('keeps every record id of a merged event, once each', () => {
    expect(normalizeSalesforceEvent(ordersMerged).ids).toEqual([ids.order1, ids.order2, ids.order3]);
    const repeated = pubSubEvent({ changeType: 'UPDATE', recordIds: [ids.order1, ids.order2, ids.order1] });
    expect(normalizeSalesforceEvent(repeated).ids).toEqual([ids.order1, ids.order2]);
  });

  it('turns a wildcard id (key prefix and *) into every record of the entity', () => {
    expect(normalizeSalesforceEvent(ordersWildcard).ids).toBe(ALL_RECORDS);
    const mixed = pubSubEvent({ changeType: 'DELETE', recordIds: [ids.order1, '801*'] });
    expect(normalizeSalesforceEvent(mixed).ids).toBe(ALL_RECORDS);
  });

  it.each([
    ['GAP_CREATE', 'create'],
    ['GAP_UPDATE', 'update'],
    ['GAP_DELETE', 'delete'],
    ['GAP_UNDELETE', 'undelete'],
  ] as const)('keeps the ids of a %s, marked as a gap, with no fields to filter on', (changeType, kind) => {
    const event = normalizeSalesforceEvent(orderGap(changeType));
    expect(event).toMatchObject({ entity: 'Order', ids: [ids.order1], kind, gap: true });
    expect(event.fields).toBeUndefined();
    expect(event.values).toBeUndefined();
  });

  it('never lists fields for a GAP_UPDATE, even if a header names some', () => {
    const event = normalizeSalesforceEvent(
      pubSubEvent({ changeType: 'GAP_UPDATE', recordIds: [ids.order1], changedFields: ['LastModifiedDate'] }),
    );
    expect(event.gap).toBe(true);
    expect(event.fields).toBeUndefined();
  });

  it('turns a GAP_OVERFLOW (empty record id, or none) into every record of the entity', () => {
    expect(normalizeSalesforceEvent(orderOverflow)).toMatchObject({
      entity: 'Order',
      ids: ALL_RECORDS,
      kind: 'unknown',
      gap: true,
    });
    const noIds = pubSubEvent({ changeType: 'GAP_OVERFLOW', recordIds: [] });
    expect(normalizeSalesforceEvent(noIds).ids).toBe(ALL_RECORDS);
  });

  it('keeps the id of a DELETE, which carries no field values', () => {
    const event = normalizeSalesforceEvent(orderItemDeleted);
    expect(event).toMatchObject({ entity: 'OrderItem', ids: [ids.item2], kind: 'delete' });
    expect(event.values).toBeUndefined();
    expect(event.fields).toBeUndefined();
  });

  it('lists the changed, nulled and diff fields of an UPDATE, once each', () => {
    const event = normalizeSalesforceEvent(
      pubSubEvent({
        changeType: 'UPDATE',
        recordIds: [ids.order1],
        changedFields: ['LastModifiedDate', 'Description', 'Status'],
        nulledFields: ['Description'],
        diffFields: ['Status'],
      }),
    );
    expect(event.fields).toEqual(['LastModifiedDate', 'Description', 'Status']);
  });

  it('lists no fields for a CREATE, DELETE or UNDELETE (they change every field)', () => {
    for (const changeType of ['CREATE', 'DELETE', 'UNDELETE'] as const) {
      const event = normalizeSalesforceEvent(
        pubSubEvent({ changeType, recordIds: [ids.order1], changedFields: ['LastModifiedDate'] }),
      );
      expect(event.fields).toBeUndefined();
    }
  });

  it('treats undecoded field bitmaps as unknown fields', () => {
    const topLevel = pubSubEvent({ changeType: 'UPDATE', recordIds: [ids.order1], changedFields: ['0x1A'] });
    expect(normalizeSalesforceEvent(topLevel).fields).toBeUndefined();
    // A compound field's subfields come as "<position>-0x<bitmap>".
    const nested = pubSubEvent({
      changeType: 'UPDATE',
      recordIds: [ids.order1],
      changedFields: ['LastModifiedDate'],
      diffFields: ['3-0x02'],
    });
    expect(normalizeSalesforceEvent(nested).fields).toBeUndefined();
  });

  it('treats an UPDATE without changedFields (API before 60) as touching unknown fields', () => {
    const event = normalizeSalesforceEvent(pubSubEvent({ changeType: 'UPDATE', recordIds: [ids.order1] }));
    expect(event.fields).toBeUndefined();
  });

  it('has no change id without a transaction key, but keeps the position', () => {
    const noKey = pubSubEvent({ changeType: 'UPDATE', recordIds: [ids.order1] });
    (noKey.payload.ChangeEventHeader as { transactionKey: unknown }).transactionKey = null;
    const event = normalizeSalesforceEvent(noKey);
    expect(event.changeId).toBeUndefined();
    expect(event.position).toBe('18098167');
  });
});

describe('normalizeSalesforceEvent: malformed input', () => {
  const valid = () =>
    pubSubEvent({
      changeType: 'UPDATE',
      recordIds: [ids.order1],
      changedFields: ['Status'],
      values: { Status: 'Activated' },
    });
  const withHeader = (patch: Record<string, unknown>) => {
    const event = valid();
    return {
      ...event,
      payload: { ...event.payload, ChangeEventHeader: { ...event.payload.ChangeEventHeader, ...patch } },
    };
  };

  it.each<[string, () => unknown]>([
    ['a number', () => 42],
    ['null', () => null],
    ['a string', () => JSON.stringify(valid())],
    ['an empty object', () => ({})],
    ['a payload without a header', () => ({ replayId: 1, payload: { Status: 'Activated' } })],
    ['an unknown changeType', () => withHeader({ changeType: 'UPSERT' })],
    ['recordIds that are not strings', () => withHeader({ recordIds: [801, 802] })],
    ['recordIds that are not a list', () => withHeader({ recordIds: ids.order1 })],
    ['an empty record id', () => withHeader({ recordIds: [''] })],
    ['a missing entityName', () => withHeader({ entityName: undefined })],
    ['a CREATE with no ids', () => withHeader({ changeType: 'CREATE', recordIds: [] })],
    ['a DELETE with no recordIds at all', () => withHeader({ changeType: 'DELETE', recordIds: undefined })],
    ['a sequenceNumber that is not a long', () => withHeader({ sequenceNumber: 'one' })],
    ['a replay id that is not a long', () => ({ ...valid(), replayId: 'abc' })],
    [
      'a header only reachable through __proto__',
      () =>
        JSON.parse(
          `{"replayId":1,"payload":{"__proto__":{"ChangeEventHeader":${JSON.stringify(header({ entityName: 'Order', changeType: 'UPDATE', recordIds: [ids.order1] }))}}}}`,
        ),
    ],
    [
      'a CometD message with a bad header',
      () => ({
        channel: '/data/OrderChangeEvent',
        data: { payload: { ChangeEventHeader: { entityName: 'Order' } } },
      }),
    ],
  ])('refuses %s with E_INVALID_EVENT', (_, input) => {
    const error = invalidEventError(() => normalizeSalesforceEvent(input()));
    expect(error.code).toBe('E_INVALID_EVENT');
  });

  it('names what is wrong with a CometD message header', () => {
    const error = invalidEventError(() =>
      normalizeSalesforceEvent({
        channel: '/data/OrderChangeEvent',
        data: {
          payload: { ChangeEventHeader: { entityName: 'Order', changeType: 'MODIFY', recordIds: ['x'] } },
        },
      }),
    );
    expect(error.message).toContain('changeType');
  });

  it('does not let __proto__ junk in a payload reach the values or any prototype', () => {
    const event = valid();
    const json = JSON.stringify(event.payload).replace(
      '{"ChangeEventHeader"',
      '{"__proto__":{"AccountId":"001000000000000EVIL","polluted":true},"ChangeEventHeader"',
    );
    const normalized = normalizeSalesforceEvent({ replayId: 5, payload: JSON.parse(json) });
    expect(normalized.values).toEqual({ Status: 'Activated' });
    expect(normalized.values?.AccountId).toBeUndefined();
    expect(Object.getPrototypeOf(normalized.values)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
