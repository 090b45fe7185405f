import { type CliError, noMatch } from './errors.js';
import { formatCount } from './format.js';
import type { Inspector } from './inspect.js';

const PREFIX_SAMPLE = 1_000;

/**
 * The "nothing matched" error (exit 5). When the whole prefix is empty, says so and lists the
 * prefixes a sample of the database does use: an empty prefix is usually a typo or the wrong URL.
 */
export async function nothingMatched(inspector: Inspector, what: string): Promise<CliError> {
  if (await inspector.hasAnyKey()) return noMatch(`${what} under prefix '${inspector.prefix}'`);
  const sample = await inspector.samplePrefixes(PREFIX_SAMPLE);
  const seen = [...sample.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([prefix, count]) => `${prefix} (${formatCount(count)})`);
  return noMatch(
    `the prefix '${inspector.prefix}' has no entries`,
    seen.length > 0
      ? `prefixes seen in a sample of this database: ${seen.join(', ')}`
      : 'this database has no keys at all: is the URL (and database number) right?',
  );
}
