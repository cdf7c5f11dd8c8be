// One log format: the agent's log(level, msg) and the aggregator's fastify logger write the same fields.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { logFn, makeLogger } from '../../agent/log.js';

function capture(): { stream: Writable; records: () => Record<string, unknown>[] } {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  return {
    stream,
    records: () =>
      text
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

test('agent records carry time, level, component, node, code and msg', () => {
  const c = capture();
  const log = logFn(makeLogger({ component: 'agent', node: 'node-1', destination: c.stream }));
  log('warn', 'PINGER_ERR_AGENT_REJECTED: closed 4404');
  log('info', 'connected');
  const [a, b] = c.records();
  assert.deepEqual(Object.keys(a!).sort(), ['code', 'component', 'level', 'msg', 'node', 'time']);
  assert.equal(a!.level, 'warn');
  assert.equal(a!.code, 'PINGER_ERR_AGENT_REJECTED');
  assert.equal(a!.node, 'node-1');
  assert.ok(!Number.isNaN(Date.parse(String(a!.time))), String(a!.time));
  assert.deepEqual({ ...b, time: 0 }, { level: 'info', time: 0, component: 'agent', node: 'node-1', msg: 'connected' });
});

test('levels below the threshold are dropped (--quiet is warn)', () => {
  const c = capture();
  const log = logFn(makeLogger({ component: 'agent', node: 'n', level: 'warn', destination: c.stream }));
  log('info', 'hidden');
  log('error', 'shown');
  assert.deepEqual(
    c.records().map((r) => r.msg),
    ['shown'],
  );
});

test('aggregator records name the component; per-message fields ride along', () => {
  const c = capture();
  const logger = makeLogger({ component: 'aggregator', destination: c.stream });
  logger.warn({ node: 'node-2', code: 'PINGER_ERR_WS_BAD_MESSAGE' }, 'PINGER_ERR_WS_BAD_MESSAGE: bad');
  const [r] = c.records();
  assert.deepEqual(Object.keys(r!).sort(), ['code', 'component', 'level', 'msg', 'node', 'time']);
  assert.equal(r!.component, 'aggregator');
});
