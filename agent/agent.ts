// The agent: takes the plan the aggregator sends, opens responders, probes in jittered rounds and streams
// per-round summaries. One writer (this object) owns the current state that is re-sent on reconnect.
// size: that one writer is the point: its state (plan, responders, rounds, what is re-sent) stays in one class.
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import type { Inventory, InventoryNode } from './contract/inventory.js';
import { checkDns } from './dns-check.js';
import { findInterfaces } from './interfaces.js';
import { Link } from './link.js';
import { BandwidthSampler } from './bandwidth.js';
import { LinkWatch } from './link-watch.js';
import type { UdpKeyRef } from './probes/udp.js';
import { listenTcp, listenUdpEcho, Responders, wantedResponders } from './responders.js';
import { splitResponders } from './contract/listening.js';
import { resultsMessages, type RoundOut } from './results-msg.js';
import { PeerOffer } from './peer-offer.js';
import { RowMemory } from './delta.js';
import { runRound, type RoundProbes } from './round.js';
import { RttHistory } from './stats.js';
import { AGENT_VERSION } from './contract/version.js';
import {
  WIRE_VERSION,
  type DnsCheck,
  type HelloMsg,
  type InterfaceInfo,
  type PeerSpec,
  type ProbePlan,
  type ResultsMsg,
  type TargetRow,
} from './contract/wire.js';

/**
 * Targets probed at once. Each target is a short sequence (echoes 20 ms apart, then the TCP connects), so a
 * round takes about (targets / concurrency) such sequences back to back; 256 covers a 50-node x 3-binding
 * round in one go. What is on the wire at once is bounded anyway: by the ICMP engine's window, and for TCP
 * by a few ports per target.
 */
export const DEFAULT_CONCURRENCY = 256;
/**
 * How long the hello that says the responders are open may wait for DNS answers and link facts: a healthy
 * resolver and /sys answer in ms, but spawning lldpcli on a loaded machine can take a few hundred.
 */
const HELLO_WAIT_MS = 1000;

export type Log = (level: 'info' | 'warn' | 'error', msg: string) => void;

export interface AgentOptions {
  inventory: Inventory;
  node: string;
  url: string;
  /** This node's credential (agent/credential.ts): the aggregator accepts this agent for this node only. */
  credential: string;
  /** CA certificate(s) the aggregator's TLS certificate must chain to (wss:// URLs). */
  ca?: Buffer;
  /** Where the UDP echo key goes when the welcome brings it; give the same object to the probes. */
  udpKey?: UdpKeyRef;
  probes: RoundProbes;
  /** permessage-deflate on the link (default off: see Link's `compression`). */
  compression?: boolean;
  icmp: { state: 'available' | 'not-measured'; detail?: string };
  log: Log;
  concurrency?: number;
  responders?: Responders;
  /** false: probe only, answer on no port (the charm's stop-responders, before OpenStack takes them). */
  respondersOn?: boolean;
  /** Resolver for the DNS checks (HOST:PORT) instead of the system's. */
  dnsServer?: string;
  /** Rows per results message; a round larger than this is split. */
  batchRows?: number;
  /** lldpd's control socket (`pinger agent --lldp-socket`), and /sys + /proc's root (tests). */
  lldpSocket?: string;
  sysRoot?: string;
}

export class Agent {
  /** This node and its peers: replaced by a live inventory change (SIGHUP, or the aggregator's push). */
  self: InventoryNode;
  private inventory: Inventory;
  private readonly link: Link;
  /** The bandwidth sample: sinks on this node's addresses, samples to peers in this node's slots. */
  private readonly bandwidth: BandwidthSampler;
  private readonly responders: Responders;
  private plan: ProbePlan | undefined;
  private hello: HelloMsg;
  /** The last full round, whole: what a reconnect re-sends (built then, not every round). */
  private lastRound: RoundOut | undefined;
  /** What was last sent toward each peer: a round sends only the peers whose rows changed (delta.ts). */
  private readonly memory = new RowMemory();
  /** The peer set the aggregator offered on this connection: rounds name peers by index into it. */
  private readonly offer = new PeerOffer();
  private round = 0;
  private running = false;
  private stopped = false;
  private wake: (() => void) | undefined;
  private runAgain = false;
  private abort = new AbortController();
  /** Each target's recent echo RTTs: the window p50/p99 are taken over (stats.ts). */
  private readonly rttHistory = new RttHistory();
  private respondersOn = true;
  /** The peers that were up when we joined (welcome.up): the first round probes only them. */
  private firstRoundOnly: ReadonlySet<string> | undefined;

  constructor(private readonly opts: AgentOptions) {
    const self = opts.inventory.nodes.find((n) => n.name === opts.node);
    if (!self) throw new Error(`node ${JSON.stringify(opts.node)} is not in the inventory`);
    this.self = self;
    this.inventory = opts.inventory;
    // Every in-flight probe listens on the one stop signal; thousands at once is expected, not a leak.
    setMaxListeners(0, this.abort.signal);
    const udpKey = opts.udpKey ?? {};
    this.responders = opts.responders ?? new Responders({ tcp: listenTcp, udp: listenUdpEcho(udpKey) });
    this.respondersOn = opts.respondersOn ?? true;
    this.bandwidth = new BandwidthSampler({ self, nodes: opts.inventory.nodes, log: (l, m) => opts.log(l, m) });
    this.links = new LinkWatch({ ...(opts.lldpSocket ? { lldpSocket: opts.lldpSocket } : {}), ...(opts.sysRoot ? { root: opts.sysRoot } : {}) });
    this.interfaces = findInterfaces(self.addresses, this.lastHeld);
    this.hello = this.makeHello();
    this.link = new Link({
      url: opts.url,
      credential: opts.credential,
      ...(opts.ca ? { ca: opts.ca } : {}),
      node: opts.node,
      log: opts.log,
      ...(opts.compression ? { compression: true } : {}),
      currentState: () => [this.hello, ...(this.lastRound ? resultsMessages(this.lastRound, this.opts.batchRows ?? 5000) : [])],
    });
    // A new connection may be a new aggregator, a new plan may mean new probes: "unchanged" would refer to
    // rows it never took. A resend names peers it holds nothing current for.
    this.link.on('connected', () => {
      this.memory.clear();
      this.offer.clear();
    });
    this.link.on('resend', (peers) => this.memory.forget(peers));
    this.link.on('udp-key', (key) => (udpKey.current = key));
    this.link.on('plan', (plan, up, peers, peerSet) => {
      // Only this process's very first round is trimmed: after a reconnect the peers' state is unknown.
      if (up && !this.plan && this.round === 0) this.firstRoundOnly = new Set(up);
      if (peers) this.adoptPeers(peers, 'the aggregator');
      this.offer.offer(peerSet);
      this.memory.clear();
      void this.applyPlan(plan);
    });
    this.link.on('run-now', (peers, at) => (peers ? this.catchUp(peers, at) : this.runSoon()));
  }

  /**
   * Live inventory: a new peer set (the aggregator's push, or this node's inventory file re-read on SIGHUP).
   * Peers are probed from the next round on; if this node's own addresses changed, its responders move and
   * it says hello again and probes a round at once. Returns false (nothing changed) when it does not list us.
   */
  setInventory(inv: Inventory, from = 'the inventory file'): boolean {
    const self = inv.nodes.find((n) => n.name === this.opts.node);
    if (!self) {
      this.opts.log('warn', `${from} no longer lists ${this.opts.node}; keeping the peer set we had`);
      return false;
    }
    const moved = JSON.stringify(self.addresses) !== JSON.stringify(this.self.addresses);
    const before = this.inventory.nodes.length;
    this.inventory = inv;
    this.self = self;
    this.opts.log('info', `peer set from ${from}: ${inv.nodes.length} nodes (was ${before})${moved ? "; this node's addresses changed" : ''}`);
    if (moved && this.plan) {
      void this.applyPlan(this.plan);
      this.runSoon();
    } else if (moved) this.hello = this.makeHello();
    return true;
  }

  private adoptPeers(peers: PeerSpec[], from: string): void {
    // Applied before the plan that came with them, so the plan's responders are opened on the new addresses.
    const nodes = peers.map((p) => ({ name: p.name, ...(p.hostname ? { hostname: p.hostname } : {}), addresses: p.addresses }));
    const bindings = [...new Set(nodes.flatMap((n) => Object.keys(n.addresses)))].sort();
    const same =
      JSON.stringify(nodes) ===
      JSON.stringify(this.inventory.nodes.map((n) => ({ name: n.name, ...(n.hostname ? { hostname: n.hostname } : {}), addresses: n.addresses })));
    if (same) return;
    const self = nodes.find((n) => n.name === this.opts.node);
    if (!self) return void this.opts.log('warn', `${from} no longer lists ${this.opts.node}`);
    const moved = JSON.stringify(self.addresses) !== JSON.stringify(this.self.addresses);
    this.inventory = { bindings, spaces: this.inventory.spaces, nodes };
    this.self = self;
    this.opts.log('info', `peer set from ${from}: ${nodes.length} nodes${moved ? "; this node's addresses changed" : ''}`);
    if (moved) this.runSoon();
  }

  start(): void {
    const missing = this.hello.interfaces.filter((i) => i.iface === null);
    for (const m of missing) this.opts.log('warn', `PINGER_ERR_AGENT_NO_ADDRESS: binding ${m.binding}: no local interface holds ${m.address}`);
    if (this.opts.icmp.state === 'not-measured') {
      this.opts.log('warn', `ICMP not measured: ${this.opts.icmp.detail ?? 'no CAP_NET_RAW'}; TCP checks go on`);
    }
    this.link.start();
    // Between rounds too: a few small reads a second, so a repair is seen within a second, not a round.
    this.factsTimer = setInterval(() => this.stopped || this.refreshInterfaces(), 1000);
    this.factsTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.factsTimer);
    this.abort.abort();
    this.wake?.();
    await this.link.stop();
    await this.bandwidth.stop();
    await this.responders.closeAll();
  }

  /** Releases OpenStack's ports (before deploying it) or takes them back. */
  async setResponders(on: boolean): Promise<void> {
    this.respondersOn = on;
    if (this.plan) await this.applyPlan(this.plan);
  }

  /** Where each binding address was last seen (to tell a downed link from a removed address). */
  private readonly lastHeld = new Map<string, string>();
  private interfaces: InterfaceInfo[] = [];

  /**
   * Local facts (addresses, MTUs, links) are read again before every round and every second; the aggregator hears of a change
   * at once, so a repaired interface turns green within a round. Nothing is sent while nothing changed.
   */
  private refreshInterfaces(): void {
    const now = findInterfaces(this.self.addresses, this.lastHeld);
    if (JSON.stringify(now) === JSON.stringify(this.interfaces)) return;
    for (const i of now) {
      const was = this.interfaces.find((x) => x.binding === i.binding && x.address === i.address);
      if (was && (was.iface !== i.iface || was.mtu !== i.mtu || was.link !== i.link))
        this.opts.log(
          'info',
          `binding ${i.binding}: ${i.address} now on ${i.iface ?? 'no interface'}${i.mtu ? `, MTU ${i.mtu}` : ''}${i.link ? `, link ${i.link}` : ''}`,
        );
    }
    this.interfaces = now;
    this.hello = this.makeHello();
    this.link.send(this.hello);
    // Our own measurements from before the change are out of date too.
    if (this.plan) this.runSoon();
  }

  private factsTimer: NodeJS.Timeout | undefined;

  private makeHello(): HelloMsg {
    return {
      v: WIRE_VERSION,
      type: 'hello',
      node: this.opts.node,
      agentVersion: AGENT_VERSION,
      hostname: hostname(),
      icmp: this.opts.icmp.state,
      ...(this.opts.icmp.detail ? { icmpDetail: this.opts.icmp.detail } : {}),
      interfaces: this.interfaces,
      ...splitResponders(this.responders.status()),
      ...(this.dns ? { dns: this.dns } : {}),
      ...this.links.fields(),
    };
  }

  private readonly links: LinkWatch;
  /** Link facts and LLDP change rarely but matter when they do (a bond member down): read every round. */
  private async refreshLinks(): Promise<void> {
    try {
      if (!(await this.links.refresh(this.hello.interfaces)) || this.stopped) return;
      this.sayHello();
    } catch (err) {
      this.opts.log('warn', `link facts: ${(err as Error).message}`);
    }
  }

  private dns: DnsCheck[] | undefined;
  private dnsAt = 0;
  private dnsBusy = false;
  /** DNS records change rarely: look up when the plan asks, then every 5 minutes; never block a round. */
  private async refreshDns(): Promise<void> {
    if (this.dnsBusy || this.stopped || (this.dns && performance.now() - this.dnsAt < 300_000)) return;
    this.dnsBusy = true;
    try {
      const dns = await checkDns({
        addresses: this.self.addresses,
        hostname: this.self.hostname ?? hostname(),
        ...(this.opts.dnsServer ? { server: this.opts.dnsServer } : {}),
      });
      this.dnsAt = performance.now();
      const bad = dns.filter((d) => !d.ok).length;
      if (bad) this.opts.log('warn', `DNS: ${bad} of ${dns.length} forward/reverse checks disagree`);
      if (this.stopped) return;
      this.dns = dns;
      this.sayHello();
    } catch (err) {
      this.opts.log('warn', `DNS checks failed: ${(err as Error).message}`);
    } finally {
      this.dnsBusy = false;
    }
  }

  /** Hellos held back while a plan is applied: what comes meanwhile rides in the plan's hello. */
  private helloHeld = 0;
  private sayHello(): void {
    this.hello = this.makeHello();
    if (!this.helloHeld) this.link.send(this.hello);
  }

  private async applyPlan(plan: ProbePlan): Promise<void> {
    this.plan = plan;
    // DNS answers and link facts are read beside the responders opening and ride in the same hello when they come
    // within HELLO_WAIT_MS: 2 hellos an agent as a fleet starts, not 4 (BENCHMARKS.md, AFTER 7). Later ones send their own.
    this.helloHeld++;
    const extras = Promise.all([plan.dns ? this.refreshDns() : undefined, this.refreshLinks()]);
    try {
      const wanted = this.respondersOn ? wantedResponders(plan, this.self.addresses) : [];
      const status = await this.responders.sync(wanted);
      // The sinks follow the responders: off while OpenStack takes the ports.
      await this.bandwidth.apply(this.respondersOn ? plan : { ...plan, bandwidth: undefined });
      for (const r of status) {
        if (r.state !== 'listening') this.opts.log('warn', `responder ${r.proto} ${r.address}:${r.port} (${r.binding}): ${r.state} ${r.detail ?? ''}`);
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([extras, new Promise((r) => (timer = setTimeout(r, HELLO_WAIT_MS)))]);
      clearTimeout(timer);
    } finally {
      this.helloHeld--;
    }
    this.sayHello();
    if (!this.running) void this.loop();
  }

  /** A port that was taken may have been freed (the operator stopped a service): try again each round. */
  private async retryResponders(plan: ProbePlan): Promise<void> {
    const before = this.responders.status();
    if (!this.respondersOn || before.every((r) => r.state === 'listening')) return;
    const after = await this.responders.sync(wantedResponders(plan, this.self.addresses));
    if (JSON.stringify(after) === JSON.stringify(before)) return;
    for (const r of after)
      if (r.state === 'listening' && before.find((b) => b.port === r.port && b.address === r.address)?.state !== 'listening')
        this.opts.log('info', `responder ${r.proto} ${r.address}:${r.port} (${r.binding}) now listening`);
    this.hello = this.makeHello();
    this.link.send(this.hello);
  }

  private catchUpPeers = new Set<string>();
  /** The latest request time among the run-nows behind catchUpPeers (aggregator clock). */
  private catchUpAt: number | undefined;
  private catchingUp = false;

  /**
   * Peers just came up: probe only them, now, beside the regular rounds. A full round for every join would
   * make a fleet that starts together probe N times over; this costs one row per peer address instead.
   */
  private catchUp(peers: string[], at: number | undefined): void {
    for (const p of peers) if (p !== this.opts.node) this.catchUpPeers.add(p);
    if (at !== undefined) this.catchUpAt = Math.max(this.catchUpAt ?? at, at);
    if (!this.catchingUp && this.catchUpPeers.size) void this.catchUpLoop();
  }

  private async catchUpLoop(): Promise<void> {
    this.catchingUp = true;
    try {
      // Without a plan the first full round, still to come, covers everyone.
      while (!this.stopped && this.plan && this.catchUpPeers.size) {
        const only = this.catchUpPeers;
        const requestedAt = this.catchUpAt;
        this.catchUpPeers = new Set();
        this.catchUpAt = undefined;
        await this.probeAndPublish(this.plan, { only, catchUp: { requestedAt } });
      }
    } finally {
      this.catchingUp = false;
      this.catchUpPeers.clear();
      this.catchUpAt = undefined;
    }
  }

  private runSoon(): void {
    this.runAgain = true;
    this.wake?.();
  }

  private async loop(): Promise<void> {
    this.running = true;
    // A small random start offset: agents started together must not probe in lock-step.
    await this.pause(Math.random() * Math.min(500, (this.plan?.intervalMs ?? 1000) / 4));
    while (!this.stopped && this.plan) {
      const plan = this.plan;
      this.runAgain = false;
      await this.retryResponders(plan);
      this.refreshInterfaces();
      if (plan.dns) void this.refreshDns();
      void this.refreshLinks();
      // With a pinglist the first round probes its window like any other (a peer not up yet is covered on the
      // next sweep): trimming it to the peers up now would leave its pairs out for a whole sweep.
      const only = plan.pinglist ? undefined : this.firstRoundOnly;
      this.firstRoundOnly = undefined;
      await this.probeAndPublish(plan, only ? { only } : {});
      if (this.stopped) break;
      if (this.runAgain) continue;
      // ±20% jitter on the interval keeps agents from falling into step with each other.
      await this.pause(plan.intervalMs * (0.8 + Math.random() * 0.4));
    }
    this.running = false;
  }

  /**
   * One round (of every peer, or `only` those), or with `catchUp` a catch-up of `only` those peers; published
   * unless the agent stopped meanwhile.
   */
  private async probeAndPublish(plan: ProbePlan, opts: { only?: ReadonlySet<string>; catchUp?: { requestedAt?: number } }): Promise<void> {
    const { only, catchUp } = opts;
    const started = performance.now();
    const startedAt = Date.now();
    // The peer set this round probes: a push during the round changes this.inventory, not these rows.
    const peers = this.inventory.nodes;
    const rows = await runRound({
      self: this.self,
      peers,
      plan,
      probes: this.opts.probes,
      concurrency: this.opts.concurrency ?? DEFAULT_CONCURRENCY,
      signal: this.abort.signal,
      history: this.rttHistory,
      // A full round counts its window of the pinglist; a catch-up probes exactly the peers it names.
      ...(only ? { only } : { round: this.round }),
    });
    // Bandwidth samples ride on the next full round's rows toward the same address (one sample a pair at most).
    if (!catchUp)
      for (const [b, list] of Object.entries(rows)) {
        const got = this.bandwidth.take(b);
        if (got)
          for (const r of list) {
            const s = got.get(`${r.peer}\0${r.addr}`);
            if (s) r.bandwidth = s;
          }
      }
    if (!this.stopped) this.publish(rows, peers, performance.now() - started, startedAt, catchUp);
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((r) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        r();
      }
      this.wake = done;
    }).then(() => {
      this.wake = undefined;
    });
  }

  private publish(
    rows: Record<string, TargetRow[]>,
    peers: readonly InventoryNode[],
    durationMs: number,
    startedAt: number,
    catchUpOf: { requestedAt?: number } | undefined,
  ): void {
    const out: RoundOut = { node: this.opts.node, round: this.round, durationMs, startedAt, ...(catchUpOf ? { catchUp: catchUpOf } : {}), bindings: rows };
    const set = this.offer.setFor(peers);
    let msgs: ResultsMsg[];
    if (catchUpOf) {
      // A catch-up answers peers that just came up: whole rows, which later rounds may then call unchanged.
      this.memory.remember(rows, Date.now());
      msgs = resultsMessages(out, this.opts.batchRows ?? 5000, set);
    } else {
      const { changed, same } = this.memory.split(rows, Date.now());
      msgs = resultsMessages({ ...out, bindings: changed, same }, this.opts.batchRows ?? 5000, set);
      this.round++;
      // What a reconnect re-sends: the last full round, whole (a catch-up's rows are in the next one too).
      this.lastRound = out;
    }
    for (const m of msgs) this.link.send(m);
  }
}
