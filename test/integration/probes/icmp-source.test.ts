// ICMP from a chosen source address (the binding's own address), with real packets in test namespaces:
// A (two addresses per family on one interface) -- R (router, 1400-byte hop) -- B (target).
// B drops echo requests from the address A's kernel picks by route, so only a probe that really sends from the
// other address is answered; nftables counters show which source left A and where B's replies went.
// Addresses: 198.18.0.0/15 and 2001:db8::/32 inside the namespaces only.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Lab, runProbes, sh } from './fixtures/lab.js';

const B4 = '198.18.2.2';
const B6 = '2001:db8:2::2';
const A4 = ['198.18.1.2', '198.18.1.3'];
const A6 = ['2001:db8:1::2', '2001:db8:1::3'];
const NOT_OURS4 = '198.18.1.99'; // on A's subnet, held by nobody
const NOT_OURS6 = '2001:db8:1::99';

describe('ICMP honours the source address', { concurrency: false }, () => {
  const lab = new Lab();
  let A = '';
  let B = '';
  // The source A's kernel picks by route for each family (the one B drops) and the other one (the binding's).
  const picked: Record<4 | 6, string> = { 4: '', 6: '' };
  const other: Record<4 | 6, string> = { 4: '', 6: '' };

  before(() =>
    lab.setUp(() => {
      ({ A, B } = lab.routed([...A4, ...A6], [B4, B6]));
      // Ask A's kernel which source it would use (IPv4: the primary address; IPv6: by its selection rules).
      for (const [fam, target, addrs] of [
        [4, B4, A4],
        [6, B6, A6],
      ] as const) {
        const src = / src (\S+)/.exec(sh('ip', ['-n', A, `-${fam}`, 'route', 'get', target]))![1]!;
        assert.ok((addrs as readonly string[]).includes(src), `route source ${src}`);
        picked[fam] = src;
        other[fam] = addrs.find((a) => a !== src)!;
      }
      lab.nft(
        B,
        `table inet pinger_test {
          counter req_picked4 {}
          counter req_other4 {}
          counter req_picked6 {}
          counter req_other6 {}
          counter rep_other4 {}
          counter rep_other6 {}
          chain input {
            type filter hook input priority 0; policy accept;
            ip saddr ${picked[4]} icmp type echo-request counter name req_picked4 drop
            ip6 saddr ${picked[6]} icmpv6 type echo-request counter name req_picked6 drop
            ip saddr ${other[4]} icmp type echo-request counter name req_other4
            ip6 saddr ${other[6]} icmpv6 type echo-request counter name req_other6
          }
          chain output {
            type filter hook output priority 0; policy accept;
            ip daddr ${other[4]} icmp type echo-reply counter name rep_other4
            ip6 daddr ${other[6]} icmpv6 type echo-reply counter name rep_other6
          }
        }`,
      );
      // A: count what leaves with an address that is not A's (must stay 0) and what 127.x sources send on lo.
      lab.nft(
        A,
        `table inet pinger_test {
          counter spoofed {}
          counter lo_src {}
          chain output {
            type filter hook output priority 0; policy accept;
            ip saddr ${NOT_OURS4} counter name spoofed
            ip6 saddr ${NOT_OURS6} counter name spoofed
            ip saddr 127.0.0.5 ip daddr 127.0.0.1 icmp type echo-request counter name lo_src
          }
        }`,
      );
    }),
  );
  after(() => lab.cleanup());

  /** Packets counted so far by a named counter in a namespace. */
  const counter = (ns: string, name: string): number => {
    const out = JSON.parse(sh('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'counter', 'inet', 'pinger_test', name]));
    return out.nftables.find((x: { counter?: unknown }) => x.counter).counter.packets as number;
  };

  it('an echo from the second address is answered to it; without a source the kernel sends from the first', async (t) => {
    if (!lab.need(t)) return;
    const [step] = await runProbes(
      {
        steps: [
          {
            kind: 'icmp',
            reqs: [
              { target: B4, source: other[4], timeoutMs: 2000 },
              { target: B6, source: other[6], timeoutMs: 2000 },
              { target: B4, timeoutMs: 500 },
              { target: B6, timeoutMs: 500 },
              { target: B4, source: picked[4], timeoutMs: 500 },
              { target: B6, source: picked[6], timeoutMs: 500 },
            ],
          },
        ],
      },
      { ns: A },
    );
    const rs = step!.results;
    assert.equal(rs[0]!.outcome, 'ok', `IPv4 from ${other[4]}: ${rs[0]!.detail}`);
    assert.equal(rs[1]!.outcome, 'ok', `IPv6 from ${other[6]}: ${rs[1]!.detail}`);
    assert.deepEqual(rs.slice(2), Array(4).fill({ outcome: 'filtered', detail: 'timeout' }));
    // B saw one request from each chosen address and answered the second address itself.
    assert.equal(counter(B, 'req_other4'), 1);
    assert.equal(counter(B, 'req_other6'), 1);
    assert.equal(counter(B, 'req_picked4'), 2); // the unsourced echo and the one sourced from the picked address
    assert.equal(counter(B, 'req_picked6'), 2);
    assert.equal(counter(B, 'rep_other4'), 1);
    assert.equal(counter(B, 'rep_other6'), 1);
  });

  it('a source that is not ours is refused with the source named, and nothing is sent', async (t) => {
    if (!lab.need(t)) return;
    const [step] = await runProbes(
      {
        steps: [
          {
            kind: 'icmp',
            reqs: [
              { target: B4, source: NOT_OURS4, timeoutMs: 500 },
              { target: B6, source: NOT_OURS6, timeoutMs: 500 },
              { target: B4, source: other[6], timeoutMs: 500 },
              { target: B4, source: 'node-1', timeoutMs: 500 },
            ],
          },
        ],
      },
      { ns: A },
    );
    assert.deepEqual(step!.results, [
      { outcome: 'error', detail: `PINGER_ERR_ICMP_BAD_SOURCE: source '${NOT_OURS4}' is not an address of this host` },
      { outcome: 'error', detail: `PINGER_ERR_ICMP_BAD_SOURCE: source '${NOT_OURS6}' is not an address of this host` },
      { outcome: 'error', detail: `PINGER_ERR_ICMP_BAD_SOURCE: source '${other[6]}' is IPv6, target '${B4}' is IPv4` },
      { outcome: 'error', detail: "PINGER_ERR_ICMP_BAD_SOURCE: source 'node-1' is not an IP address" },
    ]);
    assert.equal(counter(A, 'spoofed'), 0);
  });

  it('any 127.x source works on loopback (the demo binds its agents there)', async (t) => {
    if (!lab.need(t)) return;
    const before = counter(A, 'lo_src');
    const [step] = await runProbes(
      {
        steps: [
          {
            kind: 'icmp',
            reqs: [
              { target: '127.0.0.1', source: '127.0.0.5', timeoutMs: 2000 },
              { target: '::1', source: '::1', timeoutMs: 2000 },
            ],
          },
        ],
      },
      { ns: A },
    );
    assert.deepEqual(
      step!.results.map((r) => r.outcome),
      ['ok', 'ok'],
    );
    assert.equal(counter(A, 'lo_src') - before, 1);
  });

  it('DF probes from a source still find the 1400-byte hop; oversized non-DF ones say why they were not sent', async (t) => {
    if (!lab.need(t)) return;
    const ping = (target: string, source: string, size: number, df: boolean) => ({
      kind: 'icmp' as const,
      reqs: [{ target, source, size, df, timeoutMs: 2000 }],
    });
    const out = await runProbes(
      {
        steps: [
          ping(B4, other[4], 1380, true), // fills the hop exactly
          ping(B4, other[4], 1480, true), // R: frag-needed, or EMSGSIZE once the path MTU is known
          ping(B4, other[4], 1480, false), // fits A's interface: fragmented on the way and answered
          ping(B4, other[4], 1481, false), // bigger than A's interface: header-included packets are not fragmented
          ping(B6, other[6], 1360, true),
          ping(B6, other[6], 1460, true),
          ping(B6, other[6], 1460, true),
          ping(B6, other[6], 1460, false), // IPv6 header-included packets are never fragmented locally
        ],
      },
      { ns: A },
    );
    const rs = out.map((s) => s.results[0]!);
    assert.equal(rs[0]!.outcome, 'ok', rs[0]!.detail);
    assert.equal(rs[1]!.outcome, 'too-big', rs[1]!.detail);
    assert.match(rs[1]!.detail!, /^(icmp4 3\/4 frag-needed mtu 1400 from 198\.18\.1\.1|EMSGSIZE)$/);
    assert.equal(rs[2]!.outcome, 'ok', rs[2]!.detail);
    assert.deepEqual(rs[3], {
      outcome: 'error',
      detail: 'EMSGSIZE: a 1481-byte echo from a source address is not fragmented locally; use df for MTU checks',
    });
    assert.equal(rs[4]!.outcome, 'ok', rs[4]!.detail);
    assert.equal(rs[5]!.outcome, 'too-big', rs[5]!.detail);
    assert.equal(rs[6]!.outcome, 'too-big', rs[6]!.detail);
    assert.ok([rs[5]!.detail, rs[6]!.detail].includes('icmp6 2/0 packet-too-big mtu 1400 from 2001:db8:1::1'), `${rs[5]!.detail} / ${rs[6]!.detail}`);
    assert.equal(rs[7]!.outcome, 'error');
    assert.match(rs[7]!.detail!, /^EMSGSIZE: a 1460-byte echo from a source address is not fragmented locally/);
  });
});
