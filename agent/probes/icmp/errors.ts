// Why ICMP cannot run here at all (the icmp probe turns it into 'not-measured').
export type IcmpUnavailableCode =
  | 'PINGER_ERR_ICMP_NO_CAP_NET_RAW' // socket() said EPERM: no CAP_NET_RAW
  | 'PINGER_ERR_ICMP_WORKER_THREAD' // raw-socket polls on the main loop: crashes the process in a worker
  | 'PINGER_ERR_ICMP_SOCKET' // any other failure to open the socket
  | 'PINGER_ERR_ICMP_CLOSED'; // ping() after close()

/** ICMP cannot be measured by this engine here; the icmp probe turns this into 'not-measured'. */
export class IcmpUnavailableError extends Error {
  constructor(
    readonly code: IcmpUnavailableCode,
    message: string,
  ) {
    super(message);
    this.name = 'IcmpUnavailableError';
  }
}
