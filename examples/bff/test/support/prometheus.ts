/**
 * A strict reader of the Prometheus text exposition format 0.0.4, for asserting that /metrics is
 * what a Prometheus server would accept: every line is a HELP, a TYPE or a sample; a family's
 * HELP and TYPE come once, before its samples; samples of a family are contiguous; names, label
 * names and values are well formed; no series appears twice.
 */

export interface PrometheusSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PrometheusFamily {
  name: string;
  type: string;
  help: string;
  samples: PrometheusSample[];
}

const METRIC_NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const HELP_LINE = new RegExp(`^# HELP (${METRIC_NAME}) (.*)$`);
const TYPE_LINE = new RegExp(`^# TYPE (${METRIC_NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE_LINE = new RegExp(`^(${METRIC_NAME})(\\{.*\\})? (\\S+)( -?\\d+)?$`);
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\\\|\\"|\\n)*)"/y;
const VALUE = /^(?:[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|[+-]Inf|NaN)$/;

export function parsePrometheus(text: string): Map<string, PrometheusFamily> {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map<string, PrometheusFamily>();
  const series = new Set<string>();
  let current: PrometheusFamily | undefined;
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((line, index) => {
    const where = `line ${index + 1} (${JSON.stringify(line)})`;
    // The format ignores empty lines; prom-client puts one between families.
    if (line === '') return;
    const help = HELP_LINE.exec(line);
    if (help) {
      const name = help[1] as string;
      if (families.has(name)) throw new Error(`${where}: second HELP for ${name}`);
      current = { name, type: 'untyped', help: help[2] as string, samples: [] };
      families.set(name, current);
      return;
    }
    const type = TYPE_LINE.exec(line);
    if (type) {
      const name = type[1] as string;
      if (current?.name !== name || current.samples.length > 0 || current.type !== 'untyped')
        throw new Error(`${where}: TYPE must follow its HELP and come before the samples`);
      current.type = type[2] as string;
      return;
    }
    if (line.startsWith('#')) throw new Error(`${where}: unexpected comment`);
    const sample = SAMPLE_LINE.exec(line);
    if (!sample) throw new Error(`${where}: not a sample line`);
    const name = sample[1] as string;
    if (current === undefined || !belongsTo(name, current))
      throw new Error(`${where}: sample outside its family`);
    if (!VALUE.test(sample[3] as string)) throw new Error(`${where}: bad value`);
    const labels = parseLabels(sample[2], where);
    const id = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (series.has(id)) throw new Error(`${where}: duplicate series`);
    series.add(id);
    current.samples.push({ name, labels, value: Number(sample[3]) });
  });
  return families;
}

function belongsTo(sampleName: string, family: PrometheusFamily): boolean {
  if (sampleName === family.name) return true;
  const suffixes =
    family.type === 'histogram'
      ? ['_bucket', '_sum', '_count']
      : family.type === 'summary'
        ? ['_sum', '_count']
        : [];
  return suffixes.some((suffix) => sampleName === family.name + suffix);
}

function parseLabels(block: string | undefined, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  if (block === undefined) return labels;
  const inner = block.slice(1, -1);
  let position = 0;
  while (position < inner.length) {
    LABEL.lastIndex = position;
    const match = LABEL.exec(inner);
    if (!match) throw new Error(`${where}: malformed labels`);
    const name = match[1] as string;
    if (name in labels) throw new Error(`${where}: label ${name} twice`);
    labels[name] = (match[2] as string).replace(/\\(["\\n])/g, (_, escaped: string) =>
      escaped === 'n' ? '\n' : escaped,
    );
    position = LABEL.lastIndex;
    if (position < inner.length) {
      if (inner[position] !== ',') throw new Error(`${where}: expected a comma between labels`);
      position++;
    }
  }
  return labels;
}
