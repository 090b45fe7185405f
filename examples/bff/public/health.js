// The health badge in the header and the health panel: the store, the CDC subscriber and its
// counters.

import { ago, count, html, milliseconds, STATUS_LABELS } from './format.js';

/** The header badge: `status` is a health status, or `unreachable` / `loading`. */
export function renderBadge(badge, status, reason) {
  const label = STATUS_LABELS[status] ?? status;
  badge.dataset.status = status;
  badge.title = reason ?? '';
  badge.setAttribute('aria-label', `Overall health: ${label}${reason ? ` (${reason})` : ''}`);
  badge.querySelector('[data-testid="status-text"]').textContent = reason ? `${label} · ${reason}` : label;
}

/** The first reason a component gives for not being up, named after the component. */
export function worstReason(health) {
  if (health.store.status !== 'up') return `store: ${health.store.reason ?? health.store.status}`;
  if (health.subscriber.status !== 'up') {
    return `subscriber: ${health.subscriber.reason ?? health.subscriber.status}`;
  }
  return undefined;
}

function pill(status) {
  return html('span', { class: 'pill', 'data-status': status }, [STATUS_LABELS[status] ?? status]);
}

function facts(entries) {
  return html(
    'dl',
    { class: 'facts' },
    entries.flatMap(([term, value]) => [html('dt', {}, [term]), html('dd', {}, [value])]),
  );
}

const COUNTERS = [
  ['processed', 'processed'],
  ['ignored', 'ignored (no rule)'],
  ['skipped', 'skipped (fields)'],
  ['duplicates', 'duplicates'],
  ['failed', 'failed'],
  ['invalid', 'invalid'],
  ['gaps', 'gaps'],
  ['overflows', 'overflows'],
  ['keysInvalidated', 'keys invalidated'],
  ['tagsInvalidated', 'tags invalidated'],
];

export function renderHealth(container, data, now) {
  const { store, subscriber } = data.health;
  const storeCard = html(
    'div',
    { class: 'health-card', 'data-testid': 'store-health', 'data-status': store.status },
    [
      html('h3', {}, ['Store ', pill(store.status)]),
      facts(
        [
          ['name', `${data.store.name} (${data.store.kind})`],
          ['latency', milliseconds(store.latencyMs)],
          store.reason ? ['reason', store.reason] : null,
        ].filter(Boolean),
      ),
    ],
  );
  const subscriberCard = html(
    'div',
    { class: 'health-card', 'data-testid': 'subscriber-health', 'data-status': subscriber.status },
    [
      html('h3', {}, ['CDC subscriber ', pill(subscriber.status)]),
      facts(
        [
          ['last event', subscriber.lastEventAt ? ago(subscriber.lastEventAt, now) : 'none yet'],
          ['lag', milliseconds(subscriber.lagMs)],
          subscriber.reason ? ['reason', subscriber.reason] : null,
        ].filter(Boolean),
      ),
    ],
  );
  const counters = html(
    'ul',
    { class: 'counters', 'aria-label': 'Subscriber counters' },
    COUNTERS.map(([name, label]) => {
      const value = subscriber.counters?.[name] ?? 0;
      const alarming = ['failed', 'invalid', 'gaps', 'overflows'].includes(name) && value > 0;
      return html('li', { 'data-counter': name, class: alarming ? 'alarming' : undefined }, [
        html('strong', {}, [count(value)]),
        html('span', {}, [label]),
      ]);
    }),
  );
  container.replaceChildren(html('div', { class: 'health-cards' }, [storeCard, subscriberCard]), counters);
}
