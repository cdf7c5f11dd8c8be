// The alert rules: promtool accepts them, their unit tests pass, and every alert has a unit test that
// expects it to fire and one that expects it quiet.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { requireEnv } from '../helpers/env.js';

const rulesDir = 'dashboards/rules';
const ruleFiles = readdirSync(rulesDir)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => join(rulesDir, f));
const testFiles = readdirSync(join(rulesDir, 'tests'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => join(rulesDir, 'tests', f));

interface RuleFile {
  groups: { name: string; rules: { alert?: string; expr: string; labels?: Record<string, string> }[] }[];
}
interface TestFile {
  tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
}

const alerts = ruleFiles.flatMap((f) => (parse(readFileSync(f, 'utf8')) as RuleFile).groups.flatMap((g) => g.rules.filter((r) => r.alert)));

test('the issue asks for these alerts, each with a severity', () => {
  const names = alerts.map((a) => a.alert);
  for (const want of ['PingerNotReady', 'PingerAgentMissing', 'PingerPacketLoss', 'PingerMTUMismatch', 'PingerClockSkew', 'PingerAggregatorDown']) {
    assert.ok(names.includes(want), `${want} missing from ${ruleFiles.join(', ')}`);
  }
  for (const a of alerts) assert.match(a.labels?.severity ?? '', /^(critical|warning|info)$/, `${a.alert} severity`);
});

test('every alert links its runbook: a README section that exists', () => {
  const readme = readFileSync('README.md', 'utf8');
  for (const a of alerts as { alert?: string; annotations?: Record<string, string> }[]) {
    const url = a.annotations?.runbook_url ?? '';
    const anchor = /README\.md#(runbook-[a-z]+)$/.exec(url)?.[1];
    assert.ok(anchor, `${a.alert}: runbook_url ${JSON.stringify(url)}`);
    assert.equal(anchor, `runbook-${a.alert!.toLowerCase()}`);
    assert.ok(readme.includes(`<a id="${anchor}"></a>`), `README has no runbook section ${anchor}`);
  }
});

test('every alert has a unit test where it fires and one where it stays quiet', () => {
  const cases = testFiles.flatMap((f) => (parse(readFileSync(f, 'utf8')) as TestFile).tests.flatMap((t) => t.alert_rule_test ?? []));
  for (const a of alerts) {
    const mine = cases.filter((c) => c.alertname === a.alert);
    assert.ok(
      mine.some((c) => c.exp_alerts.length > 0),
      `${a.alert}: no test expects it to fire`,
    );
    assert.ok(
      mine.some((c) => c.exp_alerts.length === 0),
      `${a.alert}: no test expects it quiet`,
    );
  }
});

test('promtool check rules', (t) => {
  if (!requireEnv(t, { commands: ['promtool'] })) return;
  const r = spawnSync('promtool', ['check', 'rules', ...ruleFiles], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.match(r.stdout, new RegExp(`SUCCESS: ${alerts.length} rules found`));
});

test('promtool test rules', (t) => {
  if (!requireEnv(t, { commands: ['promtool'] })) return;
  const r = spawnSync('promtool', ['test', 'rules', ...testFiles], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.doesNotMatch(r.stdout, /FAILED/);
});
