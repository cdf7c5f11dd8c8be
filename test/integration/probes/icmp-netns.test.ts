// ICMP engine against real paths in test namespaces: A (client) -- R (router) -- B (targets).
// The R-B link has MTU 1400; B rejects echo to .3/::3 and drops echo to .4/::4 with nftables.
// Numbers refer to net-ping's defects, each described by the test that reproduces it. Addresses: 198.18.0.0/15 and
// 2001:db8::/32 inside the namespaces only.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fixture, Lab, runNode, runProbes } from './fixtures/lab.js';
import type { ChildReq } from './fixtures/probe-child.js';

const B4 = '198.18.2.2';
const B6 = '2001:db8:2::2';
const REJECT4 = '198.18.2.3';
const REJECT6 = '2001:db8:2::3';
const SILENT4 = '198.18.2.4';
const SILENT6 = '2001:db8:2::4';
const NOBODY6 = '2001:db8:2::99'; // on B's link, no host: R's neighbour discovery fails

describe('ICMP engine through namespaces', { concurrency: false }, () => {
  const lab = new Lab();
  let A = '';

  before(() =>
    lab.setUp(() => {
      const net = lab.routed(
        ['198.18.1.2', '2001:db8:1::2'],
        [2, 3, 4].flatMap((h) => [`198.18.2.${h}`, `2001:db8:2::${h}`]),
      );
      A = net.A;
      const B = net.B;
      lab.nft(
        B,
        `table inet pinger_test {
          chain input {
            type filter hook input priority 0; policy accept;
            ip daddr ${REJECT4} icmp type echo-request reject
            ip6 daddr ${REJECT6} icmpv6 type echo-request reject
            ip daddr ${SILENT4} icmp type echo-request drop
            ip6 daddr ${SILENT6} icmpv6 type echo-request drop
          }
        }`,
      );
      // A's loopback: 127.0.0.2 silent, for the long-pending request below.
      lab.nft(
        A,
        `table inet pinger_test {
          chain input { type filter hook input priority 0; policy accept; ip daddr 127.0.0.2 icmp type echo-request drop; }
        }`,
      );
    }),
  );
  after(() => lab.cleanup());

  it('(1) one engine answers both families; silent or missing IPv6 hosts are never alive', async (t) => {
    if (!lab.need(t)) return;
    const [live, dead] = await runProbes(
      {
        steps: [
          { kind: 'icmp', reqs: [B4, B6, B4, B6].map((target) => ({ target, timeoutMs: 2000 })) },
          { kind: 'icmp', reqs: [SILENT6, SILENT4, NOBODY6].map((target) => ({ target, timeoutMs: 500 })) },
        ],
      },
      { ns: A },
    );
    assert.deepEqual(
      live!.results.map((r) => r.outcome),
      ['ok', 'ok', 'ok', 'ok'],
    );
    assert.deepEqual(dead!.results, [
      { outcome: 'filtered', detail: 'timeout' },
      { outcome: 'filtered', detail: 'timeout' },
      { outcome: 'filtered', detail: 'timeout' },
    ]);
  });

  it('(2) matches ICMP errors for both families: rejected echo is unreachable at once', async (t) => {
    if (!lab.need(t)) return;
    const [step] = await runProbes({ steps: [{ kind: 'icmp', reqs: [REJECT6, REJECT4].map((target) => ({ target, timeoutMs: 3000 })) }] }, { ns: A });
    assert.deepEqual(step!.results, [
      { outcome: 'unreachable', detail: `icmp6 1/4 port-unreachable from ${REJECT6}` },
      { outcome: 'unreachable', detail: `icmp4 3/3 port-unreachable from ${REJECT4}` },
    ]);
    for (const ms of step!.elapsedMs) assert.ok(ms < 1000, `answered after ${ms} ms (timeout 3000)`);
  });

  it('(2) DF pings bigger than the routed 1400-byte hop are too-big for IPv4 and IPv6', async (t) => {
    if (!lab.need(t)) return;
    const ping = (target: string, size: number, df: boolean) => ({ kind: 'icmp' as const, reqs: [{ target, size, df, timeoutMs: 2000 }] });
    // 1380 + 20 and 1360 + 40 fill the hop exactly; 1480 + 20 and 1460 + 40 are 1500-byte packets.
    const out = await runProbes(
      {
        steps: [
          ping(B4, 1380, true),
          ping(B4, 1480, true), // R answers frag-needed
          ping(B4, 1480, true), // A now knows the path MTU: EMSGSIZE locally
          ping(B4, 1480, false), // without DF it is fragmented and answered
          ping(B6, 1360, true),
          ping(B6, 1460, true), // R answers packet-too-big
          ping(B6, 1460, true),
          ping(B6, 1460, false), // IPv6 fragments at the source
        ],
      },
      { ns: A },
    );
    const rs = out.map((s) => s.results[0]!);
    assert.equal(rs[0]!.outcome, 'ok');
    assert.deepEqual(rs[1], { outcome: 'too-big', detail: 'icmp4 3/4 frag-needed mtu 1400 from 198.18.1.1' });
    assert.deepEqual(rs[2], { outcome: 'too-big', detail: 'EMSGSIZE' });
    assert.equal(rs[3]!.outcome, 'ok', rs[3]!.detail);
    assert.equal(rs[4]!.outcome, 'ok');
    assert.deepEqual(rs[5], { outcome: 'too-big', detail: 'icmp6 2/0 packet-too-big mtu 1400 from 2001:db8:1::1' });
    assert.deepEqual(rs[6], { outcome: 'too-big', detail: 'EMSGSIZE' });
    assert.equal(rs[7]!.outcome, 'ok', rs[7]!.detail);
  });

  it('(4) two engines share the host without stealing; a silent target is filtered, never ok', async (t) => {
    if (!lab.need(t)) return;
    const reqs: ChildReq[] = [];
    for (let i = 0; i < 40; i++) {
      reqs.push({ target: i % 2 ? B6 : B4, engine: 0, timeoutMs: 2000 });
      reqs.push({ target: i % 2 ? B4 : B6, engine: 1, timeoutMs: 2000 });
      reqs.push({ target: i % 2 ? SILENT4 : SILENT6, engine: i % 2, timeoutMs: 500 });
    }
    const [step] = await runProbes({ engines: 2, steps: [{ kind: 'icmp', reqs }] }, { ns: A });
    step!.results.forEach((r, i) => {
      const silent = i % 3 === 2;
      assert.equal(r.outcome, silent ? 'filtered' : 'ok', `${reqs[i]!.target} via engine ${reqs[i]!.engine}`);
    });
  });

  it('(3) 70,000 pings through one engine all answer, past a request pending the whole time', async (t) => {
    if (!lab.need(t)) return;
    // 127.0.0.2 never answers and keeps its sequence number in flight while the counter wraps around it.
    const [step] = await runProbes(
      {
        steps: [
          {
            kind: 'icmp',
            reqs: [{ target: '127.0.0.2', timeoutMs: 600_000 }],
            bulk: { req: { target: '127.0.0.1', timeoutMs: 2000 }, count: 70_000, concurrency: 256 },
            abortAfterOthers: [0],
          },
        ],
      },
      { ns: A },
    );
    assert.deepEqual(step!.counts, { ok: 70_000 });
    assert.deepEqual(step!.results[0], { outcome: 'error', detail: 'aborted' });
  });

  it('(5) a pending ping survives garbage collection; the process then exits on its own', async (t) => {
    if (!lab.need(t)) return;
    const r = await runNode(fixture('gc-child.ts'), [], { ns: A, nodeArgs: ['--expose-gc'], timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.controlCollected, true, 'gc() collects an unreferenced raw socket (control)');
    assert.equal(out.collectedWhilePending, false);
    assert.deepEqual(
      out.results.map((x: { outcome: string }) => x.outcome),
      ['ok', 'filtered'],
    );
    assert.equal(out.liveEnginesAtExit, 0);
  });
});
