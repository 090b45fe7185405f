import { isPageOf, KEY_COUNT, KEYS, PAGES, wrongValue } from './fixtures.mjs';

/** Helpers shared by the scenarios: filling the 100 keys and the per-op value check. */

/** Writes the 100 pages and reads each back once, so a subject that cannot store fails right here. */
export async function populate(handle, subject) {
  for (let index = 0; index < KEY_COUNT; index++) await handle.set(KEYS[index], PAGES[index]);
  for (let index = 0; index < KEY_COUNT; index++) {
    const value = await handle.get(KEYS[index]);
    if (!isPageOf(value, index)) throw wrongValue(subject, `get(${KEYS[index]}) after set`, value);
  }
}

/** A check for the measuring loops: throws on the first wrong or missing value. */
export function pageCheck(subject, what) {
  return (value, index) => {
    if (!isPageOf(value, index)) throw wrongValue(subject, `${what}(${KEYS[index]})`, value);
  };
}

/** A fetcher per key, built once (no closure per call), counting calls: a hit must never fetch. */
export function countingFetchers() {
  const counter = { fetches: 0 };
  const fetchers = PAGES.map((page) => async () => {
    counter.fetches++;
    return page;
  });
  return { counter, fetchers };
}
