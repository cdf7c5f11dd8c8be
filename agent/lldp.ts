// LLDP neighbours per local interface, from lldpd (`lldpcli -f json show neighbors`) when it runs. No lldpd
// is a state the report shows ("no LLDP data"), never an error. Parsing is pure and bounded: lldpcli's JSON
// carries whatever the switch sent.
import { execFile } from 'node:child_process';
import type { LldpNeighbour, LldpState } from './contract/link-wire.js';

const MAX_IFACES = 256;
const MAX_PER_IFACE = 8;
const cut = (v: unknown, max = 255): string | undefined => (typeof v === 'string' && v.length ? v.slice(0, max) : undefined);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** lldpcli writes a single item as an object and several as a list: both become a list. */
const many = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/**
 * `lldpcli -f json show neighbors` (lldpd 1.0.x): {"lldp": {"interface": {IFACE: {chassis: {NAME: {id:
 * {type, value}, ...}} | {id, ...}, port: {id: {type, value}, descr}}} | [{IFACE: {...}}, ...]}}.
 */
export function parseLldpNeighbors(json: unknown): Map<string, LldpNeighbour[]> {
  const out = new Map<string, LldpNeighbour[]>();
  const lldp = many(isObj(json) ? json.lldp : undefined);
  for (const l of lldp) {
    if (!isObj(l)) continue;
    for (const entry of many(l.interface)) {
      if (!isObj(entry)) continue;
      for (const [iface, raw] of Object.entries(entry)) {
        if (out.size >= MAX_IFACES && !out.has(iface)) break;
        if (!/^[^\s/]{1,15}$/.test(iface)) continue;
        for (const n of many(raw)) {
          if (!isObj(n)) continue;
          const nb = neighbour(n);
          if (!nb) continue;
          const list = out.get(iface) ?? [];
          if (list.length < MAX_PER_IFACE) list.push(nb);
          out.set(iface, list);
        }
      }
    }
  }
  return out;
}

function neighbour(n: Record<string, unknown>): LldpNeighbour | undefined {
  let chassis: string | undefined;
  let chassisId: string | undefined;
  const ch = isObj(n.chassis) ? n.chassis : undefined;
  if (ch) {
    // Named: {"sw-a": {"id": ...}}; unnamed: {"id": ...}.
    const named = Object.entries(ch).find(([k, v]) => k !== 'id' && isObj(v) && 'id' in v);
    const body = (named ? named[1] : ch) as Record<string, unknown>;
    chassis = named ? cut(named[0]) : undefined;
    const id = isObj(body.id) ? body.id : undefined;
    chassisId = cut(id?.value);
  }
  const port = isObj(n.port) ? n.port : undefined;
  const portId = cut(isObj(port?.id) ? (port!.id as Record<string, unknown>).value : undefined);
  if (!(chassis ?? chassisId) || !portId) return undefined;
  const descr = cut(port?.descr);
  return { chassis: (chassis ?? chassisId)!, chassisId: chassisId ?? chassis!, port: portId, ...(descr ? { portDescr: descr } : {}) };
}

export interface LldpRead {
  state: LldpState;
  neighbours: Map<string, LldpNeighbour[]>;
  detail?: string;
}

/** Asks lldpd (through its control socket) for its neighbours; at most timeoutMs, at most 4 MB of output. */
export function readLldp(opts: { socket?: string; lldpcli?: string; timeoutMs?: number } = {}): Promise<LldpRead> {
  const args = [...(opts.socket ? ['-u', opts.socket] : []), '-f', 'json', 'show', 'neighbors'];
  return new Promise((resolve) => {
    execFile(opts.lldpcli ?? 'lldpcli', args, { timeout: opts.timeoutMs ?? 5000, maxBuffer: 4 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.code === 'ENOENT') return resolve({ state: 'not-installed', neighbours: new Map(), detail: 'lldpcli not found (Debian/Ubuntu package lldpd)' });
        const msg = (stderr || e.message).trim().split('\n').pop()!.slice(0, 300);
        return resolve({ state: /unable to connect|No such file|Connection refused/i.test(msg) ? 'not-running' : 'error', neighbours: new Map(), detail: msg });
      }
      try {
        resolve({ state: 'ok', neighbours: parseLldpNeighbors(JSON.parse(stdout)) });
      } catch (e2) {
        resolve({ state: 'error', neighbours: new Map(), detail: `lldpcli output is not JSON: ${(e2 as Error).message.slice(0, 200)}` });
      }
    });
  });
}
