// Listeners on the ports the profile asks for, on each binding address, so peers can test those ports
// before OpenStack exists. A port that cannot be bound is reported (in-use / denied), never fatal.
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import { answer, RateLimit, type UdpKeyRef } from './probes/udp.js';
import { listenServer } from './tcp-listen.js';
import { listenOnce, tcpHandlesAvailable } from './tcp-wrap.js';
import type { ResponderInfo } from './contract/wire.js';

export interface ResponderSpec {
  binding: string;
  address: string;
  proto: 'tcp' | 'udp';
  port: number;
}

type Listener = { close(): Promise<void> };
/** One function per protocol: opens a listener or throws the bind error. */
export type ListenFn = (spec: ResponderSpec) => Promise<Listener>;

const key = (s: ResponderSpec) => `${s.proto}/${s.address}/${s.port}`;

/** Through Node's TCP handles (see tcp-wrap.ts): accepting costs a third of what a net.Socket does. */
const listenTcpHandles: ListenFn = async (spec) => listenOnce(spec.address, isIP(spec.address) === 6 ? 6 : 4, spec.port, 4096);

/** Through node:net: where Node's TCP handles are not reachable. */
export const listenTcpNet: ListenFn = (spec) => {
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    // The prober resets right after connecting; we only wait, so neither side keeps a TIME_WAIT entry.
    sockets.add(sock);
    sock.on('error', () => {});
    sock.on('close', () => sockets.delete(sock));
    sock.setTimeout(5000, () => sock.resetAndDestroy());
    sock.resume();
  });
  return listenServer(server, sockets, spec.address, spec.port, 4096);
};

export const listenTcp: ListenFn = tcpHandlesAvailable ? listenTcpHandles : listenTcpNet;

/**
 * The UDP echo responder (protocol in probes/udp.ts): answers only key-tagged probes addressed to this
 * address and port, never with more bytes than it got, at most 200 replies a second (burst 400): a full
 * round of 1,000 peers spread over an interval stays well under it, a flood does not get through.
 */
export function listenUdpEcho(keyRef: UdpKeyRef, rate = 200, burst = 400): ListenFn {
  return (spec) =>
    new Promise((resolve, reject) => {
      const sock = dgram.createSocket({ type: isIP(spec.address) === 6 ? 'udp6' : 'udp4', reuseAddr: false });
      const limit = new RateLimit(rate, burst, Date.now());
      sock.once('error', reject);
      sock.on('message', (msg, rinfo) => {
        // No key yet (no welcome): stay silent, as to any untagged datagram.
        const key = keyRef.current;
        const reply = key ? answer(key, msg, spec.address, spec.port, Date.now()) : null;
        if (reply && reply.length <= msg.length && limit.take(Date.now())) sock.send(reply, rinfo.port, rinfo.address);
      });
      sock.bind({ address: spec.address, port: spec.port, exclusive: true }, () => {
        sock.off('error', reject);
        sock.on('error', () => {});
        resolve({ close: () => new Promise<void>((r) => sock.close(() => r())) });
      });
    });
}

export class Responders {
  private readonly open = new Map<string, { spec: ResponderSpec; listener: Listener }>();
  private last: ResponderInfo[] = [];

  constructor(private readonly listeners: Partial<Record<ResponderSpec['proto'], ListenFn>> = { tcp: listenTcp }) {}

  /** Opens what is wanted and not open (retrying earlier failures), closes what is no longer wanted. */
  async sync(wanted: readonly ResponderSpec[]): Promise<ResponderInfo[]> {
    const want = new Map(wanted.map((s) => [key(s), s]));
    for (const [k, o] of this.open) {
      if (!want.has(k)) {
        this.open.delete(k);
        await o.listener.close();
      }
    }
    const out: ResponderInfo[] = [];
    await Promise.all(
      [...want].map(async ([k, spec]) => {
        if (this.open.has(k)) {
          out.push({ ...spec, state: 'listening' });
          return;
        }
        const listen = this.listeners[spec.proto];
        if (!listen) {
          out.push({ ...spec, state: 'error', detail: `no ${spec.proto} responder in this agent` });
          return;
        }
        try {
          this.open.set(k, { spec, listener: await listen(spec) });
          out.push({ ...spec, state: 'listening' });
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code ?? 'ERROR';
          const state = code === 'EADDRINUSE' ? 'in-use' : code === 'EACCES' ? 'denied' : 'error';
          out.push({ ...spec, state, detail: code });
        }
      }),
    );
    out.sort((a, b) => a.binding.localeCompare(b.binding) || a.port - b.port || a.address.localeCompare(b.address));
    this.last = out;
    return out;
  }

  status(): ResponderInfo[] {
    return this.last;
  }

  async closeAll(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    this.last = [];
    await Promise.all(all.map((o) => o.listener.close()));
  }
}

/** The responders a plan asks this node for: every planned port on every address of the binding. */
export function wantedResponders(plan: { bindings: Record<string, { tcp: number[]; udp: number[] }> }, own: Record<string, string[]>): ResponderSpec[] {
  const out: ResponderSpec[] = [];
  for (const [binding, req] of Object.entries(plan.bindings)) {
    for (const address of own[binding] ?? []) {
      for (const port of req.tcp) out.push({ binding, address, proto: 'tcp', port });
      for (const port of req.udp) out.push({ binding, address, proto: 'udp', port });
    }
  }
  return out;
}
