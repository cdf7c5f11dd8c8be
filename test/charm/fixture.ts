// The seed's world for the charm tests: nodes with one NIC per space, endpoints bound to different
// spaces (`juju deploy pinger -n 4 --bind "oam internal=internal-api ..."`). Addresses are loopback
// (127.<block>.<space>.<host>) so whatever the charm or its services contact stays on this machine.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseInventory, type Inventory } from '../../agent/contract/inventory.js';
import type { SimDevice } from './sim/model.js';
import type { Sim, SimOptions } from './sim/sim.js';

/** A /16 of loopback per run, away from test/helpers/cluster.ts's 127.20-219 blocks. */
export const block = 220 + Math.floor(Math.random() * 30);

export const spaceIndex: Record<string, number> = { oam: 0, 'internal-api': 1, 'storage-cluster': 2, 'public-api': 3 };
export const spaces = Object.fromEntries(Object.entries(spaceIndex).map(([s, i]) => [s, [`127.${block}.${i}.0/24`, `2001:db8:${block}:${i}::/64`]]));

/** The seed's --bind: default oam; internal and shared-db on internal-api; ceph-cluster on storage; public. */
export const bindings = { '': 'oam', internal: 'internal-api', 'shared-db': 'internal-api', 'ceph-cluster': 'storage-cluster', public: 'public-api' };
export const probed = 'internal shared-db ceph-cluster public';

export const addr = (space: string, host: number) => `127.${block}.${spaceIndex[space]}.${host + 1}`;

/** Machine i: eth<k> per space; `skip` leaves a space out, `v6` adds an IPv6 address (never contacted). */
export function machine(i: number, o: { skip?: string[]; v6?: boolean } = {}): { hostname: string; devices: SimDevice[] } {
  const devices = Object.keys(spaceIndex)
    .filter((s) => !o.skip?.includes(s))
    .map((s) => ({
      name: `eth${spaceIndex[s]}`,
      mac: `00:16:3e:00:${String(spaceIndex[s]).padStart(2, '0')}:${String(i).padStart(2, '0')}`,
      addresses: [
        { value: addr(s, i), cidr: `127.${block}.${spaceIndex[s]}.0/24` },
        ...(o.v6 ? [{ value: `2001:db8:${block}:${spaceIndex[s]}::${i + 1}`, cidr: `2001:db8:${block}:${spaceIndex[s]}::/64` }] : []),
      ],
    }));
  return { hostname: `node-${i}`, devices };
}

export function simOptions(over: Partial<SimOptions> & Pick<SimOptions, 'goal' | 'systemd'>): SimOptions {
  return {
    spaces,
    bindings,
    machine: (i) => machine(i),
    config: { profile: 'demo', bindings: probed, 'aggregator-port': 20000 + Math.floor(Math.random() * 20000) },
    ...over,
  };
}

export function inventoryOf(sim: Sim, unit: string): Inventory {
  const f = join(sim.root(unit), 'var/lib/pinger/inventory.yaml');
  return parseInventory(readFileSync(f, 'utf8'), f);
}

export function appData(sim: Sim): Record<string, string> {
  const m = sim.model();
  return sim.peers(m).appData[m.app] ?? {};
}
