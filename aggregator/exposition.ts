// The Prometheus text exposition (format 0.0.4) of Pinger's own families (pure), written as prom-client's
// Registry writes it: one `# HELP` and `# TYPE` a family, families apart by a blank line. prom-client formats
// each series through Object.entries, filters and regular expressions: ~5 us a series, 0.1 s a scrape at the
// 23,000 series of 1,000 bonded nodes x 6 bindings (BENCHMARKS.md "AFTER 9"). The process's own metrics stay
// with prom-client (routes/metrics.ts).
import type { Family } from './metrics.js';

const needsEscape = /[\\\n"]/;
/** A label value: backslash, newline and double quote escaped (only scanned once when none is there). */
const labelValue = (v: string) => (needsEscape.test(v) ? v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : v);
/** HELP text: backslash and newline escaped. */
const helpText = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function valueText(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return `${v}`;
}

export function exposition(families: readonly Family[]): string {
  const parts: string[] = [];
  for (const f of families) {
    let text = `# HELP ${f.name} ${helpText(f.help)}\n# TYPE ${f.name} ${f.type}`;
    for (const s of f.samples) {
      let labels = '';
      for (const k in s.labels) labels += `${labels ? ',' : ''}${k}="${labelValue(s.labels[k]!)}"`;
      text += `\n${f.name}${s.suffix ?? ''}${labels ? `{${labels}}` : ''} ${valueText(s.value)}`;
    }
    parts.push(text);
  }
  return parts.length ? `${parts.join('\n\n')}\n` : '';
}
