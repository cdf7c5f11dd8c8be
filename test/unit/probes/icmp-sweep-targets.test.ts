// The sweep's target-list parser (one pass, no per-line regex) against the plain definition it replaced.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTargets } from '../../../agent/sweep.js';

const plain = (text: string): string[] =>
  text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => l.length > 0);

describe('parseTargets', () => {
  const cases = [
    '',
    '\n',
    '127.0.0.1\n::1',
    '127.0.0.1\n::1\n',
    ' 127.0.0.1 \r\n# comment\n\n ::1# trailing\n#\n  #indented\n127.0.0.2',
    'a#b#c\nd\n#',
    '\u00a0198.18.0.1\u00a0\n\t198.18.0.2\t',
    'x\n\n\n',
    '#\n#\n',
    '#only',
    '  \t \n  z',
  ];
  for (const text of cases) it(JSON.stringify(text), () => assert.deepEqual(parseTargets(text), plain(text)));
  it('a long list without comments', () => {
    const text = Array.from({ length: 5000 }, (_, i) => `127.0.${i >> 8}.${i & 255}`).join('\n');
    assert.deepEqual(parseTargets(text), plain(text));
  });
});
