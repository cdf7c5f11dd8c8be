// The Grafana dashboards are importable as they are: a `prometheusds` datasource variable that every
// panel and query uses, no import-time placeholders, unique uids and panel ids, and only metrics /metrics has.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { metricDefs } from '../../aggregator/metrics.js';
import { dashboardFiles, dashboardQueries, resolveGrafanaVars, ruleQueries } from './promql.js';

const DS = '${prometheusds}';
interface Panel {
  id: number;
  title: string;
  type: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: { refId: string; expr: string; datasource?: { uid: string } }[];
}

const dashboards = dashboardFiles().map((file) => ({ file, text: readFileSync(file, 'utf8'), json: JSON.parse(readFileSync(file, 'utf8')) }));

test('the four dashboards the issue asks for are there, with unique uids', () => {
  const uids = dashboards.map((d) => d.json.uid as string);
  assert.equal(new Set(uids).size, uids.length);
  for (const want of ['pinger-overview', 'pinger-bindings', 'pinger-pairs', 'pinger-aggregator']) assert.ok(uids.includes(want), want);
});

for (const d of dashboards) {
  describe(d.file, () => {
    test('declares the prometheusds datasource variable', () => {
      const v = d.json.templating.list.find((x: { name: string }) => x.name === 'prometheusds');
      assert.deepEqual([v?.type, v?.query], ['datasource', 'prometheus']);
    });
    test('has no import-time placeholders', () => {
      assert.equal(d.json.__inputs, undefined);
      assert.doesNotMatch(d.text, /\$\{DS_/);
      assert.equal(d.json.id, undefined, 'no instance-specific id');
    });
    test('every panel, query and query variable uses ${prometheusds}', () => {
      const panels = d.json.panels as Panel[];
      assert.ok(panels.length > 0);
      const ids = panels.map((p) => p.id);
      assert.equal(new Set(ids).size, ids.length, 'unique panel ids');
      for (const p of panels) {
        assert.equal(p.datasource?.uid, DS, `${p.title}: datasource`);
        assert.ok(p.gridPos.w > 0 && p.gridPos.h > 0 && p.gridPos.x + p.gridPos.w <= 24, `${p.title}: gridPos`);
        assert.ok((p.targets ?? []).length > 0, `${p.title}: no queries`);
        for (const t of p.targets ?? []) {
          assert.equal(t.datasource?.uid, DS, `${p.title} ${t.refId}: datasource`);
          assert.ok(t.expr.trim().length > 0);
        }
      }
      for (const v of d.json.templating.list) if (v.type === 'query') assert.equal(v.datasource?.uid, DS, `variable ${v.name}`);
    });
  });
}

test('every pinger_ metric the dashboards and rules use is one /metrics exposes', () => {
  const known = new Set<string>(Object.keys(metricDefs));
  for (const [name, def] of Object.entries(metricDefs)) if (def.type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) known.add(name + s);
  for (const q of [...dashboardQueries(), ...ruleQueries()]) {
    for (const m of q.expr.match(/\bpinger_[a-z0-9_]+/g) ?? []) assert.ok(known.has(m), `${q.where}: unknown metric ${m}`);
    resolveGrafanaVars(q.expr);
  }
});

test('per-pair series are only queried by the node x node dashboard (cardinality)', () => {
  for (const q of dashboardQueries()) if (q.dashboard !== 'pinger-pairs') assert.doesNotMatch(q.expr, /pinger_pair_/, q.where);
  for (const q of ruleQueries()) assert.doesNotMatch(q.expr, /pinger_pair_/, q.where);
});
