// The fallback socket: raw-socket 1.8.1's native SocketWrap (receive time taken in JavaScript).
import { createRequire } from 'node:module';
import { nowMs, watchLoopLag } from './clock.js';
import type { EngineSocket } from './native.js';

const require = createRequire(import.meta.url);
const noop = (): void => {};

export class RawSocketAdapter implements EngineSocket {
  readonly kernelStamps = false;
  onRecv: (() => void) | undefined;
  onError: ((err: Error) => void) | undefined;
  private readonly s: RawSocket;
  private rd: Float64Array | undefined;
  private src: string | undefined;
  constructor(family: 4 | 6) {
    this.s = new (loadRaw())(family === 6 ? 58 : 1, family === 6 ? 2 : 1);
    this.s.onRecv = () => this.onRecv?.();
    this.s.onError = (err) => this.onError?.(err);
    watchLoopLag();
  }
  setOption(level: number, option: number, value: number | Buffer, length?: number): void {
    if (length === undefined) this.s.setOption(level, option, value);
    else this.s.setOption(level, option, value, length);
  }
  send(buf: Buffer, offset: number, length: number, address: string): number {
    const at = nowMs();
    this.s.send(buf, offset, length, address, noop);
    return at;
  }
  recv(buf: Buffer, rd: Float64Array): string | undefined {
    this.rd = rd;
    this.src = undefined;
    // Stamp before the read, not in its callback: keeps raw-socket's callback path (and its first-call
    // compilation) out of the RTT. Every send happened before this line, so the send stamp <= this one.
    rd[2] = nowMs();
    try {
      this.s.recv(buf, this.onRead);
    } catch {
      return undefined; // EAGAIN: drained
    }
    return this.src;
  }
  private readonly onRead = (_buf: Buffer, bytes: number, source: string): void => {
    this.rd![0] = bytes;
    this.rd![1] = NaN;
    this.src = source;
  };
  close(): void {
    this.s.close();
  }
}

// raw-socket 1.8.1's native SocketWrap, used without the package's index.js (which loads node:net and
// node:util for what we do not use). Its send() is a synchronous sendto(), recv() one recvfrom() that throws
// on EAGAIN; the addon reports readiness and errors by calling this.emit('recvReady' | 'error' | 'close').

interface RawSocket {
  send(buf: Buffer, offset: number, length: number, address: string, cb: (bytes: number) => void): void;
  recv(buf: Buffer, cb: (buf: Buffer, bytes: number, source: string) => void): void;
  setOption(level: number, option: number, value: number | Buffer, length?: number): void;
  close(): void;
  emit(event: string, arg?: unknown): void;
  onRecv: (() => void) | undefined;
  onError: ((err: Error) => void) | undefined;
}
type SocketWrapClass = new (protocol: number, family: 1 | 2) => RawSocket;

let SocketWrap: SocketWrapClass | undefined;
function loadRaw(): SocketWrapClass {
  // Loaded lazily so that merely importing this file from a worker_thread does not load the addon.
  if (!SocketWrap) {
    const cls = (require('raw-socket/build/Release/raw.node') as { SocketWrap: SocketWrapClass }).SocketWrap;
    cls.prototype.emit = function (this: RawSocket, event: string, arg?: unknown): void {
      if (event === 'recvReady') this.onRecv?.();
      else if (event === 'error') {
        // As raw-socket's own wrapper does: a poll error closes the socket.
        this.close();
        this.onError?.(arg instanceof Error ? arg : new Error(String(arg)));
      }
    };
    SocketWrap = cls;
  }
  return SocketWrap;
}
