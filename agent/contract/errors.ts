// The agent's error catalogue: stable codes people can search for; the README's error table is checked
// against this list by test/unit/errors.test.ts.
export const agentErrors = {
  PINGER_ERR_INVENTORY_READ: 'cannot read the inventory file',
  PINGER_ERR_INVENTORY_YAML: 'the inventory is not valid YAML',
  PINGER_ERR_INVENTORY_INVALID: 'the inventory does not match its schema',
  PINGER_ERR_AGENT_UNKNOWN_NODE: 'the node named by --node is not in the inventory',
  PINGER_ERR_AGENT_NO_ADDRESS: 'no local interface holds a binding address of this node',
  PINGER_ERR_AGENT_TOKEN: 'cannot read the token or credential file, or it is empty',
  PINGER_ERR_AGENT_USAGE: 'bad command-line arguments',
  PINGER_ERR_AGENT_PLAIN: 'a plain ws:// aggregator URL without --plain (use wss:// and --ca-file)',
  PINGER_ERR_AGENT_TLS: "cannot read --ca-file, or the aggregator's certificate does not verify against it",
  PINGER_ERR_AGENT_REJECTED: 'the aggregator closed the connection and will not accept this agent as it is',
  PINGER_ERR_ICMP_NO_CAP_NET_RAW: 'ICMP needs CAP_NET_RAW; ICMP results are reported as not measured',
  PINGER_ERR_ICMP_WORKER_THREAD: 'the ICMP engine refuses to run in a worker thread (raw-socket crashes the process there)',
  PINGER_ERR_ICMP_SOCKET: 'a raw ICMP socket could not be opened or configured',
  PINGER_ERR_ICMP_CLOSED: 'a ping was asked of a closed ICMP engine',
  PINGER_ERR_ICMP_BAD_TARGET: 'an ICMP target is not an IP address (or is IPv4-mapped IPv6)',
  PINGER_ERR_ICMP_BAD_SIZE: 'an ICMP size is outside what the family can carry',
  PINGER_ERR_ICMP_NATIVE: "Pinger's ICMP addon (agent/probes/native/icmp_ts.c) was called with arguments it does not take (a bug; please report it)",
  PINGER_ERR_ICMP_BAD_SOURCE: 'an ICMP source is not an IP address, not of the target family, or not an address of this host (never sent: it would be spoofed)',
  PINGER_ERR_TCP_BAD_TARGET: 'a TCP probe target is not an IP address',
  PINGER_ERR_TCP_BAD_PORT: 'a TCP probe port is not 1-65535',
  PINGER_ERR_TCP_BAD_SOURCE: 'a TCP probe source address is not an IP address',
  PINGER_ERR_UDP_BAD_TARGET: 'a UDP probe target is not an IP address',
  PINGER_ERR_UDP_BAD_PORT: 'a UDP probe port is not 1-65535',
  PINGER_ERR_USAGE: 'bad command-line arguments to `pinger` (unknown command or option)',
  PINGER_ERR_INTERNAL: 'an unexpected error; the message says where (please report it)',
} as const;

export type AgentErrorCode = keyof typeof agentErrors;

export class PingerError extends Error {
  constructor(
    readonly code: AgentErrorCode | string,
    message: string,
  ) {
    super(message);
    this.name = 'PingerError';
  }
  override toString(): string {
    return `${this.code}: ${this.message}`;
  }
}
