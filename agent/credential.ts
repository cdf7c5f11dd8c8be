// Per-node identity. A node's credential is derived from the cluster secret and its name, so a node that
// holds only its own credential can speak only for itself, and the aggregator stores nothing but the secret.
// Pure: no I/O (the files are read by the command entry points).
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Versioned label: a future scheme gets a new label, never a credential that also fits the old one. */
export const CREDENTIAL_LABEL = 'pinger-node-v1:';

/** HMAC-SHA256(secret, "pinger-node-v1:" + node), lowercase hex. */
export function nodeCredential(secret: string, node: string): string {
  return createHmac('sha256', secret)
    .update(CREDENTIAL_LABEL + node)
    .digest('hex');
}

/** The agent's Authorization header value. */
export function agentAuthorization(node: string, credential: string): string {
  return `Bearer ${node}:${credential}`;
}

/** `Bearer <node>:<hex>` -> its parts; undefined when malformed. The credential is hex: the last ':' splits. */
export function parseAgentAuthorization(header: string | undefined): { node: string; credential: string } | undefined {
  if (!header?.startsWith('Bearer ')) return undefined;
  const v = header.slice(7).trim();
  const i = v.lastIndexOf(':');
  if (i <= 0 || v.length > 512) return undefined;
  const credential = v.slice(i + 1);
  if (!/^[0-9a-f]{64}$/.test(credential)) return undefined;
  return { node: v.slice(0, i), credential };
}

/** Whether `credential` is `node`'s, compared in constant time. */
export function credentialMatches(secret: string, node: string, credential: string): boolean {
  const want = Buffer.from(nodeCredential(secret, node));
  const given = Buffer.from(credential);
  return given.length === want.length && timingSafeEqual(given, want);
}
