// The Prometheus text exposition (format 0.0.4) of Pinger's own families (pure), written as prom-client's
// Registry writes it: one `# HELP` and `# TYPE` a family, families apart by a blank line. prom-client formats
// each series through Object.entries, filters and regular expressions: ~5 us a series, 0.1 s a scrape at the
// 23,000 series of 1,000 bonded nodes x 6 bindings (BENCHMARKS.md "AFTER 9"). The process's own metrics stay
// with prom-client (routes/metrics.ts).
import type { Family, Sample } from './metrics.js';

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

/**
 * One sample's line, built by one join: a flat string. Concatenation would leave a tree of pieces (a cons string)
 * that the scrape's join must flatten line by line: 16 ms for the 12,000 bond-member lines formatted at hello time
 * (test/bench/scrape-cost.ts, BENCHMARKS.md AFTER 12).
 */
function line(name: string, s: Sample): string {
  const parts: string[] = [name];
  if (s.suffix) parts.push(s.suffix);
  let sep = '{';
  for (const k in s.labels) {
    parts.push(sep, k, '="', labelValue(s.labels[k]!), '"');
    sep = ',';
  }
  if (sep === ',') parts.push('}');
  parts.push(' ', valueText(s.value));
  return parts.join('');
}

/** Lines of stable samples (the same object scrape after scrape, never changed): formatted once. */
const stableLines = new WeakMap<Sample, string>();

/** Formats stable samples' lines ahead of a scrape (a hello's link series: 18,000 lines at 1,000 bonded nodes). */
export function formatStable(name: string, samples: readonly Sample[]): void {
  for (const s of samples) if (s.stable && !stableLines.has(s)) stableLines.set(s, line(name, s));
}

/**
 * A family of stable samples only, as last written: the same sample objects in the same order mean the same bytes.
 * The nodes' state and link families are ~22,000 of /metrics's lines at 1,000 bonded nodes x 6 bindings and change
 * only with a node's state or hello; comparing references is ~0.02 ms where looking each line up and joining was ~10.
 * They are kept encoded: the route sends bytes, so a scrape neither measures nor encodes those 1.4 MB of text again
 * (BENCHMARKS.md AFTER 13).
 */
const stableFamilies = new Map<string, { samples: readonly Sample[]; bytes: Buffer }>();
const sameSamples = (a: readonly Sample[], b: readonly Sample[]) => a.length === b.length && a.every((s, i) => s === b[i]);
const blankLine = Buffer.from('\n');

/**
 * The exposition as byte chunks, to be sent one after the other: each family's `# HELP`, `# TYPE` and lines, families
 * apart by a blank line, as prom-client writes them.
 */
export function expositionChunks(families: readonly Family[]): Buffer[] {
  const out: Buffer[] = [];
  for (const f of families) {
    if (out.length) out.push(blankLine);
    const kept = stableFamilies.get(f.name);
    out.push(kept && f.samples.length && sameSamples(kept.samples, f.samples) ? kept.bytes : familyBytes(f));
  }
  return out;
}

export function exposition(families: readonly Family[]): string {
  return Buffer.concat(expositionChunks(families)).toString();
}

/** A family's header and sample lines, encoded; a family of stable samples only is kept whole for the next scrape. */
function familyBytes(f: Family): Buffer {
  const lines: string[] = [`# HELP ${f.name} ${helpText(f.help)}`, `# TYPE ${f.name} ${f.type}`];
  let stable = f.samples.length > 0;
  for (const s of f.samples) {
    if (!s.stable) {
      stable = false;
      lines.push(line(f.name, s));
      continue;
    }
    let l = stableLines.get(s);
    if (l === undefined) stableLines.set(s, (l = line(f.name, s)));
    lines.push(l);
  }
  lines.push('');
  const bytes = Buffer.from(lines.join('\n'));
  if (stable) stableFamilies.set(f.name, { samples: [...f.samples], bytes });
  else stableFamilies.delete(f.name);
  return bytes;
}
