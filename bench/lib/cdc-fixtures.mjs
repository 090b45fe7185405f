import { accountIdOf } from './fixtures.mjs';

/** The rule a service writes for orders: an Order change drops every entry tagged with it. */
export const ORDER_RULES = {
  Order: { record: (id) => ({ tags: [`order:${id}`] }), all: { patterns: ['orders:*'] } },
};

/** The tag the scenarios store the page of key `index` with. */
export const orderTagOf = (index) => `order:${accountIdOf(index)}`;

/** A Salesforce-like Order UPDATE for the record of key `index`; `changeId` must be unique per event. */
export function orderChange(index, changeId, position) {
  return {
    source: 'salesforce',
    entity: 'Order',
    ids: [accountIdOf(index)],
    kind: 'update',
    fields: ['Status'],
    changeId,
    position,
    committedAt: Date.now(),
  };
}
