// Pinglists for large meshes, after Pingmesh (pure): above the profile's size each agent probes a rotating
// window of its peers per round, so every pair is covered within K = ceil(peers / perRound) rounds and the
// per-round work of the whole fleet grows as N x perRound instead of N^2.

/** Rounds a full sweep of `peers` takes at `perRound` peers a round. */
export function roundsToCover(peers: number, perRound: number): number {
  return peers <= perRound ? 1 : Math.ceil(peers / perRound);
}

/** FNV-1a: a stable spread of start offsets, so agents do not all probe the same peer in the same round. */
function offsetOf(name: string, mod: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h % mod;
}

/**
 * The peers `self` probes in round `round` (0-based, counted by the agent): a window of `perRound` of the
 * sorted other peers, moved on by `perRound` each round from a per-node offset. Any K consecutive rounds
 * cover every peer (the last window of a sweep may overlap the next sweep's first). Without a limit
 * (`perRound` <= 0 or at least the peer count) it is every peer.
 */
export function pinglistPeers(self: string, peers: readonly string[], round: number, perRound: number): string[] {
  const others = peers.filter((p) => p !== self).sort();
  const n = others.length;
  if (perRound <= 0 || perRound >= n) return others;
  const k = roundsToCover(n, perRound);
  // Windows start at multiples of perRound within one sweep, so K windows tile the whole ring.
  const start = (offsetOf(self, n) + (round % k) * perRound) % n;
  const out: string[] = [];
  for (let i = 0; i < perRound; i++) out.push(others[(start + i) % n]!);
  return out;
}
