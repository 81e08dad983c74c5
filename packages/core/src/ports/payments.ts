/**
 * What Peak OMS asks a payment provider to do with an order's payment, after the change that causes it has
 * committed (from the outbox): take the authorised money when the goods are handed over (`capture`), let go
 * of an authorisation that will never be captured (`void`, an order cancelled before hand-over), and pay
 * money back (`refund`, all or part of what was captured).
 */
export type PaymentOperationKind = 'capture' | 'void' | 'refund'

/**
 * `pending`: recorded, not yet answered by the provider; `failed`: the last attempt failed and it will be
 * tried again; `succeeded`; `dead`: declined by the provider, or out of attempts, waiting for an operator
 * (`payments.retry`).
 */
export type PaymentOperationStatus = 'pending' | 'failed' | 'succeeded' | 'dead'

/** One call to the provider. */
export interface PaymentRequest {
  operation: PaymentOperationKind
  /**
   * The same for every attempt of this operation (`<orderId>:<operation>:<n>`, n counting the order's
   * payment operations). The provider must answer a repeated key with the first answer and never move
   * money twice: a retry after a lost answer or a crash sends the same key.
   */
  idempotencyKey: string
  orderId: string
  orderNumber: string
  /** Integer minor units. */
  amountMinor: number
  currency: string
  /** For a refund: the provider's reference of the capture it pays back, when one was recorded. */
  captureReference: string | null
}

/** The provider's answer. A thrown error means "unknown or unavailable": the call is tried again. */
export type PaymentResult =
  | { outcome: 'succeeded'; providerReference: string }
  /** A refusal that repeating will not change (card declined, capture window closed, …). */
  | { outcome: 'declined'; code: string; message: string }

/**
 * The payment provider port. The authorisation itself is the customer's step at the host's checkout; the
 * payment webhook reports it with `orders.confirmPayment`. Every method is called by the outbox relay after
 * commit, never inside a storage transaction, and at least once per operation: it must be idempotent by
 * `request.idempotencyKey`. Throw (any error) for a timeout or an outage; return `declined` for a refusal.
 */
export interface Payments {
  capture(request: PaymentRequest): Promise<PaymentResult>
  void(request: PaymentRequest): Promise<PaymentResult>
  refund(request: PaymentRequest): Promise<PaymentResult>
}

/** What part of one order line a refund pays back. */
export interface PaymentLine {
  orderLineId: string
  quantity: number
  amountMinor: number
}

/** One payment operation of an order, recorded in the transaction of the change that asked for it. */
export interface PaymentOperation {
  id: string
  orderId: string
  /** The order's store and customer: reads are limited to the caller's reach. */
  storeId: string
  customerId: string | null
  kind: PaymentOperationKind
  /** 1, 2, … within the order. */
  sequence: number
  idempotencyKey: string
  status: PaymentOperationStatus
  amountMinor: number
  currency: string
  /** A refund's lines (empty for a capture, a void, or a refund of everything left). */
  lines: PaymentLine[]
  /**
   * Attempts so far (reset by `payments.retry`). A refund whose capture has not succeeded counts an attempt
   * without calling the provider (`lastError.code` `CAPTURE_NOT_SETTLED`).
   */
  attempts: number
  /**
   * The last failure: a decline's code, `PAYMENT_UNAVAILABLE` for an error thrown by the provider, or
   * `CAPTURE_NOT_SETTLED`. Kept after a later success, as a record of what happened.
   */
  lastError: { code: string; message: string } | null
  providerReference: string | null
  createdAt: Date
  updatedAt: Date
  completedAt: Date | null
  version: number
}

/** Storage of payment operations (`tx.payments`). */
export interface PaymentRepository {
  insert(operations: readonly PaymentOperation[]): Promise<void>
  get(id: string): Promise<PaymentOperation | null>
  /** The order's operations by `sequence`. */
  listByOrder(orderId: string): Promise<PaymentOperation[]>
  /** Compare-and-swap: writes `operation` only if the stored one is at `expectedVersion`. */
  update(operation: PaymentOperation, expectedVersion: number): Promise<boolean>
}
