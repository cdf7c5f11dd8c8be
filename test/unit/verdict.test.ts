import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Finding } from '../../aggregator/findings.js';
import { verdictOf } from '../../aggregator/verdict.js';

const e: Finding = { severity: 'error', kind: 'unreachable', nodes: ['a'], summary: '' };
const w: Finding = { severity: 'warning', kind: 'dns-mismatch', nodes: ['a'], summary: '' };
const cases: [string, number, Finding[], string, number?, number?][] = [
  ['all reporting, no findings', 0, [], 'ready'],
  ['waiting for an agent, even with errors', 1, [e], 'pending'],
  ['an error', 0, [w, e], 'not-ready'],
  ['only warnings', 0, [w], 'degraded'],
  ['pinglist coverage short, no findings', 0, [], 'pending', 0.43],
  ['pinglist coverage short, an error: reported at once', 0, [e], 'not-ready', 0.43],
  ['pinglist coverage short, only warnings', 0, [w], 'pending', 0.99],
  ['pinglist coverage complete', 0, [], 'ready', 1],
  ['pinglist coverage complete, warnings', 0, [w], 'degraded', 1],
  ['failing ports held back, nothing else', 0, [], 'pending', undefined, 1],
  ['failing ports held back, only warnings', 0, [w], 'pending', undefined, 2],
  ['failing ports held back, an error: reported at once', 0, [e], 'not-ready', undefined, 1],
];
for (const [what, waitingFor, findings, want, coverage, holding] of cases)
  test(`verdict: ${what} -> ${want}`, () =>
    assert.equal(verdictOf({ waitingFor, findings, ...(coverage !== undefined ? { coverage } : {}), ...(holding ? { holding } : {}) }), want));
