// SVG charts drawn by hand: labelled bar rows, a time-series line chart and a column chart. Each
// draws into a container element at the container's current width, so text stays crisp at any size.

const NS = 'http://www.w3.org/2000/svg';

/** An SVG element with attributes (null and undefined are left out) and children. */
export function svg(tag, attributes = {}, children = []) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) node.setAttribute(name, String(value));
  }
  node.append(...children);
  return node;
}

function widthOf(container) {
  return Math.max(260, Math.floor(container.clientWidth || 600));
}

/** The container's <svg>, created at the given size, or resized when the container changed. */
function canvas(container, height) {
  const width = widthOf(container);
  let root = container.querySelector(':scope > svg');
  if (!root) {
    root = svg('svg', { xmlns: NS, 'aria-hidden': 'true' });
    container.replaceChildren(root);
  }
  root.setAttribute('width', String(width));
  root.setAttribute('height', String(height));
  root.setAttribute('viewBox', `0 0 ${width} ${height}`);
  return { root, width, height };
}

const ROW_HEIGHT = 60;
const BAR_Y = 24;
const BAR_HEIGHT = 14;

/**
 * One labelled horizontal bar per row, kept across redraws (keyed by `row.key`) so the bars glide
 * to their new lengths instead of flashing.
 *
 * A row: `{ key, label, value, detail, segments: [{ fraction, className }], color, data }`:
 * `color` (optional) is a dot before the label, matching the row's line in another chart; `data`
 * becomes data-* attributes on the row's <g> (what the browser test reads).
 */
export function barRows(container, rows, { rowTestId }) {
  const { root, width } = canvas(container, Math.max(1, rows.length) * ROW_HEIGHT);
  const keep = new Set(rows.map((row) => row.key));
  for (const group of root.querySelectorAll(':scope > g[data-key]')) {
    if (!keep.has(group.dataset.key)) group.remove();
  }
  rows.forEach((row, index) => {
    let group = root.querySelector(`:scope > g[data-key="${CSS.escape(row.key)}"]`);
    if (!group) {
      group = newBarRow(row, rowTestId, index);
      root.append(group);
    }
    group.setAttribute('transform', `translate(0 ${index * ROW_HEIGHT})`);
    for (const [name, value] of Object.entries(row.data ?? {})) group.dataset[name] = String(value);
    updateBarRow(group, row, width);
  });
}

function newBarRow(row, rowTestId, index) {
  const clipId = `${rowTestId}-clip-${index}-${row.key.replace(/[^a-z0-9]/gi, '-')}`;
  return svg('g', { 'data-key': row.key, 'data-testid': rowTestId, class: 'bar-row' }, [
    svg('title'),
    svg('circle', { class: 'bar-dot', cx: 5, cy: 10.5, r: 5 }),
    svg('text', { class: 'bar-label', y: 15 }),
    svg('text', { class: 'bar-value', y: 15, 'text-anchor': 'end' }),
    svg('clipPath', { id: clipId }, [svg('rect', { x: 0, y: BAR_Y, height: BAR_HEIGHT, rx: 7 })]),
    svg('rect', { class: 'bar-track', x: 0, y: BAR_Y, height: BAR_HEIGHT, rx: 7 }),
    svg('g', { class: 'bar-segments', 'clip-path': `url(#${clipId})` }),
    svg('text', { class: 'bar-detail', x: 0, y: BAR_Y + BAR_HEIGHT + 15 }),
  ]);
}

function updateBarRow(group, row, width) {
  const [title, dot, label, value, clip, track, segments, detail] = group.children;
  title.textContent = `${row.label}: ${row.value}. ${row.detail}`;
  dot.setAttribute('fill', row.color ?? 'none');
  label.setAttribute('x', row.color ? '16' : '0');
  label.textContent = row.label;
  value.textContent = row.value;
  value.setAttribute('x', String(width));
  detail.textContent = fitted(row.detail, width);
  clip.firstElementChild.setAttribute('width', String(width));
  track.setAttribute('width', String(width));
  while (segments.children.length < row.segments.length) {
    segments.append(svg('rect', { y: BAR_Y, height: BAR_HEIGHT, x: 0, width: 0 }));
  }
  while (segments.children.length > row.segments.length) segments.lastElementChild.remove();
  let x = 0;
  row.segments.forEach((segment, index) => {
    const rect = segments.children[index];
    const length = Math.max(0, Math.min(1, segment.fraction)) * width;
    rect.setAttribute('class', `bar-segment ${segment.className}`);
    rect.setAttribute('x', String(x));
    rect.setAttribute('width', String(length));
    x += length;
  });
}

// About the advance of an average character of the 11.5px detail text: enough to decide how many
// " · "-separated parts fit, with the full text still in the row's <title>.
const DETAIL_CHARACTER_WIDTH = 6.4;

function fitted(detail, width) {
  const parts = detail.split(' · ');
  let text = parts[0] ?? '';
  for (const part of parts.slice(1)) {
    const longer = `${text} · ${part}`;
    if (longer.length * DETAIL_CHARACTER_WIDTH > width) return `${text} …`;
    text = longer;
  }
  return text;
}

const MARGIN = { top: 10, right: 14, bottom: 24, left: 44 };

function frame(root, width, height, { xDomain, yMax, yTicks, yFormat }) {
  const plot = {
    x0: MARGIN.left,
    x1: width - MARGIN.right,
    y0: height - MARGIN.bottom,
    y1: MARGIN.top,
  };
  const x = (t) => plot.x0 + ((t - xDomain[0]) / (xDomain[1] - xDomain[0])) * (plot.x1 - plot.x0);
  const y = (v) => plot.y0 - (v / yMax) * (plot.y0 - plot.y1);
  const axes = svg('g', { class: 'axes' });
  for (const tick of yTicks) {
    axes.append(
      svg('line', { class: 'gridline', x1: plot.x0, x2: plot.x1, y1: y(tick), y2: y(tick) }),
      svg('text', { class: 'tick', x: plot.x0 - 6, y: y(tick) + 4, 'text-anchor': 'end' }, [yFormat(tick)]),
    );
  }
  const span = xDomain[1] - xDomain[0];
  let step = span <= 60_000 ? 15_000 : 60_000;
  // Fewer labels on a narrow chart, so they never run into each other.
  while (((plot.x1 - plot.x0) * step) / span < 56 && step < span) step *= 2;
  for (let ago = 0; ago <= span; ago += step) {
    const anchor = ago === span ? 'start' : ago === 0 ? 'end' : 'middle';
    axes.append(
      svg('text', { class: 'tick', x: x(xDomain[1] - ago), y: plot.y0 + 17, 'text-anchor': anchor }, [
        timeAgo(ago),
      ]),
    );
  }
  root.append(axes);
  return { plot, x, y };
}

function timeAgo(milliseconds) {
  if (milliseconds === 0) return 'now';
  return milliseconds < 60_000 ? `−${milliseconds / 1000} s` : `−${milliseconds / 60_000} min`;
}

/** A message in the plot area, between gridlines, clear of the tick labels. */
function emptyNote(root, plot, message) {
  const x = (plot.x0 + plot.x1) / 2;
  const y = plot.y1 + (plot.y0 - plot.y1) * 0.37;
  root.append(svg('text', { class: 'empty-note', x, y, 'text-anchor': 'middle' }, [message]));
}

/**
 * Lines over time, with gaps where a value is null. A series:
 * `{ key, points: [{ t, value }], color, emphasis, className }`.
 */
export function lineChart(container, { series, xDomain, height = 220, emptyMessage }) {
  const { root, width } = canvas(container, height);
  root.replaceChildren();
  const { plot, x, y } = frame(root, width, height, {
    xDomain,
    yMax: 1,
    yTicks: [0, 0.25, 0.5, 0.75, 1],
    yFormat: (tick) => `${Math.round(tick * 100)}%`,
  });
  let drawn = 0;
  for (const line of [...series].sort((a, b) => Number(a.emphasis ?? false) - Number(b.emphasis ?? false))) {
    let path = '';
    let previous = null;
    let last = null;
    for (const point of line.points) {
      if (point.value === null || point.t < xDomain[0]) {
        previous = null;
        continue;
      }
      path += `${previous ? 'L' : 'M'}${x(point.t).toFixed(1)} ${y(point.value).toFixed(1)}`;
      previous = point;
      last = point;
    }
    if (!last) continue;
    drawn += 1;
    root.append(
      svg('path', {
        'data-series': line.key,
        class: [line.emphasis ? 'line line-main' : 'line', line.className].filter(Boolean).join(' '),
        stroke: line.color,
        d: path,
      }),
      svg('circle', {
        'data-series': line.key,
        class: [line.emphasis ? 'line-end line-end-main' : 'line-end', line.className]
          .filter(Boolean)
          .join(' '),
        fill: line.color,
        cx: x(last.t),
        cy: y(last.value),
        r: line.emphasis ? 4 : 2.5,
      }),
    );
  }
  if (drawn === 0) emptyNote(root, plot, emptyMessage);
}

/**
 * Stacked columns over time: `bins` is `[{ t0, t1, values }]`, oldest first, and `classes[i]` styles
 * the part of each column that is `values[i]`.
 */
export function columnChart(container, { bins, classes, xDomain, height = 180, emptyMessage, describe }) {
  const { root, width } = canvas(container, height);
  root.replaceChildren();
  const sum = (values) => values.reduce((total, value) => total + Math.max(0, value), 0);
  const peak = Math.max(0, ...bins.map((bin) => sum(bin.values)));
  const yMax = niceCeiling(Math.max(4, peak));
  const { plot, x, y } = frame(root, width, height, {
    xDomain,
    yMax,
    yTicks: [0, yMax / 2, yMax].filter(Number.isInteger),
    yFormat: (tick) => tick.toLocaleString('en'),
  });
  for (const bin of bins) {
    const left = x(Math.max(bin.t0, xDomain[0])) + 1;
    const columnWidth = Math.max(1, x(Math.min(bin.t1, xDomain[1])) - left - 1);
    let base = 0;
    bin.values.forEach((value, index) => {
      if (value <= 0) return;
      root.append(
        svg(
          'rect',
          {
            class: `column ${classes[index]}`,
            x: left,
            y: y(base + value),
            width: columnWidth,
            height: y(base) - y(base + value),
            'data-value': value,
          },
          [svg('title', {}, [describe(bin, index)])],
        ),
      );
      base += value;
    });
  }
  if (peak === 0) emptyNote(root, plot, emptyMessage);
}

function niceCeiling(value) {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 4, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}
