// `pinger credential`: prints one node's credential, derived from the cluster secret, for its agent's
// --credential-file (the charm's leader, or an operator, hands each node only its own).
import { parseArgs } from 'node:util';
import { readToken, required } from './cli-util.js';
import { nodeCredential } from './credential.js';

export const credentialUsage = `pinger credential --token-file SECRET --node NAME
  Prints NAME's credential (hex) for \`pinger agent --credential-file\`; SECRET is the aggregator's --token-file.`;

export async function credentialMain(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { 'token-file': { type: 'string' }, node: { type: 'string' } }, strict: true });
  required(values, ['token-file', 'node'], 'PINGER_ERR_AGENT_USAGE');
  process.stdout.write(`${nodeCredential(readToken(values['token-file']!), values.node!)}\n`);
  return 0;
}
