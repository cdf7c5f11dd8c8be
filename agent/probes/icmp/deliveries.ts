// Results wait here until we are out of the sockets' native callbacks (an exception thrown by a caller's
// callback must not unwind through them), then flush() hands them over in order.
import type { PingResult } from './types.js';

export class Deliveries {
  private cbs: ((r: PingResult) => void)[] = [];
  private results: PingResult[] = [];
  private scheduled = false;

  get waiting(): number {
    return this.cbs.length;
  }

  push(cb: (r: PingResult) => void, r: PingResult): void {
    this.cbs.push(cb);
    this.results.push(r);
  }

  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  flush(): void {
    const cbs = this.cbs;
    const rs = this.results;
    if (cbs.length === 0) return;
    this.cbs = [];
    this.results = [];
    for (let i = 0; i < cbs.length; i++) cbs[i]!(rs[i]!);
  }
}
