// One probe round with fake probes: who is probed, what a catch-up covers, and that rounds leave nothing
// behind on the agent's long-lived stop signal.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import type { InventoryNode } from '../../agent/contract/inventory.js';
import type { ProbeFn, ProbeRequest } from '../../agent/contract/probe.js';
import { runRound } from '../../agent/round.js';
import type { ProbePlan } from '../../agent/contract/wire.js';

const nodes: InventoryNode[] = ['a', 'b', 'c', 'd'].map((name, i) => ({
  name,
  addresses: { internal: [`198.18.1.${i + 1}`], ...(name !== 'd' ? { storage: [`2001:db8:2::${i + 1}`] } : {}) },
}));
const plan: ProbePlan = {
  profile: 't',
  intervalMs: 1000,
  timeoutMs: 100,
  icmpCount: 2,
  bindings: { internal: { tcp: [5000], udp: [] }, storage: { tcp: [], udp: [] } },
};

function recorder() {
  const seen: ProbeRequest[] = [];
  const ok: ProbeFn = async (req) => (seen.push(req), { outcome: 'ok', rttMs: 0.1 });
  return { seen, probes: { icmp: ok, tcp: ok } };
}

const cases: [string, ReadonlySet<string> | undefined, Record<string, string[]>][] = [
  ['a full round: every peer on every binding it shares', undefined, { internal: ['b', 'c', 'd'], storage: ['b', 'c'] }],
  ['a catch-up: only the peers named', new Set(['c', 'd']), { internal: ['c', 'd'], storage: ['c'] }],
  ['a catch-up naming only unknown or own names: nothing', new Set(['a', 'zz']), { internal: [], storage: [] }],
];
for (const [what, only, want] of cases) {
  test(`round: ${what}`, async () => {
    const r = recorder();
    const rows = await runRound({ self: nodes[0]!, peers: nodes, plan, probes: r.probes, echoGapMs: 0, ...(only ? { only } : {}) });
    assert.deepEqual(Object.fromEntries(Object.entries(rows).map(([b, list]) => [b, list.map((x) => x.peer).sort()])), want);
    for (const req of r.seen) assert.equal(req.source, req.target.includes(':') ? '2001:db8:2::1' : '198.18.1.1', 'probed from our own address on the binding');
  });
}

test("rounds add no listener to the stop signal (one per echo gap used to stay for the agent's life)", async () => {
  const stop = new AbortController();
  for (let i = 0; i < 5; i++) await runRound({ self: nodes[0]!, peers: nodes, plan, probes: recorder().probes, echoGapMs: 1, signal: stop.signal });
  assert.equal(getEventListeners(stop.signal, 'abort').length, 0);
});

test('a stopped round probes no further target', async () => {
  const stop = new AbortController();
  stop.abort();
  const r = recorder();
  await runRound({ self: nodes[0]!, peers: nodes, plan, probes: r.probes, signal: stop.signal });
  assert.equal(r.seen.length, 0);
});

test('pinglist: a round probes the window of each binding own peers; K rounds cover them all; a catch-up probes exactly the named', async () => {
  // 9 nodes on internal, 5 of them on storage; 2 peers a round: K = 4 on internal, 2 on storage.
  const fleet: InventoryNode[] = Array.from({ length: 9 }, (_, i) => ({
    name: `n${i + 1}`,
    addresses: { internal: [`198.18.2.${i + 1}`], ...(i < 5 ? { storage: [`198.18.3.${i + 1}`] } : {}) },
  }));
  const pl: ProbePlan = { ...plan, icmpCount: 1, pinglist: { perRound: 2 } };
  const seen: Record<string, Set<string>> = { internal: new Set(), storage: new Set() };
  for (let round = 0; round < 4; round++) {
    const rows = await runRound({ self: fleet[0]!, peers: fleet, plan: pl, probes: recorder().probes, echoGapMs: 0, round });
    assert.equal(rows.internal!.length, 2, `round ${round}: internal window`);
    assert.equal(rows.storage!.length, 2, `round ${round}: storage window`);
    for (const [b, list] of Object.entries(rows)) for (const r of list) seen[b]!.add(r.peer);
    for (const r of rows.storage!) assert.ok(Number(r.peer.slice(1)) <= 5, `storage probes only storage members, not ${r.peer}`);
  }
  assert.equal(seen.internal!.size, 8, 'every internal peer within K = 4 rounds');
  assert.equal(seen.storage!.size, 4, 'every storage peer within K = 2 rounds');
  // A catch-up (no round) names three peers: exactly those, whatever the window.
  const only = new Set(['n2', 'n7', 'n9']);
  const rows = await runRound({ self: fleet[0]!, peers: fleet, plan: pl, probes: recorder().probes, echoGapMs: 0, only });
  assert.deepEqual(rows.internal!.map((r) => r.peer).sort(), ['n2', 'n7', 'n9']);
  assert.deepEqual(
    rows.storage!.map((r) => r.peer),
    ['n2'],
  );
  // Without a round count (or without the plan's pinglist) a round is every peer.
  const all = await runRound({ self: fleet[0]!, peers: fleet, plan: pl, probes: recorder().probes, echoGapMs: 0 });
  assert.equal(all.internal!.length, 8);
});
