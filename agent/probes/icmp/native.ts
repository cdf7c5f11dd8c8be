// Pinger's own ICMP addon (agent/probes/native/) behind the engine's socket interface, and that interface.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

// ---------------------------------------------------------------------------------------------------------
// Sockets. Two native back ends behind one small interface:
//  - Pinger's own addon (agent/probes/native/icmp_ts.c, built by `npm ci` into native/build/Release/pinger_icmp.node): recvmsg()
//    with SO_TIMESTAMPNS gives the kernel's receive time of each reply, and the send time is read in C right
//    before sendto(), both CLOCK_REALTIME: the RTT is the kernel's, whatever the event loop was doing.
//  - raw-socket 1.8.1's SocketWrap (fallback when the addon is missing): a plain recvfrom(), so the receive
//    time is taken in JavaScript just before the read and includes any event-loop delay. Samples taken while
//    the loop lagged are flagged (`lagged`) so summaries can leave them out.

/** What the engine needs from a raw socket. Stamps are ms in the socket's own clock (see kernelStamps). */
export interface EngineSocket {
  /** true: recv() gives kernel receive stamps, comparable with send()'s stamps. */
  readonly kernelStamps: boolean;
  setOption(level: number, option: number, value: number | Buffer, length?: number): void;
  /** One sendto(); returns the send time. Throws the errno as an Error. */
  send(buf: Buffer, offset: number, length: number, address: string): number;
  /**
   * One read into buf; returns the source address text, or undefined when nothing is queued.
   * Fills rd: [bytes, kernel receive stamp (NaN without one), read time].
   */
  recv(buf: Buffer, rd: Float64Array): string | undefined;
  close(): void;
  onRecv: (() => void) | undefined;
  onError: ((err: Error) => void) | undefined;
}

export interface NativeIcmp {
  open(family: 4 | 6, protocol: number): object;
  setOption(h: object, level: number, option: number, value: number | Buffer): void;
  send(h: object, buf: Buffer, offset: number, length: number, address: string): number;
  recv(h: object, buf: Buffer, out: Float64Array): string | null;
  start(h: object, cb: (err?: Error) => void): void;
  close(h: object): void;
  now(): number;
}

let native: NativeIcmp | null | undefined;
/**
 * Pinger's addon, or null when it is not built (or PINGER_ICMP_NATIVE=off asks for the fallback). Looked up
 * relative to this module (agent/probes/icmp/): ../native/build beside it in the source tree (tsx) and in the
 * charm's stage (which copies the addon to dist/agent/probes/native/build); from dist/agent/probes/icmp/ (tsc
 * output) up to the repository's agent/probes/native/build; from dist/bundle/ (the bundle's chunks) likewise.
 */
export function loadNative(): NativeIcmp | null {
  if (native !== undefined) return native;
  native = null;
  if (process.env.PINGER_ICMP_NATIVE === 'off') return native;
  for (const rel of [
    '../native/build/Release/pinger_icmp.node',
    '../../../../agent/probes/native/build/Release/pinger_icmp.node',
    '../../agent/probes/native/build/Release/pinger_icmp.node',
  ]) {
    try {
      native = require(rel) as NativeIcmp;
      break;
    } catch {
      // not there: try the next place, else fall back to raw-socket
    }
  }
  return native;
}

/** Which receive stamps this process's engines use: 'kernel' (the addon) or 'loop' (raw-socket fallback). */
export function stampSource(): 'kernel' | 'loop' {
  return loadNative() ? 'kernel' : 'loop';
}

export class NativeSocket implements EngineSocket {
  readonly kernelStamps = true;
  onRecv: (() => void) | undefined;
  onError: ((err: Error) => void) | undefined;
  private readonly h: object;
  constructor(
    private readonly n: NativeIcmp,
    family: 4 | 6,
  ) {
    this.h = n.open(family, family === 6 ? 58 : 1);
    try {
      n.start(this.h, (err) => {
        if (err) {
          // As raw-socket does: a poll error closes the socket.
          this.close();
          this.onError?.(err);
        } else this.onRecv?.();
      });
    } catch (e) {
      n.close(this.h);
      throw e;
    }
  }
  setOption(level: number, option: number, value: number | Buffer): void {
    this.n.setOption(this.h, level, option, value);
  }
  send(buf: Buffer, offset: number, length: number, address: string): number {
    return this.n.send(this.h, buf, offset, length, address);
  }
  recv(buf: Buffer, rd: Float64Array): string | undefined {
    return this.n.recv(this.h, buf, rd) ?? undefined;
  }
  close(): void {
    this.n.close(this.h);
  }
}
