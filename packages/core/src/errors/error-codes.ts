/**
 * Stable error codes. Branch on `error.code`, never on the message.
 *
 * - `POS_UNAVAILABLE`: the POS could not be reached or asked us to slow down (network, timeout, 429, 5xx).
 *   Transient: retry later.
 * - `POS_REJECTED`: the POS refused the request (4xx validation, auth, unknown ticket). Permanent: dead-letter.
 * - `POS_INVALID_RESPONSE`: the POS answered with a body that does not match its contract. Permanent.
 * - `STORAGE_NOT_MIGRATED`: a Peak OMS table or column is missing: call the storage's `migrateToLatest()`.
 * - `STORAGE_CLOSED`: the storage was used after `close()` (or its pool/database was closed under it).
 * - `STORAGE_UNAVAILABLE`: the database could not be reached or opened (connection refused, unknown host,
 *   timeout, too many clients, credentials refused, a file that cannot be opened). Retry once it is fixed.
 * - `STORAGE_ERROR`: any other database failure; the message says what failed.
 * - `SCAN_REJECTED`: a fulfillment scan was refused (`details.reason`: `wrong_item` when the code is no item
 *   of the fulfillment, `over_scan` when the line is already fully picked); nothing was picked.
 * - `CONFIGURATION`: an adapter was set up with an invalid option; the message names the field.
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
  'SCAN_REJECTED',
  'POS_UNAVAILABLE',
  'POS_REJECTED',
  'POS_INVALID_RESPONSE',
  'STORAGE_NOT_MIGRATED',
  'STORAGE_CLOSED',
  'STORAGE_UNAVAILABLE',
  'STORAGE_ERROR',
  'CONFIGURATION',
  'INTERNAL',
] as const

export type OmsErrorCode = (typeof OMS_ERROR_CODES)[number]
