#!/usr/bin/env node
// The `pinger` command: one subcommand per job. Each main only wires; errors come out as CODE: message.
// Each subcommand is imported only when it runs: an agent must not pay for loading fastify and the
// aggregator (50 agents starting on 2 cores spent ~45 s of CPU on it).
const commands: Record<string, { main: () => Promise<(argv: string[]) => Promise<number>>; usage: string }> = {
  agent: {
    main: async () => (await import('./main.js')).agentMain,
    usage: `pinger agent --inventory FILE --node NAME --aggregator wss://HOST:PORT/api/v1/agent --credential-file FILE --ca-file FILE [...]`,
  },
  aggregator: {
    main: async () => (await import('../aggregator/main.js')).aggregatorMain,
    usage: `pinger aggregator --listen HOST:PORT --inventory FILE --token-file FILE --tls-cert FILE --tls-key FILE [--read-token-file FILE] [...]`,
  },
  credential: {
    main: async () => (await import('./credential-cli.js')).credentialMain,
    usage: 'pinger credential --token-file SECRET --node NAME   a node\'s credential for its agent',
  },
  demo: { main: async () => (await import('./demo.js')).demoMain, usage: `pinger demo [--nodes N] [--listen HOST:PORT] [--for SECONDS]` },
  sweep: { main: async () => (await import('./sweep.js')).sweepMain, usage: 'pinger sweep -f FILE [-t TIMEOUT_MS] [-c COUNT] [-v]   fping-like ICMP sweep' },
};

function usage(): string {
  return `usage:\n${Object.values(commands).map((c) => `  ${c.usage.split('\n').join('\n  ')}`).join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(usage());
    return cmd ? 0 : 2;
  }
  const sub = rest[0] === '--help' || rest[0] === '-h' ? commands[cmd] : undefined;
  if (sub) {
    // The full option list lives next to each command's parser.
    const mod = (await import(cmd === 'aggregator' ? '../aggregator/main.js' : cmd === 'agent' ? './main.js' : cmd === 'demo' ? './demo.js' : cmd === 'credential' ? './credential-cli.js' : './sweep.js')) as Record<string, unknown>;
    process.stdout.write(`${String(mod[`${cmd}Usage`] ?? sub.usage)}\n`);
    return 0;
  }
  const c = commands[cmd];
  if (!c) {
    process.stderr.write(`PINGER_ERR_USAGE: unknown command ${JSON.stringify(cmd)}\n${usage()}`);
    return 2;
  }
  try {
    return await (await c.main())(rest);
  } catch (err) {
    const e = err as Error & { code?: string };
    const code = e.code?.startsWith('PINGER_ERR_') ? e.code : e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || e.code?.startsWith('ERR_PARSE_ARGS') ? 'PINGER_ERR_USAGE' : 'PINGER_ERR_INTERNAL';
    process.stderr.write(`${code}: ${e.message}\n`);
    if (code === 'PINGER_ERR_USAGE') process.stderr.write(`usage: ${c.usage}\n`);
    return code === 'PINGER_ERR_INTERNAL' ? 70 : 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
