// The feed of recent invalidations, newest first. Events that arrived since the last poll are
// marked `fresh` so they flash once.

import { clock, html, plural } from './format.js';

const SHOWN_IDS = 3;

function eventKey(event) {
  return [event.at, event.entity, event.kind, String(event.ids), event.status].join('|');
}

function describeIds(ids) {
  if (ids === '*') return 'all records';
  const shown = ids.slice(0, SHOWN_IDS).join(', ');
  return ids.length > SHOWN_IDS ? `${shown} +${ids.length - SHOWN_IDS} more` : shown;
}

export class InvalidationFeed {
  #list;
  #seen = null;

  constructor(list) {
    this.#list = list;
  }

  render(recent) {
    const keys = recent.map(eventKey);
    // On the first render nothing is new: the page just opened.
    const seen = this.#seen ?? new Set(keys);
    if (recent.length === 0) {
      this.#list.replaceChildren(
        html('li', { class: 'feed-empty', 'data-testid': 'feed-empty' }, [
          'No invalidations yet. Press “Send a CDC event”, or start the simulator.',
        ]),
      );
    } else {
      this.#list.replaceChildren(...recent.map((event, index) => this.#item(event, !seen.has(keys[index]))));
    }
    this.#seen = new Set(keys);
  }

  #item(event, fresh) {
    return html(
      'li',
      {
        class: fresh ? 'feed-item fresh' : 'feed-item',
        'data-testid': 'invalidation-event',
        'data-entity': event.entity,
        'data-kind': event.kind,
        'data-status': event.status,
      },
      [
        html('time', { datetime: event.at }, [clock(event.at)]),
        html('span', { class: 'feed-entity' }, [event.entity]),
        html('span', { class: 'chip' }, [event.kind]),
        html(
          'span',
          { class: 'feed-ids', title: event.ids === '*' ? 'every record' : event.ids.join(', ') },
          [describeIds(event.ids)],
        ),
        html('span', { class: 'pill', 'data-status': event.status }, [event.status]),
        html('span', { class: 'feed-effect' }, [
          `${plural(event.keys, 'key')} · ${plural(event.tags, 'tag')}`,
        ]),
      ],
    );
  }
}
