// The agent's local facts, read for real inside a throw-away network namespace: the interface and MTU of
// each binding address, its link state, and an address gone with its downed link told apart from one removed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requireEnv } from '../helpers/env.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));

// Runs inside the namespace: reads the facts, changes the link or the addresses, reads again.
const script = `
import { execFileSync } from 'node:child_process';
import { findInterfaces } from './agent/interfaces.ts';
const ip = (...a) => execFileSync('ip', a);
const addrs = { internal: ['198.18.9.1', '2001:db8:9::1'] };
const held = new Map();
const out = { up: findInterfaces(addrs, held) };
ip('link', 'set', 'v0', 'mtu', '1400');
out.mtu = findInterfaces(addrs, held);
ip('link', 'set', 'v0', 'down');
out.down = findInterfaces(addrs, held);
ip('link', 'set', 'v0', 'up');
ip('addr', 'del', '198.18.9.1/24', 'dev', 'v0');
out.removed = findInterfaces(addrs, held);
console.log(JSON.stringify(out));
`;

test('interface facts: MTU, link, and an address gone with its link vs removed', (t) => {
  if (!requireEnv(t, { root: true, commands: ['ip'] })) return;
  const ns = `pi${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    const lines = [
      'link set lo up',
      'link add v0 type veth peer name v1',
      'link set v0 up',
      'link set v1 up',
      'addr add 198.18.9.1/24 dev v0',
      'addr add 2001:db8:9::1/64 dev v0 nodad',
    ];
    execFileSync('ip', ['-n', ns, '-batch', '-'], { input: lines.join('\n') + '\n' });
    const got = JSON.parse(
      execFileSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], { cwd: repo, encoding: 'utf8' }),
    );
    const v4 = { binding: 'internal', address: '198.18.9.1' };
    const v6 = { binding: 'internal', address: '2001:db8:9::1' };
    assert.deepEqual(got.up, [
      { ...v4, iface: 'v0', mtu: 1500, link: 'up' },
      { ...v6, iface: 'v0', mtu: 1500, link: 'up' },
    ]);
    assert.deepEqual(got.mtu, [
      { ...v4, iface: 'v0', mtu: 1400, link: 'up' },
      { ...v6, iface: 'v0', mtu: 1400, link: 'up' },
    ]);
    // Admin down: getifaddrs() (libuv) lists no address of an interface that is not up and running, and the
    // kernel flushes its IPv6; the agent remembers where they were, so the link is named as the cause.
    assert.deepEqual(got.down, [
      { ...v4, iface: null, mtu: null, link: 'down' },
      { ...v6, iface: null, mtu: null, link: 'down' },
    ]);
    // Removed while the link is up: no interface holds it, and the link it was on is up (address-missing).
    assert.equal(got.removed[0].iface, null);
    assert.equal(got.removed[0].link, 'up');
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
});
