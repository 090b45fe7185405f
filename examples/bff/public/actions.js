// The "Try it" buttons: demo traffic against the BFF's own API, so a newcomer sees the charts move.

const ACCOUNTS = ['001ACME', '001GLOBEX', '001INITECH', '001UMBRELLA', '001STARK'];
const PRODUCTS = ['01tPROD01', '01tPROD02', '01tPROD03', '01tPROD04'];
const BUNDLES = ['0BNSTARTER', '0BNOFFICE', '0BNPRO', '0BNENTERPRISE'];
const CLIENTS = [1, 2, 3];
const SIMULATOR_RATE = 2;

const pick = (items) => items[Math.floor(Math.random() * items.length)];

async function get(path) {
  // no-store: Chrome's HTTP cache would otherwise queue identical GETs one behind the other, and
  // the service would never see the concurrent requests that coalescing is about.
  const response = await fetch(path, { cache: 'no-store', headers: { accept: 'application/json' } });
  return { ok: response.ok, status: response.status, body: response.ok ? await response.json() : null };
}

function orderIdsIn(body) {
  const orders = Array.isArray(body) ? body : (body?.orders ?? body?.data ?? []);
  return orders.map((order) => order?.id).filter((id) => typeof id === 'string');
}

/** The same paths several times at once: the first is a miss, the rest coalesce onto it or hit. */
function burst(paths) {
  return Promise.all(paths.map((path) => get(path).catch(() => ({ ok: false, status: 0 }))));
}

/** 20 requests over every endpoint, in two waves, with repeats so the cache has something to do. */
async function makeRequests() {
  const [first, second] = [pick(ACCOUNTS), pick(ACCOUNTS)];
  const product = pick(PRODUCTS);
  const waveOne = await burst([
    ...Array(3).fill(`/api/orders/${first}`),
    ...Array(2).fill(`/api/orders/${second}`),
    ...Array(2).fill(`/api/catalog/products/${product}`),
    ...Array(2).fill(`/api/catalog/bundles/${pick(BUNDLES)}`),
    ...Array(2).fill(`/api/invoices/${pick(CLIENTS)}`),
    `/api/pricing/${product}`,
  ]);
  const [order] = orderIdsIn(waveOne[0].body);
  const [otherOrder] = orderIdsIn(waveOne[3].body);
  const waveTwo = await burst([
    ...(order ? Array(2).fill(`/api/orders/${first}/${order}`) : Array(2).fill(`/api/orders/${first}`)),
    otherOrder ? `/api/orders/${second}/${otherOrder}` : `/api/orders/${second}`,
    `/api/catalog/products/${pick(PRODUCTS)}`,
    `/api/catalog/products/${product}`,
    `/api/catalog/bundles/${pick(BUNDLES)}`,
    `/api/invoices/${pick(CLIENTS)}`,
    `/api/pricing/${pick(PRODUCTS)}`,
  ]);
  const answers = [...waveOne, ...waveTwo];
  const failed = answers.filter((answer) => !answer.ok);
  const statuses = [...new Set(failed.map((answer) => answer.status || 'network error'))].join(', ');
  return failed.length === 0
    ? `${answers.length} requests answered`
    : `${answers.length - failed.length} of ${answers.length} requests answered; ${failed.length} failed (${statuses})`;
}

/** A Salesforce change event for one of an account's orders, as the CDC stream would deliver it. */
async function sendChangeEvent() {
  const account = pick(ACCOUNTS);
  const [orderId] = orderIdsIn((await get(`/api/orders/${account}`)).body);
  if (!orderId) throw new Error(`could not list ${account}'s orders to pick one to change`);
  const now = Date.now();
  const event = {
    replayId: now,
    payload: {
      ChangeEventHeader: {
        entityName: 'Order',
        recordIds: [orderId],
        changeType: 'UPDATE',
        changedFields: ['Status'],
        transactionKey: crypto.randomUUID(),
        sequenceNumber: 1,
        commitTimestamp: now,
        commitNumber: now,
        commitUser: '005000000000001',
      },
      AccountId: account,
    },
  };
  const response = await fetch('/dev/cdc', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(event),
  });
  if (!response.ok) throw new Error(`POST /dev/cdc answered ${response.status}`);
  return `Order ${orderId} of ${account} changed: sent an UPDATE event`;
}

async function toggleSimulator(button) {
  const running = button.getAttribute('aria-pressed') === 'true';
  const response = await fetch('/dev/cdc/simulator', {
    method: running ? 'DELETE' : 'POST',
    headers: { 'content-type': 'application/json' },
    body: running ? undefined : JSON.stringify({ rate: SIMULATOR_RATE }),
  });
  if (!response.ok)
    throw new Error(`${running ? 'DELETE' : 'POST'} /dev/cdc/simulator answered ${response.status}`);
  showSimulator(button, !running);
  return running ? 'Simulator stopped' : `Simulator started: ${SIMULATOR_RATE} change events a second`;
}

function showSimulator(button, running) {
  button.setAttribute('aria-pressed', String(running));
  button.textContent = running ? 'Stop CDC simulator' : 'Start CDC simulator';
}

/** The simulator may already be running (another tab, a curl): start the button in its state. */
async function syncSimulator(button) {
  const response = await fetch('/dev/cdc/simulator', { cache: 'no-store' }).catch(() => undefined);
  if (!response?.ok) return;
  const status = await response.json().catch(() => undefined);
  if (typeof status?.running === 'boolean') showSimulator(button, status.running);
}

/** Wires the buttons; `afterAction` runs when one finishes (to poll at once rather than in a second). */
export function wireActions(root, afterAction) {
  const log = root.querySelector('[data-testid="action-log"]');
  const run = {
    requests: () => makeRequests(),
    cdc: () => sendChangeEvent(),
    simulator: (button) => toggleSimulator(button),
  };
  syncSimulator(root.querySelector('button[data-action="simulator"]'));
  for (const button of root.querySelectorAll('button[data-action]')) {
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        log.textContent = await run[button.dataset.action](button);
        log.dataset.outcome = 'ok';
      } catch (error) {
        log.textContent = error instanceof Error ? error.message : String(error);
        log.dataset.outcome = 'error';
      } finally {
        button.disabled = false;
        afterAction();
      }
    });
  }
}
