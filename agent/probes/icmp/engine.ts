// The ICMP echo engine: one engine owns up to six raw sockets (see sockets.ts), a FIFO queue with an in-flight
// window, one timer for the earliest deadline, and matches replies by id + sequence + source + payload tag.
import { allocId, releaseId, SequenceCounter } from './ids.js';
import { EchoTemplates, IP4_HEADER, IP6_HEADER, stampEcho } from './build.js';
import { noteLoopLag, nowMs } from './clock.js';
import { IcmpUnavailableError } from './errors.js';
import type { EngineSocket } from './native.js';
import { classifyIcmpError, classifySendError, errnoOf, newParsed, parseIcmp } from './parse.js';
import { checkRequest, type Pending } from './request.js';
import { rttOf } from './rtt.js';
import { Deliveries } from './deliveries.js';
import { configureSocket, openSocket, familyOfSlot, isMainThread, SLOTS, slotOf, type Slot } from './sockets.js';
import { DEFAULT_WINDOW, RECV_BUFFER, type IcmpEngineOptions, type PingRequest, type PingResult } from './types.js';

// Engines with an open socket. The native socket wrap is weakly held by V8, so without this a pending ping
// whose engine the caller dropped could be collected: callbacks would never fire (net-ping defect 5).
const liveEngines = new Set<IcmpEngine>();

export class IcmpEngine {
  /** ICMP identifier of this engine's echoes (random, unique in this process). */
  readonly id: number;
  readonly window: number;
  private readonly idleCloseMs: number;
  /** true once a socket opened; false once that failed for lack of CAP_NET_RAW (or in a worker). */
  available: boolean | undefined;
  private unavailable: IcmpUnavailableError | undefined;
  private closed = false;

  private readonly sockets: (EngineSocket | undefined)[] = new Array<EngineSocket | undefined>(SLOTS).fill(undefined);
  private readonly inflight = new Map<number, Pending>(); // by sequence number
  private queue: Pending[] = [];
  private qHead = 0;
  private readonly seqs = new SequenceCounter();
  private pumping = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private idleTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly templates: EchoTemplates;
  private readonly recvBuf = Buffer.allocUnsafe(RECV_BUFFER);
  private readonly parsed = newParsed();
  private readMono = 0; // nowMs(), taken just before each read: the packet read was queued by then
  private readonly rd = new Float64Array(3); // [bytes, kernel receive stamp, read time] of the last read
  private readonly done = new Deliveries(); // results wait there until we are out of native callbacks

  constructor(opts: IcmpEngineOptions = {}) {
    this.window = Math.max(1, Math.floor(opts.window ?? DEFAULT_WINDOW));
    this.idleCloseMs = opts.idleCloseMs ?? 1000;
    this.id = allocId();
    this.templates = new EchoTemplates(this.id);
  }

  get isClosed(): boolean {
    return this.closed;
  }
  get inFlight(): number {
    return this.inflight.size;
  }
  get queued(): number {
    return this.queue.length - this.qHead;
  }

  /**
   * Opens the socket a request would use, so that missing privileges show before a sweep starts.
   * Throws IcmpUnavailableError.
   */
  open(family: 4 | 6, df = false): void {
    this.socketFor(slotOf(family, df, false));
    this.maybeIdle(); // an opened but unused socket must not keep the process alive
  }

  /** Resolves with the outcome; rejects only with IcmpUnavailableError (ICMP cannot run here at all). */
  ping(req: PingRequest): Promise<PingResult> {
    return new Promise((resolve, reject) => {
      const err = this.submit(req, resolve);
      if (err) reject(err);
    });
  }

  /**
   * Callback form of ping() (no promise per request, for sweeps). Returns an IcmpUnavailableError instead of
   * calling cb when ICMP cannot run here; otherwise cb is called exactly once, never synchronously.
   */
  submit(req: PingRequest, cb: (r: PingResult) => void): IcmpUnavailableError | undefined {
    if (this.closed) return new IcmpUnavailableError('PINGER_ERR_ICMP_CLOSED', 'the ICMP engine is closed');
    const p = checkRequest(req, cb);
    if (typeof p === 'string') return this.deliverLater(cb, { outcome: 'error', detail: p });

    const slot = slotOf(p.family, p.df, p.src !== undefined);
    try {
      this.socketFor(slot);
    } catch (e) {
      if (e instanceof IcmpUnavailableError) return e;
      throw e;
    }
    if (req.signal?.aborted) return this.deliverLater(cb, { outcome: 'error', detail: 'aborted' });
    if (p.signal) {
      p.onAbort = () => {
        this.settle(p, { outcome: 'error', detail: 'aborted' });
        this.done.flush();
      };
      p.signal.addEventListener('abort', p.onAbort, { once: true });
    }
    this.cancelIdle();
    if (this.qHead === this.queue.length && this.inflight.size < this.window && !this.retryTimer && !this.pumping) {
      this.send(p); // nothing waits ahead of it: skip the queue (a sweep's common case, measured cheaper cold)
    } else {
      this.queue.push(p);
      this.pump();
    }
    // A send can fail at once (e.g. EMSGSIZE); the callback still must not run inside submit().
    if (this.done.waiting > 0) this.done.schedule();
    return undefined;
  }

  /** Closes the sockets now; pending and queued pings end with outcome 'error'. The engine is finished. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const r: PingResult = { outcome: 'error', detail: 'PINGER_ERR_ICMP_CLOSED' };
    for (const p of [...this.inflight.values(), ...this.queue.slice(this.qHead)]) this.settle(p, r, false);
    this.closeSockets();
    releaseId(this.id);
    this.done.schedule();
  }

  // -- sockets ------------------------------------------------------------------------------------------

  private socketFor(slot: Slot): EngineSocket {
    const family = familyOfSlot(slot);
    const existing = this.sockets[slot];
    if (existing) return existing;
    if (this.unavailable) throw this.unavailable;
    if (!isMainThread()) {
      // Measured: raw-socket registers its poll handle on the main thread's loop; used from a worker the
      // whole process dies ("symbol lookup error"), or loading fails with "Module did not self-register".
      this.markUnavailable(new IcmpUnavailableError('PINGER_ERR_ICMP_WORKER_THREAD', 'raw ICMP sockets cannot be used from a worker_thread'));
    }
    let sock: EngineSocket;
    try {
      sock = openSocket(family);
    } catch (e) {
      // No CAP_NET_RAW will not change: every later request fails the same way.
      if (e instanceof IcmpUnavailableError && e.code === 'PINGER_ERR_ICMP_NO_CAP_NET_RAW') this.markUnavailable(e);
      throw e;
    }
    configureSocket(sock, slot);
    sock.onRecv = () => this.onReadable(sock, slot, family);
    sock.onError = (err: Error) => this.onSocketError(slot, err);
    this.sockets[slot] = sock;
    this.available = true;
    liveEngines.add(this);
    return sock;
  }

  private markUnavailable(e: IcmpUnavailableError): never {
    this.available = false;
    this.unavailable = e;
    throw e;
  }

  private closeSockets(): void {
    for (let i = 0; i < SLOTS; i++) {
      const s = this.sockets[i];
      this.sockets[i] = undefined;
      if (s) s.close();
    }
    for (const t of [this.timer, this.idleTimer, this.retryTimer]) if (t) clearTimeout(t);
    this.timer = this.idleTimer = this.retryTimer = undefined;
    this.timerAt = Infinity;
    liveEngines.delete(this);
  }

  private onSocketError(slot: Slot, err: Error): void {
    // raw-socket closes the socket after an 'error'; end what was on it and reopen on the next request.
    this.sockets[slot] = undefined;
    for (const p of [...this.inflight.values()]) {
      if (slotOf(p.family, p.df, p.src !== undefined) === slot) this.settle(p, { outcome: 'error', detail: `socket error: ${err.message}` });
    }
    this.maybeIdle();
    this.done.flush();
  }

  private cancelIdle(): void {
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
  }

  private maybeIdle(): void {
    if (this.inflight.size > 0 || this.queued > 0 || this.idleTimer || this.idleCloseMs < 0 || this.closed) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.inflight.size === 0 && this.queued === 0) this.closeSockets();
    }, this.idleCloseMs);
  }

  // -- send -------------------------------------------------------------------------------------------------

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.inflight.size < this.window && this.qHead < this.queue.length && !this.retryTimer) {
        const p = this.queue[this.qHead]!;
        this.queue[this.qHead++] = undefined as unknown as Pending; // let settled requests be collected
        if (!p.done) this.send(p);
      }
      if (this.qHead === this.queue.length) {
        this.queue = [];
        this.qHead = 0;
      } else if (this.qHead > 4096 && this.qHead * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.qHead);
        this.qHead = 0;
      }
    } finally {
      this.pumping = false;
    }
  }

  private send(p: Pending): void {
    const slot = slotOf(p.family, p.df, p.src !== undefined);
    const sock = this.sockets[slot];
    if (!sock) {
      // The socket failed since the request was queued; reopen (or report why not).
      try {
        this.socketFor(slot);
      } catch (e) {
        this.settle(p, { outcome: 'not-measured', detail: e instanceof Error ? e.message : String(e) });
        return;
      }
      this.send(p);
      return;
    }
    const c = this.seqs.next(this.inflight);
    const seq = c & 0xffff;
    const tag = Math.floor(c / 0x10000) >>> 0;
    const hdr = p.src === undefined ? 0 : p.family === 4 ? IP4_HEADER : IP6_HEADER;
    const { buf, sum } = this.templates.get(p.family, p.size, hdr);
    stampEcho(buf, sum, hdr, seq, tag, p);
    p.seq = seq;
    p.tag = p.size >= 12 ? tag : -1;
    this.inflight.set(seq, p);
    p.sentAt = nowMs();
    try {
      p.txAt = sock.send(buf, 0, hdr + p.size, p.sendTo);
    } catch (e) {
      this.inflight.delete(seq);
      p.seq = -1;
      const errno = errnoOf(e);
      if (errno === 'EAGAIN' || errno === 'ENOBUFS') {
        // Socket buffer full: put it back at the head and try again shortly. (A request that skipped the
        // queue finds it empty: qHead is 0 then.)
        if (this.qHead > 0) this.queue[--this.qHead] = p;
        else this.queue.unshift(p);
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.pump();
          this.done.flush();
        }, 1);
        return;
      }
      this.settle(p, classifySendError(errno, hdr > 0 && !p.df ? p.size : 0));
      return;
    }
    p.deadline = p.sentAt + p.timeoutMs; // counted from the send, as the RTT is (sendto() did not fail)
    if (p.deadline < this.timerAt) this.armTimer(p.deadline);
  }

  // -- timeouts -----------------------------------------------------------------------------------------

  private armTimer(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.onTimer, Math.max(0, Math.ceil(at - nowMs())));
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    let now = nowMs();
    // libuv runs timers before it polls for I/O: after the process was starved of CPU (many agents on few
    // cores) a reply that arrived long ago may still sit in the socket. Read what is there before a
    // deadline counts, so a busy prober does not report loss that never happened.
    for (const p of this.inflight.values()) {
      if (p.deadline <= now) {
        this.drainAll();
        now = nowMs();
        break;
      }
    }
    let next = Infinity;
    // The window bounds the map, so a full scan is cheap.
    for (const p of this.inflight.values()) {
      if (p.deadline <= now) this.settle(p, { outcome: 'filtered', detail: 'timeout' }, false);
      else if (p.deadline < next) next = p.deadline;
    }
    if (next < Infinity && next < this.timerAt) this.armTimer(next);
    this.pump();
    this.maybeIdle();
    this.done.flush();
  };

  // -- receive --------------------------------------------------------------------------------------------

  private onReadable(sock: EngineSocket, slot: Slot, family: 4 | 6): void {
    // uv_poll is level-triggered: draining several packets per wake-up saves event-loop turns; the bound
    // keeps one busy socket from starving timers.
    this.drain(sock, slot, family, 64);
    this.pump();
    this.maybeIdle();
    this.done.flush();
  }

  /** Reads every socket until it is empty (bounded: a flood cannot keep us here). */
  private drainAll(): void {
    for (let slot = 0 as Slot; slot < SLOTS; slot++) {
      const sock = this.sockets[slot];
      if (sock) this.drain(sock, slot, familyOfSlot(slot), 4096);
    }
  }

  private drain(sock: EngineSocket, slot: Slot, family: 4 | 6, max: number): void {
    if (!sock.kernelStamps) this.loopLaggedAt = noteLoopLag();
    for (let i = 0; i < max; i++) {
      // Every send happened before this line, so sentAt <= readMono.
      this.readMono = nowMs();
      let source: string | undefined;
      try {
        source = sock.recv(this.recvBuf, this.rd);
      } catch {
        break; // a read error other than EAGAIN: the poll reports it
      }
      if (source === undefined) break; // drained
      this.onPacket(family, this.recvBuf, this.rd[0]!, source, sock.kernelStamps);
      // Never read again from a socket closed meanwhile: raw-socket's recv() would silently reopen it.
      if (this.sockets[slot] !== sock) break;
    }
  }

  private loopLaggedAt = -Infinity;

  private onPacket(family: 4 | 6, buf: Buffer, bytes: number, source: string, kernel: boolean): void {
    const m = parseIcmp(family, buf, bytes, this.parsed);
    if (m.kind === 'none' || m.id !== this.id) return;
    const p = this.inflight.get(m.seq);
    if (!p || p.family !== family) return;
    if (m.tag !== -1 && p.tag !== -1 && m.tag !== p.tag) return; // a late reply to an older request
    if (m.kind === 'reply') {
      if (source !== p.target) return; // a reply must come from the target itself
      if (m.bytes !== p.size) {
        this.settle(p, { outcome: 'error', detail: `short-reply ${m.bytes} of ${p.size} bytes` });
        return;
      }
      const r = rttOf(this.rd, this.readMono, p.sentAt, p.txAt, this.loopLaggedAt, kernel);
      r.bytes = m.bytes;
      this.settle(p, r);
      return;
    }
    if (m.origDst !== p.target) return; // errors come from anywhere on the path; match what they quote
    this.settle(p, classifyIcmpError(family, m, source));
  }

  // -- completion -----------------------------------------------------------------------------------------

  /** Hands r to cb after the current call returns; returns undefined so submit() can `return` it. */
  private deliverLater(cb: (r: PingResult) => void, r: PingResult): undefined {
    this.done.push(cb, r);
    this.done.schedule();
    return undefined;
  }

  private settle(p: Pending, r: PingResult, pump = true): void {
    if (p.done) return;
    p.done = true;
    if (p.seq >= 0 && this.inflight.get(p.seq) === p) this.inflight.delete(p.seq);
    if (p.onAbort) p.signal!.removeEventListener('abort', p.onAbort);
    p.onAbort = undefined;
    p.signal = undefined;
    this.done.push(p.cb, r);
    if (pump) {
      if (this.qHead < this.queue.length) this.pump();
      if (this.inflight.size === 0) this.maybeIdle();
    }
  }
}

/** For tests and diagnostics: engines currently holding sockets. */
export function liveEngineCount(): number {
  return liveEngines.size;
}
