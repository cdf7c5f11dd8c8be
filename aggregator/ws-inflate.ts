// Agents' compressed messages inflated in one synchronous call each, not through a zlib stream.
//
// ws inflates every compressed message through a zlib stream per connection: a write of the data, a write of the
// deflate trailer and a flush, each a trip through libuv's thread pool and the stream machinery, and one more for
// every 16 KiB of output. At 1,000 agents a 41 KiB results frame (2.6 KiB deflated) cost 201-253 us of CPU that way
// against 25-38 us in one call (test/bench/inflate-cost.ts); with compression on, a round after the first at
// 1,000 x 6 took 1.91-2.77 s of the aggregator's CPU, and 1.08-1.78 s this way (BENCHMARKS.md AFTER 11). ws offers
// no option for it, so this replaces the decompress step of its server-side PerMessageDeflate where the aggregator
// asked agents for client_no_context_takeover (every message then stands alone; server.ts). The bounds and close
// codes are ws's own: a message over the payload bound (1009) or that is not deflate data (1007) goes back to ws's
// path, which reads it again and refuses it. A fragmented message keeps ws's stream path.
//
// The work is bounded: at most the frame bound (2 MiB, limits.resultsBytes) of output a message (~6 ms for a 3 KB
// bomb), refused past it (maxOutputLength), like a JSON.parse of the same bytes. The result is handed back on the
// next tick, as ws's own path does, so a TCP chunk of many small compressed frames does not nest one receive loop in
// another.
import { constants, inflateRawSync } from 'node:zlib';
// The module's named export: ws's ESM entry does not hang PerMessageDeflate on the WebSocket class (only its CJS
// index does, as a side effect another package's require used to provide).
import * as ws from 'ws';

type Callback = (err: Error | null, data?: Buffer) => void;
interface Pmd {
  _isServer: boolean;
  _maxPayload: number;
  params: Record<string, number | boolean | undefined> | null;
  decompress(data: Buffer, fin: boolean, cb: Callback): void;
}

/** The empty stored block a permessage-deflate sender cuts off each message (RFC 7692 7.2.1). */
export const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);
/** Set on an instance while a fragmented message goes through ws's stream path. */
const kStreamed = Symbol('pinger-streamed');
let installed = false;
/** Messages inflated here, for the test that shows this path (not ws's) took them. */
export const inflated = { messages: 0 };

/** One whole message as a permessage-deflate sender sends it (its 4-byte sync-flush trailer cut off), inflated. */
export function inflateMessage(data: Buffer, windowBits: number, maxBytes: number): Buffer {
  return inflateRawSync(Buffer.concat([data, TRAILER]), {
    windowBits,
    finishFlush: constants.Z_SYNC_FLUSH,
    chunkSize: 64 * 1024,
    ...(maxBytes > 0 ? { maxOutputLength: maxBytes } : {}),
  });
}

/** Installs the synchronous path (once a process); returns whether it is in place. */
export function installSyncInflate(): boolean {
  if (installed) return true;
  const proto = (ws as unknown as { PerMessageDeflate?: { prototype: Pmd } }).PerMessageDeflate?.prototype;
  if (!proto || typeof proto.decompress !== 'function') return false;
  const streamed = proto.decompress;
  proto.decompress = function (this: Pmd & { [kStreamed]?: boolean }, data: Buffer, fin: boolean, cb: Callback) {
    if (!this._isServer || this.params?.client_no_context_takeover !== true) return streamed.call(this, data, fin, cb);
    // A fragmented message: all of its fragments take ws's path.
    if (!fin || this[kStreamed]) {
      this[kStreamed] = !fin;
      return streamed.call(this, data, fin, cb);
    }
    const bits = this.params.client_max_window_bits;
    let out: Buffer;
    try {
      out = inflateMessage(data, typeof bits === 'number' ? bits : constants.Z_DEFAULT_WINDOWBITS, this._maxPayload);
    } catch {
      // Over the payload bound or not deflate data: ws's path reads it again and closes as ws does. A peer's fault
      // and rare, so reading twice (bounded: at most the payload bound) costs nothing that matters.
      return streamed.call(this, data, fin, cb);
    }
    inflated.messages++;
    process.nextTick(cb, null, out);
  };
  installed = true;
  return true;
}
