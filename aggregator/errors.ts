// The aggregator's error catalogue: stable codes, with the WebSocket close code (4000-4999 belong to
// applications) or HTTP status each one is sent with. The README's table is checked against this list.
export const aggregatorErrors = {
  PINGER_ERR_AUTH_TOKEN: { http: 401, message: 'missing or wrong agent token' },
  PINGER_ERR_WS_BAD_MESSAGE: { close: 4400, message: 'message failed validation' },
  PINGER_ERR_WS_NODE_MISMATCH: { close: 4403, message: 'message names another node than the hello did' },
  PINGER_ERR_WS_UNKNOWN_NODE: { close: 4404, message: 'node is not in the inventory' },
  PINGER_ERR_WS_HELLO_TIMEOUT: { close: 4408, message: 'no hello within 10 s of connecting' },
  PINGER_ERR_WS_REPLACED: { close: 4409, message: 'a newer connection for the same node replaced this one' },
  PINGER_ERR_WS_VERSION: { close: 4426, message: 'unsupported wire version' },
  PINGER_ERR_HTTP_BAD_QUERY: { http: 400, message: 'bad query parameter' },
  PINGER_ERR_HTTP_NOT_FOUND: { http: 404, message: 'no such binding, node or pair' },
  PINGER_ERR_AGG_USAGE: { message: 'bad command-line arguments' },
  PINGER_ERR_AGG_TOKEN: { message: 'cannot read the token file, or it is empty' },
  PINGER_ERR_AGG_PROFILE: { message: 'unknown or invalid profile' },
  PINGER_ERR_RELOAD_REFUSED: { http: 422, message: 'a reload found an invalid inventory or profile; the running ones stay' },
} as const satisfies Record<string, { message: string; close?: number; http?: number }>;

export type AggregatorErrorCode = keyof typeof aggregatorErrors;

/** Close codes the agent treats as final (it stops rather than reconnecting in a loop). */
export const finalCloseCodes: ReadonlySet<number> = new Set([4403, 4404, 4426]);
