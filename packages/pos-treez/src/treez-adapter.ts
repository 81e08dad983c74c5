import {
  isPosError,
  type PosAdapter,
  type PosAdapterCapabilities,
  type PosOperation,
  type PosOrderInput,
  type PosOrderRef,
  type PosPage,
  type PosProduct,
  type PosPullOptions,
  type PosSale,
  type PosStockLevel,
  ValidationError,
} from '@peak-oms/core'
import { type ResolvedTreezConfig, resolveTreezConfig, type TreezConfig } from './treez-config'
import { mayHaveCommitted, TreezHttp, treezError } from './treez-http'
import {
  CLOSED_TICKET_STATUSES,
  TreezMappingIssue,
  toCancelTicketBody,
  toCreateTicketBody,
  toOrderRef,
  toPosProduct,
  toPosSale,
  toStockLevels,
  toUpdateTicketBody,
} from './treez-mapper'
import {
  type TreezTicket,
  treezProductPageSchema,
  treezStockPageSchema,
  treezTicketByIdSchema,
  treezTicketCreatedSchema,
  treezTicketFeedSchema,
  treezTicketUpdatedSchema,
} from './treez-schemas'

const DAY_MS = 24 * 3600 * 1000

/** Treez wants `YYYY-MM-DDThh:mm:ss.sss±hh:mm`; we always send UTC as `+00:00`. */
export const formatTreezDate = (date: Date): string => date.toISOString().replace('Z', '+00:00')

/**
 * The Treez Dispensary API v3 as a Peak OMS `PosAdapter`. Create it with {@link createTreezAdapter}.
 *
 * Treez has no idempotency key, so `pushOrder` writes our order number into `external_order_number` and
 * looks for it in the ticket feed before the first create and before every retry of a create whose
 * outcome is unknown (timeout, reset, 5xx).
 */
export class TreezAdapter implements PosAdapter {
  readonly vendor = 'treez'
  readonly capabilities: PosAdapterCapabilities = {
    incrementalProducts: true,
    incrementalInventory: true,
    idempotentCreate: false,
    updateOrder: true,
  }

  readonly #config: ResolvedTreezConfig
  readonly #http: TreezHttp
  /** Our order number → ticket id, for tickets this process created or found. */
  readonly #known = new Map<string, string>()
  /** One push per order number at a time, so two concurrent pushes cannot both create. */
  readonly #pushing = new Map<string, Promise<PosOrderRef>>()

  /** Validates `config` (throws `ValidationError` listing every bad field). */
  constructor(config: TreezConfig) {
    this.#config = resolveTreezConfig(config)
    this.#http = new TreezHttp(this.#config)
  }

  get #store(): string {
    return `/${encodeURIComponent(this.#config.dispensary)}`
  }

  /** Products page by page (`page` from 1, stop on a short page); with `since`, only those changed after it. */
  async pullProducts(options: PosPullOptions = {}): Promise<PosPage<PosProduct>> {
    const page = this.#page(options.cursor)
    const pageSize = this.#pageSize(options.pageSize)
    const since = this.#since(options.since)
    const path = since
      ? `${this.#store}/product/product_list/lastUpdated/after/${since}`
      : `${this.#store}/product/product_list`
    const body = await this.#http.request({
      operation: 'pullProducts',
      method: 'GET',
      path,
      // active=ALL so that a product switched off reaches us as inactive instead of vanishing.
      query: {
        page,
        pagesize: pageSize,
        active: 'ALL',
        ...(options.since ? {} : { include_discounts: false }),
      },
      schema: treezProductPageSchema,
      signal: options.signal,
    })
    const rows = body.data.product_list
    const items = rows.map((product) => toPosProduct(product, this.#config))
    this.#config.logger.debug(
      { vendor: this.vendor, operation: 'pullProducts', page, count: items.length },
      'treez products page',
    )
    return { items, nextCursor: rows.length < pageSize ? null : `page:${page + 1}` }
  }

  /**
   * Sellable stock per product and `location_name` from `stock/getStock`; with `since`, only rows changed
   * after it (`last_update_date`). Product `last_updated_at` does not move with stock, hence this endpoint.
   */
  async pullInventory(options: PosPullOptions = {}): Promise<PosPage<PosStockLevel>> {
    const page = this.#page(options.cursor)
    const pageSize = this.#pageSize(options.pageSize)
    const path = `${this.#store}/stock/getStock`
    const body = await this.#http.request({
      operation: 'pullInventory',
      method: 'GET',
      path,
      query: {
        page,
        page_size: pageSize,
        inventory_type: this.#config.inventoryType,
        last_update_date: this.#since(options.since),
      },
      schema: treezStockPageSchema,
      signal: options.signal,
    })
    const rows = body.data.stock
    const items = this.#mapped('pullInventory', 'GET', path, () =>
      toStockLevels(rows, this.#config, 'data.stock'),
    )
    this.#config.logger.debug(
      { vendor: this.vendor, operation: 'pullInventory', page, rows: rows.length, count: items.length },
      'treez stock page',
    )
    return { items, nextCursor: rows.length < pageSize ? null : `page:${page + 1}` }
  }

  /**
   * Completed sales from the ticket feed (`ticket/lastUpdated/{since}/page/{p}/pagesize/{n}`), page by page
   * (stop on a short page): tickets updated at or after `since` (less `incrementalOverlapMs`), or within
   * `findLookbackMs` without it. Only COMPLETED tickets are sales; refunded tickets and refund tickets are
   * left out. Tickets we pushed come with our order number (`external_order_number`).
   */
  async pullSales(options: PosPullOptions = {}): Promise<PosPage<PosSale>> {
    const page = this.#page(options.cursor)
    const pageSize = this.#pageSize(options.pageSize)
    const since =
      this.#since(options.since) ??
      formatTreezDate(new Date(this.#config.now().getTime() - this.#config.findLookbackMs))
    const path = `${this.#store}/ticket/lastUpdated/${since}/page/${page}/pagesize/${pageSize}`
    const feed = await this.#http.request({
      operation: 'pullSales',
      method: 'GET',
      path,
      schema: treezTicketFeedSchema,
      signal: options.signal,
    })
    const items = this.#mapped('pullSales', 'GET', path, () =>
      feed.ticketList.flatMap((ticket, index) => {
        const sale = toPosSale(ticket, this.#config, `ticketList.${index}`)
        return sale ? [sale] : []
      }),
    )
    this.#config.logger.debug(
      {
        vendor: this.vendor,
        operation: 'pullSales',
        page,
        tickets: feed.ticketList.length,
        count: items.length,
      },
      'treez sales page',
    )
    return { items, nextCursor: feed.ticketList.length < pageSize ? null : `page:${page + 1}` }
  }

  /**
   * Returns the ticket already carrying `order.orderNumber`, or creates one. A create whose outcome is
   * unknown is never repeated blindly: the ticket feed is read first.
   */
  async pushOrder(order: PosOrderInput): Promise<PosOrderRef> {
    const body = toCreateTicketBody(order, this.#config)
    const running = this.#pushing.get(order.orderNumber)
    if (running) return running
    const push = this.#push(order.orderNumber, body).finally(() => this.#pushing.delete(order.orderNumber))
    this.#pushing.set(order.orderNumber, push)
    return push
  }

  async #push(orderNumber: string, body: ReturnType<typeof toCreateTicketBody>): Promise<PosOrderRef> {
    const { logger } = this.#config
    const existing = await this.findOrder(orderNumber)
    if (existing) {
      logger.info(
        { vendor: this.vendor, operation: 'pushOrder', orderNumber, externalId: existing.externalId },
        'treez ticket already exists for this order; not creating another',
      )
      return existing
    }
    let lastError: unknown
    return this.#http.retry('pushOrder', async (attempt) => {
      if (attempt > 1 && mayHaveCommitted(lastError)) {
        const found = await this.#scanFeed(orderNumber, 'pushOrder')
        if (found) {
          logger.info(
            {
              vendor: this.vendor,
              operation: 'pushOrder',
              orderNumber,
              externalId: found.externalId,
              attempt,
            },
            'treez create had succeeded before its response was lost; using that ticket',
          )
          return found
        }
      }
      try {
        const created = await this.#http.send({
          operation: 'pushOrder',
          method: 'POST',
          path: `${this.#store}/ticket/detailticket`,
          body,
          schema: treezTicketCreatedSchema,
        })
        return this.#remember(orderNumber, created.data, 'pushOrder')
      } catch (error) {
        lastError = error
        throw error
      }
    })
  }

  /** Replaces lines, notes, type and source of an open ticket; its status is kept. */
  async updateOrder(externalId: string, order: PosOrderInput): Promise<PosOrderRef> {
    const ticket = await this.#getTicket(externalId, 'updateOrder')
    if (CLOSED_TICKET_STATUSES.has(ticket.order_status)) {
      throw treezError('POS_REJECTED', `ticket is ${ticket.order_status} and can no longer be updated`, {
        operation: 'updateOrder',
        vendorCode: 'INVALID_TICKET_STATUS',
      })
    }
    await this.#put(externalId, toUpdateTicketBody(ticket, order, this.#config), 'updateOrder')
    const updated = await this.#getTicket(externalId, 'updateOrder')
    return this.#remember(order.orderNumber, updated, 'updateOrder')
  }

  /** Sets `order_status: CANCELED`. An already cancelled (or removed) ticket is returned as it is. */
  async cancelOrder(externalId: string, reason: string): Promise<PosOrderRef> {
    const ticket = await this.#getTicket(externalId, 'cancelOrder')
    if (ticket.order_status === 'CANCELED' || ticket.order_status === 'REMOVED') return toOrderRef(ticket)
    if (ticket.order_status === 'COMPLETED') {
      throw treezError('POS_REJECTED', 'ticket is COMPLETED and can no longer be cancelled', {
        operation: 'cancelOrder',
        vendorCode: 'INVALID_TICKET_STATUS',
      })
    }
    try {
      await this.#put(externalId, toCancelTicketBody(ticket, reason, this.#config), 'cancelOrder')
    } catch (error) {
      // A retried PUT can be refused because the first one, whose answer was lost, already cancelled it.
      if (!(isPosError(error) && error.code === 'POS_REJECTED')) throw error
      const now = await this.#getTicket(externalId, 'cancelOrder')
      if (now.order_status !== 'CANCELED' && now.order_status !== 'REMOVED') throw error
      return toOrderRef(now)
    }
    return toOrderRef(await this.#getTicket(externalId, 'cancelOrder'))
  }

  /** Reads the ticket by id; an unknown id is `POS_REJECTED` with `vendorCode` TICKET_NOT_FOUND. */
  async getOrderStatus(externalId: string): Promise<PosOrderRef> {
    return toOrderRef(await this.#getTicket(externalId, 'getOrderStatus'))
  }

  /**
   * Finds the ticket whose `external_order_number` is `orderNumber`: by id when this process knows it,
   * else by scanning the ticket feed (`ticket/lastUpdated`) back to the order's date or `findLookbackMs`.
   */
  async findOrder(orderNumber: string): Promise<PosOrderRef | null> {
    const knownId = this.#known.get(orderNumber)
    if (knownId) {
      try {
        const ticket = await this.#getTicket(knownId, 'findOrder')
        if (ticket.external_order_number === orderNumber) return toOrderRef(ticket)
      } catch (error) {
        if (!(isPosError(error) && error.details.vendorCode === 'TICKET_NOT_FOUND')) throw error
      }
      this.#known.delete(orderNumber)
    }
    return this.#scanFeed(orderNumber, 'findOrder')
  }

  async #scanFeed(orderNumber: string, operation: PosOperation): Promise<PosOrderRef | null> {
    const { logger, findMaxPages, maxPageSize } = this.#config
    const since = formatTreezDate(this.#scanStart(orderNumber))
    for (let page = 1; page <= findMaxPages; page += 1) {
      const feed = await this.#http.request({
        operation,
        method: 'GET',
        path: `${this.#store}/ticket/lastUpdated/${since}/page/${page}/pagesize/${maxPageSize}`,
        schema: treezTicketFeedSchema,
      })
      const match = feed.ticketList.find((ticket) => ticket.external_order_number === orderNumber)
      if (match) return this.#remember(orderNumber, match, operation)
      if (feed.ticketList.length < maxPageSize) return null
    }
    logger.warn(
      { vendor: this.vendor, operation, orderNumber, pages: findMaxPages },
      'treez ticket feed scan stopped at findMaxPages without finding the order',
    )
    return null
  }

  /** An order numbered `ORD-YYYYMMDD-…` cannot have a ticket updated before the day before that date. */
  #scanStart(orderNumber: string): Date {
    const now = this.#config.now().getTime()
    let start = now - this.#config.findLookbackMs
    const match = /^ORD-(\d{4})(\d{2})(\d{2})-/.exec(orderNumber)
    if (match) {
      const day = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))
      if (Number.isFinite(day) && day - DAY_MS > start && day - DAY_MS < now) start = day - DAY_MS
    }
    return new Date(start)
  }

  #remember(orderNumber: string, ticket: TreezTicket, operation: PosOperation): PosOrderRef {
    this.#known.set(orderNumber, ticket.ticket_id)
    if (ticket.external_order_number !== orderNumber) {
      this.#config.logger.warn(
        { vendor: this.vendor, operation, orderNumber, externalId: ticket.ticket_id },
        'treez ticket does not carry our order number in external_order_number; find-by-number will miss it',
      )
    }
    return toOrderRef(ticket)
  }

  async #getTicket(externalId: string, operation: PosOperation): Promise<TreezTicket> {
    const body = await this.#http.request({
      operation,
      method: 'GET',
      path: `${this.#store}/ticket/${encodeURIComponent(externalId)}`,
      schema: treezTicketByIdSchema,
    })
    const [ticket] = body.ticketList
    if (!ticket)
      throw treezError('POS_INVALID_RESPONSE', 'empty ticketList', { operation, fields: ['ticketList'] })
    return ticket
  }

  async #put(externalId: string, body: unknown, operation: PosOperation): Promise<void> {
    await this.#http.request({
      operation,
      method: 'PUT',
      path: `${this.#store}/ticket/update/${encodeURIComponent(externalId)}`,
      body,
      schema: treezTicketUpdatedSchema,
    })
  }

  #mapped<T>(operation: PosOperation, method: string, path: string, map: () => T): T {
    try {
      return map()
    } catch (error) {
      if (!(error instanceof TreezMappingIssue)) throw error
      throw treezError('POS_INVALID_RESPONSE', `${error.field}: ${error.message}`, {
        operation,
        method,
        path,
        fields: [error.field],
      })
    }
  }

  /** `since` as Treez wants it, moved back by `incrementalOverlapMs`; undefined for a full pull. */
  #since(since: Date | undefined): string | undefined {
    return since ? formatTreezDate(new Date(since.getTime() - this.#config.incrementalOverlapMs)) : undefined
  }

  #page(cursor: string | null | undefined): number {
    if (cursor === null || cursor === undefined) return 1
    const match = /^page:([1-9]\d{0,8})$/.exec(cursor)
    if (!match)
      throw new ValidationError('Treez pull options', [{ path: 'cursor', message: 'is not a Treez cursor' }])
    return Number(match[1])
  }

  #pageSize(requested: number | undefined): number {
    const size = requested === undefined ? this.#config.pageSize : Math.floor(requested)
    return Math.min(
      Math.max(1, Number.isFinite(size) ? size : this.#config.pageSize),
      this.#config.maxPageSize,
    )
  }
}

/**
 * Creates the Treez adapter. Throws `ValidationError` listing every bad config field.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs'
 * import { createTreezAdapter } from '@peak-oms/pos-treez'
 *
 * const treez = createTreezAdapter({
 *   privateKey: readFileSync('treez-private-key.pem', 'utf8'),
 *   certificateId: process.env.TREEZ_CERTIFICATE_ID!,
 *   organizationId: process.env.TREEZ_ORGANIZATION_ID!,
 *   dispensary: 'partnersandbox3',
 *   sellableLocations: ['FRONT OF HOUSE', 'DISPLAY CASE 1'],
 * })
 * const page = await treez.pullInventory({ pageSize: 500 })
 * ```
 */
export function createTreezAdapter(config: TreezConfig): TreezAdapter {
  return new TreezAdapter(config)
}
