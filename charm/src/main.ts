#!/usr/bin/env node
// The hook router: dispatch runs this for every hook and action. It only routes; handlers.ts does the work.
// A hook loads only what it runs (actions.ts on actions): each one is a fresh Node process.
import { context, reconcile, teardown } from './handlers.js';
import { tools } from './hook-tools.js';

async function main(): Promise<number> {
  const ctx = context(process.env);
  const isAction = (process.env.JUJU_DISPATCH_PATH ?? '').startsWith('actions/');
  if (isAction) {
    const { actions } = await import('./actions.js');
    const act = actions[ctx.hook];
    if (!act) {
      tools.actionFail(`unknown action ${JSON.stringify(ctx.hook)}`);
      return 0;
    }
    try {
      await act(ctx);
    } catch (err) {
      // action-fail, not a non-zero exit: the operator gets the message in `juju run`'s output.
      tools.actionFail((err as Error).message);
    }
    return 0;
  }
  if (ctx.hook === 'stop' || ctx.hook === 'remove') {
    teardown(ctx);
    return 0;
  }
  // install, config-changed (also on address changes), upgrade-charm, start, leader-*, update-status,
  // peers-relation-*, metrics relations: all converge on the same state.
  await reconcile(ctx);
  return 0;
}

try {
  process.exitCode = await main();
} catch (err) {
  // A non-zero exit puts the unit in error and Juju retries the hook: right for a transient failure.
  process.stderr.write(`pinger charm: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
}
