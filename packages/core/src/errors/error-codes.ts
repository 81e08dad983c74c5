/**
 * Stable error codes. Branch on `error.code`, never on the message.
 *
 * - `POS_UNAVAILABLE`: the POS could not be reached or asked us to slow down (network, timeout, 429, 5xx).
 *   Transient: retry later.
 * - `POS_REJECTED`: the POS refused the request (4xx validation, auth, unknown ticket). Permanent: dead-letter.
 * - `POS_INVALID_RESPONSE`: the POS answered with a body that does not match its contract. Permanent.
 */
export const OMS_ERROR_CODES = [
  'VALIDATION',
  'NOT_FOUND',
  'FORBIDDEN',
  'CONFLICT',
  'INVALID_TRANSITION',
  'INSUFFICIENT_STOCK',
  'RESERVATION_EXPIRED',
  'IDEMPOTENCY_MISMATCH',
  'INVALID_MACHINE',
  'POS_UNAVAILABLE',
  'POS_REJECTED',
  'POS_INVALID_RESPONSE',
  'INTERNAL',
] as const

export type OmsErrorCode = (typeof OMS_ERROR_CODES)[number]
