// The matrix's 2-byte RTTs and 1-byte loss (aggregator/cell-codec.ts): exact where agents are, bounded elsewhere.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeLoss, decodeRtt, encodeLoss, encodeRtt } from '../../aggregator/cell-codec.js';

const rtts: [number, number][] = [
  [0, 0], // 0 ms is a measurement, not "none"
  [0.001, 0.001],
  [0.2, 0.2],
  [0.123, 0.123],
  [1.5, 1.5],
  [32.766, 32.766], // the last microsecond code
  [32.767, 33], // from here on, milliseconds
  [250.4, 250],
  [32_767, 32_767],
  [60_000, 32_767], // capped
];
for (const [ms, back] of rtts) test(`RTT ${ms} ms -> ${back} ms`, () => assert.equal(decodeRtt(encodeRtt(ms)), back));
test('RTT none (NaN) is code 0 and back', () => {
  assert.equal(encodeRtt(NaN), 0);
  assert.ok(Number.isNaN(decodeRtt(0)));
});
test('every RTT code fits 16 bits', () => {
  for (const ms of [0, 0.5, 32.766, 32.767, 1e9]) assert.ok(encodeRtt(ms) >= 0 && encodeRtt(ms) <= 0xffff);
});

const losses: [number, number][] = [
  [0, 0],
  [1, 1],
  [0.5, 0.5],
  [1 / 3, 85 / 254], // within 1/508 of the truth
];
for (const [loss, back] of losses) test(`loss ${loss.toFixed(3)} -> ${back.toFixed(4)}`, () => assert.equal(decodeLoss(encodeLoss(loss)), back));
test('loss none (NaN) is code 0; every code fits a byte', () => {
  assert.ok(Number.isNaN(decodeLoss(encodeLoss(NaN))));
  for (let i = 0; i <= 100; i++) {
    const c = encodeLoss(i / 100);
    assert.ok(c >= 1 && c <= 255);
    assert.ok(Math.abs(decodeLoss(c) - i / 100) <= 1 / 508);
  }
});
