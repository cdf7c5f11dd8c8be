// The fleet benchmark as a smoke run (test/bench/fleet-ws.ts): the real aggregator process and 20 simulated
// agents over real WebSockets in two worker processes, 2 bindings, 2 rounds of a 2 s period (a profile that
// extends openstack), delta rounds with 5% of rows changing. Every round must reach the verdict, nobody is dropped, every figure is there, and every
// process it started is gone afterwards.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { runFleet } from '../bench/fleet-ws.js';

test('fleet benchmark smoke run: 20 agents, 2 bindings, 2 rounds, each in the verdict, none dropped', { timeout: 90_000 }, async () => {
  const r = await runFleet({
    nodes: 20,
    bindings: 2,
    rounds: 2,
    workers: 2,
    compression: true,
    delta: true,
    changing: 0.05,
    load: false,
    maxSeconds: 60,
    intervalS: 2,
    // From the sources: building dist/ here could race another test's build.
    runtime: 'sources',
  });
  assert.equal(r.stoppedBy, 'rounds');
  assert.equal(r.intervalMs, 2000);
  assert.equal(r.rounds.length, 2);
  for (const x of r.rounds) {
    const at = `round ${x.round}: ${JSON.stringify(x)}`;
    assert.equal(x.agentsSent, 20, at);
    assert.equal(x.dropped, 0, at);
    assert.equal(x.verdict, 'ready', at);
    assert.ok(x.verdictDelayS !== undefined && x.verdictDelayS >= 0 && x.verdictDelayS < 4, at);
    assert.ok(x.aggCpuS > 0 && x.aggCpuS < 2 * 2, at); // some CPU, and less than both cores for the whole window
    // The main thread's share: some, and no more than the whole process (read just after it: one 10 ms tick apart at most).
    assert.ok(x.aggMainCpuS !== undefined && x.aggMainCpuS > 0 && x.aggMainCpuS <= x.aggCpuS + 0.02, at);
    // It wrote to its sockets: the agents' 101s and replies in round 0, the last window's scrape and report answers after.
    assert.ok(x.aggWrites !== undefined && x.aggWrites >= 2, at);
    assert.ok(x.rssPeakMiB > 30 && x.rssPeakMiB < 1024, at);
    assert.ok(x.loopP99Ms !== undefined && x.loopP99Ms > 0, at);
    assert.ok(x.metricsMs !== undefined && x.metricsMs > 0, at);
    // 20 nodes: every pair has series (--pair-metrics-max-nodes 20): 2 bindings x 380 pairs x 3 at least.
    assert.ok(x.series !== undefined && x.series > 2 * 380 * 3, at);
    assert.ok(x.reportKiB !== undefined && x.reportKiB > 1 && x.reportMs !== undefined, at);
    // Every results message came after the welcome offered the peer set, which the agents' inventory matches.
    assert.equal(x.namedIn, 0, at);
  }
  // Delta rounds: the second round re-sends only what changed; the rest arrives as unchanged pairs.
  const second = r.rounds[1]!;
  assert.ok(second.unchangedIn !== undefined && second.unchangedIn > 0, `round 1: ${JSON.stringify(second)}`);
  assert.equal(r.summary.dropped, 0);
  assert.equal(r.summary.verdictMissing, 0);
  assert.ok(r.summary.aggCpuMedianS !== undefined && r.summary.verdictDelayMaxS !== undefined);
  assert.ok(r.catchUps > 0, 'agents answered run-now with catch-ups');
  assert.ok(r.simCpuS > 0);
  for (const pid of [r.pids.aggregator, ...r.pids.workers]) assert.equal(existsSync(`/proc/${pid}`), false, `process ${pid} still runs`);
});
