#!/usr/bin/env node
// The `pinger` command: one subcommand per job. Each main only wires; errors come out as CODE: message.
import { aggregatorMain, aggregatorUsage } from '../aggregator/main.js';
import { agentMain, agentUsage } from './main.js';
import { demoMain, demoUsage } from './demo.js';
import { sweepMain } from './sweep.js';

const commands: Record<string, { main: (argv: string[]) => Promise<number>; usage: string }> = {
  agent: { main: agentMain, usage: agentUsage },
  aggregator: { main: aggregatorMain, usage: aggregatorUsage },
  demo: { main: demoMain, usage: demoUsage },
  sweep: { main: sweepMain, usage: 'pinger sweep -f FILE [-t TIMEOUT_MS] [-c COUNT] [-v]   fping-like ICMP sweep' },
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
  const c = commands[cmd];
  if (!c) {
    process.stderr.write(`PINGER_ERR_USAGE: unknown command ${JSON.stringify(cmd)}\n${usage()}`);
    return 2;
  }
  try {
    return await c.main(rest);
  } catch (err) {
    const e = err as Error & { code?: string };
    const code = e.code?.startsWith('PINGER_ERR_') ? e.code : e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || e.code?.startsWith('ERR_PARSE_ARGS') ? 'PINGER_ERR_USAGE' : 'PINGER_ERR_INTERNAL';
    process.stderr.write(`${code}: ${e.message}\n`);
    if (code === 'PINGER_ERR_USAGE') process.stderr.write(`usage: ${c.usage}\n`);
    return code === 'PINGER_ERR_INTERNAL' ? 70 : 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
