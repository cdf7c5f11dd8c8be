import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { AGENT_VERSION } from '../../agent/contract/version.js';

test('the agent reports the package version', () => {
  assert.equal(AGENT_VERSION, JSON.parse(readFileSync('package.json', 'utf8')).version);
});
