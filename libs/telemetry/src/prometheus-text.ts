// A small parser for the Prometheus text exposition format (version 0.0.4), enough to read
// another service's /metrics: comments and HELP/TYPE lines are skipped, label values may
// hold escaped quotes, backslashes and newlines, values may be NaN/+Inf/-Inf, and an
// optional timestamp is ignored. A line it cannot read is an error naming the line, never a
// silently wrong number.

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export class PrometheusTextError extends Error {
  readonly code = 'PROMETHEUS_TEXT_INVALID';
  constructor(
    readonly lineNumber: number,
    readonly line: string,
    reason: string,
  ) {
    super(`line ${lineNumber}: ${reason}: ${line.length > 120 ? `${line.slice(0, 120)}...` : line}`);
    this.name = 'PrometheusTextError';
  }
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/** Sum over the series of `name` that match `where` (every label set by default); null when there is none. */
export function sumOf(samples: PromSample[], name: string, where: (labels: Record<string, string>) => boolean = () => true): number | null {
  let total: number | null = null;
  for (const s of samples) if (s.name === name && where(s.labels)) total = (total ?? 0) + s.value;
  return total;
}

export function parsePrometheusText(text: string): PromSample[] {
  const samples: PromSample[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    samples.push(parseSampleLine(line, i + 1));
  }
  return samples;
}

function parseSampleLine(line: string, lineNumber: number): PromSample {
  const fail = (reason: string): never => {
    throw new PrometheusTextError(lineNumber, line, reason);
  };
  const name = NAME.exec(line)?.[0] ?? fail('expected a metric name');
  let pos = name.length;
  const labels: Record<string, string> = {};
  if (line[pos] === '{') {
    pos++;
    for (;;) {
      while (line[pos] === ' ') pos++;
      if (line[pos] === '}') {
        pos++;
        break;
      }
      const labelName = LABEL_NAME.exec(line.slice(pos))?.[0] ?? fail('expected a label name');
      pos += labelName.length;
      while (line[pos] === ' ') pos++;
      if (line[pos] !== '=') fail(`expected = after label ${labelName}`);
      pos++;
      while (line[pos] === ' ') pos++;
      if (line[pos] !== '"') fail(`expected a quoted value for label ${labelName}`);
      pos++;
      let value = '';
      for (;;) {
        const c = line[pos];
        if (c === undefined) fail(`unterminated value of label ${labelName}`);
        if (c === '"') break;
        if (c === '\\') {
          const next = line[pos + 1];
          value +=
            next === 'n' ? '\n' : next === '"' ? '"' : next === '\\' ? '\\' : fail(`bad escape \\${next ?? ''} in label ${labelName}`);
          pos += 2;
          continue;
        }
        value += c;
        pos++;
      }
      pos++;
      labels[labelName] = value;
      while (line[pos] === ' ') pos++;
      if (line[pos] === ',') pos++;
      else if (line[pos] !== '}') fail(`expected , or } after label ${labelName}`);
    }
  }
  const rest = line.slice(pos).trim().split(/\s+/);
  if (rest.length < 1 || rest[0] === '' || rest.length > 2) fail('expected a value and an optional timestamp');
  return { name, labels, value: parseValue(rest[0]) ?? fail(`not a number: ${rest[0]}`) };
}

function parseValue(raw: string): number | undefined {
  // Case-insensitive, as Prometheus reads them (Go's ParseFloat): prom-client writes "Nan" for
  // an empty event-loop-lag histogram, and one such line must not void a whole scrape.
  switch (raw.toLowerCase()) {
    case 'nan':
      return Number.NaN;
    case '+inf':
    case 'inf':
      return Number.POSITIVE_INFINITY;
    case '-inf':
      return Number.NEGATIVE_INFINITY;
  }
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) return undefined;
  return Number(raw);
}
