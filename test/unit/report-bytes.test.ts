// The report's bytes with link facts encoded once per hello: they parse to what JSON.stringify's do, whatever
// the strings inside (agents choose hostnames and LLDP names), non-ASCII included.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LinkFact } from '../../agent/contract/link-wire.js';
import type { Report, ReportNode } from '../../aggregator/report.js';
import { linksBytes, reportBytes } from '../../aggregator/report-bytes.js';
import { fleetInventory, simLinks } from '../bench/fleet-lib.js';
import { roundFor, synthFleet } from '../metrics/synth.js';

const inv = fleetInventory(4, 3);
const node = (i: number, over: Partial<ReportNode> = {}): ReportNode => ({
  name: inv.nodes[i]!.name,
  state: 'reporting',
  rounds: 3,
  bindings: { internal: [{ address: '198.18.0.1', iface: 'bond0.100', mtu: 9000 }] },
  responderProblems: [],
  ...over,
});
const report = (nodes: ReportNode[], over: Partial<Report> = {}): Report => ({
  verdict: 'ready',
  generatedAt: '2026-12-07T01:30:00.000Z',
  profile: 'openstack',
  summary: 'all 4 nodes reach each other',
  expected: 4,
  reporting: 4,
  nodes,
  bindings: [],
  findings: [],
  ...over,
});

test('reportBytes parses to the report JSON.stringify writes, with and without link facts', () => {
  const links = inv.nodes.map((n) => simLinks(n));
  const hostile: LinkFact[] = structuredClone(links[2]!);
  hostile[0]!.ports[0]!.lldp![0]!.chassis = '"nodes":[],"x":"}]"pinger-nodes-0000 \u00e9\u4e2d \\ \n';
  const cases: [string, Report][] = [
    ['no nodes', report([])],
    ['no link facts', report([node(0), node(1)])],
    [
      'link facts on some nodes, and after other keys',
      report([node(0, { links: links[0]!, lldp: 'ok', bandwidthMbps: { internal: 9400 } }), node(1), node(2, { links: hostile })]),
    ],
    [
      'strings about nodes in the report around them',
      report([node(3, { links: links[3]!, hostname: '"nodes":"pinger-nodes-x"' })], { summary: 'nodes: "nodes":[1]' }),
    ],
  ];
  for (const [what, r] of cases) {
    const bytes = reportBytes(r);
    assert.deepEqual(JSON.parse(bytes.toString('utf8')), JSON.parse(JSON.stringify(r)), what);
    assert.equal(bytes.length, Buffer.byteLength(JSON.stringify(r)), `${what}: the same length (only key order differs)`);
  }
});

test("reportBytes: a node's link facts are the same bytes in every report until its next hello", () => {
  const links = simLinks(inv.nodes[0]!);
  const a = reportBytes(report([node(0, { links, rounds: 1 })])).toString();
  const b = reportBytes(report([node(0, { links, rounds: 2 })])).toString();
  const linksText = JSON.stringify(links);
  assert.ok(a.includes(`"links":${linksText}`) && b.includes(`"links":${linksText}`));
  // A new hello's facts (another array): encoded anew.
  const changed = structuredClone(links);
  changed[0]!.ports[1]!.mii = 'down';
  assert.ok(
    reportBytes(report([node(0, { links: changed })]))
      .toString()
      .includes('"mii":"down"'),
  );
});

test("without link facts (links=none) the bytes are the report minus each node's links; linksBytes has them alone", () => {
  const links = inv.nodes.map((n) => simLinks(n));
  const hostile: LinkFact[] = structuredClone(links[2]!);
  hostile[0]!.ports[0]!.lldp![0]!.chassis = '"links":[],"name":"x"}]\u00e9 \\ \n';
  const r = report([node(0, { links: links[0]!, lldp: 'ok' }), node(1), node(2, { links: hostile, hostname: '"links":1' })]);
  // The same entry objects in both: each variant is cached per entry, and neither leaks into the other.
  for (let k = 0; k < 2; k++) {
    const lean = JSON.parse(reportBytes(r, false).toString('utf8'));
    assert.deepEqual(lean, JSON.parse(JSON.stringify({ ...r, nodes: r.nodes.map(({ links: _, ...n }) => n) })));
    assert.deepEqual(JSON.parse(reportBytes(r).toString('utf8')), JSON.parse(JSON.stringify(r)));
  }
  assert.deepEqual(JSON.parse(linksBytes(r.nodes).toString('utf8')), {
    nodes: [
      { name: r.nodes[0]!.name, links: links[0] },
      { name: r.nodes[2]!.name, links: hostile },
    ],
  });
  assert.deepEqual(JSON.parse(linksBytes([node(1)]).toString('utf8')), { nodes: [] });
});

test("reportBytes with the matrices' state rows: each row's bytes kept until a cell of it changes, in any key order", () => {
  const f = synthFleet(5, ['internal', 'storage']);
  f.feed();
  const same = (r: Report, what: string) => {
    const bytes = reportBytes(r);
    assert.deepEqual(JSON.parse(bytes.toString('utf8')), JSON.parse(JSON.stringify(r)), what);
    assert.equal(bytes.length, Buffer.byteLength(JSON.stringify(r)), `${what}: the same length`);
  };
  const r1 = f.state.report('states');
  assert.equal(r1.bindings[0]!.matrix!.states.length, 5);
  same(r1, 'a healthy fleet');
  // Bindings ahead of the nodes, and nodes ahead of everything: the marks are placed where the text has them.
  const { bindings, nodes, ...rest } = r1;
  same({ bindings, ...rest, nodes }, 'bindings first, nodes last');
  same({ nodes, bindings, ...rest }, 'nodes, then bindings first');
  // node-2 -> node-3 fails on storage: that row's bytes must be built again, the others' kept.
  f.clock.t += 1000;
  f.state.results(roundFor(f.inv, 'node-2', 1, (b, from, to) => (b === 'storage' && to === 'node-3' ? 'unreachable' : undefined)));
  const r2 = f.state.report('states');
  const rows = (r: Report) => r.bindings.find((b) => b.name === 'storage')!.matrix!.states;
  assert.notEqual(rows(r2)[1], rows(r1)[1], 'the failing pair shows in its row');
  same(r2, 'after a cell changed');
  assert.ok(
    reportBytes(r2)
      .toString()
      .includes(JSON.stringify(rows(r2)[1])),
  );
  // A report without state rows (run-length) has none to place.
  same(f.state.report('runs'), 'run-length rows');
});

test('reportBytes of a report built before a cell changed writes the rows that report holds', () => {
  const f = synthFleet(4, ['internal']);
  f.feed();
  const r = f.state.report('states');
  const before = JSON.stringify(r);
  f.clock.t += 1000;
  f.state.results(roundFor(f.inv, 'node-1', 1, (_b, _from, to) => (to === 'node-2' ? 'unreachable' : undefined)));
  const r2 = f.state.report('states');
  assert.notDeepEqual(r2.bindings[0]!.matrix!.states, r.bindings[0]!.matrix!.states, 'the matrix moved on');
  // The newer report's rows are written (and kept) first: the older report must not take them.
  assert.equal(reportBytes(r2).toString(), JSON.stringify(r2));
  assert.equal(reportBytes(r).toString(), before);
});
