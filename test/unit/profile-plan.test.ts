import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { probePlan } from '../../agent/contract/wire.js';
import { builtinProfiles, fleetIntervalMs, parseProfile, pinglistFor, planFor } from '../../aggregator/profile.js';

test('the probe interval grows with the fleet, never below the profile', () => {
  const cases: [number, number, number][] = [
    [10_000, 4, 10_000],
    [10_000, 250, 10_000],
    [10_000, 1000, 40_000],
    [3_000, 100, 4_000],
  ];
  for (const [profile, nodes, want] of cases) assert.equal(fleetIntervalMs(profile, nodes), want, `${profile} ms, ${nodes} nodes`);
});

test('pinglist: above its size the plan carries the window and keeps the profile interval; at or below, no pinglist and the stretch', () => {
  const nodes = (n: number) => ({
    bindings: ['internal'],
    spaces: {},
    nodes: Array.from({ length: n }, (_, i) => ({ name: `node-${i + 1}`, addresses: { internal: [`198.18.${i >> 8}.${i & 255}`] } })),
  });
  const os = builtinProfiles.openstack!;
  assert.deepEqual(os.pinglist, { above: 100, perRound: 100 });
  const cases: [number, { perRound: number; rounds: number } | undefined, number][] = [
    [50, undefined, 10_000],
    [100, undefined, 10_000],
    [101, { perRound: 100, rounds: 1 }, 10_000],
    [102, { perRound: 100, rounds: 2 }, 10_000],
    [1000, { perRound: 100, rounds: 10 }, 10_000],
  ];
  for (const [n, want, interval] of cases) {
    assert.deepEqual(pinglistFor(os, n), want, `${n} nodes`);
    const plan = planFor(os, nodes(n));
    assert.deepEqual(plan.pinglist, want && { perRound: want.perRound }, `${n} nodes: plan`);
    assert.equal(plan.intervalMs, interval, `${n} nodes: interval`);
    assert.ok(probePlan.safeParse(plan).success, `${n} nodes: the plan passes the wire schema`);
  }
  // Without a pinglist the interval stretches with N as before.
  const off = parseProfile('name: t\nextends: openstack\npinglist: off\n', 't.yaml', { read: (f) => readFileSync(f, 'utf8') });
  assert.equal(off.pinglist, undefined);
  assert.equal(planFor(off, nodes(1000)).intervalMs, 40_000);
  assert.equal(planFor(off, nodes(1000)).pinglist, undefined);
  // An extending profile overrides the numbers.
  const small = parseProfile('name: t\nextends: openstack\npinglist: {above: 4, per_round: 2}\n', 't.yaml', { read: (f) => readFileSync(f, 'utf8') });
  assert.deepEqual(pinglistFor(small, 8), { perRound: 2, rounds: 4 });
});

test('the wire refuses a plan whose pinglist window is out of bounds', () => {
  const base = { profile: 'p', intervalMs: 1000, timeoutMs: 100, icmpCount: 1, bindings: {} };
  for (const perRound of [0, -1, 1.5, 10_001]) assert.equal(probePlan.safeParse({ ...base, pinglist: { perRound } }).success, false, String(perRound));
  assert.equal(probePlan.safeParse({ ...base, pinglist: { perRound: 100, extra: 1 } }).success, false, 'unknown key');
  assert.equal(probePlan.safeParse({ ...base, pinglist: { perRound: 10_000 } }).success, true);
});
