// How many responders a hello says listen, in either form (an older agent lists them all in `responders`;
// agents now group the listening ones in `listening`: agent/contract/listening.ts).
import type { ListeningGroup } from '../../agent/contract/listening.js';

export function listeningCount(hello: { responders: readonly { state: string }[]; listening?: readonly ListeningGroup[] }): number {
  let n = 0;
  for (const g of hello.listening ?? []) n += g.tcp.length + g.udp.length;
  for (const r of hello.responders) if (r.state === 'listening') n++;
  return n;
}
