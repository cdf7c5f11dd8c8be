// A listen that fails at start-up is the operator's to fix, not a bug: say which address, why, and what to do.
import { PingerError } from '../agent/contract/errors.js';

const why: Record<string, string> = {
  EADDRINUSE: 'the address is in use (another process listens there: stop it, or choose another with --listen HOST:PORT)',
  EADDRNOTAVAIL: 'no interface of this host has that address (choose one it has with --listen HOST:PORT)',
  EACCES: 'not allowed (ports below 1024 need root or CAP_NET_BIND_SERVICE; choose another with --listen HOST:PORT)',
};

/** Runs a listen; a system error becomes PINGER_ERR_AGG_LISTEN naming the address. */
export async function listenOrExplain<T>(address: string, listen: () => Promise<T>): Promise<T> {
  try {
    return await listen();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!code || !/^E[A-Z]+$/.test(code)) throw err;
    throw new PingerError(
      'PINGER_ERR_AGG_LISTEN',
      `cannot listen on ${address}: ${why[code] ?? `${code} (${(err as Error).message}); choose another address with --listen`}`,
    );
  }
}

/** HOST:PORT as people type it ([v6]:port), or unix:PATH. */
export function showAddress(to: { host: string; port: number } | { path: string }): string {
  return 'path' in to ? `unix:${to.path}` : `${to.host.includes(':') ? `[${to.host}]` : to.host}:${to.port}`;
}
