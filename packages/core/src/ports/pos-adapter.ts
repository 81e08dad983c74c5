import type { PosOperation } from '../errors/pos-error'

/** The unit a quantity is counted in. Weighed goods are counted in whole milligrams. */
export type PosUnit = 'each' | 'g' | 'mg'

/** A product (a sellable variant) as the POS describes it, mapped to core's integer conventions. */
export interface PosProduct {
  /** The POS's id for this sellable variant (Treez `product_id`, Dutchie `productId`, BLAZE `id`). */
  externalId: string
  sku: string | null
  name: string
  category: string | null
  unit: PosUnit
  /**
   * Unit price in minor units of `currency` (cents), or null where the POS gives none. For weighed goods
   * (`unit` `g` or `mg`) it is the price of one gram, as POS systems quote it.
   */
  priceMinor: number | null
  currency: string
  active: boolean
  cannabis: {
    /** THC and CBD as given by the POS, in percent or mg as `potencyUnit` says. */
    thc: number | null
    cbd: number | null
    potencyUnit: '%' | 'mg' | null
    strain: string | null
    /** Net weight in milligrams, where known. */
    netWeightMg: number | null
  }
  /** When the POS last changed the product, if it says. */
  updatedAt: Date | null
}

/** Sellable on-hand of one product at one POS location (room, inventory, location name). */
export interface PosStockLevel {
  externalProductId: string
  /** The POS's name or id for the location the stock sits in, as the adapter's config maps it. */
  externalLocationId: string
  /** Whole units in the product's unit (never fractional: grams come as `mg`). */
  quantity: number
  unit: PosUnit
  updatedAt: Date | null
}

/** A sale the POS recorded (at the counter, or a ticket we pushed that it completed). */
export interface PosSale {
  /** The POS's id for the sale. */
  externalId: string
  /** Our order number when the sale is a ticket we pushed (the reference written on it), else null. */
  orderNumber: string | null
  lines: Array<{ externalProductId: string; externalLocationId: string; quantity: number; unit: PosUnit }>
  at: Date | null
}

/** One page of a pull. `nextCursor` is opaque; pass it back to get the next page; null means done. */
export interface PosPage<T> {
  items: T[]
  nextCursor: string | null
}

export interface PosPullOptions {
  /** Only what changed at or after this time, where the adapter's `capabilities` says it can. */
  since?: Date
  /** The `nextCursor` of the previous page. */
  cursor?: string | null
  /** Records per page; the adapter clamps it to what the POS allows. */
  pageSize?: number
  signal?: AbortSignal
}

export type PosFulfillmentType = 'pickup' | 'delivery'

/** An order to push to the POS as a ticket / pre-order / cart. Amounts are integer minor units. */
export interface PosOrderInput {
  /** Our order id. */
  orderId: string
  /** Our order number (`ORD-YYYYMMDD-NNNN`): the external reference written on the POS ticket and used to find it again. */
  orderNumber: string
  /** Stable per order (not per attempt): where the POS supports an idempotency key it is sent as is. */
  idempotencyKey: string
  channel: 'kiosk' | 'pos' | 'ecommerce' | 'wholesale'
  fulfillment: PosFulfillmentType
  /** The POS's customer id, where the POS needs one (Dutchie pre-orders, BLAZE carts). */
  externalCustomerId: string | null
  lines: PosOrderLineInput[]
  currency: string
  totalMinor: number
  notes: string | null
  /** Where a delivery goes, for POSs that take it with the order; absent or null for pickup. */
  deliveryAddress?: PosAddress | null
}

/** A delivery address. Customer data: adapters send it to the POS and never log it. */
export interface PosAddress {
  line1: string
  line2?: string | null
  city: string
  region: string
  postalCode: string
  country: string
}

export interface PosOrderLineInput {
  lineId: string
  externalProductId: string
  /** Where the POS needs the stock location per line (Treez `location_name`). */
  externalLocationId: string | null
  quantity: number
  unitPriceMinor: number
  /**
   * The unit `quantity` counts (our item's unit): a weighed line in `g` or `mg` tells the adapter to
   * convert to what the POS expects. Absent: the product's own unit at the POS.
   */
  unit?: PosUnit
}

/** Our reading of a POS order status. `raw` keeps the POS's own word for it. */
export type PosOrderStatus =
  | 'submitted'
  | 'accepted'
  | 'in_progress'
  | 'ready'
  | 'out_for_delivery'
  | 'completed'
  | 'cancelled'
  | 'rejected'

export interface PosOrderRef {
  /** The POS's id for the ticket/pre-order/cart. */
  externalId: string
  /** The POS's human number for it, if any. */
  externalNumber: string | null
  status: PosOrderStatus
  raw: string
  /**
   * The POS customer the order belongs to, where later calls on it need it (BLAZE carts). The sync engine
   * stores it with the external id and passes it back in `PosOrderContext`, so nothing is lost in a restart.
   */
  externalCustomerId?: string | null
}

/**
 * What the caller knows about an order already on the POS, passed to the calls that follow a push: with
 * it an adapter needs no memory of its own, so a new process (after a restart) can update, cancel and read
 * orders pushed by another.
 */
export interface PosOrderContext {
  /** `PosOrderRef.externalCustomerId` of the push (or the customer id the order was pushed with). */
  externalCustomerId?: string | null
}

/** What an adapter can do; each flag says what the sync engine may rely on. */
export interface PosAdapterCapabilities {
  /** `pullProducts({ since })` returns only changes. Default false: the engine pulls in full. */
  incrementalProducts: boolean
  /** `pullInventory({ since })` returns only changes. Default false. */
  incrementalInventory: boolean
  /** The POS itself dedupes creates by `idempotencyKey`. Either way `pushOrder` never creates a second ticket. */
  idempotentCreate: boolean
  /** `updateOrder` is supported. */
  updateOrder: boolean
}

/**
 * A POS integration. Every method is `async` (bad input rejects; nothing throws synchronously) and
 * validates the POS's response (a malformed one throws `PosError` with
 * code `POS_INVALID_RESPONSE`), retries transient failures itself a bounded number of times, and then
 * throws `PosError` (`POS_UNAVAILABLE` when a later retry may work, `POS_REJECTED` when it never will).
 * Errors and logs never contain credentials or customer details.
 */
export interface PosAdapter {
  /** `treez`, `dutchie`, `blaze`, or an integrator's own name. */
  readonly vendor: string
  readonly capabilities: PosAdapterCapabilities
  /** One page of products. */
  pullProducts(options?: PosPullOptions): Promise<PosPage<PosProduct>>
  /** One page of stock levels. A full pull returns every product at every mapped location. */
  pullInventory(options?: PosPullOptions): Promise<PosPage<PosStockLevel>>
  /**
   * One page of completed sales (with `since`, those at or after it), where the POS has a sales feed.
   * Optional: without it the engine learns of counter sales through inventory pulls only.
   */
  pullSales?(options?: PosPullOptions): Promise<PosPage<PosSale>>
  /**
   * Creates the order on the POS, or returns the one already created for `order.orderNumber`. Calling it
   * again, after a timeout whose create actually succeeded or after a crash, never creates a second ticket.
   */
  pushOrder(order: PosOrderInput): Promise<PosOrderRef>
  /** Replaces the lines (and notes) of an order already on the POS. */
  updateOrder(externalId: string, order: PosOrderInput, context?: PosOrderContext): Promise<PosOrderRef>
  /**
   * Cancels it. Cancelling an already-cancelled order returns its ref. An order the POS will not cancel
   * any more (completed, or a state the POS's API cannot cancel from) is `POS_REJECTED` saying so.
   */
  cancelOrder(externalId: string, reason: string, context?: PosOrderContext): Promise<PosOrderRef>
  getOrderStatus(externalId: string, context?: PosOrderContext): Promise<PosOrderRef>
  /** Looks an order up by our order number; null when the POS has none. */
  findOrder(orderNumber: string, context?: PosOrderContext): Promise<PosOrderRef | null>
}

export type { PosOperation }

/** Reads every page of a pull, reporting progress after each page. */
export async function* pullAllPages<T>(
  pull: (options: PosPullOptions) => Promise<PosPage<T>>,
  options: Omit<PosPullOptions, 'cursor'> & {
    onPage?: (page: { index: number; count: number }) => void
  } = {},
): AsyncGenerator<T[], void, undefined> {
  const { onPage, ...rest } = options
  let cursor: string | null = null
  let index = 0
  do {
    const page: PosPage<T> = await pull({ ...rest, cursor })
    onPage?.({ index, count: page.items.length })
    index += 1
    yield page.items
    if (page.nextCursor !== null && page.nextCursor === cursor) {
      throw new Error(`POS pull returned the same cursor twice (${cursor}); stopping to avoid a loop`)
    }
    cursor = page.nextCursor
  } while (cursor !== null)
}
