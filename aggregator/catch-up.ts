// Who to catch up on: agents that join together (a fleet starting) are named in one targeted run-now. A trailing
// debounce on the state's clock: wait until none has joined for 100 ms, at most 500 ms after the first, then hand
// every agent's name over at once.
import type { StateClock } from './state-clock.js';

export class CatchUps {
  private timer: unknown;
  private since = 0;
  private readonly joined = new Set<string>();

  constructor(
    private readonly clock: StateClock,
    private readonly fire: (peers: string[]) => void,
  ) {}

  add(node: string): void {
    const now = this.clock.now();
    this.joined.add(node);
    if (!this.timer) this.since = now;
    else this.clock.clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(100, this.since + 500 - now));
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      const peers = [...this.joined];
      this.joined.clear();
      this.fire(peers);
    }, wait);
  }

  close(): void {
    if (this.timer) this.clock.clearTimeout(this.timer);
  }
}
