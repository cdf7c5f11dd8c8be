// The fuzz generator's own bounds (test/helpers/fuzz-gen.ts). Its crafted messages are built on the fuzz test's
// one event loop, beside every open session's 30 s timer: a crafted message that grows past the wire's bounds
// stalls the whole run (a 5,000-row results message packed with random port keys was 100-200 MB, a minute or
// two to build: `session hung ... sent 0` for seed 1881289899) and tests ws's frame cap instead of the
// aggregator's big-table path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeAgentMessage, limits } from '../../agent/contract/wire.js';
import type { PackedRows } from '../../agent/contract/wire-packed.js';
import { Gen, PORT_KEYS, results, Session, type FuzzWorld } from '../helpers/fuzz-gen.js';

const w: FuzzWorld = { node: 'fz-0', nodes: ['node-1', 'node-2', 'fz-0', 'fz-1'], bindings: ['internal', 'shared-db'] };

test('a 5,000-row crafted results message stays a valid message under the 2 MiB cap, built quickly', () => {
  let valid = 0;
  for (const seed of [1, 2, 3, 1881289899]) {
    const g = new Gen(seed);
    const t0 = performance.now();
    const m = results(g, w, 7, 5000);
    const text = JSON.stringify(m);
    const ms = performance.now() - t0;
    assert.ok(text.length < limits.resultsBytes, `seed ${seed}: ${text.length} bytes`);
    // Generous for a loaded machine; the dense packing took over a minute.
    assert.ok(ms < 5000, `seed ${seed}: ${ms.toFixed(0)} ms to build`);
    for (const p of Object.values(m.bindings as Record<string, PackedRows>)) {
      assert.ok(p.tcp.length <= PORT_KEYS && p.tcp.length <= limits.portsPerRow, `seed ${seed}: ${p.tcp.length} port keys`);
    }
    const d = decodeAgentMessage(text);
    // Some draw a peer that is not a name or a binding that is (both refused by the schema); size never is.
    if (!d.ok) assert.equal(d.why, 'schema', `seed ${seed}: ${d.error}`);
    else valid++;
  }
  assert.ok(valid >= 1, 'at least one large message is valid and reaches the state');
});

test('every crafted message of a long session is within the wire bounds (hostile ones are mutate()s, not these)', () => {
  const g = new Gen(42);
  let max = 0;
  for (let i = 0; i < 20; i++) {
    const s = new Session(g, w);
    for (let j = 0; j < 200; j++) max = Math.max(max, s.crafted().length);
  }
  assert.ok(max > 0 && max < limits.resultsBytes, `largest crafted message ${max} bytes`);
});
