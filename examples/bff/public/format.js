// Small formatting and DOM helpers shared by the panels.

/** An HTML element with attributes (null and undefined are left out) and children. */
export function html(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) node.setAttribute(name, String(value));
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

export function count(value) {
  return Number(value ?? 0).toLocaleString('en');
}

export function percent(ratio) {
  if (ratio === null || ratio === undefined || Number.isNaN(ratio)) return '–';
  return `${(Math.round(ratio * 1000) / 10).toLocaleString('en')}%`;
}

export function plural(value, one, many = `${one}s`) {
  return `${count(value)} ${value === 1 ? one : many}`;
}

/** "4 s ago", "3 min ago", or the time of day past an hour. */
export function ago(iso, now) {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return 'unknown';
  const seconds = Math.max(0, Math.round((now - then) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  return new Date(then).toLocaleTimeString();
}

export function clock(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString('en-GB', { hour12: false });
}

export function milliseconds(value) {
  if (value === undefined || value === null) return '–';
  return value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value).toLocaleString('en')} ms`;
}

export const STATUS_LABELS = {
  up: 'Up',
  degraded: 'Degraded',
  down: 'Down',
  unreachable: 'Unreachable',
  loading: 'Loading…',
};
