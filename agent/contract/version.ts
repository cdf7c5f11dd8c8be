// Kept equal to package.json's version by test/unit/version.test.ts (no JSON import at run time: the
// compiled charm payload does not ship package.json next to the code).
export const AGENT_VERSION = '0.1.0';
