// One definition of the cell states: every state has a code, a colour and a label; the matrix, the report,
// the exports and the page take them from it and keep no second copy.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { cellStateDefs, cellStateList, cellStateNames, inkOn, legendOrder } from '../../aggregator/cell-states.js';
import { reportToHtml } from '../../aggregator/export.js';
import { BindingMatrix, cellStates } from '../../aggregator/matrix.js';
import { builtinProfile } from '../../aggregator/profile.js';
import { runLength } from '../../aggregator/report.js';
import { AggregatorState } from '../../aggregator/state.js';
import { helloFor, roundFor, synthInventory } from '../metrics/synth.js';

test('every cell state has a one-character non-digit code, a colour and a label, all distinct', () => {
  const defs = Object.entries(cellStateDefs);
  assert.ok(defs.length >= 8);
  for (const [name, d] of defs) {
    assert.match(d.code, /^[^0-9]$/, `${name}: one character, not a digit`);
    assert.match(d.colour, /^#[0-9a-f]{6}$/i, `${name}: a colour`);
    assert.ok(d.label.trim().length > 1, `${name}: a label`);
  }
  for (const k of ['code', 'colour', 'label'] as const) assert.equal(new Set(defs.map(([, d]) => d[k])).size, defs.length, `distinct ${k}s`);
  // Every view's list covers every state: the legend all but self, the report's list all of them.
  assert.deepEqual([...legendOrder, 'self'].sort(), [...cellStateNames].sort());
  assert.deepEqual(cellStateList.map((s) => s.name).sort(), [...cellStateNames].sort());
  for (const s of cellStateList) assert.equal(s.ink, inkOn(s.colour));
});

test('the matrix codes and the report legend come from the definition', () => {
  for (const s of cellStateNames) assert.equal(cellStates[s], cellStateDefs[s].code);
  const inv = synthInventory(3, ['internal']);
  const clock = { t: 1_000_000 };
  const state = new AggregatorState({ inventory: inv, profile: builtinProfile('demo'), now: () => clock.t });
  for (const n of inv.nodes) state.hello(helloFor(inv, n.name));
  clock.t += 1000; // rounds that began before a peer's hello do not count
  for (const n of inv.nodes) state.results(roundFor(inv, n.name, 0, (_b, from, to) => (from === 'node-1' && to === 'node-3' ? 'port' : undefined)));
  const r = state.report('states');
  assert.deepEqual(r.cellStates, cellStateList);
  const legend = r.bindings[0]!.matrix!.legend;
  for (const s of cellStateNames) assert.equal(legend[cellStateDefs[s].code], s);
  assert.equal(r.bindings[0]!.matrix!.states[0], `${cellStateDefs.self.code}${cellStateDefs.ok.code}${cellStateDefs.port.code}`);
  // The HTML export paints the port cell in the definition's colour.
  assert.ok(reportToHtml(r).includes(`background:${cellStateDefs.port.colour}`));
  state.close();
  assert.ok(new BindingMatrix('b', ['a']).stateRows()[0] === cellStateDefs.self.code);
});

test('run-length rows: a code followed by its count when it repeats', () => {
  assert.equal(runLength(''), '');
  assert.equal(runLength('-'), '-');
  assert.equal(runLength('ooo-oo'), 'o3-o2');
  assert.equal(runLength('o?ox'), 'o?ox');
  assert.equal(runLength(`${'o'.repeat(499)}-${'o'.repeat(500)}`), 'o499-o500');
});

test('no view keeps its own copy of the state colours or labels', () => {
  const files = [
    'aggregator/export.ts',
    'aggregator/web/heatmap.js',
    'aggregator/web/cells.js',
    'aggregator/web/app.js',
    'aggregator/web/nodes.js',
    'aggregator/web/style.css',
    'aggregator/web/index.html',
  ];
  for (const f of files) {
    const text = readFileSync(new URL(`../../${f}`, import.meta.url), 'utf8').toLowerCase();
    for (const [name, d] of Object.entries(cellStateDefs)) {
      if (name === 'self') continue; // white is everywhere
      assert.ok(!text.includes(d.colour.toLowerCase()), `${f} repeats ${name}'s colour ${d.colour}`);
      if (d.label !== name && d.label.length > 6) assert.ok(!text.includes(`'${d.label.toLowerCase()}'`), `${f} repeats ${name}'s label`);
    }
  }
});
