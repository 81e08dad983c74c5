import {
  decimalToMinor,
  isPosError,
  type PosAdapter,
  type PosAdapterCapabilities,
  type PosAddress,
  PosError,
  type PosOperation,
  type PosOrderContext,
  type PosOrderInput,
  type PosOrderRef,
  type PosPage,
  type PosProduct,
  type PosPullOptions,
  type PosSale,
  type PosStockLevel,
  type PosUnit,
  ValidationError,
} from '@peak-oms/core'
import { z } from 'zod'
import type { ResolvedBlazeConfig } from './blaze-config'
import { BlazeHttp } from './blaze-http'
import {
  blazeMemo,
  blazeUnit,
  cartMatchesOrderNumber,
  isPlaced,
  mapBlazeProduct,
  mapBlazeStockLevels,
  toBlazeCartItems,
  toBlazeOrderRef,
  toUnitQuantity,
} from './blaze-mapper'
import {
  type BlazeConsumerCart,
  type BlazeProduct,
  type BlazeTransaction,
  blazeConsumerCartSchema,
  blazeListSchema,
  blazeProductSchema,
  blazeTransactionSchema,
} from './blaze-schemas'

const VENDOR = 'blaze'
/** BLAZE caps most date ranges at 7 days [DOC]; longer incremental pulls are split into windows. */
const MAX_RANGE_MS = 7 * 24 * 3600 * 1000
const MAX_PAGE_SIZE = 100
/** How many cart → consumer associations are remembered in process. */
const MAX_REMEMBERED = 10_000

const productListSchema = blazeListSchema(blazeProductSchema)
const transactionListSchema = blazeListSchema(blazeTransactionSchema)
const DAY_MS = 24 * 3600 * 1000
/** `MM/dd/yyyy` of the UTC day, as `GET /transactions` takes its dates [DOC]. */
const usDate = (ms: number) => {
  const d = new Date(ms)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${d.getUTCFullYear()}`
}
const cartListSchema = blazeListSchema(blazeConsumerCartSchema)
const cartOrEmptySchema = blazeConsumerCartSchema.nullable()

const cursorSchema = z.discriminatedUnion('mode', [
  z.object({ v: z.literal(1), mode: z.literal('full'), skip: z.number().int().nonnegative() }),
  z.object({
    v: z.literal(1),
    mode: z.literal('dates'),
    since: z.number().int().nonnegative(),
    end: z.number().int().nonnegative(),
    window: z.number().int().nonnegative(),
    skip: z.number().int().nonnegative(),
  }),
  z.object({
    v: z.literal(1),
    mode: z.literal('sales'),
    /** First and last UTC day (epoch ms at midnight) of the pull. */
    start: z.number().int().nonnegative(),
    end: z.number().int().nonnegative(),
    window: z.number().int().nonnegative(),
    skip: z.number().int().nonnegative(),
  }),
])
type PullCursor = z.infer<typeof cursorSchema>

const orderInputSchema = z.object({
  orderNumber: z.string().trim().min(1),
  externalCustomerId: z.string().trim().min(1).nullish(),
  notes: z.string().nullish(),
  lines: z
    .array(
      z.object({
        externalProductId: z.string().trim().min(1),
        quantity: z.number().int('must be a whole number of units').positive(),
      }),
    )
    .min(1),
})

function encodeCursor(cursor: PullCursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url')
}

function decodeCursor(cursor: string): PullCursor {
  try {
    const parsed = cursorSchema.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')))
    if (parsed.success) return parsed.data
  } catch {
    // Reported below like any other cursor this adapter did not issue.
  }
  throw new ValidationError('BLAZE pull options', [
    { path: 'cursor', message: 'is not a cursor this adapter issued' },
  ])
}

/** Whether a list response says there is a page after this one. */
function hasMore(
  list: { items: unknown[]; total: number | null; limit: number | null },
  skip: number,
  limit: number,
) {
  const count = list.items.length
  if (count === 0) return false
  if (list.total !== null) return skip + count < list.total
  return count >= (list.limit ?? limit)
}

function remember(map: Map<string, string>, key: string, value: string): void {
  map.delete(key)
  map.set(key, value)
  if (map.size > MAX_REMEMBERED) {
    const oldest = map.keys().next().value
    if (oldest !== undefined) map.delete(oldest)
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

interface Lookup {
  /** Our order, already placed (submitted or later). */
  placed: BlazeConsumerCart | null
  /** The consumer's open cart. */
  active: BlazeConsumerCart
}

/**
 * The BLAZE Partner API as a `PosAdapter`. Products and stock come from the product list (stock per
 * `inventoryId`); orders go through the consumer cart flow (active cart → prepare → submitCart). BLAZE has
 * no idempotency key, so every create is preceded by a read-back of the active cart and cart history.
 */
export class BlazeAdapter implements PosAdapter {
  readonly vendor = VENDOR
  readonly capabilities: PosAdapterCapabilities = {
    incrementalProducts: true,
    incrementalInventory: true,
    idempotentCreate: false,
    updateOrder: true,
  }

  private readonly http: BlazeHttp
  private readonly cartConsumers = new Map<string, string>()
  private readonly orderConsumers = new Map<string, string>()
  private readonly productUnits = new Map<string, PosUnit>()
  private readonly consumerLocks = new Map<string, Promise<unknown>>()

  constructor(private readonly config: ResolvedBlazeConfig) {
    this.http = new BlazeHttp(config)
  }

  /** One page of products: `GET /products`, or with `since` the dated product list in 7-day windows. */
  async pullProducts(options: PosPullOptions = {}): Promise<PosPage<PosProduct>> {
    const page = await this.pullProductPage('pullProducts', '/products', options)
    return {
      items: page.products.map((p) => mapBlazeProduct(p, this.config.currency)),
      nextCursor: page.nextCursor,
    }
  }

  /**
   * One page of stock levels, derived from one page of products (`GET /store/inventory/products`, or the
   * dated list with `since`): one level per product and inventory.
   */
  async pullInventory(options: PosPullOptions = {}): Promise<PosPage<PosStockLevel>> {
    const page = await this.pullProductPage('pullInventory', '/store/inventory/products', options)
    const mapping = { quantitySource: this.config.quantitySource, locations: this.config.locations }
    return {
      items: page.products.flatMap((product) => mapBlazeStockLevels(product, mapping)),
      nextCursor: page.nextCursor,
    }
  }

  /**
   * Completed counter sales from `GET /transactions` (dates are whole days, `MM/dd/yyyy`, in windows of at
   * most 7 days), page by page: from the day of `since` (or the last 7 days without it) to today. Only
   * `Sale` transactions with status `Completed` count: voided (`Canceled`) and refunded ones, and refunds,
   * are left out, and so are transactions that fill a consumer cart (`consumerCartId`): ours become sales
   * through the order's status. Lines are per `inventoryId`, mapped through `locations` where configured.
   */
  async pullSales(options: PosPullOptions = {}): Promise<PosPage<PosSale>> {
    const limit = Math.min(MAX_PAGE_SIZE, Math.max(1, Math.trunc(options.pageSize ?? this.config.pageSize)))
    const today = Math.floor(this.config.clock.now().getTime() / DAY_MS) * DAY_MS
    const decoded = options.cursor ? decodeCursor(options.cursor) : null
    if (decoded && decoded.mode !== 'sales') {
      throw new ValidationError('BLAZE pull options', [{ path: 'cursor', message: 'is not a sales cursor' }])
    }
    let cursor = decoded ?? {
      v: 1 as const,
      mode: 'sales' as const,
      start: options.since ? Math.floor(options.since.getTime() / DAY_MS) * DAY_MS : today - 6 * DAY_MS,
      end: today,
      window: 0,
      skip: 0,
    }
    // Windows with no sales are skipped within one call rather than returned as empty pages.
    for (;;) {
      const first = cursor.start + cursor.window * 7 * DAY_MS
      if (first > cursor.end) return { items: [], nextCursor: null }
      const last = Math.min(first + 6 * DAY_MS, cursor.end)
      const list = await this.http.request({
        operation: 'pullSales',
        method: 'GET',
        path: '/transactions',
        query: { startDate: usDate(first), endDate: usDate(last), skip: cursor.skip, limit },
        schema: transactionListSchema,
        signal: options.signal,
      })
      const moreHere = hasMore(list, cursor.skip, limit)
      const next = moreHere
        ? { ...cursor, skip: cursor.skip + list.items.length }
        : { ...cursor, window: cursor.window + 1, skip: 0 }
      const anyLeft = moreHere || last < cursor.end
      if (list.items.length > 0 || !anyLeft) {
        const items = await this.salesOf(list.items, options.signal)
        return { items, nextCursor: anyLeft ? encodeCursor(next) : null }
      }
      cursor = next
    }
  }

  private async salesOf(transactions: BlazeTransaction[], signal?: AbortSignal): Promise<PosSale[]> {
    const sales = transactions.filter(
      (t) => t.transType === 'Sale' && t.status === 'Completed' && !t.consumerCartId,
    )
    const items = sales.flatMap((t) => t.cart?.items ?? [])
    if (items.some((i) => !this.productUnits.has(i.productId))) await this.loadAllUnits(signal)
    return sales.map((t) => ({
      externalId: t.id,
      orderNumber: null,
      lines: (t.cart?.items ?? []).flatMap((item) => {
        const inventoryId = item.inventoryId ?? ''
        const location = this.config.locations ? this.config.locations[inventoryId] : inventoryId
        if (!location) return []
        const unit = this.productUnits.get(item.productId) ?? 'each'
        return [
          {
            externalProductId: item.productId,
            externalLocationId: location,
            quantity: toUnitQuantity(item.quantity, unit),
            unit,
          },
        ]
      }),
      at: typeof t.processedTime === 'number' && t.processedTime > 0 ? new Date(t.processedTime) : null,
    }))
  }

  /** Reads the whole product list once to learn each product's unit (weighed or counted). */
  private async loadAllUnits(signal?: AbortSignal): Promise<void> {
    let cursor: string | null = null
    do {
      const page = await this.pullProductPage('pullSales', '/products', { cursor, signal })
      cursor = page.nextCursor
    } while (cursor !== null)
  }

  /**
   * Places the order in the consumer's cart and submits it, unless a cart carrying our order number is
   * already placed: that one is returned instead. The read-back runs before the first submit and after
   * every failed one, so a lost response or a timeout never leads to a second order.
   */
  async pushOrder(order: PosOrderInput): Promise<PosOrderRef> {
    const input = this.validateOrder(order)
    const cuid = this.cuidForOrder(input.externalCustomerId)
    // One open cart per consumer: two pushes for the same consumer must not interleave.
    return this.withConsumerLock(cuid, async () => {
      const { orderNumber } = input
      let state = await this.lookup(cuid, orderNumber, 'pushOrder')
      for (let attempt = 1; ; attempt += 1) {
        if (state.placed)
          return this.placedRef(state.placed, cuid, orderNumber, attempt === 1 ? 'found' : 'recovered')
        let failure: PosError
        let reachedSubmit = false
        try {
          const prepared = await this.prepareCart(cuid, state.active, order)
          reachedSubmit = true
          const cart = await this.submitCart(cuid, prepared)
          return this.placedRef(cart, cuid, orderNumber, 'submitted')
        } catch (error) {
          if (!isPosError(error)) throw error
          failure = error
        }
        const { retries, maxRetryAfterMs } = this.config.retry
        const again =
          reachedSubmit &&
          failure.retryable &&
          attempt <= retries &&
          (failure.retryAfterMs ?? 0) <= maxRetryAfterMs
        if (again) await sleep(failure.retryAfterMs ?? this.backoff(attempt))
        // The submit may have been carried out although it failed (lost response, timeout, "already placed").
        try {
          state = await this.lookup(cuid, orderNumber, 'pushOrder')
        } catch (lookupError) {
          // Unsure whether the order exists: report the transient failure so the push is retried later.
          if (isPosError(lookupError) && lookupError.retryable) throw lookupError
          throw failure
        }
        if (state.placed) continue
        if (!again) throw failure
        this.config.logger.warn(
          { vendor: VENDOR, operation: 'pushOrder', orderNumber, attempt, status: failure.status },
          'blaze submit failed and no placed cart was found; submitting again',
        )
      }
    })
  }

  /** Replaces the items and memo of a placed cart (`POST /store/cart/updateCart/{id}`). */
  async updateOrder(
    externalId: string,
    order: PosOrderInput,
    context?: PosOrderContext,
  ): Promise<PosOrderRef> {
    const input = this.validateOrder(order)
    const cuid = input.externalCustomerId ?? this.cuidForCart(externalId, 'updateOrder', context)
    const current = await this.getCart(externalId, cuid, 'updateOrder')
    if (!cartMatchesOrderNumber(current, input.orderNumber)) {
      throw new PosError('POS_REJECTED', 'the cart carries another order number', {
        vendor: VENDOR,
        operation: 'updateOrder',
        vendorCode: 'ORDER_NUMBER_MISMATCH',
      })
    }
    const body = {
      ...current,
      externalId: input.orderNumber,
      memo: blazeMemo(input.orderNumber, input.notes ?? null),
      cart: { ...(current.cart ?? {}), items: this.cartItems(order) },
    }
    const updated = await this.http.request({
      operation: 'updateOrder',
      method: 'POST',
      path: `/store/cart/updateCart/${encodeURIComponent(externalId)}`,
      query: { cuid },
      body,
      schema: blazeConsumerCartSchema,
    })
    remember(this.cartConsumers, updated.id, cuid)
    return toBlazeOrderRef(updated)
  }

  /**
   * Cancels a cart (`DELETE /store/cart/cancelCart/{id}`). A cart already cancelled is returned as is; a
   * completed or declined one is `POS_REJECTED`. `reason` is not sent: the endpoint takes none.
   */
  async cancelOrder(externalId: string, _reason: string, context?: PosOrderContext): Promise<PosOrderRef> {
    const cuid = this.cuidForCart(externalId, 'cancelOrder', context)
    const current = await this.getCart(externalId, cuid, 'cancelOrder')
    const ref = toBlazeOrderRef(current)
    if (ref.status === 'cancelled') return ref
    if (ref.status === 'completed' || ref.status === 'rejected') {
      throw new PosError('POS_REJECTED', `cart is ${current.cartStatus} and can no longer be cancelled`, {
        vendor: VENDOR,
        operation: 'cancelOrder',
        vendorCode: current.cartStatus,
      })
    }
    if (current.transactionId) {
      // The sale has started at the counter: only a void of the transaction undoes it, and that needs an
      // employee and a terminal (`DELETE /transactions/{id}`), which a partner integration does not have.
      throw new PosError(
        'POS_REJECTED',
        'the cart has a transaction at the counter: void it at the POS (a partner key cannot void transactions)',
        { vendor: VENDOR, operation: 'cancelOrder', vendorCode: 'HAS_TRANSACTION' },
      )
    }
    let answer: BlazeConsumerCart | null = null
    try {
      answer = await this.http.request({
        operation: 'cancelOrder',
        method: 'DELETE',
        path: `/store/cart/cancelCart/${encodeURIComponent(externalId)}`,
        query: { cuid },
        schema: cartOrEmptySchema,
        allowEmpty: true,
      })
    } catch (error) {
      // A retried DELETE whose first try went through is refused as "already cancelled": read back.
      if (!(isPosError(error) && error.code === 'POS_REJECTED')) throw error
      const after = toBlazeOrderRef(await this.getCart(externalId, cuid, 'cancelOrder'))
      if (after.status === 'cancelled') return after
      throw error
    }
    const cancelled = answer ? toBlazeOrderRef(answer) : null
    if (cancelled?.status === 'cancelled') return cancelled
    return toBlazeOrderRef(await this.getCart(externalId, cuid, 'cancelOrder'))
  }

  /** `GET /store/cart/{id}`: an unknown cart is `POS_REJECTED`. */
  async getOrderStatus(externalId: string, context?: PosOrderContext): Promise<PosOrderRef> {
    const cuid = this.cuidForCart(externalId, 'getOrderStatus', context)
    return toBlazeOrderRef(await this.getCart(externalId, cuid, 'getOrderStatus'))
  }

  /** Scans the consumer's cart history (newest first) for a placed cart carrying `orderNumber`. */
  async findOrder(orderNumber: string, context?: PosOrderContext): Promise<PosOrderRef | null> {
    const consumers = [
      ...new Set(
        [context?.externalCustomerId, this.orderConsumers.get(orderNumber), this.config.cuid].filter(
          (c): c is string => !!c,
        ),
      ),
    ]
    if (consumers.length === 0) {
      throw new PosError('POS_REJECTED', 'no cuid is configured, so carts cannot be looked up', {
        vendor: VENDOR,
        operation: 'findOrder',
        vendorCode: 'NO_CUID',
      })
    }
    for (const cuid of consumers) {
      const found = await this.scanHistory(cuid, orderNumber, 'findOrder')
      if (found) return toBlazeOrderRef(found)
    }
    return null
  }

  private async pullProductPage(
    operation: 'pullProducts' | 'pullInventory' | 'pullSales',
    fullPath: string,
    options: PosPullOptions,
  ): Promise<{ products: BlazeProduct[]; nextCursor: string | null }> {
    const limit = Math.min(MAX_PAGE_SIZE, Math.max(1, Math.trunc(options.pageSize ?? this.config.pageSize)))
    let cursor: PullCursor = options.cursor
      ? decodeCursor(options.cursor)
      : options.since
        ? {
            v: 1,
            mode: 'dates',
            since: options.since.getTime(),
            end: this.config.clock.now().getTime(),
            window: 0,
            skip: 0,
          }
        : { v: 1, mode: 'full', skip: 0 }
    if (cursor.mode === 'sales') {
      throw new ValidationError('BLAZE pull options', [{ path: 'cursor', message: 'is a sales cursor' }])
    }

    if (cursor.mode === 'full') {
      const list = await this.http.request({
        operation,
        method: 'GET',
        path: fullPath,
        query: { skip: cursor.skip, limit },
        schema: productListSchema,
        signal: options.signal,
      })
      this.learnUnits(list.items)
      const more = hasMore(list, cursor.skip, limit)
      return {
        products: list.items,
        nextCursor: more ? encodeCursor({ ...cursor, skip: cursor.skip + list.items.length }) : null,
      }
    }

    // Windows with no changes are skipped within one call rather than returned as empty pages.
    for (;;) {
      const startDate: number = cursor.since + cursor.window * MAX_RANGE_MS
      if (startDate >= cursor.end) return { products: [], nextCursor: null }
      const endDate = Math.min(startDate + MAX_RANGE_MS, cursor.end)
      const list: z.output<typeof productListSchema> = await this.http.request({
        operation,
        method: 'GET',
        path: '/store/inventory/products/dates',
        query: { startDate, endDate, skip: cursor.skip, limit },
        schema: productListSchema,
        signal: options.signal,
      })
      this.learnUnits(list.items)
      const moreHere = hasMore(list, cursor.skip, limit)
      const next: PullCursor = moreHere
        ? { ...cursor, skip: cursor.skip + list.items.length }
        : { ...cursor, window: cursor.window + 1, skip: 0 }
      const anyLeft = moreHere || endDate < cursor.end
      if (list.items.length > 0 || !anyLeft) {
        return { products: list.items, nextCursor: anyLeft ? encodeCursor(next) : null }
      }
      cursor = next
    }
  }

  private learnUnits(products: BlazeProduct[]): void {
    for (const product of products) {
      this.productUnits.set(product.id, blazeUnit(product))
    }
  }

  private cartItems(order: PosOrderInput) {
    return toBlazeCartItems(order.lines, (productId) => this.productUnits.get(productId))
  }

  private validateOrder(order: PosOrderInput): z.infer<typeof orderInputSchema> {
    const parsed = orderInputSchema.safeParse(order)
    if (parsed.success) return parsed.data
    throw new ValidationError(
      'BLAZE order',
      parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    )
  }

  private cuidForOrder(externalCustomerId: string | null | undefined): string {
    const cuid = externalCustomerId ?? this.config.cuid
    if (cuid) return cuid
    throw new ValidationError('BLAZE order', [
      { path: 'externalCustomerId', message: 'is required when the adapter has no cuid configured' },
    ])
  }

  /**
   * The consumer a cart belongs to: the caller's word (`context`, kept by the sync engine since the push),
   * else what this instance remembers, else the configured `cuid`.
   */
  private cuidForCart(cartId: string, operation: PosOperation, context?: PosOrderContext): string {
    const cuid = context?.externalCustomerId || this.cartConsumers.get(cartId) || this.config.cuid
    if (cuid) return cuid
    throw new PosError('POS_REJECTED', 'no cuid is known for this cart and none is configured', {
      vendor: VENDOR,
      operation,
      vendorCode: 'NO_CUID',
    })
  }

  private async withConsumerLock<T>(cuid: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.consumerLocks.get(cuid) ?? Promise.resolve()
    const run = previous.then(fn)
    const tail = run.catch(() => undefined)
    this.consumerLocks.set(cuid, tail)
    try {
      return await run
    } finally {
      if (this.consumerLocks.get(cuid) === tail) this.consumerLocks.delete(cuid)
    }
  }

  private backoff(attempt: number): number {
    const { minTimeout, maxTimeout, factor } = this.config.retry
    const base = Math.min(maxTimeout, minTimeout * factor ** (attempt - 1))
    return Math.round(base / 2 + (Math.random() * base) / 2)
  }

  private getCart(cartId: string, cuid: string, operation: PosOperation): Promise<BlazeConsumerCart> {
    return this.http.request({
      operation,
      method: 'GET',
      path: `/store/cart/${encodeURIComponent(cartId)}`,
      query: { cuid },
      schema: blazeConsumerCartSchema,
    })
  }

  /** Our order as already placed (active cart or history), plus the open cart to fill otherwise. */
  private async lookup(cuid: string, orderNumber: string, operation: PosOperation): Promise<Lookup> {
    const active = await this.http.request({
      operation,
      method: 'GET',
      path: '/store/cart/active',
      query: { cuid },
      schema: blazeConsumerCartSchema,
    })
    if (isPlaced(active) && cartMatchesOrderNumber(active, orderNumber)) return { placed: active, active }
    return { placed: await this.scanHistory(cuid, orderNumber, operation), active }
  }

  private async scanHistory(
    cuid: string,
    orderNumber: string,
    operation: PosOperation,
  ): Promise<BlazeConsumerCart | null> {
    const limit = this.config.historyPageSize
    let start = 0
    for (let page = 0; page < this.config.maxHistoryPages; page += 1) {
      const list = await this.http.request({
        operation,
        method: 'GET',
        path: '/store/cart/history',
        query: { cuid, start, limit },
        schema: cartListSchema,
      })
      const match = list.items.find((cart) => isPlaced(cart) && cartMatchesOrderNumber(cart, orderNumber))
      if (match) {
        remember(this.cartConsumers, match.id, cuid)
        return match
      }
      if (!hasMore(list, start, limit)) return null
      start += list.items.length
    }
    this.config.logger.warn(
      { vendor: VENDOR, operation, orderNumber, pages: this.config.maxHistoryPages },
      'blaze cart history scan stopped at maxHistoryPages',
    )
    return null
  }

  private async prepareCart(
    cuid: string,
    active: BlazeConsumerCart,
    order: PosOrderInput,
  ): Promise<BlazeConsumerCart> {
    const body = {
      ...active,
      externalId: order.orderNumber,
      memo: blazeMemo(order.orderNumber, order.notes),
      pickupType: order.fulfillment === 'delivery' ? 'Delivery' : 'Pickup',
      ...(order.deliveryAddress ? { deliveryAddress: toBlazeAddress(order.deliveryAddress) } : {}),
      cart: { ...(active.cart ?? {}), items: this.cartItems(order) },
    }
    const prepared = await this.http.request({
      operation: 'pushOrder',
      method: 'POST',
      path: '/store/cart/prepare',
      query: { cuid },
      body,
      schema: blazeConsumerCartSchema,
    })
    const posTotal = typeof prepared.cart?.total === 'number' ? decimalToMinor(prepared.cart.total) : null
    if (posTotal !== null && posTotal !== order.totalMinor) {
      this.config.logger.warn(
        {
          vendor: VENDOR,
          operation: 'pushOrder',
          orderNumber: order.orderNumber,
          posTotalMinor: posTotal,
          totalMinor: order.totalMinor,
        },
        'blaze priced the cart differently from the order total',
      )
    }
    return prepared
  }

  private async submitCart(cuid: string, prepared: BlazeConsumerCart): Promise<BlazeConsumerCart> {
    const cart = await this.http.request({
      operation: 'pushOrder',
      method: 'POST',
      path: `/store/cart/submitCart/${encodeURIComponent(prepared.id)}`,
      query: { cuid },
      body: prepared,
      schema: blazeConsumerCartSchema,
      // Never repeated blindly: pushOrder reads back before any second submit.
      retry: false,
    })
    if (!isPlaced(cart)) {
      throw new PosError('POS_INVALID_RESPONSE', 'cartStatus is still InProgress after submitCart', {
        vendor: VENDOR,
        operation: 'pushOrder',
        method: 'POST',
        path: '/store/cart/submitCart',
        fields: ['cartStatus'],
      })
    }
    return cart
  }

  private placedRef(
    cart: BlazeConsumerCart,
    cuid: string,
    orderNumber: string,
    how: 'found' | 'recovered' | 'submitted',
  ): PosOrderRef {
    remember(this.cartConsumers, cart.id, cuid)
    remember(this.orderConsumers, orderNumber, cuid)
    // The consumer goes back with the ref: the caller keeps it, so a restart loses nothing.
    const ref = { ...toBlazeOrderRef(cart), externalCustomerId: cuid }
    this.config.logger.info(
      {
        vendor: VENDOR,
        operation: 'pushOrder',
        orderNumber,
        externalId: ref.externalId,
        status: ref.raw,
        how,
      },
      how === 'submitted' ? 'blaze cart submitted' : 'blaze order already placed; not submitting again',
    )
    return ref
  }
}

/** A delivery address as BLAZE's cart takes it (one street line). */
function toBlazeAddress(a: PosAddress) {
  return {
    address: a.line2 ? `${a.line1}, ${a.line2}` : a.line1,
    city: a.city,
    state: a.region,
    zipCode: a.postalCode,
    country: a.country,
  }
}
