import {
  ConfigurationError,
  type FieldIssue,
  isPosError,
  type Logger,
  type PosAdapter,
  type PosAdapterCapabilities,
  PosError,
  type PosOperation,
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
import { type DutchieConfig, type ResolvedDutchieConfig, resolveDutchieConfig } from './dutchie-config'
import { DUTCHIE_VENDOR, type DutchieCallContext, DutchieHttp, invalidResponse } from './dutchie-http'
import {
  dutchieIdempotencyKey,
  mapInventory,
  mapPreOrderRef,
  mapProduct,
  notesMatch,
  orderNotes,
  parseDutchieId,
  preOrderItems,
  productUnit,
  submittedRef,
  wholeQuantity,
} from './dutchie-mapper'
import {
  cancelResponseSchema,
  type DutchieCancelPreOrderRequest,
  type DutchieCreatePreOrderRequest,
  type DutchieDeliveryFields,
  type DutchieUpdatePreOrderRequest,
  locationIdentitySchema,
  openPreOrdersSchema,
  preOrderStatusByIdSchema,
  productListSchema,
  reportingInventorySchema,
  submitResponseSchema,
  transactionListSchema,
} from './dutchie-schemas'

/** Just enough of `ProductDetail` to learn each product's unit, so one odd product cannot block a push. */
const productUnitsSchema = z.array(z.object({ productId: z.number().int(), unitType: z.string().nullish() }))

const STATUS_PATH = '/preorder/Status'

/**
 * The Dutchie POS API (`api.pos.dutchie.com`) as a Peak OMS `PosAdapter`. One location API key is one store
 * location. Orders become pre-orders (`/preorder/*`), which Dutchie prices itself and which are paid at
 * pickup. Create it with {@link createDutchieAdapter}.
 */
export class DutchieAdapter implements PosAdapter {
  readonly vendor = DUTCHIE_VENDOR
  readonly capabilities: PosAdapterCapabilities
  private readonly config: ResolvedDutchieConfig
  private readonly http: DutchieHttp
  private readonly logger: Logger
  private locationId: Promise<string> | undefined
  private readonly units = new Map<number, PosUnit>()
  private unitsLoadedAt = Number.NEGATIVE_INFINITY

  /** Validates `config` (a core `ValidationError` lists every bad field) and applies the defaults. */
  constructor(config: DutchieConfig) {
    this.config = resolveDutchieConfig(config)
    this.logger = this.config.logger
    this.http = new DutchieHttp(this.config, this.logger)
    this.capabilities = {
      incrementalProducts: true,
      incrementalInventory: false,
      // Dutchie dedupes submits only when both the ConsumerKey header and idempotencyKey are sent.
      idempotentCreate: this.config.consumerKey !== undefined,
      updateOrder: true,
    }
    if (this.config.consumerKey === undefined) {
      this.logger.warn(
        { vendor: DUTCHIE_VENDOR },
        'dutchie: no consumerKey configured: pulls work, pushOrder refuses (CONFIGURATION), since Dutchie dedupes pre-order submits only with a ConsumerKey',
      )
    }
  }

  /**
   * All products in one page (`GET /products` is not paged), `nextCursor` null. With `since`, only those
   * modified at or after `since` minus `incrementalOverlapMs`.
   */
  async pullProducts(options: PosPullOptions = {}): Promise<PosPage<PosProduct>> {
    const { since, signal } = options
    const from = since ? new Date(since.getTime() - this.config.incrementalOverlapMs) : undefined
    const products = await this.http.call({
      operation: 'pullProducts',
      method: 'GET',
      path: '/products',
      query: {
        fromLastModifiedDateUTC: from?.toISOString(),
        isActive: this.config.activeOnly ? true : undefined,
      },
      schema: productListSchema,
      signal,
    })
    const byId = new Map<number, PosProduct>()
    for (const product of products) {
      byId.set(product.productId, mapProduct(product, this.config))
      this.units.set(product.productId, productUnit(product.unitType))
    }
    if (!from) this.unitsLoadedAt = performance.now()
    return { items: [...byId.values()], nextCursor: null }
  }

  /**
   * The whole stock snapshot (`GET /reporting/inventory`) in one page: `quantityAvailable` summed over the
   * packages of each product, per location or per room as `stockLocations` says. `since` is ignored.
   */
  async pullInventory(options: PosPullOptions = {}): Promise<PosPage<PosStockLevel>> {
    const { signal } = options
    const locationId =
      this.config.stockLocations === 'location' ? await this.resolveLocationId('pullInventory', signal) : ''
    const ctx: DutchieCallContext = {
      operation: 'pullInventory',
      method: 'GET',
      path: '/reporting/inventory',
    }
    const rows = await this.http.call({
      ...ctx,
      query: { includeRoomQuantities: true },
      schema: reportingInventorySchema,
      signal,
    })
    const { levels, rowsWithoutRooms } = mapInventory(
      rows,
      {
        mode: this.config.stockLocations,
        locationId,
        roomKey: this.config.roomKey,
        rooms: this.config.rooms,
      },
      ctx,
    )
    if (rowsWithoutRooms > 0) {
      this.logger.warn(
        { vendor: DUTCHIE_VENDOR, operation: 'pullInventory', rowsWithoutRooms },
        'dutchie: inventory rows without roomQuantities were skipped',
      )
    }
    return { items: levels, nextCursor: null }
  }

  /**
   * Completed counter sales from `GET /reporting/transactions` (with detail and order ids) in one page
   * (the endpoint is not paged): with `since`, those modified at or after `since` minus
   * `incrementalOverlapMs`. Only `Retail` transactions count; void ones and returns are left out, and so
   * are returned items. Transactions that filled a pre-order (`wasPreOrdered`, `orderIds`) are left out
   * too: Dutchie does not carry our order number on them, and ours become sales through the order's
   * status. Lines are at the key's location (`externalLocationId` or `/whoami`), in the product's unit.
   */
  async pullSales(options: PosPullOptions = {}): Promise<PosPage<PosSale>> {
    const { since, signal } = options
    const from = since ? new Date(since.getTime() - this.config.incrementalOverlapMs) : undefined
    const ctx: DutchieCallContext = { operation: 'pullSales', method: 'GET', path: '/reporting/transactions' }
    const transactions = await this.http.call({
      ...ctx,
      query: { FromLastModifiedDateUTC: from?.toISOString(), IncludeDetail: true, IncludeOrderIds: true },
      schema: transactionListSchema,
      signal,
    })
    const counter = transactions.filter(
      (t) =>
        t.transactionType === 'Retail' &&
        !t.isVoid &&
        !t.isReturn &&
        !t.wasPreOrdered &&
        (t.orderIds?.length ?? 0) === 0,
    )
    const productIds = [...new Set(counter.flatMap((t) => (t.items ?? []).map((i) => i.productId)))]
    if (productIds.length > 0) await this.loadUnits(productIds, 'pullSales')
    const locationId = await this.resolveLocationId('pullSales', signal)
    // A transaction whose every item came back is no sale any more.
    const sold = counter.filter((t) => !(t.items?.length && t.items.every((i) => i.isReturned)))
    const items = sold.map((t): PosSale => {
      const index = transactions.indexOf(t)
      return {
        externalId: String(t.transactionId),
        orderNumber: null,
        lines: (t.items ?? []).flatMap((item, i) => {
          if (item.isReturned) return []
          const unit = this.units.get(item.productId) ?? 'each'
          const whole = wholeQuantity(item.quantity, unit === 'each' ? 'count' : 'grams')
          if (!whole) throw invalidResponse(ctx, [`${index}.items.${i}.quantity`], 'not a whole quantity')
          return [
            {
              externalProductId: String(item.productId),
              externalLocationId: locationId,
              quantity: whole.quantity,
              unit: whole.unit,
            },
          ]
        }),
        at: t.transactionDate ?? t.lastModifiedDateUTC ?? null,
      }
    })
    return { items, nextCursor: null }
  }

  /**
   * Submits a pre-order, or returns the one already submitted for this order: the submit carries the
   * `consumerKey` plus a deterministic `idempotencyKey`, so a replay (after a lost response, a timeout or a
   * crash) returns the same pre-order id. Without a `consumerKey` Dutchie does not dedupe, and looking the
   * order up first cannot work (Dutchie's pre-order status has no field carrying our number), so the push
   * is refused with a `ConfigurationError` rather than risk a second pre-order. Needs `externalCustomerId`
   * (the Dutchie customerId): a `ValidationError` without it.
   */
  async pushOrder(order: PosOrderInput): Promise<PosOrderRef> {
    const consumerKey = this.config.consumerKey
    if (consumerKey === undefined) {
      throw new ConfigurationError('Dutchie adapter', [
        {
          path: 'consumerKey',
          message:
            'is required to push orders: without it Dutchie does not dedupe submits, so a retried push could create a second pre-order',
        },
      ])
    }
    const issues: FieldIssue[] = []
    const customerId = parseDutchieId(order.externalCustomerId)
    if (customerId === null) {
      issues.push({
        path: 'externalCustomerId',
        message:
          order.externalCustomerId === null
            ? 'Dutchie pre-orders need the Dutchie customerId'
            : 'must be a Dutchie customerId (int32)',
      })
    }
    if (!/^\S+$/.test(order.orderNumber)) {
      issues.push({ path: 'orderNumber', message: 'must be non-empty, without whitespace' })
    }
    if (order.idempotencyKey.length === 0) issues.push({ path: 'idempotencyKey', message: 'is required' })
    const items = await this.items(order, 'pushOrder', issues)
    if (customerId === null || items === null) throw new ValidationError('Dutchie pre-order', issues)

    const body: DutchieCreatePreOrderRequest = {
      customerId,
      items,
      isDelivery: order.fulfillment === 'delivery',
      ...deliveryFields(order),
      idempotencyKey: dutchieIdempotencyKey(order.idempotencyKey),
      notes: orderNotes(this.config.notesPrefix, order.orderNumber, order.notes),
    }
    const log = { vendor: DUTCHIE_VENDOR, operation: 'pushOrder', orderNumber: order.orderNumber }
    return this.http.retrying('pushOrder', async (attempt) => {
      const preOrderId = await this.http.attempt({
        operation: 'pushOrder',
        method: 'POST',
        path: '/preorder/submit',
        body,
        consumerKey,
        schema: submitResponseSchema,
      })
      this.logger.info({ ...log, externalId: String(preOrderId), attempt }, 'dutchie: pre-order submitted')
      return submittedRef(preOrderId)
    })
  }

  /** Replaces the items and notes of an open pre-order (`POST /preorder/update`), then reads its status. */
  async updateOrder(externalId: string, order: PosOrderInput): Promise<PosOrderRef> {
    const orderId = this.preOrderId(externalId, 'updateOrder')
    const issues: FieldIssue[] = []
    const items = await this.items(order, 'updateOrder', issues)
    if (items === null) throw new ValidationError('Dutchie pre-order update', issues)
    const body: DutchieUpdatePreOrderRequest = {
      orderId,
      items,
      isDelivery: order.fulfillment === 'delivery',
      ...deliveryFields(order),
      notes: orderNotes(this.config.notesPrefix, order.orderNumber, order.notes),
    }
    await this.http.call({
      operation: 'updateOrder',
      method: 'POST',
      path: '/preorder/update',
      body,
      schema: null,
    })
    return this.status(orderId, 'updateOrder')
  }

  /**
   * Cancels a pre-order (`POST /preorder/cancel`). Dutchie answers 400 for one that is not cancellable;
   * if it is already cancelled its ref is returned, so cancelling twice is harmless.
   */
  async cancelOrder(externalId: string, reason: string): Promise<PosOrderRef> {
    const orderId = this.preOrderId(externalId, 'cancelOrder')
    const body: DutchieCancelPreOrderRequest = {
      orderId,
      cancellationReason: reason.trim() === '' ? 'Cancelled by Peak OMS' : reason,
    }
    try {
      await this.http.call({
        operation: 'cancelOrder',
        method: 'POST',
        path: '/preorder/cancel',
        body,
        schema: cancelResponseSchema,
      })
    } catch (error) {
      if (isPosError(error) && error.code === 'POS_REJECTED' && error.status === 400) {
        const current = await this.status(orderId, 'cancelOrder')
        if (current.status === 'cancelled') return current
      }
      throw error
    }
    return { externalId: String(orderId), externalNumber: null, status: 'cancelled', raw: 'Cancelled' }
  }

  /** `GET /preorder/Status?PreOrderId=`. An id that is not a Dutchie int32, or unknown to Dutchie, is `POS_REJECTED`. */
  async getOrderStatus(externalId: string): Promise<PosOrderRef> {
    return this.status(this.preOrderId(externalId, 'getOrderStatus'), 'getOrderStatus')
  }

  /**
   * Dutchie has no lookup by external reference: this scans the open pre-orders of the last 14 days
   * (`GET /preorder/Status` without an id) for our order number in `notes`. A completed, cancelled or older
   * order is not found, and neither is any order if the API does not return `notes` (its published
   * `PreOrderStatus` has no such field; see the README). Best effort only: deduplication never relies on
   * it (that is the ConsumerKey's job), and the sync engine keeps the external id `pushOrder` returns.
   */
  async findOrder(orderNumber: string): Promise<PosOrderRef | null> {
    return this.lookup(orderNumber, 'findOrder')
  }

  private async lookup(orderNumber: string, operation: PosOperation): Promise<PosOrderRef | null> {
    const ctx: DutchieCallContext = { operation, method: 'GET', path: STATUS_PATH }
    const open = await this.http.call({ ...ctx, schema: openPreOrdersSchema })
    const matches = open
      .map((status, index) => ({ status, index }))
      .filter(({ status }) => notesMatch(this.config.notesPrefix, orderNumber, status.notes))
      .sort((a, b) => a.status.preOrderId - b.status.preOrderId)
    const first = matches[0]
    if (!first) return null
    if (matches.length > 1) {
      this.logger.warn(
        {
          vendor: DUTCHIE_VENDOR,
          operation,
          orderNumber,
          externalIds: matches.map(({ status }) => String(status.preOrderId)),
        },
        'dutchie: several open pre-orders carry this order number; using the oldest',
      )
    }
    return mapPreOrderRef(first.status, ctx, `${first.index}.status`)
  }

  private async status(orderId: number, operation: PosOperation): Promise<PosOrderRef> {
    const ctx: DutchieCallContext = { operation, method: 'GET', path: STATUS_PATH }
    const body = await this.http.call({
      ...ctx,
      query: { PreOrderId: orderId, includeLineItems: false },
      schema: preOrderStatusByIdSchema,
    })
    const status = Array.isArray(body) ? body.find((candidate) => candidate.preOrderId === orderId) : body
    if (!status) {
      throw new PosError('POS_REJECTED', 'pre-order not found', {
        vendor: DUTCHIE_VENDOR,
        ...ctx,
        vendorCode: 'NOT_FOUND',
      })
    }
    if (status.preOrderId !== orderId)
      throw invalidResponse(ctx, ['preOrderId'], 'another pre-order answered')
    return mapPreOrderRef(status, ctx)
  }

  private preOrderId(externalId: string, operation: PosOperation): number {
    const id = parseDutchieId(externalId)
    if (id === null) {
      throw new PosError('POS_REJECTED', 'the external id is not a Dutchie pre-order id', {
        vendor: DUTCHIE_VENDOR,
        operation,
        vendorCode: 'INVALID_ID',
      })
    }
    return id
  }

  /** Validated pre-order items with weighed lines converted to grams, or null with `issues` filled. */
  private async items(
    order: PosOrderInput,
    operation: PosOperation,
    issues: FieldIssue[],
  ): Promise<DutchieCreatePreOrderRequest['items'] | null> {
    const checked = preOrderItems(order.lines, () => undefined)
    issues.push(...checked.issues)
    if (issues.length > 0) return null
    await this.loadUnits(
      checked.items.map((item) => item.productId),
      operation,
    )
    return preOrderItems(order.lines, (productId) => this.units.get(productId)).items
  }

  /** Learns product units from the catalog when a line's product is unknown (at most once per TTL). */
  private async loadUnits(productIds: number[], operation: PosOperation): Promise<void> {
    if (productIds.every((id) => this.units.has(id))) return
    if (performance.now() - this.unitsLoadedAt < this.config.productCacheTtlMs) return
    const products = await this.http.call({
      operation,
      method: 'GET',
      path: '/products',
      schema: productUnitsSchema,
    })
    for (const product of products) this.units.set(product.productId, productUnit(product.unitType))
    this.unitsLoadedAt = performance.now()
  }

  private resolveLocationId(operation: PosOperation, signal?: AbortSignal): Promise<string> {
    const configured = this.config.externalLocationId
    if (configured !== undefined) return Promise.resolve(configured)
    if (!this.locationId) {
      const pending = this.http
        .call({ operation, method: 'GET', path: '/whoami', schema: locationIdentitySchema, signal })
        .then((identity) => String(identity.locationId))
      pending.catch(() => {
        if (this.locationId === pending) this.locationId = undefined
      })
      this.locationId = pending
    }
    return this.locationId
  }
}

/**
 * Creates the Dutchie POS adapter. The config is validated with zod; a bad one throws a core
 * `ValidationError` listing every bad field.
 *
 * @example
 * ```ts
 * const pos = createDutchieAdapter({
 *   locationKey: process.env.DUTCHIE_LOCATION_KEY!,
 *   integratorKey: process.env.DUTCHIE_INTEGRATOR_KEY,
 *   consumerKey: '3f2b9c1e-8d4a-4f7e-9b6c-2a1d0e5f7c3b',
 *   logger,
 * })
 * const { items } = await pos.pullProducts()
 * ```
 */
export function createDutchieAdapter(config: DutchieConfig): DutchieAdapter {
  return new DutchieAdapter(config)
}

/** The order's delivery address as Dutchie's pre-order fields (none when it has no address). */
function deliveryFields(order: PosOrderInput): DutchieDeliveryFields {
  const a = order.deliveryAddress
  if (!a) return {}
  return {
    deliveryStreet: a.line1,
    ...(a.line2 ? { deliveryStreet2: a.line2 } : {}),
    deliveryCity: a.city,
    deliveryState: a.region,
    deliveryPostalCode: a.postalCode,
  }
}
