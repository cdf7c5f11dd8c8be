// The PromQL in the dashboards and the alert rules, gathered for running against a real Prometheus.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export interface Query {
  /** Where it comes from: "dashboards/x.json: Panel title" or "rules: AlertName". */
  where: string;
  dashboard?: string;
  panel?: string;
  expr: string;
}

export const dashboardsDir = 'dashboards';
export const rulesDir = join(dashboardsDir, 'rules');

export function dashboardFiles(): string[] {
  return readdirSync(dashboardsDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => join(dashboardsDir, f));
}

export function ruleFiles(): string[] {
  return readdirSync(rulesDir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(rulesDir, f));
}

interface Panel {
  title: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

/** Every target expr of every panel (rows included) and every query variable of every dashboard. */
export function dashboardQueries(): Query[] {
  const out: Query[] = [];
  for (const file of dashboardFiles()) {
    const d = JSON.parse(readFileSync(file, 'utf8')) as {
      uid: string;
      panels: Panel[];
      templating: { list: { type: string; name: string; definition?: string }[] };
    };
    const walk = (ps: Panel[]) => {
      for (const p of ps) {
        for (const t of p.targets ?? []) if (t.expr) out.push({ where: `${file}: ${p.title}`, dashboard: d.uid, panel: p.title, expr: t.expr });
        walk(p.panels ?? []);
      }
    };
    walk(d.panels);
    for (const v of d.templating.list) {
      if (v.type !== 'query' || !v.definition) continue;
      // Grafana's label_values(selector, label) is not PromQL; the selector inside it is.
      const m = /^label_values\((.*),\s*[a-zA-Z_][a-zA-Z0-9_]*\)$/.exec(v.definition);
      out.push({ where: `${file}: variable ${v.name}`, dashboard: d.uid, expr: m ? m[1]! : v.definition });
    }
  }
  return out;
}

export function ruleQueries(): Query[] {
  const out: Query[] = [];
  for (const file of ruleFiles()) {
    const doc = parse(readFileSync(file, 'utf8')) as { groups: { rules: { alert?: string; record?: string; expr: string }[] }[] };
    for (const g of doc.groups) for (const r of g.rules) out.push({ where: `${file}: ${r.alert ?? r.record}`, expr: r.expr });
  }
  return out;
}

/**
 * Grafana's variables replaced the way Grafana would for "All": template variables match anything, the
 * rate interval becomes a window that holds a few scrapes.
 */
export function resolveGrafanaVars(expr: string, rateInterval = '30s'): string {
  const out = expr
    .replaceAll('$__rate_interval', rateInterval)
    .replaceAll('$__interval', '15s')
    .replace(/\$\{?(instance|binding)\}?/g, '.+');
  if (out.includes('$')) throw new Error(`unresolved Grafana variable in: ${expr}`);
  return out;
}
