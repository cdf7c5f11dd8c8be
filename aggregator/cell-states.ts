// The one definition of a matrix cell's states: name, one-character code, colour and label. The matrix
// (codes), the report (which carries this list as `cellStates`), the exports and the page all derive from it.
// Pure data.

export interface CellStateDef {
  /** One character in the report's compact rows; never a digit (`?matrix=runs` appends run lengths). */
  readonly code: string;
  /** Background colour wherever the state is drawn (with the code or the label: never colour alone). */
  readonly colour: `#${string}`;
  /** What the state means, in words. */
  readonly label: string;
}

/** Worst first after 'none': the order is the matrix's internal code order. */
export const cellStateDefs = {
  none: { code: '?', colour: '#9e9e9e', label: 'no result yet' }, // no result yet (or only from before the peer's responders)
  self: { code: '-', colour: '#ffffff', label: 'self' },
  unreachable: { code: 'x', colour: '#c62828', label: 'unreachable' }, // nothing got through: ICMP lost (or not measured), no TCP port answered
  mtu: { code: 'm', colour: '#1565c0', label: 'MTU (DF) failed' }, // small packets pass, the DF probe at the required MTU does not
  port: { code: 'p', colour: '#6a1b9a', label: 'TCP port failed' }, // ICMP fine, some TCP port refused / filtered
  udp: { code: 'u', colour: '#00838f', label: 'UDP failed' }, // a UDP port did not echo
  loss: { code: 'l', colour: '#f9a825', label: 'packet loss' }, // some echoes lost
  ok: { code: 'o', colour: '#2e7d32', label: 'ok' },
} as const satisfies Record<string, CellStateDef>;

export type CellState = keyof typeof cellStateDefs;

/** Every state, in code order. */
export const cellStateNames = Object.keys(cellStateDefs) as CellState[];

/** The order people read them in (legends, counts): healthy first, then problems, then unknown; no self. */
export const legendOrder: readonly CellState[] = ['ok', 'loss', 'unreachable', 'port', 'mtu', 'udp', 'none'];

/** Black or white text, whichever reads better on a colour. */
export function inkOn(colour: string): '#000' | '#fff' {
  const v = Number.parseInt(colour.slice(1), 16);
  const lum = 0.299 * ((v >> 16) & 255) + 0.587 * ((v >> 8) & 255) + 0.114 * (v & 255);
  return lum > 150 ? '#000' : '#fff';
}

/** One state as the report carries it (`Report.cellStates`), in legend order. */
export interface CellStateInfo extends CellStateDef {
  name: CellState;
  /** Text colour on `colour`. */
  ink: '#000' | '#fff';
}

/** Every state (legend order, then self). */
export const cellStateList: readonly CellStateInfo[] = [...legendOrder, 'self' as const].map((name) => ({
  name,
  ...cellStateDefs[name],
  ink: inkOn(cellStateDefs[name].colour),
}));
