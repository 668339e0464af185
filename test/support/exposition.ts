/**
 * The Prometheus text exposition format, read as a scrape reads it (the samples; comments and
 * metadata skipped), and series written back in the notation promtool's input_series takes.
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** `\\`, `\"` and `\n` in a label value, as the format escapes them. */
function unescape(text: string): string {
  return text.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

/** The samples of a scrape's body (text format 0.0.4). */
export function parseExposition(body: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of body.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
    if (!name) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    let rest = line.slice(name.length);
    const labels: Record<string, string> = {};
    if (rest.startsWith('{')) {
      // Label values may hold any character, braces and commas included: read them quote by quote.
      const pair = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/;
      rest = rest.slice(1);
      while (!rest.startsWith('}')) {
        const m = pair.exec(rest);
        if (!m) throw new Error(`malformed labels in ${JSON.stringify(line)}`);
        labels[m[1]] = unescape(m[2]);
        rest = rest.slice(m[0].length);
      }
      rest = rest.slice(1);
    }
    const [value] = rest.trim().split(/\s+/);
    samples.push({ name, labels, value: value === '+Inf' ? Infinity : value === '-Inf' ? -Infinity : Number(value) });
  }
  return samples;
}

/** A series as promtool's input_series names it: `name{label="value",…}`, values escaped. */
export function seriesName(name: string, labels: Readonly<Record<string, string>>): string {
  const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return `${name}{${Object.keys(labels).sort().map((k) => `${k}="${escape(labels[k])}"`).join(',')}}`;
}
