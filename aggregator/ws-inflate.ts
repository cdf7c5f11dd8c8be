// Agents' compressed messages inflated in one synchronous call each, not through a zlib stream.
//
// ws inflates every compressed message through a zlib stream per connection: a write of the data, a write of the
// deflate trailer and a flush, each a trip through libuv's thread pool and the stream machinery, and one more for
// every 16 KiB of output. At 1,000 agents a 41 KiB results frame (2.6 KiB deflated) cost 200-250 us of CPU that way
// against 25-38 us in one inflateRawSync (test/bench/inflate-cost.ts); with compression on, a round at 1,000 x 6
// took 1.9-2.8 s of the aggregator's CPU, and 1.2-1.8 s this way (BENCHMARKS.md AFTER 11). ws offers no option for it, so this replaces the decompress step
// of its server-side PerMessageDeflate where the aggregator asked agents for client_no_context_takeover (every
// message then stands alone; server.ts): the same bounds, the same close codes as ws's own path (1009 over the
// payload bound, 1007 for bad deflate data: ws's own path reads such a message again). A fragmented message keeps ws's stream path.
//
// The work is bounded: at most the frame bound (2 MiB, limits.resultsBytes) of output a message (~6 ms for a 3 KB bomb), refused past
// it (maxOutputLength), like a JSON.parse of the same bytes. The result is handed back on the next tick, as ws's own
// path does, so a TCP chunk of many small compressed frames does not nest one receive loop in another.
import { constants, inflateRawSync } from 'node:zlib';
import WebSocket from 'ws';

type Callback = (err: Error | null, data?: Buffer) => void;
interface Pmd {
  _isServer: boolean;
  _maxPayload: number;
  params: Record<string, number | boolean | undefined> | null;
  decompress(data: Buffer, fin: boolean, cb: Callback): void;
}

const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);
/** Set on an instance while a fragmented message goes through ws's stream path. */
const kStreamed = Symbol('pinger-streamed');
let installed = false;
/** Messages inflated here, for the test that shows this path (not ws's) took them. */
export const inflated = { messages: 0 };

/** Installs the synchronous path (once a process); returns whether it is in place. */
export function installSyncInflate(): boolean {
  if (installed) return true;
  const proto = (WebSocket as unknown as { PerMessageDeflate?: { prototype: Pmd } }).PerMessageDeflate?.prototype;
  if (!proto || typeof proto.decompress !== 'function') return false;
  const streamed = proto.decompress;
  proto.decompress = function (this: Pmd & { [kStreamed]?: boolean }, data: Buffer, fin: boolean, cb: Callback) {
    if (!this._isServer || this.params?.client_no_context_takeover !== true || !fin || this[kStreamed]) {
      this[kStreamed] = !fin; // a fragmented message: all of its fragments take ws's path
      return streamed.call(this, data, fin, cb);
    }
    const bits = this.params.client_max_window_bits;
    let out: Buffer;
    try {
      out = inflateRawSync(Buffer.concat([data, TRAILER]), {
        windowBits: typeof bits === 'number' ? bits : constants.Z_DEFAULT_WINDOWBITS,
        finishFlush: constants.Z_SYNC_FLUSH,
        chunkSize: 64 * 1024,
        ...(this._maxPayload > 0 ? { maxOutputLength: this._maxPayload } : {}),
      });
    } catch {
      // Over the payload bound or not deflate data: ws's own path reads it again and closes as ws does (1009,
      // 1007). A peer's fault and rare, so reading twice (bounded: at most the payload bound) costs nothing that matters.
      return streamed.call(this, data, fin, cb);
    }
    inflated.messages++;
    process.nextTick(cb, null, out);
  };
  installed = true;
  return true;
}
