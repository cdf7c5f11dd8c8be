// A node:net server listening on one address and port, closed by resetting its open connections (no
// TIME_WAIT kept on our side): the shape the TCP responders and the bandwidth sink share.
import type { Server, Socket } from 'node:net';

export interface TcpListener {
  close(): Promise<void>;
}

/** Listens; resolves once bound, rejects with the bind error (EADDRINUSE, EACCES). */
export function listenServer(server: Server, sockets: Set<Socket>, address: string, port: number, backlog: number): Promise<TcpListener> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port, backlog, exclusive: true }, () => {
      server.off('error', reject);
      server.on('error', () => {});
      resolve({
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.resetAndDestroy();
            server.close(() => r());
          }),
      });
    });
  });
}
