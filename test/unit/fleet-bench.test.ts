// The fleet benchmark's pure parts (test/bench/fleet-lib.ts): inventory, rows shaped by the plan, /proc and
// /metrics parsing, percentiles and the table.
import { listeningCount } from '../helpers/listening.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeAgentMessage, type ProbePlan } from '../../agent/contract/wire.js';
import { resultsMessages } from '../../agent/results-msg.js';
import {
  benchAddress,
  cpuSecondsOf,
  fleetInventory,
  formatTable,
  healthyRow,
  median,
  parseMetrics,
  percentile,
  RowTable,
  summarise,
  roundRows,
  simHello,
  statusMiB,
  type RoundStats,
} from '../bench/fleet-lib.js';

const plan: ProbePlan = {
  profile: 'openstack',
  intervalMs: 10_000,
  timeoutMs: 1000,
  icmpCount: 3,
  bindings: { internal: { tcp: [5000, 9292], udp: [] }, 'ceph-cluster': { tcp: [6800], udp: [6081], mtu: 9000 } },
};

test('addresses are distinct strings inside 198.18.0.0/15', () => {
  const inv = fleetInventory(1000, 6);
  const all = inv.nodes.flatMap((n) => Object.values(n.addresses).flat());
  assert.equal(all.length, 6000);
  assert.equal(new Set(all).size, 6000);
  for (const a of all) assert.match(a, /^198\.(18|19)\.\d{1,3}\.\d{1,3}$/);
  assert.equal(benchAddress(0, 0), '198.18.0.1');
  assert.equal(benchAddress(1, 255), '198.18.17.0');
  assert.throws(() => fleetInventory(1, 6), /--nodes/);
  assert.throws(() => fleetInventory(10, 9), /--bindings/);
});

test('a healthy row has what the plan asks for on its binding', () => {
  assert.deepEqual(healthyRow(plan, 'ceph-cluster', 'node-2', '198.18.16.2', 0.2), {
    peer: 'node-2',
    addr: '198.18.16.2',
    icmp: { sent: 3, recv: 3, rtt: [0.2, 0.2, 0.2, 0.2, 0.2], outcome: 'ok' },
    tcp: { '6800': 'ok' },
    udp: { '6081': 'ok' },
    mtu: { size: 8980, outcome: 'ok' },
  });
  assert.equal(healthyRow({ ...plan, icmpCount: 0 }, 'internal', 'n', '198.18.0.9', 1).icmp, undefined);
});

test('a round is every other peer on every planned binding; only / pinglist narrow it; messages decode', () => {
  const inv = fleetInventory(5, 6);
  const self = inv.nodes[0]!;
  const table = new RowTable();
  const rows = roundRows(table, plan, inv.nodes, self, 0);
  assert.deepEqual(Object.keys(rows).sort(), ['ceph-cluster', 'internal']);
  assert.deepEqual(
    rows.internal!.map((r) => r.peer),
    ['node-2', 'node-3', 'node-4', 'node-5'],
  );
  const only = roundRows(table, plan, inv.nodes, self, 0, new Set(['node-3']));
  assert.deepEqual(
    only.internal!.map((r) => r.peer),
    ['node-3'],
  );
  const pl: ProbePlan = { ...plan, pinglist: { perRound: 2 } };
  const windowed = roundRows(table, pl, inv.nodes, self, 0);
  assert.equal(windowed.internal!.length, 2);
  const next = roundRows(table, pl, inv.nodes, self, 1);
  assert.deepEqual(
    new Set([...windowed.internal!, ...next.internal!].map((r) => r.peer)),
    new Set(['node-2', 'node-3', 'node-4', 'node-5']),
    'K = 2 rounds cover all',
  );
  // A catch-up probes exactly the peers it names, whatever the window.
  assert.equal(roundRows(table, pl, inv.nodes, self, 0, new Set(['node-2', 'node-3', 'node-4'])).internal!.length, 3);
  for (const m of resultsMessages({ node: self.name, round: 0, durationMs: 1, startedAt: Date.now(), bindings: rows })) {
    const d = decodeAgentMessage(JSON.stringify(m));
    assert.ok(d.ok, d.ok ? '' : d.error);
  }
});

test('the hello says every responder of the plan listens, and decodes', () => {
  const self = fleetInventory(3, 2).nodes[1]!;
  const h = simHello(self, plan, true);
  // As the agent sends them: internal's two ports grouped under its address (the node has no ceph-cluster address).
  assert.deepEqual(h.responders, []);
  assert.equal(listeningCount(h), 2);
  assert.deepEqual(
    h.listening?.map((g) => g.binding),
    ['internal'],
  );
  assert.equal(h.dns?.length, 3);
  assert.equal(listeningCount(simHello(self)), 0);
  assert.ok(decodeAgentMessage(JSON.stringify(h)).ok);
  // --links: a bonded node's link facts, one a binding, as the agent reads them; they decode too.
  const l = simHello(self, plan, true, true);
  assert.deepEqual(
    l.links?.map((f) => [f.binding, f.ports.length]),
    Object.keys(self.addresses).map((b) => [b, 2]),
  );
  const d = decodeAgentMessage(JSON.stringify(l));
  assert.ok(d.ok, d.ok ? '' : d.error);
  assert.equal(simHello(self, undefined, false, true).links, undefined, 'not before the responders open');
});

test('/proc parsing: CPU seconds after a command with spaces and parentheses, VmHWM in MiB', () => {
  const stat = '4242 (node (tsx) x) S 1 2 3 4 5 6 7 8 9 10 250 130 0 0 20 0 11 0 900 0 0';
  assert.equal(cpuSecondsOf(stat, 100), 3.8);
  assert.equal(statusMiB('Name:\tnode\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n'), 200);
  assert.equal(statusMiB('VmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n', 'VmRSS'), 100);
  assert.ok(Number.isNaN(statusMiB('Name: x\n')));
});

test('/metrics parsing counts samples and reads the event-loop p99', () => {
  const text = [
    '# HELP nodejs_eventloop_lag_p99_seconds The 99th percentile of the recorded event loop delays.',
    '# TYPE nodejs_eventloop_lag_p99_seconds gauge',
    'nodejs_eventloop_lag_p99_seconds 0.0231',
    'pinger_nodes{state="reporting"} 50',
    'nodejs_eventloop_lag_p99_seconds_extra 9',
    '',
  ].join('\n');
  assert.deepEqual(parseMetrics(text), { series: 3, values: { nodejs_eventloop_lag_p99_seconds: 0.0231 } });
  assert.deepEqual(parseMetrics(text, ['pinger_nodes', 'absent']), { series: 3, values: {} }); // labelled: not a plain name
  assert.deepEqual(parseMetrics('a 1\npinger_result_rows_total 5994000\n', ['pinger_result_rows_total']), {
    series: 2,
    values: { pinger_result_rows_total: 5994000 },
  });
});

test('percentiles are nearest-rank over finite values', () => {
  const v = [5, 1, 4, 2, 3, Number.NaN];
  assert.equal(median(v), 3);
  assert.equal(percentile(v, 100), 5);
  assert.equal(percentile(v, 0), 1);
  assert.equal(
    percentile(
      Array.from({ length: 100 }, (_, i) => i + 1),
      99,
    ),
    99,
  );
  assert.equal(percentile([], 50), undefined);
});

test('the table has a line per round, drops with their close codes and "never" for a verdict not seen', () => {
  const rows: RoundStats[] = [
    {
      round: 0,
      agentsSent: 50,
      aggCpuS: 0.56,
      aggMainCpuS: 0.41,
      simCpuS: 0.3,
      rssPeakMiB: 151.6,
      heapMiB: 90.4,
      dropped: 0,
      closeCodes: {},
      rowsIn: 1_498_500,
      unchangedIn: 240_000,
      loopP99Ms: 21.5,
      verdict: 'ready',
      verdictDelayS: 0.04,
      metricsMs: 12.3,
      series: 600,
      reportKiB: 80.2,
      reportMs: 9,
    },
    { round: 1, agentsSent: 48, aggCpuS: 1.2, simCpuS: 0.4, rssPeakMiB: 160, dropped: 3, closeCodes: { '1006': 2, '4409': 1 }, verdict: 'ready' },
  ];
  const lines = formatTable(rows).split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[0]!, /^\| round \| sent \| agg CPU s .* report ms \|$/);
  assert.match(
    lines[2]!,
    /\|\s+0 \|\s+50 \|\s+0\.56 \|\s+0\.41 \|\s+0\.30 \|\s+152 \|\s+90 \|\s+1\.50M \|\s+0\.24M \|\s+0 \|\s+21\.5 \|\s+ready \|\s+0\.04 \|/,
  );
  assert.match(lines[3]!, /3 \(1006x2 4409x1\)/);
  assert.match(lines[3]!, /never/);
  assert.equal(new Set(lines.map((l) => l.length)).size, 1, 'columns line up');
});

test('the summary leaves round 0 out, counts rounds without a verdict and every drop', () => {
  const r = (round: number, aggCpuS: number, verdictDelayS: number | undefined, dropped: number): RoundStats => ({
    round,
    agentsSent: 10,
    aggCpuS,
    simCpuS: 0.1,
    rssPeakMiB: 100 + round,
    dropped,
    closeCodes: dropped ? { '1006': dropped } : {},
    loopP99Ms: 10 * (round + 1),
    ...(verdictDelayS === undefined ? {} : { verdictDelayS }),
  });
  const s = summarise([r(0, 9, 12, 2), r(1, 1, 0.2, 0), r(2, 3, undefined, 1), r(3, 2, 0.4, 0)]);
  assert.deepEqual(s, { aggCpuMedianS: 2, verdictDelayMedianS: 0.2, verdictDelayMaxS: 0.4, verdictMissing: 1, loopP99MaxMs: 40, rssPeakMiB: 103, dropped: 3 });
  assert.deepEqual(summarise([r(0, 5, 1, 0)]), {
    aggCpuMedianS: 5,
    verdictDelayMedianS: 1,
    verdictDelayMaxS: 1,
    verdictMissing: 0,
    loopP99MaxMs: 10,
    rssPeakMiB: 100,
    dropped: 0,
  });
  assert.equal(summarise([r(0, 5, undefined, 0)]).verdictDelayMedianS, undefined);
});
