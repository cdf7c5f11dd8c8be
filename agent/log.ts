// One log format for every Pinger process: pino JSON lines on stderr with the same fields on the agent and
// the aggregator (time, level, component, node, code, msg), so one jq or Loki query reads both. On a
// terminal the same records are pretty-printed (pino-pretty, synchronous: no worker thread in the agent).
import { createRequire } from 'node:module';
import { pino, stdTimeFunctions, type DestinationStream, type Logger } from 'pino';

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof logLevels)[number];

export interface LoggerOptions {
  component: 'agent' | 'aggregator' | 'demo';
  /** The node an agent speaks for; absent on the aggregator (its records carry `node` per message). */
  node?: string;
  level?: LogLevel | string;
  /** Default: pretty when stderr is a terminal. */
  pretty?: boolean;
  /** Default: stderr. Tests pass a stream to read the records. */
  destination?: DestinationStream;
}

export function makeLogger(o: LoggerOptions): Logger {
  const pretty = o.pretty ?? (o.destination === undefined && process.stderr.isTTY === true);
  const dest: DestinationStream = o.destination ?? (pretty ? prettyStream() : pino.destination({ fd: 2, sync: true }));
  return pino(
    {
      level: o.level ?? 'info',
      base: { component: o.component, ...(o.node ? { node: o.node } : {}) },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    dest,
  );
}

function prettyStream(): DestinationStream {
  // Loaded only on a terminal: services and tests never pay for it.
  const pretty = createRequire(import.meta.url)('pino-pretty') as (o: object) => DestinationStream;
  return pretty({
    destination: 2,
    sync: true,
    colorize: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,component,node',
    messageFormat: '{component}{if node}[{node}]{end} {msg}',
    singleLine: true,
  });
}

export type Level = 'info' | 'warn' | 'error';
export type LogFn = (level: Level, msg: string) => void;

/**
 * The agent's `log(level, msg)` over a pino logger. A message that starts with a catalogued code
 * (`PINGER_ERR_...: why`) carries it in the `code` field too, so records can be counted by code.
 */
export function logFn(logger: Logger): LogFn {
  return (level, msg) => {
    const code = /^(PINGER_ERR_[A-Z0-9_]+): /.exec(msg)?.[1];
    if (code) logger[level]({ code }, msg);
    else logger[level](msg);
  };
}
