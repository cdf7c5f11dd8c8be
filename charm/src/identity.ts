// Per-node credentials (the agreed identity contract): HMAC-SHA256(cluster secret, "pinger-node-v1:" + node)
// as lowercase hex, what `pinger credential --token-file SECRET --node NAME` prints. The leader derives one
// per unit and hands each unit only its own, so a unit's machine never holds the cluster secret. Pure.
import { createHmac, randomBytes } from 'node:crypto';

export const nodeCredential = (secret: string, node: string): string => createHmac('sha256', secret).update(`pinger-node-v1:${node}`).digest('hex');

/** A fresh secret: 32 random bytes, base64url (43 characters, no padding, no shell-special characters). */
export const freshSecret = (): string => randomBytes(32).toString('base64url');

/** Juju secret labels: one per unit, from the unit name (pinger/3 -> credential-pinger-3). */
export const credentialLabel = (unit: string): string => `credential-${unit.replace('/', '-')}`;

/** Juju >= 3.1 has secrets (secret-add and friends); older controllers fall back to the peer databag. */
export function hasSecrets(jujuVersion: string | undefined): boolean {
  const m = /^(\d+)\.(\d+)/.exec(jujuVersion ?? '');
  if (!m) return false;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj > 3 || (maj === 3 && min >= 1);
}
