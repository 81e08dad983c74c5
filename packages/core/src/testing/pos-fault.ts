/** A fault the fake POS injects into the next matching request(s). */
export type PosFault =
  | { kind: 'rate_limit'; retryAfterSeconds?: number }
  | { kind: 'server_error'; status: 500 | 502 | 503 | 504 }
  /** Answers later than the adapter's timeout; a create is still carried out on the server. */
  | { kind: 'timeout' }
  /** Destroys the socket without an answer. */
  | { kind: 'reset' }
  /** A 200 whose body is not JSON. */
  | { kind: 'malformed_json' }
  /** A 200 in the right envelope whose fields have the wrong types (e.g. a quantity as a string). */
  | { kind: 'wrong_types' }
  /** The server does the work (e.g. creates the ticket) and then drops the connection before answering. */
  | { kind: 'lost_response' }
