// Cost of the aggregator's validation path for one agent's round at fleet scale: parsing + the envelope's zod
// schema + the packed tables' int check, as text (wire v2), as binary frames (wire v3) and as binary frames naming peers by index into the
// peer set (resolved against it, as the aggregator does), for the results messages of 999 peers x 6 bindings (one agent of
// a 1,000-node fleet), as the agent's own encoder (agent/results-msg.ts) splits them.
// Usage: node --import tsx test/bench/wire-decode.ts   (or the compiled file under dist/)
import { decodeAgentMessage, encode } from '../../agent/contract/wire.js';
import { decodeResultsFrame, encodeResultsFrame } from '../../agent/contract/wire-binary.js';
import { resultsMessages } from '../../agent/results-msg.js';
import { PeerSet, resolvePeerSet } from '../../agent/contract/peer-set.js';
import type { ResultsMsg } from '../../agent/contract/wire.js';

const row = (i: number) => ({
  peer: `node-${i}`,
  addr: `198.18.${i >> 8}.${i & 255}`,
  icmp: { sent: 3, recv: 3, rtt: [0.12, 0.2, 0.31, 0.2, 0.31] as [number, number, number, number, number], outcome: 'ok' as const },
  tcp: { '3306': 'ok' as const, '33060': 'ok' as const, '5000': 'ok' as const },
});
const bindings = Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f'].map((b) => [b, Array.from({ length: 999 }, (_, i) => row(i + 1))]));
// As frames arrive from ws: Buffers. Text (wire v2's JSON results, still accepted) and binary (wire v3, what agents send).
const msgs = resultsMessages({ node: 'node-0', round: 1, durationMs: 5000, startedAt: 0, bindings });
// The peer set both ends hold (agent/contract/peer-set.ts): the same rows with peers and addresses as indices.
const set = new PeerSet(
  Array.from({ length: 1000 }, (_, i) => ({ name: `node-${i}`, addresses: Object.fromEntries(Object.keys(bindings).map((b) => [b, [row(i).addr]])) })),
);
const indexed = resultsMessages({ node: 'node-0', round: 1, durationMs: 5000, startedAt: 0, bindings }, 5000, set);
if (indexed.some((m) => m.peerSet !== set.id)) throw new Error('expected every message to index the peer set');
const resolved = (b: Buffer) => {
  const d = decodeResultsFrame(b);
  const why = d.ok ? resolvePeerSet(d.msg as ResultsMsg, set) : undefined;
  return why ? { ok: false, error: why } : d;
};
// A pinglist window (openstack's 100 peers a round above its fleet size): what each agent of a 1,000-node fleet
// sends a round, one message, where the envelope's check weighs more beside 600 rows than beside 6,000.
const window = Object.fromEntries(Object.entries(bindings).map(([b, list]) => [b, list.slice(0, 100)]));
const windowMsgs = resultsMessages({ node: 'node-0', round: 1, durationMs: 5000, startedAt: 0, bindings: window }, 5000, set);
const encodings: [string, Buffer[], (b: Buffer) => { ok: boolean; error?: string }][] = [
  ['text', msgs.map((m) => Buffer.from(encode(m))), (b) => decodeAgentMessage(b)],
  ['binary', msgs.map((m) => encodeResultsFrame(m)!), (b) => decodeResultsFrame(b)],
  ['binary, peers by index', indexed.map((m) => encodeResultsFrame(m)!), resolved],
  ['binary, peers by index, a pinglist window of 100 peers', windowMsgs.map((m) => encodeResultsFrame(m)!), resolved],
];
for (const [what, frames, decode] of encodings) {
  const bytes = frames.reduce((a, t) => a + t.length, 0);
  const rows = what.includes('window') ? 600 : 5994;
  const runs: number[] = [];
  // Repeated within a run so that the small window's run is long enough to time.
  const reps = rows === 600 ? 10 : 1;
  for (let k = 0; k < 15; k++) {
    const a = performance.now();
    for (let r = 0; r < reps; r++)
      for (const f of frames) {
        const d = decode(f);
        if (!d.ok) throw new Error(d.error);
      }
    runs.push((performance.now() - a) / reps);
  }
  runs.sort((x, y) => x - y);
  const med = runs[Math.floor(runs.length / 2)]!;
  console.log(
    `results (${what}): ${frames.length} messages, ${(bytes / 1e6).toFixed(2)} MB, ${rows} rows; decode+validate median ${med.toFixed(rows === 600 ? 3 : 1)} ms (${((med * 1000) / rows).toFixed(2)} us a row); a 1,000-node round = ${((med * 1000) / 1000).toFixed(1)} s of one core`,
  );
}
