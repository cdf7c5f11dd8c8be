import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Finding } from '../../aggregator/findings.js';
import { verdictOf } from '../../aggregator/verdict.js';

const e: Finding = { severity: 'error', kind: 'unreachable', nodes: ['a'], summary: '' };
const w: Finding = { severity: 'warning', kind: 'dns-mismatch', nodes: ['a'], summary: '' };
const cases: [string, number, Finding[], string][] = [
  ['all reporting, no findings', 0, [], 'ready'],
  ['waiting for an agent, even with errors', 1, [e], 'pending'],
  ['an error', 0, [w, e], 'not-ready'],
  ['only warnings', 0, [w], 'degraded'],
];
for (const [what, waitingFor, findings, want] of cases) test(`verdict: ${what} -> ${want}`, () => assert.equal(verdictOf({ waitingFor, findings }), want));
