// Entry point for `node dist/agent/sweep-cli.js -f FILE ...` until the pinger CLI wires `sweep` in.
import { sweepMain } from './sweep.js';

process.exitCode = await sweepMain(process.argv.slice(2));
