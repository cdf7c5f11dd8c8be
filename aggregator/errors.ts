// The aggregator's error catalogue: stable codes, with the WebSocket close code (4000-4999 belong to
// applications) or HTTP status each one is sent with. The README's table is checked against this list.
export const aggregatorErrors = {
  PINGER_ERR_AUTH_TOKEN: { http: 401, message: "missing or wrong credential: an agent's node credential, or the cluster secret for admin routes" },
  PINGER_ERR_AUTH_READ: { http: 401, message: 'read routes need the read token (HTTP Basic password, or Bearer)' },
  PINGER_ERR_WS_BAD_MESSAGE: { close: 4400, message: 'message failed validation' },
  PINGER_ERR_WS_NODE_MISMATCH: { close: 4403, message: "message names another node than the connection's credential" },
  PINGER_ERR_WS_UNKNOWN_NODE: { close: 4404, message: 'node is not in the inventory' },
  PINGER_ERR_WS_HELLO_TIMEOUT: { close: 4408, message: 'no hello within 10 s of connecting' },
  PINGER_ERR_WS_REPLACED: { close: 4409, message: 'a newer connection for the same node replaced this one' },
  PINGER_ERR_WS_VERSION: { close: 4426, message: 'unsupported wire version' },
  PINGER_ERR_WS_TOO_LARGE: { close: 4413, message: 'a message exceeds the size or nesting bound' },
  PINGER_ERR_WS_INTERNAL: { close: 4500, message: 'handling a message failed unexpectedly; only this connection is closed' },
  // ws closes these itself (1002 protocol, 1007 bad UTF-8, 1009 too big) before any message reaches us.
  PINGER_ERR_WS_PROTOCOL: { message: 'a frame broke the WebSocket protocol' },
  PINGER_ERR_HTTP_BAD_QUERY: { http: 400, message: 'bad query parameter' },
  PINGER_ERR_HTTP_NOT_FOUND: { http: 404, message: 'no such binding, node or pair' },
  PINGER_ERR_AGG_USAGE: { message: 'bad command-line arguments' },
  PINGER_ERR_AGG_TOKEN: { message: 'cannot read the token file, or it is empty' },
  PINGER_ERR_AGG_TLS: { message: 'no --tls-cert/--tls-key (and no --plain), or they cannot be read or used' },
  PINGER_ERR_AGG_PROFILE: { message: 'unknown or invalid profile' },
  PINGER_ERR_RELOAD_REFUSED: { http: 422, message: 'a reload found an invalid inventory or profile; the running ones stay' },
  PINGER_ERR_AGG_LISTEN: { message: 'cannot listen on an address (in use, not on this host, or not allowed)' },
} as const satisfies Record<string, { message: string; close?: number; http?: number }>;

export type AggregatorErrorCode = keyof typeof aggregatorErrors;

/** What pinger_agent_messages_rejected_total counts, by code (a closed set: the metric's `code` label). */
export const rejectCodes = [
  'PINGER_ERR_AUTH_TOKEN',
  'PINGER_ERR_WS_BAD_MESSAGE',
  'PINGER_ERR_WS_TOO_LARGE',
  'PINGER_ERR_WS_NODE_MISMATCH',
  'PINGER_ERR_WS_UNKNOWN_NODE',
  'PINGER_ERR_WS_HELLO_TIMEOUT',
  'PINGER_ERR_WS_VERSION',
  'PINGER_ERR_WS_PROTOCOL',
  'PINGER_ERR_WS_INTERNAL',
] as const satisfies readonly AggregatorErrorCode[];
export type RejectCode = (typeof rejectCodes)[number];

// Aggregator codes are PingerError codes too (agent/contract/errors.ts): a typo fails the type check.
declare module '../agent/contract/errors.js' {
  interface ErrorCatalogues extends Record<AggregatorErrorCode, true> {}
}
