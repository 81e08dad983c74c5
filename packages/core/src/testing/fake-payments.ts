import type { Clock } from '../ports/clock'
import type { PaymentOperationKind, PaymentRequest, PaymentResult, Payments } from '../ports/payments'

/** A fault the next calls meet, in order (one per call). */
export type FakePaymentFault =
  /** Refused for good: the provider answers `declined` with this code. */
  | { kind: 'decline'; code?: string }
  /** Unreachable: nothing happens at the provider, the call throws. */
  | { kind: 'unavailable' }
  /** The money moves, but the answer is lost (the call throws): a retry must replay, not move it again. */
  | { kind: 'timeout' }

/** One call the provider received. */
export interface FakePaymentCall {
  operation: PaymentOperationKind
  idempotencyKey: string
  amountMinor: number
  at: Date
  /** What happened: `moved` (money moved), `replayed` (a repeated key, answered from the first), or the fault. */
  result: 'moved' | 'replayed' | FakePaymentFault['kind']
}

/** Money moved at the provider, once per idempotency key. */
export interface FakePaymentRecord {
  operation: PaymentOperationKind
  idempotencyKey: string
  orderId: string
  amountMinor: number
  currency: string
  reference: string
  at: Date
}

/**
 * An in-memory payment provider for tests of the payment flow and of a host's wiring. It honours idempotency
 * keys like a real provider (a repeated key is answered with the first result and moves nothing), stamps
 * everything with the injected clock, and meets injected faults call by call: `failNext(n, fault)` or
 * `faults.push(…)`. `onCall` runs before each call is handled (a test can check it is not inside a storage
 * transaction). `moved` is what really happened to the money.
 */
export class FakePayments implements Payments {
  readonly #clock: Clock
  readonly faults: FakePaymentFault[] = []
  readonly calls: FakePaymentCall[] = []
  readonly moved: FakePaymentRecord[] = []
  /** Called first on every call. */
  onCall: ((request: PaymentRequest) => void) | null = null
  #next = 0

  constructor(options: { clock: Clock }) {
    this.#clock = options.clock
  }

  /** The next `times` calls meet `fault`. */
  failNext(times: number, fault: FakePaymentFault): this {
    for (let i = 0; i < times; i++) this.faults.push(fault)
    return this
  }

  /** Net money of an order at the provider: captured minus refunded. */
  netOf(orderId: string): number {
    return this.moved
      .filter((m) => m.orderId === orderId)
      .reduce(
        (s, m) =>
          s + (m.operation === 'capture' ? m.amountMinor : m.operation === 'refund' ? -m.amountMinor : 0),
        0,
      )
  }

  capture(request: PaymentRequest): Promise<PaymentResult> {
    return this.#handle('capture', request)
  }

  void(request: PaymentRequest): Promise<PaymentResult> {
    return this.#handle('void', request)
  }

  refund(request: PaymentRequest): Promise<PaymentResult> {
    return this.#handle('refund', request)
  }

  async #handle(operation: PaymentOperationKind, request: PaymentRequest): Promise<PaymentResult> {
    this.onCall?.(request)
    const at = this.#clock.now()
    const call = (result: FakePaymentCall['result']) =>
      this.calls.push({
        operation,
        idempotencyKey: request.idempotencyKey,
        amountMinor: request.amountMinor,
        at,
        result,
      })
    const earlier = this.moved.find((m) => m.idempotencyKey === request.idempotencyKey)
    const fault = this.faults.shift()
    if (fault?.kind === 'unavailable') {
      call('unavailable')
      throw new Error('payment provider unavailable')
    }
    if (fault?.kind === 'decline' && !earlier) {
      call('decline')
      return { outcome: 'declined', code: fault.code ?? 'card_declined', message: 'the payment was declined' }
    }
    let record = earlier
    if (!record) {
      this.#next += 1
      record = {
        operation,
        idempotencyKey: request.idempotencyKey,
        orderId: request.orderId,
        amountMinor: request.amountMinor,
        currency: request.currency,
        reference: `fake_${operation}_${this.#next}`,
        at,
      }
      this.moved.push(record)
    }
    if (fault?.kind === 'timeout') {
      call('timeout')
      throw new Error('payment provider timed out')
    }
    call(earlier ? 'replayed' : 'moved')
    return { outcome: 'succeeded', providerReference: record.reference }
  }
}
