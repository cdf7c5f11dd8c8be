// Delta rounds (pure): what an agent last sent toward each peer, so a round sends only the peers whose rows
// changed. A healthy 1,000-node fleet otherwise sends ~600,000 identical rows every 10 s for the aggregator to
// parse and fold again; unchanged peers travel as one index each (wire-packed.ts `same`) plus a tally of their
// rows for the metrics. Every peer is still sent whole at least every `refreshMs`, and whenever the link
// (re)connects, the plan changes or the aggregator asks (a `resend`): "unchanged" only ever refers to rows the
// aggregator took.
import type { TargetRow } from './contract/wire.js';

export interface DeltaOptions {
  /** A peer's rows go whole at least this often even when unchanged (bounds RTT drift within the tolerance). */
  refreshMs: number;
  /** An RTT figure counts as unchanged within this share of the one sent, or within `rttAbsMs`. */
  rttRelative: number;
  rttAbsMs: number;
}

export const defaultDelta: DeltaOptions = { refreshMs: 5 * 60_000, rttRelative: 0.2, rttAbsMs: 0.1 };

export interface DeltaSplit {
  /** Rows to send, per binding (every binding of the round is named, possibly with no rows). */
  changed: Record<string, TargetRow[]>;
  /** Per binding: the peers left out as unchanged, and their rows (for the tally). */
  same: Record<string, { peers: string[]; rows: TargetRow[] }>;
}

interface Sent {
  rows: TargetRow[];
  at: number;
}

export class RowMemory {
  private readonly sent = new Map<string, Map<string, Sent>>();

  constructor(private readonly opts: DeltaOptions = defaultDelta) {}

  /** Forget everything: the next round goes whole (a new connection, a new plan). */
  clear(): void {
    this.sent.clear();
  }

  /** Forget these peers on every binding: their next rows go whole. */
  forget(peers: Iterable<string>): void {
    for (const p of peers) for (const m of this.sent.values()) m.delete(p);
  }

  /** Remembers rows sent whole (a catch-up, a re-sent round), without splitting them. */
  remember(rows: Record<string, TargetRow[]>, now: number): void {
    for (const [b, list] of Object.entries(rows)) for (const [peer, group] of byPeer(list)) this.binding(b).set(peer, { rows: group, at: now });
  }

  /** Splits a round: peers whose rows equal what was last sent (within the RTT tolerance) become `same`. */
  split(rows: Record<string, TargetRow[]>, now: number): DeltaSplit {
    const out: DeltaSplit = { changed: {}, same: {} };
    for (const [b, list] of Object.entries(rows)) {
      const mem = this.binding(b);
      const changed: TargetRow[] = [];
      out.changed[b] = changed;
      for (const [peer, group] of byPeer(list)) {
        const prev = mem.get(peer);
        if (prev && now - prev.at < this.opts.refreshMs && this.sameRows(prev.rows, group)) {
          const s = (out.same[b] ??= { peers: [], rows: [] });
          s.peers.push(peer);
          s.rows.push(...group);
        } else {
          mem.set(peer, { rows: group, at: now });
          changed.push(...group);
        }
      }
    }
    return out;
  }

  private binding(b: string): Map<string, Sent> {
    let m = this.sent.get(b);
    if (!m) this.sent.set(b, (m = new Map()));
    return m;
  }

  private sameRows(a: readonly TargetRow[], b: readonly TargetRow[]): boolean {
    if (a.length !== b.length) return false;
    for (const r of b) {
      const q = a.find((x) => x.addr === r.addr);
      if (!q || !this.sameRow(q, r)) return false;
    }
    return true;
  }

  /** Everything equal but RTT figures, which may move within the tolerance; a bandwidth sample is always news. */
  private sameRow(a: TargetRow, b: TargetRow): boolean {
    if (b.bandwidth) return false;
    if (!sameOutcomes(a.tcp, b.tcp) || !sameOutcomes(a.udp, b.udp)) return false;
    if (a.mtu?.size !== b.mtu?.size || a.mtu?.outcome !== b.mtu?.outcome) return false;
    const x = a.icmp;
    const y = b.icmp;
    if (!x || !y) return x === y;
    if (x.sent !== y.sent || x.recv !== y.recv || x.outcome !== y.outcome) return false;
    if (!x.rtt || !y.rtt) return x.rtt === y.rtt;
    const { rttRelative, rttAbsMs } = this.opts;
    for (let i = 0; i < 5; i++) {
      const d = Math.abs(x.rtt[i]! - y.rtt[i]!);
      if (d > rttAbsMs && d > rttRelative * x.rtt[i]!) return false;
    }
    return true;
  }
}

function sameOutcomes(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  if (!a || !b) return a === b || Object.keys(a ?? b ?? {}).length === 0;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k]) return false;
  return true;
}

function byPeer(list: readonly TargetRow[]): Map<string, TargetRow[]> {
  const m = new Map<string, TargetRow[]>();
  for (const r of list) {
    const g = m.get(r.peer);
    if (g) g.push(r);
    else m.set(r.peer, [r]);
  }
  return m;
}
