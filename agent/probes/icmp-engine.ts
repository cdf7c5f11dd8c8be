// ICMP echo engine directly on raw-socket (not net-ping, whose defects the tests in
// test/integration/probes/ reproduce). One engine owns up to six raw sockets, opened lazily:
// IPv4 and IPv6, each with and without DF (DF is a per-socket option), plus one header-including socket per
// family for requests that name a source address (raw-socket has no bind(): we write the IP header).
// Matching: engine id (random, unique in the process) + sequence + source address, and a 32-bit tag in the
// payload so a late reply can never be taken for a newer request after the 16-bit sequence wraps.
// Start-up matters (the sweep is compared with fping as a whole process): measured on Node 20, importing
// node:crypto costs ~4-5 ms, node:net ~2-5 ms and node:worker_threads ~5 ms, so none is loaded here;
// node:os is loaded when a source address is first checked.
// The code lives in icmp/, one concern a file; this module is the API the rest of Pinger imports.
export { canonical6, ipBytes, ipv6Text, isIP, isLocalAddress } from './icmp/address.js';
export { IP4_HEADER, IP6_HEADER, pseudoHeaderSum6, writeIp4Header, writeIp6Header } from './icmp/build.js';
export { LAG_FLAG_MS } from './icmp/clock.js';
export { IcmpEngine, liveEngineCount } from './icmp/engine.js';
export { IcmpUnavailableError, type IcmpUnavailableCode } from './icmp/errors.js';
export { loadNative, stampSource } from './icmp/native.js';
export { classifyIcmpError, classifySendError, errnoOf, newParsed, parseIcmp, type ParsedIcmp, type ParsedKind } from './icmp/parse.js';
export { DEFAULT_SIZE, DEFAULT_WINDOW, type IcmpEngineOptions, type PingRequest, type PingResult } from './icmp/types.js';
