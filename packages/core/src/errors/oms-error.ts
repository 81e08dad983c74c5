import type { OmsErrorCode } from './error-codes'

const OMS_ERROR = Symbol.for('@peak-oms/error')

export interface OmsErrorOptions {
  cause?: unknown
  /** Ids and numbers a UI needs. Never PII or credentials. */
  details?: Record<string, unknown>
}

/**
 * Base class of every error Peak OMS throws on purpose. `isOmsError` recognises it across duplicate
 * copies of the package (the brand is a global symbol).
 */
export class OmsError extends Error {
  readonly [OMS_ERROR] = true
  readonly code: OmsErrorCode
  readonly details: Record<string, unknown>

  constructor(code: OmsErrorCode, message: string, options: OmsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.details = options.details ?? {}
  }

  toJSON(): { name: string; code: OmsErrorCode; message: string; details: Record<string, unknown> } {
    return { name: this.name, code: this.code, message: this.message, details: this.details }
  }
}

export const isOmsError = (error: unknown): error is OmsError =>
  typeof error === 'object' && error !== null && OMS_ERROR in error

/** One bad field of a rejected input. `path` is dotted (`lines.0.quantity`). */
export interface FieldIssue {
  path: string
  message: string
}

export class ValidationError extends OmsError {
  readonly issues: readonly FieldIssue[]

  constructor(what: string, issues: readonly FieldIssue[], options: { cause?: unknown } = {}) {
    const list = issues.map((issue) => `${issue.path || '(root)'}: ${issue.message}`).join('; ')
    super('VALIDATION', `invalid ${what}: ${list}`, { cause: options.cause, details: { issues } })
    this.issues = issues
  }
}

export class NotFoundError extends OmsError {
  constructor(entity: string, id: string) {
    super('NOT_FOUND', `${entity} ${id} was not found`, { details: { entity, id } })
  }
}

export class ForbiddenError extends OmsError {
  constructor(action: string, details: Record<string, unknown> = {}) {
    super('FORBIDDEN', `not allowed to ${action}`, { details: { action, ...details } })
  }
}

export class ConflictError extends OmsError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('CONFLICT', message, { details })
  }
}

/**
 * A compare-and-swap found the row changed since it was read. Core never lets this reach a caller as such:
 * the command runs again on fresh state (a bounded number of times) and only then fails with `CONFLICT`.
 */
export class StaleStateError extends ConflictError {
  constructor(what: string, details: Record<string, unknown> = {}) {
    super(`${what} changed while this command ran`, { ...details, stale: true })
  }
}

export class IdempotencyMismatchError extends OmsError {
  constructor(key: string) {
    super(
      'IDEMPOTENCY_MISMATCH',
      `idempotency key ${key} was already used with a different payload; use a new key for a new command`,
      { details: { key } },
    )
  }
}

/** One (item, location) row that could not give what was asked. */
export interface StockShortfall {
  itemId: string
  locationId: string
  /** The item's sku, when known. */
  sku?: string | null
  /** What was asked of this row (the lines of one item at one location summed). */
  requested: number
  /** What the row could give at that instant (never below 0). */
  available: number
  /** The order lines (0-based, as given) that asked for this row, when the request came from an order. */
  lineIndexes?: readonly number[]
  /** The package (traceability tag) that was short, when one was named. */
  packageId?: string
}

const describeShortfall = (s: StockShortfall) => {
  const lines = s.lineIndexes?.length
    ? `line${s.lineIndexes.length > 1 ? 's' : ''} ${s.lineIndexes.join(', ')} `
    : ''
  const sku = s.sku ? `, sku ${s.sku}` : ''
  const pkg = s.packageId ? `, package ${s.packageId}` : ''
  return `${lines}(item ${s.itemId}${sku}${pkg} at ${s.locationId}): requested ${s.requested}, available ${s.available}`
}

/**
 * Not enough stock. `details.shortfalls` names every short row (and the order lines behind it), so a UI can
 * mark each line at once; `details.itemId`, `locationId`, `requested` and `available` repeat the first.
 */
export class InsufficientStockError extends OmsError {
  readonly shortfalls: readonly StockShortfall[]

  constructor(shortfalls: readonly [StockShortfall, ...StockShortfall[]])
  constructor(itemId: string, locationId: string, requested: number, available: number)
  constructor(
    first: string | readonly [StockShortfall, ...StockShortfall[]],
    locationId?: string,
    requested?: number,
    available?: number,
  ) {
    const shortfalls: readonly [StockShortfall, ...StockShortfall[]] =
      typeof first === 'string'
        ? [
            {
              itemId: first,
              locationId: locationId ?? '',
              requested: requested ?? 0,
              available: available ?? 0,
            },
          ]
        : first
    const [head] = shortfalls
    super(
      'INSUFFICIENT_STOCK',
      shortfalls.length === 1
        ? `not enough stock: ${describeShortfall(head)}`
        : `not enough stock for ${shortfalls.length} rows: ${shortfalls.map(describeShortfall).join('; ')}`,
      {
        details: {
          itemId: head.itemId,
          locationId: head.locationId,
          requested: head.requested,
          available: head.available,
          shortfalls,
        },
      },
    )
    this.shortfalls = shortfalls
  }
}

export class InvalidTransitionError extends OmsError {
  constructor(
    machine: string,
    from: string,
    event: string,
    options: { hint?: string; allowed?: readonly string[] } = {},
  ) {
    const hint = options.hint ? `: ${options.hint}` : ''
    super('INVALID_TRANSITION', `${machine} in status ${from} cannot take ${event}${hint}`, {
      details: {
        machine,
        from,
        event,
        allowed: options.allowed ?? [],
        ...(options.hint ? { hint: options.hint } : {}),
      },
    })
  }
}

export class InvalidMachineError extends OmsError {
  constructor(machine: string, problems: readonly string[]) {
    super('INVALID_MACHINE', `${machine} machine is invalid: ${problems.join('; ')}`, {
      details: { machine, problems },
    })
  }
}

export class ReservationExpiredError extends OmsError {
  constructor(orderId: string, reservationIds: readonly string[]) {
    super(
      'RESERVATION_EXPIRED',
      `order ${orderId}: its stock hold has expired (${reservationIds.length} hold(s)); the stock may be gone, so place the order again`,
      { details: { orderId, reservationIds } },
    )
  }
}

/** A fulfillment scan was refused; nothing was picked. The refusal is counted on the fulfillment. */
export class ScanRejectedError extends OmsError {
  constructor(
    fulfillmentId: string,
    code: string,
    reason: 'wrong_item' | 'over_scan',
    details: Record<string, unknown> = {},
  ) {
    const why =
      reason === 'wrong_item'
        ? `${code} is not an item of this fulfillment: put it back`
        : `${code} is already picked in full (${String(details.picked)} of ${String(details.planned)}): put the extra back`
    super('SCAN_REJECTED', `fulfillment ${fulfillmentId}: ${why}`, {
      details: { fulfillmentId, code, reason, ...details },
    })
  }
}
