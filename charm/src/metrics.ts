// What the metrics relations carry: scrape jobs for the aggregator's /metrics, and the alert rules and
// Grafana dashboards from dashboards/ (read from the files the charm ships, never copied into code).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Databag } from './hook-tools.js';

export interface MetricsAssets {
  dashboards: { file: string; json: string }[];
  /** Prometheus rule groups merged from dashboards/rules/*.yaml. */
  ruleGroups: unknown[];
}

export function loadAssets(dir: string): MetricsAssets {
  const out: MetricsAssets = { dashboards: [], ruleGroups: [] };
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    out.dashboards.push({ file: f, json: readFileSync(join(dir, f), 'utf8') });
  }
  const rules = join(dir, 'rules');
  if (existsSync(rules)) {
    for (const f of readdirSync(rules)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()) {
      const doc = parse(readFileSync(join(rules, f), 'utf8')) as { groups?: unknown[] } | null;
      if (Array.isArray(doc?.groups)) out.ruleGroups.push(...doc.groups);
    }
  }
  return out;
}

/** cos_agent wants each dashboard as base64 of LZMA (xz container, as Python's lzma.compress) JSON. */
export function xzBase64(text: string): string {
  return execFileSync('xz', ['--format=xz', '-c'], { input: text }).toString('base64');
}

export interface Target {
  address?: string;
  port: number;
  unit: string;
  model: string;
  modelUuid: string;
  app: string;
  scheme?: 'http' | 'https';
  /** With read auth on, Prometheus needs it: HTTP Basic, any user name, the read token as password. */
  readToken?: string;
}

/** Juju topology labels, as COS names them: every series and alert says which model, app and unit. */
export function topology(t: Target, withUnit = true): Record<string, string> {
  return { juju_model: t.model, juju_model_uuid: t.modelUuid, juju_application: t.app, ...(withUnit ? { juju_unit: t.unit } : {}), juju_charm: 'pinger' };
}

const job = (targets: string[], t: Target) => ({
  job_name: 'pinger',
  metrics_path: '/metrics',
  ...(t.scheme === 'https' ? { scheme: 'https' } : {}),
  ...(t.readToken ? { basic_auth: { username: 'prometheus', password: t.readToken } } : {}),
  static_configs: [{ targets, labels: topology(t) }],
});

/** Every alert rule labelled with the application's topology (rules are per application, not per unit). */
export function withTopology(groups: unknown[], t: Target): unknown[] {
  return groups.map((g) => {
    const grp = g as { rules?: { labels?: Record<string, string> }[] };
    return { ...grp, rules: (grp.rules ?? []).map((r) => ({ ...r, labels: { ...(r.labels ?? {}), ...topology(t, false) } })) };
  });
}

/** cos-agent unit databag: only the unit running the aggregator has something to scrape. */
export function cosAgentBag(a: MetricsAssets, t: Target, compress: (s: string) => string = xzBase64): Databag {
  return {
    config: JSON.stringify({
      metrics_scrape_jobs: t.address ? [job([`localhost:${t.port}`], t)] : [],
      metrics_alert_rules: { groups: withTopology(a.ruleGroups, t) },
      log_alert_rules: {},
      dashboards: a.dashboards.map((d) => compress(d.json)),
      log_slots: [],
      subordinate: false,
    }),
  };
}

/** prometheus_scrape (metrics-endpoint): the leader's app bag names the aggregator's address. */
export function scrapeAppBag(a: MetricsAssets, t: Target): Databag {
  return {
    scrape_jobs: JSON.stringify(t.address ? [job([`${t.address.includes(':') ? `[${t.address}]` : t.address}:${t.port}`], t)] : []),
    scrape_metadata: JSON.stringify({ model: t.model, model_uuid: t.modelUuid, application: t.app, unit: t.unit, charm_name: 'pinger' }),
    alert_rules: JSON.stringify({ groups: withTopology(a.ruleGroups, t) }),
  };
}

export function scrapeUnitBag(t: Target): Databag {
  return { prometheus_scrape_unit_address: t.address ?? '', prometheus_scrape_unit_name: t.unit };
}

/** Legacy prometheus interface: hostname/port of a target; units without the aggregator clear theirs. */
export function legacyPrometheusBag(t: Target): Databag {
  return t.address ? { hostname: t.address, port: String(t.port), metrics_path: '/metrics' } : { hostname: '', port: '', metrics_path: '' };
}
