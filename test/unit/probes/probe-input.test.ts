// Input checks of the icmp and tcp probes and the sweep command: answered before any packet is sent.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IcmpEngine } from '../../../agent/probes/icmp-engine.js';
import { makeIcmpProbe } from '../../../agent/probes/icmp.js';
import { tcpProbe } from '../../../agent/probes/tcp.js';
import { sweepMain } from '../../../agent/sweep.js';

describe('icmp probe input', () => {
  // These fail before a socket is needed, so they run without root too.
  const probe = makeIcmpProbe(new IcmpEngine());
  it('names an invalid address', async () => {
    const r = await probe({ target: 'db.example', timeoutMs: 100 });
    assert.equal(r.outcome, 'error');
    assert.match(r.detail!, /PINGER_ERR_ICMP_BAD_TARGET: 'db.example'/);
  });
  it('refuses IPv4-mapped IPv6 (it would cross families)', async () => {
    const r = await probe({ target: '::ffff:198.18.0.1', timeoutMs: 100 });
    assert.equal(r.outcome, 'error');
    assert.match(r.detail!, /IPv4-mapped/);
  });
  it('refuses sizes below the header or above the family maximum', async () => {
    for (const size of [7, 65516, 1.5]) {
      const r = await probe({ target: '127.0.0.1', size, timeoutMs: 100 });
      assert.equal(r.outcome, 'error');
      assert.match(r.detail!, /PINGER_ERR_ICMP_BAD_SIZE/);
    }
  });
});

describe('tcp probe input', () => {
  it('refuses host names (no DNS inside a probe)', async () => {
    const r = await tcpProbe({ target: 'localhost', port: 80, timeoutMs: 100 });
    assert.deepEqual(r.outcome, 'error');
    assert.match(r.detail!, /PINGER_ERR_TCP_BAD_TARGET/);
  });
  it('refuses a missing or out-of-range port', async () => {
    for (const port of [undefined, 0, 65536, 8.5]) {
      const r = await tcpProbe({ target: '127.0.0.1', port, timeoutMs: 100 });
      assert.equal(r.outcome, 'error');
      assert.match(r.detail!, /PINGER_ERR_TCP_BAD_PORT/);
    }
  });
  it('refuses a source of the other family', async () => {
    const r = await tcpProbe({ target: '::1', port: 80, source: '127.0.0.1', timeoutMs: 100 });
    assert.equal(r.outcome, 'error');
    assert.match(r.detail!, /PINGER_ERR_TCP_BAD_SOURCE/);
  });
  it('returns aborted for an already aborted signal', async () => {
    const r = await tcpProbe({ target: '127.0.0.1', port: 80, timeoutMs: 100, signal: AbortSignal.abort() });
    assert.deepEqual(r, { outcome: 'error', detail: 'aborted' });
  });
});

describe('sweep usage', () => {
  it('exits 64 on bad arguments and 78 on an unreadable file, saying why', async () => {
    const cases: [string[], RegExp, number][] = [
      [[], /-f FILE is required/, 64],
      [['-f', '/nonexistent/pinger-targets'], /cannot read \/nonexistent\/pinger-targets/, 78],
      [['-f', 'x', '-t', 'soon'], /-t needs an integer >= 1/, 64],
      [['--bogus'], /unknown argument '--bogus'/, 64],
    ];
    for (const [argv, why, exit] of cases) {
      let err = '';
      const code = await sweepMain(argv, { out: () => {}, err: (t) => (err += t) });
      assert.equal(code, exit, argv.join(' '));
      assert.match(err, why);
    }
  });
});
