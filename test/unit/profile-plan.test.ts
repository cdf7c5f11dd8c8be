import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fleetIntervalMs } from '../../aggregator/profile.js';

test('the probe interval grows with the fleet, never below the profile', () => {
  const cases: [number, number, number][] = [
    [10_000, 4, 10_000],
    [10_000, 250, 10_000],
    [10_000, 1000, 40_000],
    [3_000, 100, 4_000],
  ];
  for (const [profile, nodes, want] of cases) assert.equal(fleetIntervalMs(profile, nodes), want, `${profile} ms, ${nodes} nodes`);
});
