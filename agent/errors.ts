// The agent's error catalogue: stable codes people can search for; the README's error table is checked
// against this list by test/unit/errors.test.ts.
export const agentErrors = {
  PINGER_ERR_INVENTORY_READ: 'cannot read the inventory file',
  PINGER_ERR_INVENTORY_YAML: 'the inventory is not valid YAML',
  PINGER_ERR_INVENTORY_INVALID: 'the inventory does not match its schema',
  PINGER_ERR_AGENT_UNKNOWN_NODE: 'the node named by --node is not in the inventory',
  PINGER_ERR_AGENT_NO_ADDRESS: 'no local interface holds a binding address of this node',
  PINGER_ERR_AGENT_TOKEN: 'cannot read the token file, or it is empty',
  PINGER_ERR_AGENT_USAGE: 'bad command-line arguments',
  PINGER_ERR_AGENT_REJECTED: 'the aggregator closed the connection and will not accept this agent as it is',
  PINGER_ERR_ICMP_NO_CAP_NET_RAW: 'ICMP needs CAP_NET_RAW; ICMP results are reported as not measured',
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
