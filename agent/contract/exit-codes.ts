// The exit codes of every `pinger` command, one table (sysexits.h numbers where one fits, so scripts and
// systemd can tell a typo from a bad file from a taken port). README's "Exit codes" and `pinger --help`
// are drawn from it; test/cli/cli.test.ts checks the processes exit with them.
export const exitCodes = {
  ok: { code: 0, meaning: 'success; `sweep`: every target answered' },
  notAllAlive: { code: 1, meaning: '`sweep`: some target did not answer' },
  usage: { code: 64, meaning: 'usage error: unknown command or option, missing or malformed option value (EX_USAGE)' },
  cannotListen: { code: 69, meaning: 'cannot listen: the address is in use, not on this host or not allowed (EX_UNAVAILABLE)' },
  internal: { code: 70, meaning: 'internal error, a bug: please report it with the message (EX_SOFTWARE)' },
  noPermission: { code: 77, meaning: '`sweep`: ICMP is not available here, e.g. no CAP_NET_RAW (EX_NOPERM)' },
  config: {
    code: 78,
    meaning:
      'configuration error: a file named by an option (inventory, profile, token, targets) cannot be read or is invalid, or --node is not in the inventory (EX_CONFIG)',
  },
} as const;

export type ExitName = keyof typeof exitCodes;
export const EXIT = Object.fromEntries(Object.entries(exitCodes).map(([k, v]) => [k, v.code])) as { [K in ExitName]: (typeof exitCodes)[K]['code'] };

/**
 * The exit code for an error a command's start-up threw: a catalogued code ending in _USAGE is a usage
 * error, the listen code is its own, any other catalogued code there names a bad file or setting (config);
 * anything uncatalogued is a bug.
 */
export function exitCodeFor(code: string | undefined): number {
  if (!code?.startsWith('PINGER_ERR_') || code === 'PINGER_ERR_INTERNAL') return EXIT.internal;
  if (code.endsWith('_USAGE')) return EXIT.usage;
  if (code === 'PINGER_ERR_AGG_LISTEN') return EXIT.cannotListen;
  return EXIT.config;
}

/** The table as text for `pinger --help`. */
export function exitCodesHelp(): string {
  return Object.values(exitCodes)
    .map((e) => `  ${String(e.code).padStart(3)}  ${e.meaning}`)
    .join('\n');
}
