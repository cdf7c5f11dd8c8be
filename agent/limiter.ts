// A concurrency cap: TCP connects above the peers' listen backlog turn into false timeouts, and too many
// ICMP echoes in flight inflate measured RTT by queueing in user space (measured: 256 in flight -> 8-13 ms on loopback, 16 -> under 1 ms).
export class Limiter {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  constructor(private readonly max: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((r) => this.queue.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }
}
