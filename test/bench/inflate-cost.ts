// What inflating one agent's compressed results frame costs the aggregator, both ways: through a zlib stream as ws
// drives it (write the data, write the deflate trailer, flush: each a trip through libuv's thread pool) and in one
// call, the aggregator's own (inflateMessage in aggregator/ws-inflate.ts). Frames are the fleet simulator's, i.e. the
// agent's own encoders: round 0 of the first 50 nodes of a 1,000 x 6 openstack fleet (pinglist windows of 100 peers), deflated as an agent
// with client_no_context_takeover and a 2 KiB window sends them. CPU is the process's (every thread), per message.
// Usage: node --import tsx test/bench/inflate-cost.ts [repetitions]
import { constants, createInflateRaw, deflateRawSync } from 'node:zlib';
import { builtinProfile } from '../../aggregator/profile.js';
import { AggregatorState } from '../../aggregator/state.js';
import { inflateMessage, TRAILER } from '../../aggregator/ws-inflate.js';
import { PeerSet } from '../../agent/contract/peer-set.js';
import { encodeResultsFrame } from '../../agent/contract/wire-binary.js';
import { resultsMessages } from '../../agent/results-msg.js';
import { fleetInventory, RowTable, roundRows } from './fleet-lib.js';

const reps = Number(process.argv[2] ?? 40);
const inv = fleetInventory(1000, 6);
const state = new AggregatorState({ inventory: inv, profile: builtinProfile('openstack'), now: () => 1 });
const set = new PeerSet(inv.nodes);
const table = new RowTable();
const frames: Buffer[] = [];
for (const self of inv.nodes.slice(0, 50)) {
  const rows = roundRows(table, state.plan, inv.nodes, self, 0);
  for (const m of resultsMessages({ node: self.name, round: 0, durationMs: 1, startedAt: 1, bindings: rows }, 5000, set)) frames.push(encodeResultsFrame(m)!);
}
state.close();
// As ws's client deflates a message: a sync flush, its 4-byte trailer cut off.
const deflated = frames.map((f) => deflateRawSync(f, { windowBits: 11, finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, -4));
const kib = (n: number) => (n / 1024).toFixed(1);

function sync(): number {
  let bytes = 0;
  for (const d of deflated) bytes += inflateMessage(d, 11, 2 << 20).length;
  return bytes;
}

/** ws's _decompress, step for step: one stream per connection, reset after each message (no context takeover). */
function streamed(): Promise<number> {
  const z = createInflateRaw({ windowBits: 11 });
  let bytes = 0;
  z.on('data', (b: Buffer) => (bytes += b.length));
  return new Promise((done) => {
    let i = 0;
    const next = () => {
      if (i === deflated.length) return (z.close(), done(bytes));
      z.write(deflated[i++]!);
      z.write(TRAILER);
      z.flush(() => (z.reset(), next()));
    };
    next();
  });
}

async function measure(f: () => number | Promise<number>): Promise<{ cpuUs: number; wallUs: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) if ((await f()) !== frames.reduce((a, b) => a + b.length, 0)) throw new Error('inflated bytes differ');
  const c = process.cpuUsage(c0);
  const n = reps * deflated.length;
  return { cpuUs: (c.user + c.system) / n, wallUs: ((performance.now() - t0) * 1000) / n };
}

// Warm both paths first, then alternate.
await measure(sync);
await measure(streamed);
const runs: { sync: number; stream: number }[] = [];
for (let k = 0; k < 5; k++) runs.push({ stream: (await measure(streamed)).cpuUs, sync: (await measure(sync)).cpuUs });
const median = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const s = median(runs.map((r) => r.stream));
const y = median(runs.map((r) => r.sync));
console.log(
  `${deflated.length} frames, ${kib(frames.reduce((a, b) => a + b.length, 0) / frames.length)} KiB each (${kib(deflated.reduce((a, b) => a + b.length, 0) / deflated.length)} KiB deflated), ${reps} repetitions x 5`,
);
console.log(
  `CPU per message (all threads), medians: zlib stream as ws drives it ${s.toFixed(0)} us, one inflateMessage call ${y.toFixed(0)} us: ${(s / y).toFixed(1)}x`,
);
console.log(`runs (stream/sync us): ${runs.map((r) => `${r.stream.toFixed(0)}/${r.sync.toFixed(0)}`).join(' ')}`);
