// A cell's RTT and loss in the matrix's typed arrays (pure): 2 bytes an RTT and 1 for loss instead of 4 each
// (1,000 nodes x 6 bindings is 6M cells: 42 MB less resident). 0 is "none" in both, so an untouched cell
// costs no page. RTTs are exact to the microsecond below 32.767 ms (agents measure in microseconds), then to
// the millisecond up to 32.767 s; loss to 1/254 (0 and 1 exact). A cell with loss is never ok, so it keeps its
// rows and the matrix reads its exact loss from them: the byte only says 0, 1 or none for the others.

const US_LIMIT = 0x7fff; // codes 1..0x7fff: microseconds + 1
const MS_FLAG = 0x8000; // codes 0x8000 | ms above that

export function encodeRtt(ms: number): number {
  if (!(ms >= 0)) return 0; // NaN: none
  const us = Math.round(ms * 1000);
  if (us < US_LIMIT) return us + 1;
  return MS_FLAG | Math.min(US_LIMIT, Math.round(ms));
}

export function decodeRtt(code: number): number {
  if (code === 0) return NaN;
  return code & MS_FLAG ? code & US_LIMIT : (code - 1) / 1000;
}

export function encodeLoss(loss: number): number {
  if (!(loss >= 0)) return 0;
  return 1 + Math.round(Math.min(1, loss) * 254);
}

export function decodeLoss(code: number): number {
  return code === 0 ? NaN : (code - 1) / 254;
}
