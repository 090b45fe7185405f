import type { Catalog } from '../domains/catalog.js';
import type { Invoices } from '../domains/invoices.js';
import type { Orders } from '../domains/orders.js';
import type { Pricing } from '../domains/pricing.js';
import { sendJson } from '../http/respond.js';
import type { Router } from '../http/router.js';
import { salesforceIdParam, whmcsClientIdParam } from './params.js';

export interface ApiServices {
  orders: Orders;
  catalog: Catalog;
  invoices: Invoices;
  pricing: Pricing;
}

/** The BFF's data endpoints: validate the ids, read through the domain caches, answer JSON. */
export function apiRoutes(router: Router, services: ApiServices): void {
  const { orders, catalog, invoices, pricing } = services;

  router.get('/api/orders/:accountId', async ({ res, params }) => {
    const accountId = salesforceIdParam(params, 'accountId');
    sendJson(res, 200, { accountId, orders: await orders.summaries(accountId) });
  });

  router.get('/api/orders/:accountId/:orderId', async ({ res, params }) => {
    const accountId = salesforceIdParam(params, 'accountId');
    const orderId = salesforceIdParam(params, 'orderId');
    sendJson(res, 200, await orders.detail(accountId, orderId));
  });

  router.get('/api/catalog/products/:productId', async ({ res, params }) => {
    sendJson(res, 200, await catalog.product(salesforceIdParam(params, 'productId')));
  });

  router.get('/api/catalog/bundles/:bundleId', async ({ res, params }) => {
    sendJson(res, 200, await catalog.bundle(salesforceIdParam(params, 'bundleId')));
  });

  router.get('/api/invoices/:clientId', async ({ res, params }) => {
    const clientId = whmcsClientIdParam(params, 'clientId');
    sendJson(res, 200, { clientId, invoices: await invoices.list(clientId) });
  });

  router.get('/api/pricing/:productId', async ({ res, params }) => {
    sendJson(res, 200, await pricing.availability(salesforceIdParam(params, 'productId')));
  });
}
