// WebSocket close reasons: the protocol allows 123 bytes of UTF-8 (RFC 6455 5.5: 125-byte control frame
// payload, 2 of them the code), and ws throws on more. Reasons quote what a peer sent, in any script, so
// they are cut by bytes, at a character boundary. Pure.

export const MAX_CLOSE_REASON_BYTES = 123;

export function closeReason(text: string, max = MAX_CLOSE_REASON_BYTES): string {
  const b = Buffer.from(text, 'utf8'); // lone surrogates become U+FFFD: the result is always valid UTF-8
  if (b.length <= max) return b.toString('utf8');
  let end = max - 3; // room for "..."
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end--; // back to the first byte of that character
  return `${b.subarray(0, end).toString('utf8')}...`;
}
