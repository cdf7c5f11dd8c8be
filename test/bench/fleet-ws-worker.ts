// One worker process of the fleet benchmark (test/bench/fleet-ws.ts): simulated agents, each the agent's
// own Link (hello on connect, clock exchange, heartbeats, reconnects, permessage-deflate) with its own node
// credential, sending what agent/agent.ts sends: the hello again once the plan's responders are "open" (with
// the DNS answers when the plan asks for them), a round every plan interval (resultsMessages(), the pinglist's window when the
// plan has one), and catch-ups for run-now. Only the probing is synthetic: every row is healthy.
// Talks to the parent over IPC; started by fleet-ws.ts only.
import type { Inventory, InventoryNode } from '../../agent/contract/inventory.js';
import type { AgentMessage, PeerSpec, ProbePlan, ResultsMsg } from '../../agent/contract/wire.js';
import { nodeCredential } from '../../agent/credential.js';
import { Link } from '../../agent/link.js';
import { resultsMessages, type RoundOut } from '../../agent/results-msg.js';
import { RowMemory } from '../../agent/delta.js';
import { PeerSet, type PeerSetNode } from '../../agent/contract/peer-set.js';
import { PeerOffer } from '../../agent/peer-offer.js';
import { fleetInventory, pinglistOf, RowTable, roundRows, simHello } from './fleet-lib.js';

export interface WorkerStart {
  type: 'start';
  url: string;
  secret: string;
  nodes: number;
  bindings: number;
  /** The nodes this worker simulates. */
  mine: string[];
  rounds: number;
  compression: boolean;
  delta: boolean;
  changing: number;
  /** The hello with responders open carries link facts (a bonded node's: fleet-lib.ts simLinks). */
  links: boolean;
  /**
   * The round period (ms): the profile's interval. The plan's `intervalMs` is not used for it: the aggregator
   * may stretch it with the fleet's size (N x 40 ms), and issue 16 measures the profile's period unstretched.
   */
  periodMs: number;
}

export type WorkerReport =
  | { type: 'sent'; node: string; round: number; at: number; lagMs: number; ok: boolean }
  | { type: 'close'; node: string; code: number; reason: string; at: number }
  | { type: 'planned'; node: string; at: number; intervalMs: number }
  | { type: 'catch-up'; node: string; at: number; peers: number }
  | { type: 'ready' };

const send = (m: WorkerReport) => process.send?.(m);
const table = new RowTable();
/** One peer set a node list, shared by this worker's agents (not 500 copies of its name and address maps). */
const sets = new WeakMap<readonly PeerSetNode[], PeerSet>();
function setOf(nodes: readonly PeerSetNode[]): PeerSet {
  let s = sets.get(nodes);
  if (!s) sets.set(nodes, (s = new PeerSet(nodes)));
  return s;
}

class SimAgent {
  private readonly link: Link;
  private plan: ProbePlan | undefined;
  private hello: AgentMessage;
  /** The last full round, whole: what a reconnect re-sends. */
  private lastRound: RoundOut | undefined;
  private readonly memory = new RowMemory();
  /** As the agent: indices only into the peer set the aggregator offered on this connection. */
  private readonly offer = new PeerOffer(setOf);
  private round = 0;
  private timer: NodeJS.Timeout | undefined;
  private firstOnly: ReadonlySet<string> | undefined;
  /** When round `round` is due (ms since the epoch): rounds keep their phase, interval after interval. */
  private due = 0;

  constructor(
    private self: InventoryNode,
    private inventory: Inventory,
    private readonly cfg: WorkerStart,
  ) {
    this.hello = simHello(self);
    this.link = new Link({
      url: cfg.url,
      node: self.name,
      credential: nodeCredential(cfg.secret, self.name),
      currentState: () => [this.hello, ...(this.lastRound ? resultsMessages(this.lastRound) : [])],
      log: () => undefined,
      compression: cfg.compression,
    });
    this.link.on('plan', (plan, up, peers, peerSet) => {
      this.onPlan(plan, up, peers);
      this.offer.offer(peerSet);
    });
    // As the agent: "unchanged" only refers to rows this connection's aggregator took under this plan.
    this.link.on('connected', () => {
      this.memory.clear();
      this.offer.clear();
    });
    this.link.on('resend', (peers) => this.memory.forget(peers));
    this.link.on('run-now', (peers, at) => (peers ? this.catchUp(peers, at) : this.fullRoundNow()));
    this.link.on('disconnected', (code, reason) => send({ type: 'close', node: self.name, code, reason, at: Date.now() }));
  }

  start(): void {
    this.link.start();
  }

  private set(): PeerSet | undefined {
    return this.offer.setFor(this.inventory.nodes);
  }

  stop(): Promise<void> {
    clearTimeout(this.timer);
    return this.link.stop();
  }

  private onPlan(plan: ProbePlan, up: string[] | undefined, peers: PeerSpec[] | undefined): void {
    if (up && !this.plan && this.round === 0) this.firstOnly = new Set(up);
    if (peers) {
      const nodes = peers.map((p) => ({ name: p.name, addresses: p.addresses }));
      this.inventory = { ...this.inventory, nodes };
      this.self = nodes.find((n) => n.name === this.self.name) ?? this.self;
    }
    const first = !this.plan;
    this.plan = plan;
    this.memory.clear();
    // As the agent: responders opened, hello again, with the DNS answers (lookups made meanwhile, 20-100 ms).
    const hello = () => {
      this.hello = simHello(this.self, this.plan, this.plan?.dns === true, this.cfg.links);
      this.link.send(this.hello);
    };
    if (plan.dns) setTimeout(hello, 20 + Math.random() * 80);
    else hello();
    if (first) {
      send({ type: 'planned', node: this.self.name, at: Date.now(), intervalMs: plan.intervalMs });
      // The agent's start offset: up to 500 ms (a quarter interval at most).
      this.due = Date.now() + Math.random() * Math.min(500, this.cfg.periodMs / 4);
      this.schedule();
    }
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (this.round >= this.cfg.rounds) return;
    this.timer = setTimeout(() => this.fullRound(), Math.max(0, this.due - Date.now()));
  }

  private fullRoundNow(): void {
    this.due = Date.now();
    this.schedule();
  }

  private fullRound(): void {
    const plan = this.plan!;
    const startedAt = Date.now();
    const lagMs = startedAt - this.due;
    // As the agent: with a pinglist the first round probes its window like any other, else only the peers up.
    const only = pinglistOf(plan) ? undefined : this.firstOnly;
    this.firstOnly = undefined;
    const t0 = performance.now();
    const rows = roundRows(table, plan, this.inventory.nodes, this.self, this.round, only, this.cfg.changing);
    const out: RoundOut = { node: this.self.name, round: this.round, durationMs: performance.now() - t0, startedAt, bindings: rows };
    let msgs: ResultsMsg[];
    if (this.cfg.delta) {
      const { changed, same } = this.memory.split(rows, Date.now());
      msgs = resultsMessages({ ...out, bindings: changed, same }, 5000, this.set());
    } else msgs = resultsMessages(out, 5000, this.set());
    this.lastRound = out;
    // Sent = the round's last message compressed and written to the socket, not just queued for it.
    const round = this.round;
    let ok = true;
    let left = msgs.length;
    const written = (err?: Error) => {
      if (err) ok = false;
      if (--left === 0) send({ type: 'sent', node: this.self.name, round, at: Date.now(), lagMs, ok });
    };
    for (const m of msgs) if (!this.link.send(m, written)) written(new Error('not connected'));
    this.round++;
    this.due += this.cfg.periodMs;
    this.schedule();
  }

  private catchUp(peers: string[], at: number | undefined): void {
    if (!this.plan) return; // the first round, still to come, covers everyone
    const only = new Set(peers.filter((p) => p !== this.self.name));
    if (!only.size) return;
    const startedAt = Date.now();
    const rows = roundRows(table, this.plan, this.inventory.nodes, this.self, this.round, only);
    const catchUp = at !== undefined ? { requestedAt: at } : {};
    if (this.cfg.delta) this.memory.remember(rows, Date.now());
    for (const m of resultsMessages(
      { node: this.self.name, round: this.round, durationMs: Date.now() - startedAt, startedAt, catchUp, bindings: rows },
      5000,
      this.set(),
    ))
      this.link.send(m);
    send({ type: 'catch-up', node: this.self.name, at: Date.now(), peers: only.size });
  }
}

let agents: SimAgent[] = [];
process.on('message', (m: WorkerStart | { type: 'stop' }) => {
  if (m.type === 'start') {
    const inv = fleetInventory(m.nodes, m.bindings);
    const byName = new Map(inv.nodes.map((n) => [n.name, n]));
    agents = m.mine.map((n) => new SimAgent(byName.get(n)!, inv, m));
    for (const a of agents) a.start();
  } else if (m.type === 'stop') {
    void Promise.all(agents.map((a) => a.stop())).then(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
// Loaded (tsx compiled us): the parent starts its clock when every worker is here.
send({ type: 'ready' });
