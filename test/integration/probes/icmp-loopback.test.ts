// ICMP engine on loopback in the root namespace (traffic to 127.0.0.0/8 and ::1 only).
// Numbers refer to net-ping's defects, each described by the test that reproduces it.
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { IcmpEngine, IcmpUnavailableError, type PingResult } from '../../../agent/probes/icmp-engine.js';
import { makeIcmpProbe } from '../../../agent/probes/icmp.js';
import { requireEnv } from '../../helpers/env.js';
import { fixture, repoRoot, runNode, runProbeChild } from './fixtures/lab.js';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1]!;
const count = (rs: PingResult[], outcome: string): number => rs.filter((r) => r.outcome === outcome).length;

describe('ICMP engine on loopback', () => {
  const engines: IcmpEngine[] = [];
  const engine = (opts?: ConstructorParameters<typeof IcmpEngine>[0]): IcmpEngine => {
    const e = new IcmpEngine(opts);
    engines.push(e);
    return e;
  };
  after(() => engines.forEach((e) => e.close()));

  it('(1) answers IPv4 and IPv6 targets through one engine', async (t) => {
    if (!requireEnv(t, { root: true })) return;
    const e = engine();
    const targets = Array.from({ length: 200 }, (_, i) => (i % 2 ? '::1' : '127.0.0.1'));
    const rs = await Promise.all(targets.map((target) => e.ping({ target, timeoutMs: 2000 })));
    assert.equal(count(rs, 'ok'), 200);
    assert.equal(e.available, true);
    // non-canonical spelling of ::1 still matches the reply's source
    assert.equal((await e.ping({ target: '0:0:0:0:0:0:0:1', timeoutMs: 2000 })).outcome, 'ok');
  });

  it('(7) gives sub-millisecond float RTTs on loopback', async (t) => {
    if (!requireEnv(t, { root: true })) return;
    // A small window keeps other work out of the RTT: on loopback the reply is already queued when sendto()
    // returns, so what we measure is mostly how long it waits behind the window (test/bench has the figures
    // for the default window). Warm up first: cold JIT code is several times slower.
    const e = engine({ window: 8 });
    await Promise.all(Array.from({ length: 3000 }, () => e.ping({ target: '127.0.0.1', timeoutMs: 2000 })));
    const rs = await Promise.all(Array.from({ length: 2000 }, () => e.ping({ target: '127.0.0.1', timeoutMs: 2000 })));
    const rtts = rs.map((r) => r.rttMs!);
    assert.equal(count(rs, 'ok'), 2000);
    assert.ok(median(rtts) < 1, `median ${median(rtts)} ms`);
    assert.ok(
      rtts.some((x) => !Number.isInteger(x)),
      'RTTs are not whole milliseconds',
    );
    assert.ok(rtts.every((x) => x > 0));
  });

  it('a prober starved of CPU past its timeout still counts the replies that arrived meanwhile', async (t) => {
    if (!requireEnv(t, { root: true })) return;
    // The echoes go out and the replies sit in the socket within microseconds; then the event loop is blocked
    // for 4x the timeout, as with many agents on few cores. When the loop resumes the timeout is due first
    // (libuv runs timers before it polls): without reading first, every reply would count as lost.
    const e = engine();
    await e.ping({ target: '127.0.0.1', timeoutMs: 2000 }); // socket open, code warm
    const pings = Array.from({ length: 20 }, (_, i) => e.ping({ target: i % 2 ? '::1' : '127.0.0.1', timeoutMs: 50 }));
    setImmediate(() => {
      const until = performance.now() + 200;
      while (performance.now() < until);
    });
    const rs = await Promise.all(pings);
    assert.equal(count(rs, 'ok'), 20, JSON.stringify(rs.filter((r) => r.outcome !== 'ok')));
  });

  it('(8) does not truncate large echoes (9000 bytes, and 65,000)', async (t) => {
    if (!requireEnv(t, { root: true })) return;
    const e = engine();
    for (const target of ['127.0.0.1', '::1']) {
      for (const size of [9000, 65000]) {
        for (const df of [false, true]) {
          const r = await e.ping({ target, size, df, timeoutMs: 2000 });
          assert.equal(r.outcome, 'ok', `${target} ${size} df=${df}: ${r.detail}`);
          assert.equal(r.bytes, size);
        }
      }
    }
  });

  it("(4) two engines in one process do not steal each other's replies", async (t) => {
    if (!requireEnv(t, { root: true })) return;
    const a = engine();
    const b = engine();
    assert.notEqual(a.id, b.id);
    const [ra, rb] = await Promise.all(
      [a, b].map((e) => Promise.all(Array.from({ length: 2000 }, (_, i) => e.ping({ target: i % 2 ? '::1' : '127.0.0.1', timeoutMs: 2000 })))),
    );
    assert.equal(count(ra!, 'ok'), 2000);
    assert.equal(count(rb!, 'ok'), 2000);
  });

  it('keeps the window: never more on the wire than asked', async (t) => {
    if (!requireEnv(t, { root: true })) return;
    const e = engine({ window: 4 });
    let maxInFlight = 0;
    const all = Array.from({ length: 500 }, () =>
      e.ping({ target: '127.0.0.1', timeoutMs: 2000 }).then((r) => {
        maxInFlight = Math.max(maxInFlight, e.inFlight);
        return r;
      }),
    );
    assert.equal(e.inFlight, 4);
    assert.equal(e.queued, 496);
    assert.equal(count(await Promise.all(all), 'ok'), 500);
    assert.ok(maxInFlight <= 4);
  });

  it('ends a queued ping on abort and pending ones on close()', async (t) => {
    if (!requireEnv(t, { root: true })) return;
    const e = new IcmpEngine({ window: 1 });
    const ac = new AbortController();
    const first = e.ping({ target: '127.0.0.1', timeoutMs: 2000 });
    const queued = e.ping({ target: '127.0.0.1', timeoutMs: 2000, signal: ac.signal });
    ac.abort();
    assert.deepEqual(await queued, { outcome: 'error', detail: 'aborted' });
    assert.equal((await first).outcome, 'ok');
    const pending = e.ping({ target: '127.0.0.1', timeoutMs: 2000 });
    e.close();
    assert.deepEqual(await pending, { outcome: 'error', detail: 'PINGER_ERR_ICMP_CLOSED' });
    await assert.rejects(e.ping({ target: '127.0.0.1', timeoutMs: 100 }), IcmpUnavailableError);
  });

  it('picks the family from the address and names a bad one', async (t) => {
    if (!requireEnv(t, { root: true })) return;
    const probe = makeIcmpProbe(engine());
    assert.deepEqual(await probe({ target: '127.0.0.1.', timeoutMs: 100 }), {
      outcome: 'error',
      detail: "PINGER_ERR_ICMP_BAD_TARGET: '127.0.0.1.' is not an IP address",
    });
  });
});

describe('ICMP in other processes', () => {
  it('(6) a worker_thread gets not-measured; the main thread still pings', async (t) => {
    if (!requireEnv(t, { root: true })) return;
    const r = await runNode(fixture('worker-child.ts'), []);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.main.outcome, 'ok');
    assert.deepEqual(out.inWorker, { outcome: 'not-measured', detail: 'ICMP not available in a worker_thread' });
  });

  it('(6) why: raw-socket used directly from a worker kills the whole process', async (t) => {
    if (!requireEnv(t, { root: true })) return;
    // If this starts passing with a clean exit and a reply, raw-socket got fixed: revisit the engine's refusal.
    const r = await runNode(fixture('raw-socket-in-worker.cjs'), [], { timeoutMs: 20_000 });
    assert.doesNotMatch(r.stdout, /^reply$/m);
    assert.ok(r.code !== 0 || r.signal !== null, `exit ${r.code} ${r.signal}: ${r.stdout}`);
  });

  it('without CAP_NET_RAW the probe says not-measured and TCP still works', async (t) => {
    if (!requireEnv(t, { root: true, commands: ['setpriv'] })) return;
    const out = await runProbeChild(
      {
        listen: [{ host: '127.0.0.1', port: 0 }],
        steps: [
          {
            kind: 'icmp',
            reqs: [
              { target: '127.0.0.1', timeoutMs: 1000 },
              { target: '::1', timeoutMs: 1000 },
            ],
          },
          { kind: 'tcp', reqs: [{ target: '127.0.0.1', port: -1, timeoutMs: 1000 }] }, // -1: the listener's port
        ],
      },
      { wrapper: ['setpriv', '--bounding-set=-net_raw', '--inh-caps=-net_raw'] },
    );
    assert.deepEqual(out.steps[0]!.results, [
      { outcome: 'not-measured', detail: 'no CAP_NET_RAW' },
      { outcome: 'not-measured', detail: 'no CAP_NET_RAW' },
    ]);
    assert.deepEqual(out.available, [false]);
    assert.equal(out.steps[1]!.results[0]!.outcome, 'ok');
  });

  it('sweep exits 77 without CAP_NET_RAW and 0 when all answer', async (t) => {
    if (!requireEnv(t, { root: true, commands: ['setpriv'] })) return;
    const dir = mkdtempSync(join(tmpdir(), 'pinger-sweep-'));
    try {
      const list = join(dir, 'targets.txt');
      writeFileSync(list, '# loopback only\n127.0.0.1\n::1\n\n127.0.0.2\n');
      const cli = join(repoRoot, 'agent/sweep-cli.ts');
      const noCap = await runNode(cli, ['-f', list], { wrapper: ['setpriv', '--bounding-set=-net_raw', '--inh-caps=-net_raw'] });
      assert.equal(noCap.code, 77);
      assert.match(noCap.stderr, /PINGER_ERR_ICMP_NO_CAP_NET_RAW/);
      const ok = await runNode(cli, ['-f', list, '-c', '2', '-v']);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /^::1 ok [0-9.]+ ms$/m);
      assert.match(ok.stdout, /^targets=3 alive=3 unreachable=0 wall_ms=[0-9.]+ rtt_median_ms=[0-9.]+ rtt_p99_ms=[0-9.]+$/m);
      writeFileSync(list, '127.0.0.1\nnot-an-address\n');
      const bad = await runNode(cli, ['-f', list, '-v']);
      assert.equal(bad.code, 1);
      assert.match(bad.stdout, /^not-an-address error \(PINGER_ERR_ICMP_BAD_TARGET/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
