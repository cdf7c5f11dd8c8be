// The lab's faults: what can go wrong on a real network, each as the commands that inject it and the
// commands that take it away again (so a running lab heals without restarting anything). Pure: the lab
// runs the steps. Parsed from `KIND:ARG:...` strings for the people's CLI.
//
// Faults that need a process (port-in-use: something else holds the port; agent-missing: no agent;
// agent-stopped: the agent is SIGSTOPped) carry no steps; the lab handles them.

export type Direction = 'in' | 'out';
export type Proto = 'icmp' | 'all';

export type Fault =
  | { kind: 'node-isolated'; node: string; space: string }
  | { kind: 'partition'; space: string; nodes: string[] }
  | { kind: 'asymmetric'; node: string; space: string; direction: Direction; proto: Proto }
  | { kind: 'port-filtered'; node: string; space: string; port: number }
  | { kind: 'port-refused'; node: string; space: string; port: number }
  | { kind: 'port-in-use'; node: string; space: string; port: number }
  | { kind: 'mtu-mismatch'; node: string; space: string; mtu: number }
  | { kind: 'udp-blocked'; node: string; space: string; port: number }
  | { kind: 'loss'; node: string; space: string; percent: number; proto: Proto }
  | { kind: 'ipv6-blocked'; node: string; space: string }
  | { kind: 'address-removed'; node: string; space: string; family: 'v4' | 'v6' }
  | { kind: 'agent-missing'; node: string }
  | { kind: 'agent-stopped'; node: string };

export type FaultKind = Fault['kind'];

/** One step: an `ip -batch` script or an nftables ruleset, run inside a namespace. */
export interface Step {
  ns: string;
  tool: 'ip' | 'nft';
  script: string;
}

export interface FaultPlan {
  apply: Step[];
  remove: Step[];
}

/** What a plan needs to know about the lab's names (lab.ts provides it). */
export interface LabNames {
  switchNs: string;
  nodeNs(node: string): string;
  /** The node's interface on a space, inside its namespace. */
  iface(space: string): string;
  /** The switch-side end of the node's veth on a space. */
  port(node: string, space: string): string;
  bridge(space: string): string;
  spaceMtu(space: string): number;
  /** The node's IPv6 addresses on a space with their prefix length ("2001:db8:1::3/64"). */
  v6(node: string, space: string): string[];
  /** The node's IPv4 addresses on a space with their prefix length ("198.18.1.3/24"). */
  v4(node: string, space: string): string[];
}

/** How faults are written on the command line; the kind's own name works too. */
export const faultSyntax: Record<FaultKind, string> = {
  'node-isolated': "node-isolated:NODE:SPACE            (alias isolate) the node's interface on SPACE is down",
  partition: 'partition:SPACE:NODE,NODE,...        these nodes move to a second bridge: SPACE is split in two',
  asymmetric: 'asymmetric:NODE:SPACE:in|out[:icmp|all]  NODE drops new inbound (in) or outbound (out) ICMP echoes (default) or all new traffic',
  'port-filtered': 'port-filtered:NODE:SPACE:PORT        NODE drops TCP to PORT',
  'port-refused': 'port-refused:NODE:SPACE:PORT         NODE answers TCP to PORT with RST',
  'port-in-use': "port-in-use:NODE:SPACE:PORT          another process holds PORT on NODE's address before its agent starts",
  'mtu-mismatch': "mtu-mismatch:NODE:SPACE[:MTU]        (alias mtu) NODE's interface on SPACE at MTU (default 1500)",
  'udp-blocked': 'udp-blocked:NODE:SPACE:PORT          NODE drops UDP to PORT',
  loss: 'loss:NODE:SPACE:PERCENT[:icmp|all]   NODE drops PERCENT % of inbound ICMP echoes (default) or of all inbound traffic',
  'ipv6-blocked': 'ipv6-blocked:NODE:SPACE             NODE drops all inbound IPv6 on SPACE (neighbour discovery still passes); IPv4 works',
  'address-removed': "address-removed:NODE:SPACE[:v4|v6]  NODE's address of that family (default v4) on SPACE is deleted",
  'agent-missing': "agent-missing:NODE                   NODE's agent is not running",
  'agent-stopped': "agent-stopped:NODE                   NODE's agent is frozen with SIGSTOP (SIGCONT when removed)",
};

const aliases: Record<string, FaultKind> = { isolate: 'node-isolated', mtu: 'mtu-mismatch' };

export class FaultSyntaxError extends Error {}

export function parseFault(text: string): Fault {
  const parts = text.split(':');
  const k = parts[0] ?? '';
  const kind = (aliases[k] ?? k) as FaultKind;
  if (!(kind in faultSyntax))
    throw new FaultSyntaxError(`fault ${JSON.stringify(text)}: unknown kind ${JSON.stringify(k)} (kinds: ${Object.keys(faultSyntax).join(', ')})`);
  const args = parts.slice(1);
  const usage = () => new FaultSyntaxError(`fault ${JSON.stringify(text)}: expected ${faultSyntax[kind].split(/\s{2,}/)[0]}`);
  const need = (min: number, max: number) => {
    if (args.length < min || args.length > max || args.slice(0, min).some((a) => a === '')) throw usage();
  };
  const num = (s: string, what: string, lo: number, hi: number) => {
    const n = Number(s);
    if (!/^\d+$/.test(s) || n < lo || n > hi)
      throw new FaultSyntaxError(`fault ${JSON.stringify(text)}: ${what} ${JSON.stringify(s)} is not an integer in ${lo}..${hi}`);
    return n;
  };
  const oneOf = <T extends string>(s: string | undefined, dflt: T, allowed: readonly T[], what: string): T => {
    if (s === undefined) return dflt;
    if (!(allowed as readonly string[]).includes(s))
      throw new FaultSyntaxError(`fault ${JSON.stringify(text)}: ${what} ${JSON.stringify(s)} is not one of ${allowed.join(', ')}`);
    return s as T;
  };
  const [a, b, c, d] = args as [string, string, string | undefined, string | undefined];
  switch (kind) {
    case 'node-isolated':
      need(2, 2);
      return { kind, node: a, space: b };
    case 'partition': {
      need(2, 2);
      const nodes = b.split(',').filter(Boolean);
      if (!nodes.length) throw usage();
      return { kind, space: a, nodes };
    }
    case 'asymmetric':
      need(3, 4);
      return {
        kind,
        node: a,
        space: b,
        direction: oneOf(c, 'in', ['in', 'out'] as const, 'direction'),
        proto: oneOf(d, 'icmp', ['icmp', 'all'] as const, 'proto'),
      };
    case 'port-filtered':
    case 'port-refused':
    case 'port-in-use':
    case 'udp-blocked':
      need(3, 3);
      return { kind, node: a, space: b, port: num(c!, 'port', 1, 65535) };
    case 'mtu-mismatch':
      need(2, 3);
      return { kind, node: a, space: b, mtu: c === undefined ? 1500 : num(c, 'MTU', 1280, 65535) };
    case 'loss':
      need(3, 4);
      return { kind, node: a, space: b, percent: num(c!, 'percent', 1, 100), proto: oneOf(d, 'icmp', ['icmp', 'all'] as const, 'proto') };
    case 'ipv6-blocked':
      need(2, 2);
      return { kind, node: a, space: b };
    case 'address-removed':
      need(2, 3);
      return { kind, node: a, space: b, family: oneOf(c, 'v4', ['v4', 'v6'] as const, 'family') };
    case 'agent-missing':
    case 'agent-stopped':
      need(1, 1);
      return { kind, node: a };
  }
}

/** A short stable text for a fault (log lines, nft table names are derived from the lab's counter). */
export function faultLabel(f: Fault): string {
  switch (f.kind) {
    case 'partition':
      return `partition:${f.space}:${f.nodes.join(',')}`;
    case 'agent-missing':
    case 'agent-stopped':
      return `${f.kind}:${f.node}`;
    case 'ipv6-blocked':
      return `ipv6-blocked:${f.node}:${f.space}`;
    case 'address-removed':
      return `address-removed:${f.node}:${f.space}:${f.family}`;
    case 'asymmetric':
      return `asymmetric:${f.node}:${f.space}:${f.direction}:${f.proto}`;
    case 'mtu-mismatch':
      return `mtu-mismatch:${f.node}:${f.space}:${f.mtu}`;
    case 'loss':
      return `loss:${f.node}:${f.space}:${f.percent}:${f.proto}`;
    case 'node-isolated':
      return `node-isolated:${f.node}:${f.space}`;
    default:
      return `${f.kind}:${f.node}:${f.space}:${f.port}`;
  }
}

// NDP is ICMPv6: rules that drop "all" traffic must let it through, or IPv6 breaks for the whole node
// (a different fault than the one asked for). ARP is not seen by the inet family at all.
const keepNdp = 'icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert } accept';

function nftTable(table: string, hook: 'input' | 'output', rules: string[]): string {
  return [
    `table inet ${table} {`,
    `  chain c {`,
    `    type filter hook ${hook} priority 0; policy accept;`,
    ...rules.map((r) => `    ${r}`),
    '  }',
    '}',
    '',
  ].join('\n');
}

/**
 * The steps for a fault. `table` names the nftables table this fault owns (unique per injected fault),
 * so removing it deletes exactly its rules and nobody else's.
 */
export function planFault(f: Fault, n: LabNames, table: string): FaultPlan {
  const nft = (node: string, hook: 'input' | 'output', rules: string[]): FaultPlan => ({
    apply: [{ ns: n.nodeNs(node), tool: 'nft', script: nftTable(table, hook, rules) }],
    remove: [{ ns: n.nodeNs(node), tool: 'nft', script: `delete table inet ${table}\n` }],
  });
  switch (f.kind) {
    case 'node-isolated': {
      const i = n.iface(f.space);
      // An admin-down link loses its IPv6 addresses: put them back when it comes up again.
      return {
        apply: [{ ns: n.nodeNs(f.node), tool: 'ip', script: `link set ${i} down\n` }],
        remove: [
          {
            ns: n.nodeNs(f.node),
            tool: 'ip',
            script: [`link set ${i} up`, ...n.v6(f.node, f.space).map((a) => `addr replace ${a} dev ${i} nodad`), ''].join('\n'),
          },
        ],
      };
    }
    case 'partition': {
      const b = n.bridge(f.space);
      const b2 = `${b}b`;
      return {
        apply: [
          {
            ns: n.switchNs,
            tool: 'ip',
            script: [`link add ${b2} type bridge`, `link set ${b2} up`, ...f.nodes.map((x) => `link set ${n.port(x, f.space)} master ${b2}`), ''].join('\n'),
          },
        ],
        remove: [
          { ns: n.switchNs, tool: 'ip', script: [...f.nodes.map((x) => `link set ${n.port(x, f.space)} master ${b}`), `link del ${b2}`, ''].join('\n') },
        ],
      };
    }
    case 'asymmetric': {
      const dir = f.direction === 'in' ? 'iifname' : 'oifname';
      const i = `${dir} "${n.iface(f.space)}"`;
      // Only new flows are dropped: the node's own probes in the other direction still get their answers.
      const rules =
        f.proto === 'icmp' ? [`${i} icmp type echo-request drop`, `${i} icmpv6 type echo-request drop`] : [`${i} ${keepNdp}`, `${i} ct state new drop`];
      return nft(f.node, f.direction === 'in' ? 'input' : 'output', rules);
    }
    case 'port-filtered':
      return nft(f.node, 'input', [`iifname "${n.iface(f.space)}" tcp dport ${f.port} drop`]);
    case 'port-refused':
      return nft(f.node, 'input', [`iifname "${n.iface(f.space)}" tcp dport ${f.port} reject with tcp reset`]);
    case 'udp-blocked':
      return nft(f.node, 'input', [`iifname "${n.iface(f.space)}" udp dport ${f.port} drop`]);
    case 'loss': {
      const i = `iifname "${n.iface(f.space)}"`;
      const drop = `numgen random mod 100 < ${f.percent} drop`;
      // ICMP by default: lost TCP SYNs are retried after 1 s, longer than a probe timeout, so "all" shows up
      // as filtered ports as well as loss.
      const rules = f.proto === 'icmp' ? [`${i} icmp type echo-request ${drop}`, `${i} icmpv6 type echo-request ${drop}`] : [`${i} ${keepNdp}`, `${i} ${drop}`];
      return nft(f.node, 'input', rules);
    }
    case 'mtu-mismatch': {
      const i = n.iface(f.space);
      return {
        apply: [{ ns: n.nodeNs(f.node), tool: 'ip', script: `link set ${i} mtu ${f.mtu}\n` }],
        remove: [{ ns: n.nodeNs(f.node), tool: 'ip', script: `link set ${i} mtu ${n.spaceMtu(f.space)}\n` }],
      };
    }
    case 'ipv6-blocked':
      return nft(f.node, 'input', [`iifname "${n.iface(f.space)}" ${keepNdp}`, `iifname "${n.iface(f.space)}" meta nfproto ipv6 drop`]);
    case 'address-removed': {
      const i = n.iface(f.space);
      const addrs = f.family === 'v6' ? n.v6(f.node, f.space) : n.v4(f.node, f.space);
      return {
        apply: [{ ns: n.nodeNs(f.node), tool: 'ip', script: addrs.map((a) => `addr del ${a} dev ${i}\n`).join('') }],
        remove: [{ ns: n.nodeNs(f.node), tool: 'ip', script: addrs.map((a) => `addr add ${a} dev ${i}${f.family === 'v6' ? ' nodad' : ''}\n`).join('') }],
      };
    }
    case 'port-in-use':
    case 'agent-missing':
    case 'agent-stopped':
      return { apply: [], remove: [] };
  }
}

/** The nodes and spaces a fault names, to check them against the lab before touching anything. */
export function faultRefs(f: Fault): { nodes: string[]; spaces: string[] } {
  if (f.kind === 'partition') return { nodes: f.nodes, spaces: [f.space] };
  if (f.kind === 'agent-missing' || f.kind === 'agent-stopped') return { nodes: [f.node], spaces: [] };
  return { nodes: [f.node], spaces: [f.space] };
}
