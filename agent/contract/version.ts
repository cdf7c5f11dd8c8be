// The versions: the agent's (kept equal to package.json's by test/unit/version.test.ts; no JSON import at run
// time: the compiled charm payload does not ship package.json next to the code) and the wire's.
export const AGENT_VERSION = '0.1.0';

/**
 * 2: results carry packed tables (./wire-packed.ts) instead of row objects. 3: agents send results as binary
 * frames (./wire-binary.ts); text results stay valid.
 */
export const WIRE_VERSION = 3;
