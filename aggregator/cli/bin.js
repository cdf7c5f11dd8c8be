#!/usr/bin/env node
// The installed `pinger` command (`npm install -g .`, `npx pinger` in a checkout): runs the TypeScript
// sources through tsx, so it is never a stale build and needs no install script (npm 11 refuses those
// by default for global installs and npx). Where tsx is not installed (--omit=dev), the compiled CLI from
// `npm run build` runs instead. Services (the charm's units) run dist/aggregator/cli/pinger.js directly.
import { existsSync } from 'node:fs';

const sources = new URL('./pinger.ts', import.meta.url);
let tsx;
try {
  tsx = await import('tsx/esm/api');
} catch {
  tsx = undefined;
}
if (tsx && existsSync(sources)) {
  tsx.register();
  await import(sources.href);
} else {
  await import(new URL('../../dist/aggregator/cli/pinger.js', import.meta.url).href);
}
