import type { ChosenStore } from './store/choose-store.js';
import { DEMO_ACCOUNTS, orderIdsOf } from './upstream/salesforce-data.js';

/** What to open once the service is up; the first line is what scripts (and the tests) parse. */
export function banner(
  url: string,
  bff: { store: Pick<ChosenStore, 'name' | 'kind'>; cdc: { description: string } },
): string {
  const account = DEMO_ACCOUNTS[0];
  const orderId = orderIdsOf(account)[0] as string;
  // No transactionKey: every run of the command is a new change (not a re-delivery).
  const curlBody = JSON.stringify({
    payload: {
      ChangeEventHeader: {
        entityName: 'Order',
        recordIds: [orderId],
        changeType: 'UPDATE',
        changedFields: ['Status'],
      },
      Status: 'Shipped',
    },
  });
  return [
    `BFF listening on ${url}`,
    `  store:      ${bff.store.name} (${bff.store.kind})`,
    `  cdc source: ${bff.cdc.description}`,
    '',
    `  dashboard   ${url}/dashboard`,
    `  health      ${url}/health`,
    `  cache stats ${url}/api/health/services/cache`,
    `  metrics     ${url}/metrics`,
    `  API         ${url}/api/orders/${account}`,
    `              ${url}/api/catalog/bundles/0BNSTARTER   ${url}/api/invoices/42`,
    '',
    '  A change event (the next read of that account refetches):',
    `  curl -X POST ${url}/dev/cdc -H 'content-type: application/json' \\`,
    `    -d '${curlBody}'`,
    '',
    '  A simulated stream of change events (5 per second for a minute):',
    `  curl -X POST ${url}/dev/cdc/simulator -H 'content-type: application/json' -d '{"rate":5,"durationMs":60000}'`,
  ].join('\n');
}
