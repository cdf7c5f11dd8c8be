// WebSocket close codes the agent acts on. The aggregator sends them (aggregator/errors.ts lists each with
// its error code); they live here because the agent reads them too, and the agent imports nothing above it.
/** Close codes the agent treats as final (it stops rather than reconnecting in a loop). */
export const finalCloseCodes: ReadonlySet<number> = new Set([4403, 4404, 4426]);
