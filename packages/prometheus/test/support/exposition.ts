/**
 * A reader of the Prometheus text exposition format (0.0.4) for assertions: families with their
 * HELP, TYPE and samples (a histogram's `_bucket`, `_sum` and `_count` series under its family).
 * Throws on a line it cannot read, a sample outside its family, or a series given twice.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;

export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const series = new Set<string>();
  let current: Family | undefined;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const help = /^# HELP (\S+) (.*)$/.exec(line);
    if (help) {
      current = { name: help[1] as string, type: 'untyped', help: help[2] as string, samples: [] };
      if (families.has(current.name)) throw new Error(`second HELP for ${current.name}`);
      families.set(current.name, current);
      continue;
    }
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      if (current === undefined || current.name !== type[1])
        throw new Error(`TYPE without its HELP: ${line}`);
      current.type = type[2] as string;
      continue;
    }
    const sample = SAMPLE.exec(line);
    if (!sample) throw new Error(`unreadable line: ${line}`);
    const name = sample[1] as string;
    const suffixes = current?.type === 'histogram' ? ['', '_bucket', '_sum', '_count'] : [''];
    if (current === undefined || !suffixes.some((suffix) => current?.name + suffix === name))
      throw new Error(`sample outside its family: ${line}`);
    const labels: Record<string, string> = {};
    for (const match of (sample[2] ?? '').matchAll(LABEL)) labels[match[1] as string] = match[2] as string;
    const id = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (series.has(id)) throw new Error(`series given twice: ${line}`);
    series.add(id);
    current.samples.push({ name, labels, value: Number(sample[3]) });
  }
  return families;
}

/** Every series name the exposition holds (histogram series included). */
export function seriesNames(families: Map<string, Family>): Set<string> {
  return new Set(
    [...families.values()].flatMap((family) => [family.name, ...family.samples.map((s) => s.name)]),
  );
}

/** The value of the one sample named `name` whose labels include `match`; throws on none or several. */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  match: Record<string, string>,
): number {
  const found = [...families.values()]
    .flatMap((family) => family.samples)
    .filter(
      (sample) =>
        sample.name === name &&
        Object.entries(match).every(([label, value]) => sample.labels[label] === value),
    );
  if (found.length !== 1)
    throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(match)}`);
  return (found[0] as Sample).value;
}
