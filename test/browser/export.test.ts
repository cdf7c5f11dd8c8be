// aggregator/export.ts (pure): the report as Markdown and as a self-contained HTML file. Table-driven;
// kept with the browser tests because it is the page's other face (the file attached to a change ticket).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GRID_MAX_NODES, problemPairs, reportToHtml, reportToMarkdown, verdictText } from '../../aggregator/export.js';
import type { Report, ReportBinding } from '../../aggregator/report.js';

const legend = { '?': 'none', '-': 'self', x: 'unreachable', m: 'mtu', p: 'port', u: 'udp', l: 'loss', o: 'ok' } as const;
const counts = (states: string[]) => {
  const out = { none: 0, self: 0, unreachable: 0, mtu: 0, port: 0, udp: 0, loss: 0, ok: 0 };
  for (const row of states) for (const ch of row) if (ch !== '-') out[legend[ch as keyof typeof legend]]++;
  return out;
};
const binding = (name: string, nodes: string[], states: string[]): ReportBinding => ({ name, nodes, counts: counts(states), matrix: { legend, states } });

function report(over: Partial<Report> = {}): Report {
  const nodes = ['node-1', 'node-2', 'node-3'];
  return {
    verdict: 'not-ready',
    generatedAt: '2026-11-24T21:20:15.000Z',
    profile: 'openstack',
    summary: 'not ready: 1 problem(s); shared-db: TCP 3306 filtered',
    expected: 3,
    reporting: 3,
    nodes: nodes.map((name, i) => ({
      name,
      state: 'reporting',
      agentVersion: '0.1.0',
      icmp: 'available',
      clockOffsetMs: i * 1.25,
      rounds: 4,
      bindings: { 'shared-db': [{ address: `198.18.1.${i + 1}`, iface: 'eth1', mtu: 9000 }] },
      responderProblems: [],
    })),
    bindings: [binding('shared-db', nodes, ['-op', 'o-p', 'oo-'])],
    findings: [
      {
        severity: 'error',
        kind: 'port-filtered',
        binding: 'shared-db',
        nodes: ['node-3'],
        summary: 'shared-db: TCP 3306 filtered towards node-3',
        hint: 'a firewall drops 3306 | check <nft> rules',
        evidence: [{ from: 'node-1', to: 'node-3', detail: '198.18.1.3: tcp 3306 filtered' }],
      },
    ],
    ...over,
  };
}

test('verdictText: plain words, and whom a pending verdict waits for', () => {
  const cases: [Report['verdict'], number, number, string][] = [
    ['ready', 4, 4, 'Ready'],
    ['degraded', 4, 4, 'Degraded'],
    ['not-ready', 4, 4, 'Not ready'],
    ['pending', 4, 1, 'Waiting for 3 of 4 agents'],
    ['pending', 4, 4, 'Waiting for the first full round'],
  ];
  for (const [verdict, expected, reporting, want] of cases)
    assert.equal(verdictText({ verdict, expected, reporting }), want, `${verdict} ${reporting}/${expected}`);
});

test('problemPairs: only pairs that are not ok, self or unknown, in row order, capped', () => {
  const nodes = ['a', 'b', 'c'];
  const cases: [string[], number, [string, string, string][]][] = [
    [['-oo', 'o-o', 'oo-'], 10, []],
    [
      ['-?x', 'l-o', 'mp-'],
      10,
      [
        ['a', 'c', 'unreachable'],
        ['b', 'a', 'loss'],
        ['c', 'a', 'mtu'],
        ['c', 'b', 'port'],
      ],
    ],
    [
      ['-xx', 'x-x', 'xx-'],
      2,
      [
        ['a', 'b', 'unreachable'],
        ['a', 'c', 'unreachable'],
      ],
    ],
  ];
  for (const [states, limit, want] of cases) {
    assert.deepEqual(
      problemPairs(binding('b', nodes, states), limit).map((p) => [p.from, p.to, p.state]),
      want,
      states.join(' '),
    );
  }
});

test('Markdown: verdict, findings with hint, nodes and evidence, the matrix grid, the node table; pipes escaped', () => {
  const md = reportToMarkdown(report());
  const want = [
    /^# Pinger readiness report: Not ready$/m,
    /^- Verdict: \*\*not-ready\*\*/m,
    /^### Errors \(1\)$/m,
    /^- \*\*shared-db: TCP 3306 filtered towards node-3\*\* \(`port-filtered`, binding shared-db\)$/m,
    /^ {2}- Hint: a firewall drops 3306 \\\| check <nft> rules$/m,
    /^ {2}- node-1 -> node-3: 198\.18\.1\.3: tcp 3306 filtered$/m,
    /^\| from → to \| node-1 \| node-2 \| node-3 \|$/m,
    /^\| node-1 \| - \| o \| p \|$/m,
    /^\| node-3 \| reporting \| 0\.1\.0 \| available \| 2\.5 ms \| shared-db: 198\.18\.1\.3 \(eth1, MTU 9000\) \|  \|$/m,
  ];
  for (const re of want) assert.match(md, re);
  assert.match(reportToMarkdown(report({ findings: [], verdict: 'ready' })), /## Findings\n\nNone\./);
});

test('Markdown and HTML: a big binding lists its problem pairs instead of a grid', () => {
  const n = GRID_MAX_NODES + 1;
  const nodes = Array.from({ length: n }, (_, i) => `n${i}`);
  const states = nodes.map((_, i) => nodes.map((_, j) => (i === j ? '-' : i === 0 && j === 5 ? 'x' : 'o')).join(''));
  const r = report({ bindings: [binding('internal', nodes, states)] });
  const md = reportToMarkdown(r);
  assert.doesNotMatch(md, /\| from → to/);
  assert.match(md, /^- n0 -> n5: unreachable$/m);
  const html = reportToHtml(r);
  assert.doesNotMatch(html, /class="grid"/);
  assert.match(html, /<li>n0 &rarr; n5: unreachable<\/li>/);
});

test('HTML: self-contained (no script, no external resource), escaped, with verdict, findings, grid and nodes', () => {
  const html = reportToHtml(report({ nodes: [{ ...report().nodes[0]!, name: '<img src=x onerror=alert(1)>' }] }));
  assert.match(html, /^<!doctype html>/);
  assert.doesNotMatch(html, /<script|<link|<img|<iframe|<[^>]*\s(src|href)=|url\(/i);
  assert.match(html, /<h1>Not ready<\/h1>/);
  assert.match(html, /<header class="banner v-not-ready">/);
  assert.match(html, /<h4>shared-db: TCP 3306 filtered towards node-3<\/h4>/);
  assert.match(html, /Hint: a firewall drops 3306 \| check &lt;nft&gt; rules/);
  assert.match(html, /<td>node-1<\/td><td>node-3<\/td><td>198\.18\.1\.3: tcp 3306 filtered<\/td>/);
  assert.match(html, /<td style="background:#6a1b9a;color:#fff" title="TCP port failed">p<\/td>/);
  assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
});

test('Markdown and HTML: a binding a pinglist is still covering says how many pairs are covered; a covered one does not', () => {
  const covering = binding('internal', ['a', 'b', 'c'], ['-o?', '?-o', 'o?-']);
  const r = report({
    bindings: [
      { ...covering, coverage: { ratio: 0.5, covered: 3, pairs: 6 } },
      { ...binding('storage', ['a', 'b'], ['-o', 'o-']), coverage: { ratio: 1, covered: 2, pairs: 2 } },
    ],
  });
  const mdText = reportToMarkdown(r);
  assert.match(mdText, /3 nodes; ok: 3, [^\n]*; 3 of 6 pairs covered\./);
  assert.match(mdText, /2 nodes; ok: 2\.\n/);
  assert.match(reportToHtml(r), /3 of 6 pairs covered\.<\/p>/);
});
