// Which expected nodes are connected, reporting, stale or missing. Pure bookkeeping: times are passed in.
import type { HelloMsg } from '../agent/contract/wire.js';

/**
 * reporting: rounds arrive. stale: connected, but nothing at all (no heartbeat, no round) for a while: the
 * process or its machine is stuck (a SIGSTOPped agent looks like this). stalled: heartbeats arrive but no
 * rounds: the agent lives, its probing does not. missing: not connected.
 */
export type NodeState = 'reporting' | 'missing' | 'stale' | 'stalled';

export interface NodeRecord {
  name: string;
  expected: boolean;
  connected: boolean;
  /** The last hello, with only the responders that could not listen (state.ts keeps the rest as `respondersKey`). */
  hello?: HelloMsg;
  /** The last hello's responders as JSON: a hello with other responders re-announces the node. */
  respondersKey?: string;
  /** When this agent's responders were last (re)announced: rounds that started before are not held against it. */
  readyAt: number;
  lastSeenAt: number;
  lastResultsAt: number;
  /** How long this node's last round took: a big fleet's rounds may outlast the interval without being stuck. */
  lastDurationMs: number;
  /** Since when the agent has been away (the aggregator's start for one never seen); 0 while connected. */
  missingSince: number;
  fullRounds: number;
  /** The agent's number of its last complete full round (its final message in); -1 before one. */
  lastRound: number;
  clock?: { offsetMs: number; rttMs: number };
}

export class NodeTable {
  private readonly records = new Map<string, NodeRecord>();

  constructor(
    expected: readonly string[],
    /** A connected node with no message for this long is stale. */
    private readonly staleAfterMs: number,
    startedAt = 0,
  ) {
    for (const n of expected) this.records.set(n, blank(n, true, startedAt));
  }

  /** Live inventory: carries a record (its connection, rounds, clock) over from the table before a reload. */
  adopt(r: NodeRecord): void {
    const mine = this.records.get(r.name);
    if (mine) this.records.set(r.name, { ...r, expected: mine.expected });
    this.epoch++;
  }

  get(name: string): NodeRecord | undefined {
    return this.records.get(name);
  }

  all(): NodeRecord[] {
    return [...this.records.values()];
  }

  /** Bumped whenever an agent connects or goes: `upOf`'s answers hold until it moves. */
  private epoch = 0;
  /** The last few lists asked about (agents index into one of the last three peer sets offered). */
  private ups: { peers: readonly string[]; epoch: number; up: Uint8Array }[] = [];
  /**
   * Which of `peers` have their agent connected (1) or not (0), by position. A peer set's list is shared by every
   * results message that indexes into it, so this is worked out once until an agent connects or goes, not looked up
   * by name for each row (the metrics tally). A list named in one message only is worked out for it alone.
   */
  upOf(peers: readonly string[]): Uint8Array {
    const c = this.ups.find((x) => x.peers === peers);
    if (c?.epoch === this.epoch) return c.up;
    const up = new Uint8Array(peers.length);
    for (let i = 0; i < peers.length; i++) up[i] = this.records.get(peers[i]!)?.connected ? 1 : 0;
    this.ups = [{ peers, epoch: this.epoch, up }, ...this.ups.filter((x) => x !== c).slice(0, 3)];
    return up;
  }

  /**
   * `announced`: the agent (re)started or its responders changed, so what peers measured toward it before
   * no longer counts. A hello that only adds DNS results or interface facts keeps the ready time: resetting
   * it would throw away catch-up rows already asked for (the first verdict then waited a whole round).
   */
  connected(name: string, hello: HelloMsg, now: number, announced = true): NodeRecord {
    const r = this.records.get(name) ?? blank(name, false, now);
    this.records.set(name, r);
    if (!r.connected) this.epoch++;
    r.connected = true;
    r.hello = hello;
    if (announced || !r.readyAt) r.readyAt = now;
    r.missingSince = 0;
    r.lastSeenAt = now;
    return r;
  }

  disconnected(name: string, now: number): void {
    const r = this.records.get(name);
    if (!r) return;
    r.missingSince = now;
    if (r.connected) this.epoch++;
    r.connected = false;
    r.fullRounds = 0;
  }

  state(r: NodeRecord, now: number): NodeState {
    if (!r.connected) return 'missing';
    if (now - r.lastSeenAt > this.staleAfterMs) return 'stale';
    if (r.fullRounds > 0 && now - r.lastResultsAt > Math.max(this.staleAfterMs, 3 * r.lastDurationMs)) return 'stalled';
    return 'reporting';
  }

  /**
   * Until when `state()` and `missingTooLong()` of this record stay as they are at `now` with nothing but the
   * clock moving (they change once the clock passes it; Infinity: never). A view built at `now` holds until then.
   */
  validUntil(r: NodeRecord, now: number): number {
    const upTo = (t: number) => (t >= now ? t : Number.POSITIVE_INFINITY);
    if (!r.connected) return upTo(r.missingSince + Math.max(this.staleAfterMs, 10_000));
    const stale = upTo(r.lastSeenAt + this.staleAfterMs);
    if (r.fullRounds === 0) return stale;
    return Math.min(stale, upTo(r.lastResultsAt + Math.max(this.staleAfterMs, 3 * r.lastDurationMs)));
  }

  /** An agent away this long is a fault, no longer a start-up that the verdict waits for. */
  missingTooLong(r: NodeRecord, now: number): boolean {
    return !r.connected && now - r.missingSince > Math.max(this.staleAfterMs, 10_000);
  }
}

function blank(name: string, expected: boolean, missingSince: number): NodeRecord {
  return { name, expected, connected: false, readyAt: 0, lastSeenAt: 0, lastResultsAt: 0, lastDurationMs: 0, missingSince, fullRounds: 0, lastRound: -1 };
}
