// The bandwidth sample's receiving end, on each binding address with a bandwidth condition: reads the
// sender's request (magic + window), counts and discards what comes in during the window, answers with the
// count and the window's real length, then resets. Bounded: at most `maxConns` at once (more are reset at
// once), a window of at most `maxMs`, a byte cap (rate cap x window x 2: a sender over it is cut off) and a
// time cap on the whole connection.
import { createServer, type Server, type Socket } from 'node:net';
import { listenServer } from './tcp-listen.js';
import { decodeRequest, encodeReply, REQUEST_BYTES } from './bandwidth-schedule.js';

export interface SinkOptions {
  address: string;
  port: number;
  /** The longest window a sender may ask for (the plan's seconds). */
  maxMs: number;
  /** Bytes one connection may send before it is cut off. */
  maxBytes: number;
  maxConns?: number;
}

export function listenSink(o: SinkOptions): Promise<{ close(): Promise<void> }> {
  const maxConns = o.maxConns ?? 4;
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sock.on('error', () => {});
    if (sockets.size >= maxConns) return void sock.resetAndDestroy();
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    // Request, window and reply, with room for a slow connect: past that the connection is dropped.
    const cap = setTimeout(() => sock.resetAndDestroy(), o.maxMs + 5000);
    sock.on('close', () => clearTimeout(cap));
    let head = Buffer.alloc(0);
    let windowMs: number | undefined;
    let bytes = 0;
    let first = 0;
    let total = 0;
    const finish = () => {
      if (sock.destroyed) return;
      const us = (performance.now() - first) * 1000;
      sock.write(encodeReply(bytes, us), () => sock.end());
      windowMs = -1; // counting stops; what still arrives is discarded
    };
    sock.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > o.maxBytes + REQUEST_BYTES) return void sock.resetAndDestroy();
      if (windowMs === undefined) {
        head = Buffer.concat([head, chunk]);
        if (head.length < REQUEST_BYTES) return;
        windowMs = decodeRequest(head, o.maxMs);
        if (windowMs === undefined) return void sock.resetAndDestroy();
        const rest = head.length - REQUEST_BYTES;
        head = Buffer.alloc(0);
        first = performance.now();
        bytes = rest;
        setTimeout(finish, windowMs).unref();
        return;
      }
      if (windowMs > 0) bytes += chunk.length;
    });
  });
  return listenServer(server, sockets, o.address, o.port, 64);
}
