// Fuzz: at least 100,000 crafted and mutated messages over thousands of WebSocket connections to a real
// aggregator process, while two real agents report through it. Asserts the aggregator never exits, never
// fails a message internally (close 4500), answers the report within 2 s throughout, stays under an RSS
// bound, writes bounded logs, and keeps the real agents' part of the report correct.
// Reproduce a failure with the seed it prints: PINGER_FUZZ_SEED=<seed> node --import tsx --test <this file>.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';
import type { Inventory } from '../../agent/contract/inventory.js';
import type { Report } from '../../aggregator/report.js';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { clock, Gen, hello, mutate, mutations, Session, type Frame, type FuzzWorld, type Mutation } from '../helpers/fuzz-gen.js';
import { waitUntil } from '../helpers/procs.js';
import { agentWsUrl, authAs } from '../helpers/ws-peer.js';

const MESSAGES = 100_000;
/** Aggregator RSS bound: ~100 MB at rest under tsx; a parse of a 16 MiB frame and its garbage on top. */
const RSS_BOUND_MB = 450;
const WORKERS = 10;
const REAL = ['node-1', 'node-2'];
const FUZZ = Array.from({ length: 8 }, (_, i) => `fz-${i}`);
const BINDINGS = ['internal', 'shared-db'];

const seed = Number(process.env.PINGER_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

let c: Cluster;
before(async () => {
  const a = 20 + (process.pid % 200);
  const b = Math.floor(Math.random() * 200);
  const inventory: Inventory = {
    bindings: [...BINDINGS],
    spaces: {},
    // The fuzz nodes hold no address: the real agents never probe them, so thousands of fuzz hellos cost the
    // real agents no catch-up rounds (their rows still land in the matrices).
    nodes: [...REAL, ...FUZZ].map((name, i) => ({
      name,
      addresses: REAL.includes(name) ? Object.fromEntries(BINDINGS.map((bn, j) => [bn, [`127.${a}.${b + j}.${i + 1}`]])) : {},
    })),
  };
  c = await startCluster(inventory);
  for (const n of REAL) c.startAgent(n);
});
after(async () => c?.close());

/** What the real agents' part of the report must say: both reporting, every pair between them ok. */
function realProblems(r: Report): string[] {
  const bad: string[] = [];
  for (const n of REAL) {
    const s = r.nodes.find((x) => x.name === n)?.state;
    if (s !== 'reporting') bad.push(`${n} ${s}`);
  }
  for (const b of r.bindings) {
    const i = b.nodes.indexOf('node-1');
    const j = b.nodes.indexOf('node-2');
    const st = b.matrix?.states;
    if (!st || i < 0 || j < 0) {
      bad.push(`${b.name}: no matrix`);
      continue;
    }
    if (st[i]![j] !== 'o' || st[j]![i] !== 'o') bad.push(`${b.name}: node-1<->node-2 ${st[i]![j]}${st[j]![i]}`);
  }
  return bad;
}

// This process's own event loop: it builds every session's frames beside the other sessions' timers, so a
// generator that runs long (a 200 MB message) looks like a hung aggregator. Said in the failure and the summary.
const loopDelay = monitorEventLoopDelay({ resolution: 20 });
loopDelay.enable();
const stalls = () => `this process's event loop stalled up to ${(loopDelay.max / 1e6).toFixed(0)} ms`;

interface Outcome {
  code: number;
  sent: number;
}

/**
 * One connection: `frames` pipelined (after the welcome when the first is a hello), then a clock request as a
 * sentinel: its answer means every frame before it was taken; a close means one was refused.
 */
function session(url: string, auth: string, frames: Frame[], o: { waitWelcome: boolean; deflate: boolean; localAddress: string }): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: auth }, perMessageDeflate: o.deflate, localAddress: o.localAddress, maxPayload: 1 << 20 });
    const marker = 1 + Math.random();
    let sent = 0;
    let welcomed = false;
    const timer = setTimeout(() => reject(new Error(`session hung: ${frames.length} frames, sent ${sent}; ${stalls()}`)), 30_000);
    const send = (f: Frame) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (typeof f === 'string' || Buffer.isBuffer(f)) ws.send(f, { binary: false });
      else ws.send(f.binary, { binary: true });
      sent++;
    };
    const rest = () => {
      // One write for the whole batch (ws writes each frame on its own): a pipeline, and far fewer syscalls.
      const sock = (ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
      sock?.cork();
      for (const f of frames.slice(o.waitWelcome ? 1 : 0)) send(f);
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ v: 3, type: 'clock', t0: marker }));
      sock?.uncork();
    };
    ws.on('open', () => (o.waitWelcome ? send(frames[0]!) : rest()));
    ws.on('message', (d) => {
      const s = d.toString();
      if (o.waitWelcome && !welcomed) {
        welcomed = true;
        return rest();
      }
      if (s.includes(`"t0":${marker}`)) ws.close(1000);
    });
    ws.on('unexpected-response', (_q, res) => {
      clearTimeout(timer);
      resolve({ code: res.statusCode ?? 0, sent: 0 });
      ws.terminate();
    });
    ws.on('error', () => undefined); // the close (or unexpected-response) says what happened
    ws.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, sent });
    });
  });
}

function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

// Closes a hostile message may get: refused by the aggregator (44xx), by ws (1002 protocol, 1007 UTF-8, 1009
// size), replaced by a newer session of the same fuzz node (4409), or our own close after the sentinel (1000).
const allowedCodes = new Set([1000, 1002, 1005, 1006, 1007, 1009, 401, 4400, 4403, 4404, 4409, 4413, 4426]);

test(`fuzz: ${MESSAGES} crafted and mutated messages; the aggregator lives, answers and stays correct (seed ${seed})`, async (t) => {
  t.diagnostic(`seed ${seed} (PINGER_FUZZ_SEED=${seed} to replay)`);
  const url = agentWsUrl(c.url);
  const pid = c.aggregator.child.pid!;
  const before = await waitUntil(
    async () => {
      const r = await c.report();
      return realProblems(r).length === 0 && r.nodes.filter((n) => REAL.includes(n.name)).every((n) => n.rounds > 0) ? r : undefined;
    },
    'the real agents reporting with their pairs ok',
    30_000,
    250,
  );
  const roundsBefore = Object.fromEntries(before.nodes.map((n) => [n.name, n.rounds]));
  const logBefore = c.aggregator.output().length;

  // Watchers: the report's latency and content, the process's RSS, all through the run.
  let running = true;
  const latencies: number[] = [];
  const wrong: string[] = [];
  let maxRss = 0;
  const watch = (async () => {
    while (running) {
      const t0 = performance.now();
      try {
        const r = (await (await fetch(`${c.url}/api/v1/report`, { signal: AbortSignal.timeout(2000) })).json()) as Report;
        latencies.push(performance.now() - t0);
        const bad = realProblems(r);
        if (bad.length) wrong.push(`${new Date().toISOString()} ${bad.join('; ')}`);
      } catch (err) {
        latencies.push(Infinity);
        wrong.push(`report failed: ${(err as Error).message}`);
      }
      maxRss = Math.max(maxRss, rssMb(pid));
      await new Promise((r) => setTimeout(r, 250));
    }
  })();

  const g0 = new Gen(seed);
  let total = 0;
  let sessions = 0;
  let oversize = 0;
  const byKind = new Map<string, number>();
  const codes = new Map<number, number>();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: WORKERS }, async (_, wi) => {
      const g = new Gen(seed + 1 + wi); // one stream per worker: the run replays whatever the scheduling
      const w: FuzzWorld = { node: FUZZ[wi % FUZZ.length]!, nodes: [...REAL, ...FUZZ], bindings: BINDINGS };
      while (total < MESSAGES) {
        assert.equal(c.aggregator.child.exitCode, null, `aggregator exited:\n${c.aggregator.output().slice(-3000)}`);
        const frames: Frame[] = [];
        const kinds: string[] = [];
        const localAddress = g.chance(0.7) ? '127.0.0.1' : `127.0.0.${g.int(2, 254)}`;
        const deflate = g.chance(0.1); // inflating is the costliest part of a small message: some, not most
        const k = g.r();
        const good = authAs(c.token, w.node);
        let auth = good;
        let waitWelcome = false;
        const hostile = (valid: string) => {
          const kind: Mutation = oversize < 3 && sessions > 100 * (oversize + 1) && g.chance(0.05) ? 'oversize' : g.pick(mutations);
          if (kind === 'oversize') oversize++;
          frames.push(mutate(g, w, valid, kind));
          kinds.push(kind);
        };
        const s = new Session(g, w);
        if (k < 0.04) {
          // No credential, a malformed one, another node's, one made with the wrong secret.
          auth = g.pick(['', 'Bearer wrong', authAs(c.token, 'node-1').replace('node-1', w.node), authAs(`${c.token}x`, w.node)]);
          frames.push(JSON.stringify(hello(g, w)));
          kinds.push('bad-token');
        } else if (k < 0.16) {
          // Hostile before any hello.
          hostile(g.chance(0.5) ? JSON.stringify(hello(g, w)) : JSON.stringify(clock(g)));
          for (let i = g.int(0, 3); i > 0; i--) frames.push(s.crafted()), kinds.push('crafted');
        } else {
          waitWelcome = true;
          frames.push(JSON.stringify(hello(g, w)));
          kinds.push('crafted');
          for (let i = g.int(40, 160); i > 0; i--) frames.push(s.crafted()), kinds.push('crafted');
          if (g.chance(0.85)) {
            hostile(s.crafted());
            for (let i = g.int(0, 3); i > 0; i--) frames.push(s.crafted()), kinds.push('crafted');
          }
        }
        sessions++;
        const out = await session(url, auth, frames, { waitWelcome, deflate, localAddress });
        total += auth === good ? frames.length : 0;
        for (const kind of kinds) byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
        codes.set(out.code, (codes.get(out.code) ?? 0) + 1);
        assert.ok(
          allowedCodes.has(out.code),
          `unexpected close ${out.code} after ${kinds.filter((x) => x !== 'crafted').join(',') || 'crafted messages only'} (seed ${seed}, worker ${wi})`,
        );
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  running = false;
  await watch;
  void g0;

  const metrics = await (await fetch(`${c.url}/metrics`)).text();
  const rejects = [...metrics.matchAll(/^pinger_agent_messages_rejected_total\{code="([A-Z_]+)"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])] as const);
  const rejected = rejects.reduce((a, [, n]) => a + n, 0);
  const logBytes = c.aggregator.output().length - logBefore;
  t.diagnostic(`${total} messages in ${sessions} sessions, ${seconds.toFixed(1)} s; kinds ${JSON.stringify(Object.fromEntries(byKind))}`);
  t.diagnostic(`closes ${JSON.stringify(Object.fromEntries(codes))}; rejects ${JSON.stringify(Object.fromEntries(rejects.filter(([, n]) => n > 0)))}`);
  const cpu = (p: number) =>
    readFileSync(`/proc/${p}/stat`, 'utf8')
      .split(') ')[1]!
      .split(' ')
      .slice(11, 13)
      .reduce((a, x) => a + Number(x), 0) / 100;
  t.diagnostic(
    `CPU seconds: aggregator ${cpu(pid)}, agents ${REAL.map((n) => cpu(c.agents.get(n)!.child.pid!)).join(' ')}, this process ${(process.cpuUsage().user / 1e6).toFixed(1)}`,
  );
  t.diagnostic(
    `report latency max ${Math.max(...latencies).toFixed(0)} ms over ${latencies.length} polls; RSS max ${maxRss.toFixed(0)} MB; log ${logBytes} bytes; ${stalls()}`,
  );

  assert.ok(total >= MESSAGES);
  assert.equal(c.aggregator.child.exitCode, null, 'the aggregator is running');
  assert.equal(c.aggregator.child.signalCode, null);
  assert.equal(codes.get(4500) ?? 0, 0, 'no message failed internally');
  assert.equal(rejects.find(([code]) => code === 'PINGER_ERR_WS_INTERNAL')?.[1] ?? 0, 0);
  assert.ok(latencies.length > 10 && latencies.every((l) => l < 2000), `report latencies (ms): max ${Math.max(...latencies)}`);
  assert.ok(maxRss > 0 && maxRss < RSS_BOUND_MB, `RSS ${maxRss} MB`);
  assert.deepEqual(wrong.slice(0, 5), [], 'the real agents stayed reporting with their pairs ok throughout');
  // Every hostile session ends in a refusal (a few mutations stay valid); the log says a bounded part of it.
  const hostile = [...byKind].reduce((a, [k, n]) => a + (k === 'crafted' ? 0 : n), 0);
  assert.ok(rejected > hostile / 2, `${rejected} rejects for ${hostile} hostile messages`);
  assert.ok(logBytes < 1_000_000, `${logBytes} bytes of log for ${rejected} rejects`);
  // And they keep going: fresh rounds after the storm, still correct.
  await waitUntil(
    async () => {
      const r = await c.report();
      return realProblems(r).length === 0 && REAL.every((n) => r.nodes.find((x) => x.name === n)!.rounds > roundsBefore[n]! + 1) ? r : undefined;
    },
    'fresh rounds from the real agents, pairs ok',
    20_000,
    250,
  );
});
