// `pinger credential`: prints one node's credential, derived from the cluster secret, for its agent's
// --credential-file (the charm's leader, or an operator, hands each node only its own).
import { readToken, required } from './cli-util.js';
import { nodeCredential } from './credential.js';

/** As commander hands them over (aggregator/cli/pinger.ts declares them). */
export interface CredentialOptions {
  tokenFile?: string;
  node?: string;
}

export async function credentialMain(values: CredentialOptions): Promise<number> {
  required(values, ['token-file', 'node'], 'PINGER_ERR_AGENT_USAGE');
  process.stdout.write(`${nodeCredential(readToken(values.tokenFile!), values.node!)}\n`);
  return 0;
}
