// Live inventory: re-reads the aggregator's --inventory and --profile and swaps them into the running state.
// A file that does not parse is refused with its file:line:field error and the running one stays as it was.
import { PingerError } from '../agent/contract/errors.js';
import { loadInventory } from '../agent/contract/inventory.js';
import { loadProfile } from './profile.js';
import type { AggregatorState, ReloadSummary } from './state.js';

export type ReloadResult = { ok: true; summary: ReloadSummary } | { ok: false; code: string; error: string };

export function makeReloader(state: AggregatorState, files: { inventory: string; profile: string }): () => ReloadResult {
  return () => {
    try {
      // Both are read before anything changes: a bad profile must not leave a new inventory half applied.
      const inventory = loadInventory(files.inventory);
      const profile = loadProfile(files.profile);
      return { ok: true, summary: state.reload(inventory, profile) };
    } catch (err) {
      const code = err instanceof PingerError ? err.code : 'PINGER_ERR_INTERNAL';
      return { ok: false, code, error: (err as Error).message };
    }
  };
}
