import type { InvalidationEvent, InvalidationRules } from '@org/cache-cdc';
import type { DomainOf } from '@org/cache-core';
import { isSalesforceId } from '../ids.js';
import type { ordersDomain } from '../orders/orders.domain.js';

/**
 * What each Salesforce change drops. Entries carry tags naming what they were built from
 * (`order:<id>`, `account:<id>`, `product:<id>`), so a rule names the changed record and the
 * cache finds its dependents, in one round trip whatever their number.
 */
export function invalidationRules(orders: DomainOf<typeof ordersDomain>): InvalidationRules {
  return {
    Order: {
      // The order's detail and every summary list that contains it. An event carries AccountId
      // only when the change set it (a CREATE, a move to another account): that account's list
      // is then dropped directly, since it does not contain the order yet.
      record: (id, event) => {
        const accountId = accountIdOf(event);
        return {
          tags: [`order:${id}`],
          keys: accountId === undefined ? [] : [orders.buckets.summaries.key(accountId)],
        };
      },
      // A created, deleted or undeleted order changes its account's list: that one when the
      // event names the account, otherwise every account's list.
      collections: (event) => {
        const accountId = accountIdOf(event);
        return accountId === undefined
          ? { patterns: ['orders:summaries:*'] }
          : { keys: [orders.buckets.summaries.key(accountId)] };
      },
      all: { patterns: ['orders:*'] },
    },
    Product2: {
      record: (id) => ({ tags: [`product:${id}`] }),
      all: { patterns: ['catalog:*', 'pricing:*'] },
    },
    Account: {
      record: (id) => ({ tags: [`account:${id}`] }),
      all: { patterns: ['orders:*'] },
    },
  };
}

/** The AccountId field of an Order event, when it carries a usable one. */
function accountIdOf(event: InvalidationEvent): string | undefined {
  const value = event.values?.AccountId;
  return isSalesforceId(value) ? value : undefined;
}
