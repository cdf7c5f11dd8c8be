#!/usr/bin/env node
// The `pinger` command: commander parses and prints help; each subcommand's module is imported only when
// it runs (an agent must not pay for loading fastify and the aggregator: 50 agents starting on 2 cores
// spent ~45 s of CPU on it). Errors come out as `CODE: message` with an exit code from one table.
import { Command, CommanderError, Option } from 'commander';
import { EXIT, exitCodeFor, exitCodesHelp } from '../../agent/contract/exit-codes.js';
import { AGENT_VERSION } from '../../agent/contract/version.js';

// Defaults shown in help, kept equal to agent/agent.ts's and the ICMP engine's by test/cli/cli.test.ts
// (importing those modules here would load the agent for every command).
const DEFAULT_CONCURRENCY = 256;
const DEFAULT_WINDOW = 32;
const collect = (v: string, prev: string[] = []): string[] => [...prev, v];
const examples = (lines: string[]): string => `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;

// size: the command table: one declaration per command and option, read as a list
export function buildProgram(): Command {
  const program = new Command('pinger')
    .description(
      'Network pre-flight checker for OpenStack on MAAS + Juju: agents probe every peer on every binding, an aggregator gives one readiness verdict.',
    )
    .version(AGENT_VERSION, '-V, --version', 'print the version and exit')
    .helpCommand('help [command]', 'show help for a command')
    .showHelpAfterError('(add --help for usage and examples)')
    .addHelpText(
      'after',
      `${examples([
        'pinger demo                           # an aggregator and 4 agents on loopback, report at http://127.0.0.1:9300/',
        'pinger aggregator --help              # every option of one command, with examples',
      ])}\nExit codes:\n${exitCodesHelp()}\n`,
    );

  program
    .command('agent')
    .summary('probe every peer on every binding and stream the results to the aggregator')
    .description(
      'Run the agent of one node: answer its peers on the ports the profile asks for, probe every peer, and stream the results to the aggregator. Stops on SIGINT/SIGTERM.',
    )
    .option('--inventory <file>', 'inventory YAML (required)')
    .option('--node <name>', "this node's name in the inventory (required)")
    .option('--aggregator <url>', 'the aggregator, wss://HOST:PORT/api/v1/agent (or wss+unix:///PATH:/api/v1/agent) (required)')
    .option('--credential-file <file>', "file holding this node's credential (`pinger credential`)")
    .option('--token-file <file>', 'file holding the cluster secret instead: the agent derives its credential from it')
    .option('--ca-file <file>', "CA (PEM) the aggregator's certificate must chain to (default: the system's CAs)")
    .option('--plain', 'allow a plain ws:// (or ws+unix://) aggregator URL: no encryption, asked for explicitly')
    .option('--concurrency <n>', `targets probed at once (default ${DEFAULT_CONCURRENCY})`)
    .option('--quiet', 'log warnings and errors only')
    .option('--dns-server <ip:port>', "resolver for the forward/reverse DNS checks (default: the system's)")
    .option('--no-responders', "answer on no port (release OpenStack's ports); probing goes on")
    .option('--lldp-socket <file>', "lldpd's control socket, for the LLDP neighbours of each binding interface (default: lldpd's own)")
    .option('--compress', 'compress what the agent sends (permessage-deflate): for a slow link to the aggregator; costs it CPU')
    .addHelpText(
      'after',
      examples([
        'pinger agent --inventory inventory.yaml --node node-1 --aggregator wss://198.18.1.5:9300/api/v1/agent --credential-file node-1.cred --ca-file ca.crt',
        'pinger agent --inventory inventory.yaml --node node-1 --aggregator ws://127.0.0.1:9300/api/v1/agent --token-file secret --plain --no-responders --quiet',
      ]),
    )
    .action(async (opts) => run(async () => (await import('../../agent/main.js')).agentMain(opts)));

  program
    .command('aggregator')
    .summary("collect the agents' results and serve the verdict, report, page and metrics")
    .description(
      'Run the aggregator: accept the agents of the inventory, build the matrix per binding, and serve the verdict (/api/v1/report), the page (/) and /metrics. Stops on SIGINT/SIGTERM.',
    )
    .option('--listen <addr>', 'HOST:PORT, [IPv6]:PORT or unix:/absolute/path; repeatable (required)', collect)
    .option('--inventory <file>', 'inventory YAML (required)')
    .option('--token-file <file>', 'file holding the cluster secret: node credentials derive from it; admin routes take it (required)')
    .option('--tls-cert <file>', 'PEM certificate: https:// and wss:// on every listener (required unless --plain)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option('--plain', 'plain HTTP and ws:// instead of TLS, asked for explicitly')
    .option(
      '--read-token-file <file>',
      'read routes (report, events, exports, page, /metrics) need this token: HTTP Basic password or Bearer; /healthz stays open',
    )
    .option('--profile <name|file>', 'readiness profile: built in (openstack, demo) or a YAML file', 'openstack')
    .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug']).default('info'))
    .option('--pair-metrics-max-nodes <n>', '/metrics has series for every pair up to N nodes, else failing pairs only', '20')
    .addHelpText(
      'after',
      examples([
        'pinger aggregator --listen 0.0.0.0:9300 --inventory inventory.yaml --token-file secret --tls-cert aggregator.crt --tls-key aggregator.key',
        'pinger aggregator --listen 127.0.0.1:9300 --listen unix:/run/pinger/agg.sock --inventory inventory.yaml --token-file secret --plain --profile my-profile.yaml',
      ]),
    )
    .action(async (opts) => run(async () => (await import('../main.js')).aggregatorMain(opts)));

  program
    .command('credential')
    .summary("print a node's credential for its agent's --credential-file")
    .description(
      'Print NODE\'s credential: HMAC-SHA256(cluster secret, "pinger-node-v1:" + NODE) in hex. Give each node only its own; the aggregator accepts its agent for that node only.',
    )
    .option('--token-file <file>', "the cluster secret (the aggregator's --token-file) (required)")
    .option('--node <name>', 'the node (required)')
    .addHelpText('after', examples(['pinger credential --token-file secret --node node-1 > node-1.cred']))
    .action(async (opts) => run(async () => (await import('../../agent/credential-cli.js')).credentialMain(opts)));

  program
    .command('demo')
    .summary('an aggregator and a few agents on loopback, in one process')
    .description(
      'Start an aggregator and N agents on loopback addresses (127.<binding>.0.<node>) with three bindings, in one process, over plain ws:// on loopback; print the report URL and every verdict change. Ctrl-C stops it.',
    )
    .option('--nodes <n>', 'number of agents, 2..250', '4')
    .option('--listen <host:port>', 'where the aggregator listens', '127.0.0.1:9300')
    .option('--for <seconds>', 'stop by itself after this long')
    .addHelpText('after', examples(['pinger demo', 'pinger demo --nodes 6 --listen 127.0.0.1:9400 --for 30']))
    .action(async (opts) => run(async () => (await import('./demo.js')).demoMain(opts)));

  program
    .command('sweep')
    .summary('fping-like one-shot ICMP sweep over a list of addresses')
    .description(
      'Ping every address in a file once (or -c times) on the Pinger ICMP engine and print one summary line (-v: one line per target). Needs CAP_NET_RAW. Exit 0 when every target answered, 1 when some did not.',
    )
    .requiredOption('-f, --file <file>', "one IPv4/IPv6 address per line ('#' comments and blank lines ignored)")
    .option('-t, --timeout <ms>', 'per-ping timeout once sent', '1000')
    .option('-c, --count <n>', 'pings per target; a target is alive if any is answered', '1')
    .option('-s, --size <bytes>', 'ICMP message size including the 8-byte header', '64')
    .option('--window <n>', `pings on the wire at once (default ${DEFAULT_WINDOW})`)
    .option('-v, --verbose', 'one line per target')
    .addHelpText('after', examples(['sudo pinger sweep -f targets.txt', 'sudo pinger sweep -f targets.txt -c 3 -t 500 -v']))
    .action(async (opts) =>
      run(async () => {
        const { sweepMain } = await import('../../agent/sweep.js');
        // One parser for the sweep's flags (its own, kept lean for the fping start-up comparison).
        const argv = [
          '-f',
          opts.file,
          '-t',
          opts.timeout,
          '-c',
          opts.count,
          '-s',
          opts.size,
          ...(opts.window ? ['--window', opts.window] : []),
          ...(opts.verbose ? ['-v'] : []),
        ];
        return sweepMain(argv);
      }),
    );

  return program;
}

async function run(main: () => Promise<number>): Promise<void> {
  process.exitCode = await main();
}

function usageLine(program: Command, argv: string[]): string {
  const cmd = program.commands.find((c) => c.name() === argv[0]);
  return `usage: ${cmd ? `pinger ${cmd.name()} ${cmd.usage()}` : `pinger ${program.usage()}`}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  program.configureOutput({
    // Commander's own errors (unknown option, missing value) get the usage code in front, like ours.
    outputError: (str, write) => {
      write(str.startsWith('error: ') ? `PINGER_ERR_USAGE: ${str.slice('error: '.length)}` : str);
    },
  });
  for (const c of program.commands) c.exitOverride().configureOutput(program.configureOutput());
  try {
    await program.parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? 0);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; `pinger` alone has had its help printed on stderr by commander.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const e = err as Error & { code?: string };
    const exit = exitCodeFor(e.code);
    process.stderr.write(
      `${exit === EXIT.internal && !e.code?.startsWith('PINGER_ERR_') ? 'PINGER_ERR_INTERNAL' : e.code}: ${exit === EXIT.internal ? (e.stack ?? e.message) : e.message}\n`,
    );
    if (exit === EXIT.usage) process.stderr.write(usageLine(program, argv));
    return exit;
  }
}

// `pinger --help | head`: the reader going away is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
});
process.exitCode = await main(process.argv.slice(2));
