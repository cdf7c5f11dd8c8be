// Several "switches" for the lab, each its own namespace with a bridge per space and lldpd announcing a
// system name (sw-1, sw-2, ...) and, per port, a description naming the node cabled to it; switch 1 is the
// lab's own switch namespace and the others hang off it by one trunk veth per space. Every node runs its own
// lldpd (its own control socket, given to its agent with --lldp-socket). Build the lab with
// startAgents: false and agentArgs: (n) => switches.agentArgs(n), wire, then start the agents.
// Cleanup: lldpd processes by PID, the extra namespaces by exact name.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { start, type Started } from '../helpers/procs.js';
import type { Lab } from './lab.js';

function ip(args: string[], script: string): void {
  execFileSync('ip', [...args, '-batch', '-'], { input: script, stdio: ['pipe', 'ignore', 'pipe'] });
}

export class Switches {
  readonly namespaces: string[] = [];
  private readonly procs: Started[] = [];

  /** `of(node)`: the 1-based switch a node is cabled to. */
  constructor(
    private readonly lab: Lab,
    readonly count: number,
    readonly of: (node: string) => number,
  ) {
    // A test that dies half-way must not leave switches or lldpd behind (the lab's own hook covers the rest).
    process.once('exit', () => this.downSync());
  }

  nsOf(k: number): string {
    return k === 1 ? this.lab.switchNs : `${this.lab.prefix}-sw${k}`;
  }
  name(k: number): string {
    return `sw-${k}`;
  }
  socket(owner: string): string {
    return join(this.lab.dir, `lldpd-${owner}.sock`);
  }
  agentArgs(node: string): string[] {
    return ['--lldp-socket', this.socket(node)];
  }

  /** Moves the nodes' ports to their switches, trunks the switches, names the ports, starts every lldpd. */
  async wire(): Promise<void> {
    const lab = this.lab;
    for (let k = 2; k <= this.count; k++) {
      const ns = this.nsOf(k);
      this.namespaces.push(ns);
      execFileSync('ip', ['netns', 'add', ns]);
      const lines = ['link set lo up'];
      lab.spaces.forEach((s, j) => lines.push(`link add br${j + 1} type bridge`, `link set br${j + 1} mtu ${s.mtu}`, `link set br${j + 1} up`));
      ip(['-n', ns], lines.join('\n') + '\n');
      const sw1: string[] = [];
      const here: string[] = [];
      lab.spaces.forEach((s, j) => {
        sw1.push(
          `link add t${k}s${j + 1} mtu ${s.mtu} type veth peer name up${j + 1} mtu ${s.mtu} netns ${ns}`,
          `link set t${k}s${j + 1} master br${j + 1}`,
          `link set t${k}s${j + 1} up`,
        );
        here.push(`link set up${j + 1} master br${j + 1}`, `link set up${j + 1} up`);
      });
      for (const node of lab.nodes.filter((n) => this.of(n) === k)) {
        for (const s of lab.spaces) {
          const port = lab.names.port(node, s.name);
          sw1.push(`link set ${port} netns ${ns}`);
          here.push(`link set ${port} master ${lab.names.bridge(s.name)}`, `link set ${port} up`);
        }
      }
      ip(['-n', lab.switchNs], sw1.join('\n') + '\n');
      ip(['-n', ns], here.join('\n') + '\n');
    }
    // Each switch port described with the node cabled to it, as operators label them (magpie checks this).
    for (const node of lab.nodes)
      ip(
        ['-n', this.nsOf(this.of(node))],
        lab.spaces.map((s) => `link set ${lab.names.port(node, s.name)} alias "${node} ${lab.names.iface(s.name)}"`).join('\n') + '\n',
      );
    for (let k = 1; k <= this.count; k++) this.lldpd(this.nsOf(k), `sw${k}`, this.name(k));
    for (const node of lab.nodes) this.lldpd(lab.nodeNs(node), node, undefined);
  }

  private lldpd(ns: string, owner: string, hostname: string | undefined): void {
    const conf = join(this.lab.dir, `lldpd-${owner}.conf`);
    // Port ids as interface names (what switches send), a frame a second so a test need not wait 30 s.
    writeFileSync(conf, `${hostname ? `configure system hostname ${hostname}\n` : ''}configure lldp portidsubtype ifname\nconfigure lldp tx-interval 1\n`);
    this.procs.push(
      start('ip', ['netns', 'exec', ns, 'lldpd', '-d', '-u', this.socket(owner), '-p', join(this.lab.dir, `lldpd-${owner}.pid`), '-O', conf], {}),
    );
  }

  downSync(): void {
    for (const p of this.procs.splice(0)) {
      if (p.child.exitCode === null && p.child.signalCode === null && p.child.pid) {
        try {
          process.kill(p.child.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    for (const ns of this.namespaces.splice(0)) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // gone
      }
    }
  }

  /** Stops every lldpd (by PID) and deletes the extra switch namespaces (by name). Before lab.down(). */
  async down(): Promise<void> {
    await Promise.all(this.procs.splice(0).map((p) => p.stop('SIGTERM')));
    for (const ns of this.namespaces.splice(0)) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  }
}
