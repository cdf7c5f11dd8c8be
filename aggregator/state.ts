// The one writer of the aggregator's results: nodes, matrices, findings, verdict. No sockets here; the
// server feeds it decoded messages. Recomputing findings is throttled so a flood of results stays cheap.
import { EventEmitter } from 'node:events';
import type { Inventory } from '../agent/contract/inventory.js';
import type { HeartbeatMsg, HelloMsg, ProbePlan, ResultsMsg } from '../agent/contract/wire.js';
import { col, rowCount, strideOf } from '../agent/contract/wire-packed.js';
import { clockPasses, diagnose } from './diagnosis.js';
import { BandwidthTable } from './bandwidth-diagnosis.js';
import { Readiness } from './readiness.js';
import { CatchUps } from './catch-up.js';
import type { Finding } from './findings.js';
import { BindingMatrix } from './matrix.js';
import { NodeTable, type NodeRecord, type NodeState } from './nodes.js';
import { PeerSets } from './peer-sets.js';
import { icmpComparisonsFail, pairComparisons } from './conditions.js';
import { CoverageCache, totalCoverage } from './coverage.js';
import { pinglistFor, planFor, requirementFor, type Profile } from './profile.js';
import { buildReport, type MatrixDetail, type Report } from './report.js';
import { realClock, type StateClock } from './state-clock.js';
import { verdictOf, waitingReasons, type Verdict } from './verdict.js';
import { CLOCK_SHOWN_MS, newCounters, snapshotMaxAgeMs, type ReloadSummary, type Snapshot, type StateOptions } from './state-types.js';

export { realClock, type StateClock } from './state-clock.js';
export type { ReloadSummary, Snapshot, StateOptions } from './state-types.js';

export class AggregatorState extends EventEmitter {
  // Replaced as a whole by reload() (live inventory); readers take them fresh on every use.
  inventory!: Inventory;
  profile!: Profile;
  plan!: ProbePlan;
  /** The pinglist this fleet's size puts in force (profile `pinglist`), with K; undefined: every peer a round. */
  pinglist: ReturnType<typeof pinglistFor>;
  nodes!: NodeTable;
  matrices!: BindingMatrix[];
  /** The last bandwidth sample of each pair, kept until the pair is measured again. */
  readonly bandwidth = new BandwidthTable();
  private byBinding!: Map<string, BindingMatrix>;
  private readiness!: Readiness;
  /** Per matrix: does inventory node i hold an address on that binding (only those pairs are probed). */
  private members!: Map<BindingMatrix, (i: number) => boolean>;
  /** Reloads applied so far (0: the inventory the process started with). */
  generation = 0;
  readonly peerSets = new PeerSets();
  private readonly now: () => number;
  private readonly clock: StateClock;
  private snap: Snapshot | undefined;
  /** Counters for metrics and health. */
  readonly counters = newCounters();

  constructor(opts: StateOptions) {
    super();
    this.clock = opts.clock ?? realClock;
    this.now = opts.now ?? this.clock.now;
    // A crowd of joins under a pinglist is left to the rotation.
    this.catchUps = new CatchUps(this.clock, (peers) => {
      if (!this.pinglist || peers.length <= this.pinglist.perRound) this.emit('run-now', peers, this.now());
    });
    this.setup(opts.inventory, opts.profile);
    for (const n of this.inventory.nodes) this.syncReady(n.name);
  }

  private setup(inventory: Inventory, profile: Profile): void {
    this.inventory = inventory;
    this.profile = profile;
    this.plan = planFor(profile, inventory);
    this.pinglist = pinglistFor(profile, inventory.nodes.length);
    const names = this.peerSets.adopt(inventory.nodes).names; // shared with the matrices: resolved tables index them as they are
    // Stale after three missed intervals (plus the probe timeout): one slow round is not a fault.
    this.nodes = new NodeTable(names, 3 * this.plan.intervalMs + profile.timeoutMs, this.now());
    // Cells that pass the raw checks but fail a profile condition (an RTT bound) keep their rows for the
    // diagnosis. Only comparisons can fail on an 'ok' cell: a failed port already makes it not ok.
    this.matrices = inventory.bindings.map((b) => {
      const conds = pairComparisons(requirementFor(profile, b).conditions);
      return new BindingMatrix(b, names, conds.length ? (icmp) => icmpComparisonsFail(conds, icmp) : undefined);
    });
    this.byBinding = new Map(this.matrices.map((m) => [m.binding, m]));
    this.readiness = new Readiness(this.matrices);
    this.members = new Map(
      this.matrices.map((m) => {
        const has = Uint8Array.from(inventory.nodes, (n) => ((n.addresses[m.binding]?.length ?? 0) > 0 ? 1 : 0));
        return [m, (i: number) => has[i] === 1];
      }),
    );
  }

  /**
   * Live inventory: swaps in a new inventory and profile without a restart. Every node still listed keeps
   * its record (connection, rounds, clock); every pair whose two nodes kept their addresses on a binding whose
   * probes did not change keeps its cell as it was, current or not, so the verdict waits only for what
   * changed. Emits 'reload' (the agent route pushes the new plan and peer set, and drops removed nodes).
   */
  reload(inventory: Inventory, profile: Profile): ReloadSummary {
    const oldInv = this.inventory;
    const oldPlan = this.plan;
    const oldNodes = this.nodes;
    const oldMatrices = new Map(this.matrices.map((m) => [m.binding, m]));
    const before = new Map(oldInv.nodes.map((n) => [n.name, n]));
    const after = new Map(inventory.nodes.map((n) => [n.name, n]));
    this.setup(inventory, profile);
    this.generation++;
    for (const r of oldNodes.all()) if (after.has(r.name)) this.nodes.adopt(r);
    const same = (b: string, name: string) => JSON.stringify(before.get(name)?.addresses[b] ?? []) === JSON.stringify(after.get(name)?.addresses[b] ?? []);
    let kept = 0;
    for (const m of this.matrices) {
      const old = oldMatrices.get(m.binding);
      if (!old) continue;
      // A binding whose probes changed (ports, MTU) keeps what it showed, but none of it counts as current.
      const probesSame =
        JSON.stringify(oldPlan.bindings[m.binding]) === JSON.stringify(this.plan.bindings[m.binding]) && oldPlan.icmpCount === this.plan.icmpCount;
      kept += m.adopt(old, (from, to) => same(m.binding, from) && same(m.binding, to), probesSame);
    }
    const added = inventory.nodes.filter((n) => !before.has(n.name)).map((n) => n.name);
    const removed = oldInv.nodes.filter((n) => !after.has(n.name)).map((n) => n.name);
    const changed = inventory.nodes
      .filter((n) => before.has(n.name) && JSON.stringify(before.get(n.name)!.addresses) !== JSON.stringify(n.addresses))
      .map((n) => n.name);
    for (const n of removed) this.awaitingPlan.delete(n);
    for (const n of inventory.nodes) this.syncReady(n.name);
    this.snap = undefined;
    const summary: ReloadSummary = {
      generation: this.generation,
      nodes: inventory.nodes.length,
      added,
      removed,
      changed,
      keptPairs: kept,
      profile: profile.name,
    };
    this.emit('reload', summary);
    // Peers whose addresses changed (or that are new and already connected) are probed now, not next round.
    const now = [...changed, ...added].filter((n) => this.nodes.get(n)?.connected);
    if (now.length) this.emit('run-now', now, this.now());
    this.changed();
    return summary;
  }

  /** Nodes whose agents are connected with their responders open (for a joining agent's first round). */
  upNodes(except?: string): string[] {
    return this.nodes
      .all()
      .filter((r) => r.connected && r.name !== except && !this.awaitingPlan.has(r.name))
      .map((r) => r.name);
  }

  isExpected(node: string): boolean {
    return this.nodes.get(node)?.expected === true;
  }

  /** Nodes whose agent said hello before it had the plan (no responders yet): their next hello opens them. */
  private readonly awaitingPlan = new Set<string>();

  /** Since when `node`'s responders count (rows of rounds begun before are set aside); a pinglist counts only those up. */
  private syncReady(node: string): void {
    const r = this.nodes.get(node);
    this.readiness.set(node, !this.pinglist ? (r?.readyAt ?? 0) : r?.connected && !this.awaitingPlan.has(node) ? r.readyAt : Number.POSITIVE_INFINITY);
  }

  hello(msg: HelloMsg): void {
    this.counters.hellos++;
    const prev = this.nodes.get(msg.node);
    const first = !prev?.connected;
    const planned = this.awaitingPlan.delete(msg.node);
    // The responders are compared whole (a change re-announces the node) but kept as that one string plus those that
    // could not listen (all findings and the report read): not ~120 objects a node, 120,000 at 1,000 for the GC to trace.
    const respondersKey = msg.listening ? JSON.stringify([msg.responders, msg.listening]) : JSON.stringify(msg.responders);
    const announced = first || planned || prev?.respondersKey !== respondersKey;
    // Its interfaces changed (an MTU set, an address removed or put back): what peers measured toward it is
    // out of date; have them look again now rather than at their next round, so a repair shows within seconds.
    const refacts = !announced && JSON.stringify(prev?.hello?.interfaces) !== JSON.stringify(msg.interfaces);
    const { listening, ...rest } = msg;
    const kept: HelloMsg = { ...rest, responders: msg.responders.filter((x) => x.state !== 'listening') };
    this.nodes.connected(msg.node, kept, this.now(), announced).respondersKey = respondersKey;
    this.emit('hello', msg.node, kept);
    if (refacts) this.catchUps.add(msg.node);
    if (first) this.emit('node', msg.node, 'connected');
    if (announced) {
      // A peer came up (or its responders changed): what the others measured toward it is from before, so
      // the verdict waits for new measurements, and everyone probes it now instead of waiting out their
      // interval: the verdict follows the last agent's start within about one probe timeout.
      for (const m of this.matrices) m.expireColumn(msg.node);
      // A fresh agent's first hello comes before it has the plan, so before its responders listen: probing it
      // then finds every port refused and costs the whole fleet a probe for nothing. The agent says hello
      // again once its responders are open (it always does after applying a plan); ask for the catch-up then.
      // A pinglist fleet starting (not covered once yet) gets no catch-up: N^2 probes at once; the rotation covers it.
      if (first && msg.responders.length === 0 && !listening?.length) this.awaitingPlan.add(msg.node);
      else if (!this.pinglist || this.coveredOnce) this.catchUps.add(msg.node);
    }
    this.syncReady(msg.node);
    this.changed();
  }

  results(msg: ResultsMsg): void {
    const now = this.now();
    const r = this.nodes.get(msg.node);
    if (!r || !r.connected) return;
    this.counters.results++;
    if (msg.peerSet !== undefined) this.counters.resultsIndexed++;
    const catchUp = msg.catchUp === true;
    // Metrics tally probe outcomes and RTTs per binding from here: counters need every round, not just the latest.
    this.emit('results', msg);
    // Receive time - duration is the latest the round can have begun (delivery only adds delay); a message
    // that waited in a busy agent or aggregator looks younger than it is. The agent's own start time, moved
    // to our clock with its measured offset, is exact to half the clock exchange's RTT: take the earlier.
    let roundStart = now - msg.durationMs;
    if (msg.startedAt !== undefined && r.clock) roundStart = Math.min(roundStart, msg.startedAt - r.clock.offsetMs);
    // A catch-up began after the run-now it answers was sent: that bound needs no clock offset, whose estimate
    // is rough while the agent's machine is busy (a starved clock exchange has a long round trip).
    if (catchUp && msg.requestedAt !== undefined && msg.requestedAt <= now) roundStart = Math.max(roundStart, msg.requestedAt);
    // Peers whose rows were set aside or whose "unchanged" had nothing to refer to: the agent sends them whole next time.
    const resend = new Set<string>();
    for (const [binding, table] of Object.entries(msg.bindings)) {
      this.counters.rows += rowCount(table);
      this.counters.unchanged += table.same?.length ?? 0;
      const m = this.byBinding.get(binding);
      if (!m) continue;
      const ready = this.readiness.of(m);
      this.counters.unknownPeers += m.apply(msg.node, table, roundStart, ready, resend).length;
      if (table.same) m.applySame(msg.node, table, roundStart, ready, resend);
      const bw = table.bw;
      if (!bw) continue;
      const stride = strideOf(table);
      for (let k = 0; k < bw.length; k += 3) {
        const peer = table.peers[table.rows[bw[k]! * stride + col.peer]!]!;
        if (this.nodes.get(peer)) this.bandwidth.record(binding, msg.node, peer, bw[k + 1]!, now);
      }
    }
    if (resend.size) this.emit('resend', msg.node, [...resend]);
    r.lastSeenAt = r.lastResultsAt = this.lastRowsAt = now;
    if (catchUp) {
      // A few peers' rows, not a round: the node's round count and round time are its full rounds'.
      this.changed();
      return;
    }
    r.lastDurationMs = msg.durationMs;
    if (msg.final) {
      r.fullRounds++;
      r.lastRound = msg.round;
    }
    this.changed();
  }

  /**
   * A heartbeat that only says the agent lives leaves findings and verdict as they are, so it does not make
   * the snapshot stale (200 a second at 1,000 nodes would rebuild it every time). It does when it moves the
   * node's state (stale -> reporting), its clock (by CLOCK_SHOWN_MS or more since the last such change, or across
   * the profile's clock bound), or when problem rows toward it may be held back until it is heard after their
   * round (the diagnosis's port filter).
   */
  heartbeat(msg: HeartbeatMsg): void {
    const r = this.nodes.get(msg.node);
    if (!r) return;
    const now = this.now();
    const before = this.nodes.state(r, now);
    const heldBack = r.lastSeenAt < this.lastRowsAt + 2000 && this.matrices.some((m) => m.detailCount > 0);
    r.lastSeenAt = now;
    let moved = false;
    if (msg.clock) {
      r.clock = msg.clock;
      const was = this.clockShown.get(msg.node);
      // A finding changes only when the clock crosses the profile's bound; the offset the report shows is kept to
      // CLOCK_SHOWN_MS (any rebuild shows the latest). A 1 ms bound made every clock exchange of a starting fleet
      // rebuild the snapshot between rounds.
      moved =
        !was ||
        Math.abs(was.offsetMs - msg.clock.offsetMs) + Math.abs(was.rttMs - msg.clock.rttMs) / 2 >= CLOCK_SHOWN_MS ||
        clockPasses(this.profile, was) !== clockPasses(this.profile, msg.clock);
      if (moved) this.clockShown.set(msg.node, msg.clock);
    }
    if (moved || heldBack || this.nodes.state(r, now) !== before) this.changed();
  }
  /** Receive time of the latest results message (any node). */
  private lastRowsAt = Number.NEGATIVE_INFINITY;
  /** Each node's clock as of the heartbeat that last made the snapshot stale. */
  private readonly clockShown = new Map<string, { offsetMs: number; rttMs: number }>();

  disconnected(node: string): void {
    this.awaitingPlan.delete(node);
    this.nodes.disconnected(node, this.now());
    this.syncReady(node);
    for (const m of this.matrices) m.clearRow(node);
    this.emit('node', node, 'disconnected');
    this.changed();
  }

  /** Marks the derived view dirty; listeners (live report, metrics) are told at most every 250 ms. */
  private pendingEmit: unknown;
  /** Bumped by everything that can change findings or verdict; the snapshot records the one it was built at. */
  private version = 0;
  private snapVersion = -1;
  /** The clock-driven end of the snapshot: the earliest time a node's state changes with no message. */
  private snapUntil = 0;
  changed(): void {
    this.version++;
    if (this.pendingEmit) return;
    this.pendingEmit = this.clock.setTimeout(() => {
      this.pendingEmit = undefined;
      this.emit('change');
    }, 250);
  }

  /**
   * Findings, verdict and node states, cached until something changes them: a message that bumps the version
   * (results, hello, disconnect, reload, a heartbeat that matters) or the clock passing a node's next deadline
   * (an agent going stale or missing too long). For large fleets a changed state is rebuilt at most every
   * `maxAgeMs` (~15 ms a rebuild at 1,000 x 6; the verdict's budget after a round's last message is 2 s), and
   * every 2 x `maxAgeMs` while agents still connect (~0.15 s less CPU while 1,000 agents connect: BENCHMARKS.md).
   */
  snapshot(maxAgeMs = snapshotMaxAgeMs(this.inventory.nodes.length)): Snapshot {
    const now = this.now();
    const s = this.snap;
    // While agents still connect the verdict is pending whatever else changes: twice the age (a fleet's start).
    const age = s?.waiting.connect.length ? 2 * maxAgeMs : maxAgeMs;
    if (s && now <= this.snapUntil && (this.snapVersion === this.version || now - s.at < age)) return s;
    this.snapVersion = this.version;
    this.reports.clear();
    const nodes = this.nodes.all().map((record) => ({ record, state: this.nodes.state(record, now), lastRound: record.lastRound }));
    this.snapUntil = nodes.reduce((t, n) => Math.min(t, this.nodes.validUntil(n.record, now)), Number.POSITIVE_INFINITY);
    const heldBack = new Set<string>();
    const findings = diagnose({
      heldBack,
      inventory: this.inventory,
      profile: this.profile,
      nodes: nodes.map((n) => ({
        name: n.record.name,
        state: n.state,
        expected: n.record.expected,
        ...(n.record.hello ? { hello: n.record.hello } : {}),
        ...(n.record.clock ? { clock: n.record.clock } : {}),
        // Not yet connected within the grace: the verdict waits for it ("waiting"), it is no finding yet.
        ...(n.state === 'missing' && n.record.expected && !this.nodes.missingTooLong(n.record, now) ? { starting: true } : {}),
        lastSeenAt: n.record.lastSeenAt,
      })),
      matrices: this.matrices,
      bandwidth: this.bandwidth,
    });
    // The verdict waits for agents that are starting up; one away for longer than the grace is a fault
    // (its agent-missing finding makes the verdict not-ready), or a dead node would leave it pending forever.
    const waiting = new Set(
      nodes
        .filter((n) => n.record.expected && !this.nodes.missingTooLong(n.record, now) && (n.state === 'missing' || n.record.fullRounds === 0))
        .map((n) => n.record.name),
    );
    // ... and for pairs not measured since their destination came up (the catch-up is on its way).
    const byName = new Map(nodes.map((n) => [n.record.name, n]));
    const inv = this.inventory.nodes.map((n) => byName.get(n.name)!);
    const src = (i: number) => inv[i]!.state === 'reporting' && inv[i]!.record.fullRounds > 0;
    const dst = (i: number) => inv[i]!.state === 'reporting'; // a stale agent is a finding, not worth waiting for
    if (!this.pinglist) for (const m of this.matrices) m.notCurrent(src, dst, this.members.get(m)!, waiting); // else coverage says it
    // Not ready on what is known, it waits for the next word of nodes whose failing ports were held back (a stale one is a finding).
    const heard = new Set([...heldBack].filter((n) => byName.get(n)?.state === 'reporting'));
    const coverage = new Map(this.matrices.map((m) => [m.binding, this.coverages.of(m, this.members.get(m)!)]));
    const waitingFor = waiting.size;
    const all = totalCoverage([...coverage.values()]).ratio;
    if (all === 1) this.coveredOnce = true;
    const verdict = verdictOf({ waitingFor, findings, holding: heard.size, ...(this.pinglist ? { coverage: all } : {}) });
    this.snap = { verdict, findings, nodes, waitingFor, waiting: waitingReasons(inv, waiting, heard), coverage, at: now };
    return this.snap;
  }

  private readonly coverages = new CoverageCache();
  private readonly reports = new Map<MatrixDetail, Report>();
  /** The report for the current snapshot; built once per snapshot and matrix detail, shared by every reader. */
  report(matrix: MatrixDetail = 'states'): Report {
    const s = this.snapshot();
    const cached = this.reports.get(matrix);
    if (cached) return cached;
    const r = buildReport({
      inventory: this.inventory,
      profile: this.profile.name,
      verdict: s.verdict,
      waiting: s.waiting,
      findings: s.findings,
      nodes: s.nodes,
      matrices: this.matrices,
      now: s.at,
      matrix,
      bandwidth: this.bandwidth,
      coverage: s.coverage,
      ...(this.pinglist ? { pinglist: this.pinglist } : {}),
    });
    this.reports.set(matrix, r);
    return r;
  }

  private coveredOnce = false; // every pair covered once: a pinglist fleet catches joins up from then on
  private catchUps!: CatchUps;

  /** Asks every connected agent for a fresh round now; returns how many agents are connected. */
  requestRound(): number {
    this.emit('run-now', undefined);
    return this.nodes.all().filter((r) => r.connected).length;
  }

  close(): void {
    if (this.pendingEmit) this.clock.clearTimeout(this.pendingEmit);
    this.catchUps.close();
  }
}
