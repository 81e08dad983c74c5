import { OmsError } from './oms-error'

/** What a POS adapter was doing when it failed. */
export type PosOperation =
  | 'pullProducts'
  | 'pullInventory'
  | 'pullSales'
  | 'pushOrder'
  | 'updateOrder'
  | 'cancelOrder'
  | 'getOrderStatus'
  | 'findOrder'

export interface PosErrorInit {
  vendor: string
  operation: PosOperation
  /** HTTP method and path only: never the query string, headers or body (they may carry credentials or PII). */
  method?: string
  path?: string
  status?: number
  /** The vendor's own error code or reason (e.g. Treez `TICKET_NOT_FOUND`). */
  vendorCode?: string
  /** For `POS_UNAVAILABLE` after a 429 with `Retry-After`. */
  retryAfterMs?: number
  /** For `POS_INVALID_RESPONSE`: the dotted paths of the fields that did not match the contract. */
  fields?: readonly string[]
}

/**
 * A POS call failed. `code` says what the sync engine does with it: `POS_UNAVAILABLE` is retried with
 * backoff, `POS_REJECTED` and `POS_INVALID_RESPONSE` go to dead letter. It never carries the underlying
 * HTTP error as `cause`, because that holds request headers with credentials.
 */
export class PosError extends OmsError {
  declare readonly code: 'POS_UNAVAILABLE' | 'POS_REJECTED' | 'POS_INVALID_RESPONSE'
  readonly vendor: string
  readonly operation: PosOperation
  readonly status: number | undefined
  readonly retryAfterMs: number | undefined

  constructor(
    code: 'POS_UNAVAILABLE' | 'POS_REJECTED' | 'POS_INVALID_RESPONSE',
    message: string,
    init: PosErrorInit,
  ) {
    const where = [init.method, init.path].filter(Boolean).join(' ')
    super(code, `${init.vendor} ${init.operation}${where ? ` (${where})` : ''}: ${message}`, {
      details: { ...init },
    })
    this.vendor = init.vendor
    this.operation = init.operation
    this.status = init.status
    this.retryAfterMs = init.retryAfterMs
  }

  /** True when retrying the same call later may succeed. */
  get retryable(): boolean {
    return this.code === 'POS_UNAVAILABLE'
  }
}

export const isPosError = (error: unknown): error is PosError =>
  error instanceof PosError ||
  (typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    typeof error.code === 'string' &&
    error.code.startsWith('POS_') &&
    'vendor' in error)
