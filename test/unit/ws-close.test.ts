import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closeReason, MAX_CLOSE_REASON_BYTES } from '../../aggregator/ws-close.js';

const cases: [what: string, input: string][] = [
  ['short ASCII', 'PINGER_ERR_WS_BAD_MESSAGE: node: Invalid input'],
  ['exactly 123 bytes', 'x'.repeat(123)],
  ['124 bytes', 'x'.repeat(124)],
  ['two-byte characters across the cut', 'é'.repeat(100)],
  ['three-byte characters', '節'.repeat(60)],
  ['four-byte characters (surrogate pairs)', '🙂'.repeat(40)],
  ['mixed, cut inside a four-byte character', `${'a'.repeat(118)}🙂🙂🙂`],
  ['lone surrogates', '\ud800'.repeat(60)],
  ['a code and a non-ASCII field', `PINGER_ERR_WS_BAD_MESSAGE: node: ${'ü'.repeat(200)}`],
];

for (const [what, input] of cases) {
  test(`close reason fits 123 bytes of valid UTF-8: ${what}`, () => {
    const r = closeReason(input);
    const bytes = Buffer.from(r, 'utf8');
    assert.ok(bytes.length <= MAX_CLOSE_REASON_BYTES, `${bytes.length} bytes`);
    // Valid UTF-8 that decodes back to the same text: no character was split.
    assert.equal(new TextDecoder('utf-8', { fatal: true }).decode(bytes), r);
    if (Buffer.byteLength(input) <= MAX_CLOSE_REASON_BYTES && !input.includes('\ud800')) assert.equal(r, input);
    else assert.ok(r.endsWith('...') || Buffer.byteLength(input) <= MAX_CLOSE_REASON_BYTES, r);
    // As much as fits: within 3 bytes of the bound (plus the ellipsis) when cut.
    if (r.endsWith('...')) assert.ok(bytes.length >= MAX_CLOSE_REASON_BYTES - 6, `${bytes.length}`);
  });
}
