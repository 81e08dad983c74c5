import { PosError, type PosOperation } from '../errors/pos-error'
import type {
  PosAdapter,
  PosOrderContext,
  PosOrderInput,
  PosOrderRef,
  PosOrderStatus,
  PosPage,
  PosProduct,
  PosPullOptions,
  PosSale,
  PosStockLevel,
} from '../ports/pos-adapter'

/** A fault the next calls meet, in order (one per call). */
export type FakePosFault =
  /** Unreachable: nothing happens at the POS. */
  | 'down'
  /** The call is carried out, but its answer is lost (a timeout after the POS committed). */
  | 'lost_response'
  /** Throttled with `Retry-After` (`retryAfterMs`). */
  | { kind: 'throttled'; retryAfterMs: number }
  /** Refused for good (4xx validation). */
  | 'rejected'

export interface FakePosTicket {
  externalId: string
  orderNumber: string
  idempotencyKey: string
  externalCustomerId: string | null
  status: PosOrderStatus
  lines: PosOrderInput['lines']
}

/**
 * An in-memory POS for tests of the sync engine and of a host's wiring: tickets, stock per (product,
 * location), and faults injected per call. Like a POS that honours idempotency keys, it dedupes creates by
 * `idempotencyKey` only: a caller that changed the key between attempts would get a second ticket, which a
 * test sees with `ticketsFor(orderNumber)`.
 */
export class FakePos implements PosAdapter {
  readonly vendor: string
  readonly capabilities = {
    incrementalProducts: false,
    incrementalInventory: false,
    idempotentCreate: true,
    updateOrder: true,
  }
  readonly tickets: FakePosTicket[] = []
  /** Sales at the counter (and tickets completed there): what `pullSales` answers. */
  readonly sales: PosSale[] = []
  /** What `pullProducts` answers (one page). */
  readonly products: PosProduct[] = []
  /** Stock by `${externalProductId}@${externalLocationId}`. */
  readonly stock = new Map<string, number>()
  /** Faults for the next calls (first in, first used). */
  readonly faults: FakePosFault[] = []
  /** While true every call is `down` (the POS is unreachable). */
  offline = false
  /** Every call made, by method name. */
  readonly calls: string[] = []
  /** Pushes that created a ticket (not those answered with an existing one). */
  creates = 0
  #next = 1

  constructor(vendor = 'fakepos') {
    this.vendor = vendor
  }

  setStock(externalProductId: string, externalLocationId: string, quantity: number): void {
    this.stock.set(`${externalProductId}@${externalLocationId}`, quantity)
  }

  /** Tickets carrying `orderNumber`. */
  ticketsFor(orderNumber: string): FakePosTicket[] {
    return this.tickets.filter((t) => t.orderNumber === orderNumber)
  }

  #fault(call: PosOperation | 'pullSales') {
    // `PosOperation` has no sales feed of its own: a failed sales pull reports as an inventory pull.
    const operation: PosOperation = call === 'pullSales' ? 'pullInventory' : call

    this.calls.push(call)
    const fault = this.offline ? 'down' : this.faults.shift()
    const init = { vendor: this.vendor, operation }
    if (fault === 'down') throw new PosError('POS_UNAVAILABLE', 'connection refused', init)
    if (fault === 'rejected') throw new PosError('POS_REJECTED', 'refused (400)', { ...init, status: 400 })
    if (typeof fault === 'object')
      throw new PosError('POS_UNAVAILABLE', 'throttled (429)', {
        ...init,
        status: 429,
        retryAfterMs: fault.retryAfterMs,
      })
    return fault === 'lost_response'
  }

  #lost(): never {
    throw new PosError('POS_UNAVAILABLE', 'timed out waiting for the answer', {
      vendor: this.vendor,
      operation: 'pushOrder',
    })
  }

  #ref(t: FakePosTicket): PosOrderRef {
    return {
      externalId: t.externalId,
      externalNumber: t.externalId.toUpperCase(),
      status: t.status,
      raw: t.status.toUpperCase(),
      externalCustomerId: t.externalCustomerId,
    }
  }

  #ticket(externalId: string, operation: 'cancelOrder' | 'updateOrder' | 'getOrderStatus'): FakePosTicket {
    const t = this.tickets.find((x) => x.externalId === externalId)
    if (!t)
      throw new PosError('POS_REJECTED', 'no such ticket', { vendor: this.vendor, operation, status: 404 })
    return t
  }

  async pullProducts(): Promise<PosPage<PosProduct>> {
    this.#fault('pullProducts')
    return { items: structuredClone(this.products), nextCursor: null }
  }

  /** The sales feed: with `since`, the sales made at or after it (a sale without a time is always there). */
  async pullSales(options: PosPullOptions = {}): Promise<PosPage<PosSale>> {
    this.#fault('pullSales')
    const since = options.since
    const items = this.sales.filter((sale) => !since || !sale.at || sale.at >= since)
    return { items: structuredClone(items), nextCursor: null }
  }

  /** A sale at the counter (at `at`, or with no time): the stock goes down and the sale is in the feed. */
  sellAtCounter(
    externalId: string,
    externalProductId: string,
    externalLocationId: string,
    quantity: number,
    at: Date | null = null,
  ): void {
    const key = `${externalProductId}@${externalLocationId}`
    this.stock.set(key, (this.stock.get(key) ?? 0) - quantity)
    this.sales.push({
      externalId,
      orderNumber: null,
      lines: [{ externalProductId, externalLocationId, quantity, unit: 'each' }],
      at,
    })
  }

  async pullInventory(): Promise<PosPage<PosStockLevel>> {
    this.#fault('pullInventory')
    return {
      items: [...this.stock].map(([key, quantity]) => {
        const [externalProductId, externalLocationId] = key.split('@') as [string, string]
        return { externalProductId, externalLocationId, quantity, unit: 'each', updatedAt: null }
      }),
      nextCursor: null,
    }
  }

  async pushOrder(order: PosOrderInput): Promise<PosOrderRef> {
    const lost = this.#fault('pushOrder')
    let t = this.tickets.find((x) => x.idempotencyKey === order.idempotencyKey)
    if (!t) {
      t = {
        externalId: `t${this.#next++}`,
        orderNumber: order.orderNumber,
        idempotencyKey: order.idempotencyKey,
        externalCustomerId: order.externalCustomerId,
        status: 'submitted',
        lines: order.lines,
      }
      this.tickets.push(t)
      this.creates += 1
    }
    if (lost) this.#lost()
    return this.#ref(t)
  }

  async updateOrder(externalId: string, order: PosOrderInput): Promise<PosOrderRef> {
    const lost = this.#fault('updateOrder')
    const t = this.#ticket(externalId, 'updateOrder')
    t.lines = order.lines
    if (lost) this.#lost()
    return this.#ref(t)
  }

  async cancelOrder(externalId: string, _reason: string, _context?: PosOrderContext): Promise<PosOrderRef> {
    const lost = this.#fault('cancelOrder')
    const t = this.#ticket(externalId, 'cancelOrder')
    if (t.status === 'completed')
      throw new PosError('POS_REJECTED', 'ticket is completed', {
        vendor: this.vendor,
        operation: 'cancelOrder',
      })
    t.status = 'cancelled'
    if (lost) this.#lost()
    return this.#ref(t)
  }

  async getOrderStatus(externalId: string): Promise<PosOrderRef> {
    this.#fault('getOrderStatus')
    return this.#ref(this.#ticket(externalId, 'getOrderStatus'))
  }

  async findOrder(orderNumber: string): Promise<PosOrderRef | null> {
    this.#fault('findOrder')
    const t = this.tickets.find((x) => x.orderNumber === orderNumber)
    return t ? this.#ref(t) : null
  }
}
