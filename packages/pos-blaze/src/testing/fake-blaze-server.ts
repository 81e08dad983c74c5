import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { PosOperation } from '@peak-oms/core'
import type { PosFault } from '@peak-oms/core/testing'

/** The operation tag of each fake route; `pushOrder` is only `submitCart`. */
export type FakeBlazeOperation = PosOperation | 'activeCart' | 'prepareCart' | 'inventories'

export type JsonObject = Record<string, unknown>

export interface FakeConsumer {
  id: string
  firstName: string
  lastName: string
  email: string
  primaryPhone: string
}

export interface FakeBlazeOptions {
  partnerKey?: string
  developerKey?: string
  /** Product documents as BLAZE returns them (see `fakeBlazeProduct`). */
  products?: JsonObject[]
  inventories?: Array<{ id: string; name: string }>
  consumers?: FakeConsumer[]
  /** List envelope: `{values, skip, limit, total}` (what clients read), or the two documented variants. */
  listWrapper?: 'values' | 'searchResult' | 'results'
  /** The fake caps `limit` silently at this. */
  maxLimit?: number
  /** Operations whose routes answer 403 (a missing partner permission). */
  forbidden?: FakeBlazeOperation[]
  /** Server-side limit: more than `requests` in `windowMs` get 429 without `Retry-After`. */
  rateLimit?: { requests: number; windowMs: number }
  /** How late a `timeout` fault answers: keep it far beyond the adapter's timeout. @default 30000 */
  slowMs?: number
  taxRate?: number
  /**
   * Epoch ms of the clock the adapter under test reads: it dates carts and products, stamps `at` on
   * every request and drives the rate-limit window.
   */
  now: () => number
}

export interface FakeRequestRecord {
  method: string
  path: string
  query: URLSearchParams
  headers: IncomingMessage['headers']
  /** The operations this request serves (the dated product list serves both pulls). */
  operations: FakeBlazeOperation[]
  at: number
}

export const INVENTORY_MAIN = '5d26ca35002ec407fccc9e39'
export const INVENTORY_SAFE = '5d72f55b0964cc083b14fce8'
export const DEFAULT_CONSUMER: FakeConsumer = {
  id: '65f39f00e4b0a1b2c3d4ee10',
  firstName: 'Marisol',
  lastName: 'Quennell-Secret',
  email: 'marisol.quennell@example.com',
  primaryPhone: '+1 555 010 4477',
}
const COMPANY_ID = '5d26ca35002ec407fccc9e30'
const SHOP_ID = '5d26ca35002ec407fccc9e31'
const WEEK_MS = 7 * 24 * 3600 * 1000
const CANCELED = new Set(['CanceledByConsumer', 'CanceledByDispensary'])

let idCounter = 0
/** A fresh 24-hex ObjectId. */
export function objectId(): string {
  idCounter += 1
  const time = Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(8, '0')
  return `${time}${(0xabc000 + idCounter).toString(16).padStart(16, '0')}`.slice(0, 24)
}

/** A product document in the shape of `examples/products-page.json`. */
export function fakeBlazeProduct(fields: {
  id: string
  name: string
  sku: string | null
  category: string
  unitType?: 'units' | 'grams'
  unitPrice: number | null
  quantities: Array<[inventoryId: string, quantity: number]>
  modified: number
  active?: boolean
  deleted?: boolean
  thc?: number | null
  cbd?: number | null
  flowerType?: string | null
}): JsonObject {
  const sellable = Object.fromEntries(fields.quantities.filter(([inv]) => inv === INVENTORY_MAIN))
  return {
    id: fields.id,
    companyId: COMPANY_ID,
    shopId: SHOP_ID,
    created: fields.modified - 86_400_000,
    modified: fields.modified,
    deleted: fields.deleted ?? false,
    active: fields.active ?? true,
    sellable: true,
    instock: fields.quantities.some(([, q]) => q > 0),
    name: fields.name,
    sku: fields.sku,
    description: null,
    categoryId: '5d26ca35002ec407fccc9e50',
    category: {
      id: '5d26ca35002ec407fccc9e50',
      name: fields.category,
      cannabis: true,
      unitType: fields.unitType ?? 'units',
      active: true,
    },
    flowerType: fields.flowerType ?? null,
    unitPrice: fields.unitPrice,
    priceRanges: [],
    priceBreaks: [],
    thc: fields.thc ?? null,
    cbd: fields.cbd ?? null,
    quantities: fields.quantities.map(([inventoryId, quantity], index) => ({
      id: `${fields.id.slice(0, 20)}${(index + 1).toString(16).padStart(4, '0')}`,
      inventoryId,
      quantity,
    })),
    sellableQuantities: sellable,
    committedQuantities: {},
    totalSellableQuantity: Object.values(sellable).reduce((a, b) => a + b, 0),
    totalCommittedQuantity: 0,
    tags: [],
    externalId: null,
  }
}

/** The default catalogue: five products, two inventories, one weighed product, one inactive. */
export function defaultFakeProducts(now: number): JsonObject[] {
  const hour = 3_600_000
  return [
    fakeBlazeProduct({
      id: '65f1c0a2e4b0a1b2c3d4e5f6',
      name: 'Blue Dream 3.5g',
      sku: 'BD35',
      category: 'Flower',
      unitPrice: 35,
      quantities: [
        [INVENTORY_MAIN, 30],
        [INVENTORY_SAFE, 12],
      ],
      modified: now - 2 * hour,
      thc: 21.4,
      cbd: 0.1,
      flowerType: 'Hybrid',
    }),
    fakeBlazeProduct({
      id: '65f1c0a2e4b0a1b2c3d4e7a0',
      name: 'Watermelon Gummies 100mg',
      sku: 'WMG100',
      category: 'Edibles',
      unitPrice: 20,
      quantities: [[INVENTORY_MAIN, 118]],
      modified: now - 72 * hour,
      thc: 0,
      cbd: 0,
    }),
    fakeBlazeProduct({
      id: '65f1c0a2e4b0a1b2c3d4e800',
      name: 'OG Kush (bulk)',
      sku: 'OGK-BULK',
      category: 'Flower',
      unitType: 'grams',
      unitPrice: 9.5,
      quantities: [
        [INVENTORY_MAIN, 453.5],
        [INVENTORY_SAFE, 28],
      ],
      modified: now - 1 * hour,
      thc: 24,
      flowerType: 'Indica',
    }),
    fakeBlazeProduct({
      id: '65f1c0a2e4b0a1b2c3d4e900',
      name: 'House Pre-roll 5pk',
      sku: null,
      category: 'Pre-Rolls',
      unitPrice: 12.345,
      quantities: [[INVENTORY_MAIN, 0]],
      modified: now - 240 * hour,
    }),
    fakeBlazeProduct({
      id: '65f1c0a2e4b0a1b2c3d4ea00',
      name: 'Discontinued Vape',
      sku: 'DV1',
      category: 'Vapes',
      unitPrice: null,
      quantities: [],
      modified: now - 720 * hour,
      active: false,
    }),
  ]
}

interface Pending {
  fault: PosFault
  times: number
}

/** A BLAZE Partner API fake on 127.0.0.1 with fault injection. */
export class FakeBlazeServer {
  readonly partnerKey: string
  readonly developerKey: string
  readonly requests: FakeRequestRecord[] = []
  readonly products: JsonObject[]
  readonly consumers: FakeConsumer[]
  readonly carts = new Map<string, JsonObject>()

  /** Called after a route has done its work (before any answer-side fault), e.g. to inject the next fault. */
  onHandled: ((operations: FakeBlazeOperation[], status: number) => void) | null = null

  private readonly options: FakeBlazeOptions
  private readonly server = createServer((req, res) => {
    this.handle(req, res).catch(() => {
      if (!res.headersSent)
        this.send(res, 500, { error: 'Internal Server Error', message: 'fake failed', status: 500 })
    })
  })
  private readonly sockets = new Set<Socket>()
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly faults = new Map<FakeBlazeOperation, Pending[]>()
  private readonly activeCart = new Map<string, string>()
  private readonly now: () => number
  private nextOrderNo = 10452
  private port = 0

  constructor(options: FakeBlazeOptions) {
    this.options = options
    this.now = options.now
    this.partnerKey = options.partnerKey ?? 'pk_fake_partner_7f3a9c'
    this.developerKey = options.developerKey ?? 'dk_fake_developer_41be02'
    this.products = options.products ?? defaultFakeProducts(this.now())
    this.consumers = options.consumers ?? [DEFAULT_CONSUMER]
    this.server.on('connection', (socket) => {
      this.sockets.add(socket)
      socket.on('close', () => this.sockets.delete(socket))
    })
  }

  /** Base URL of the Partner API, like `https://api.partners.blaze.me/api/v1/partner`. */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}/api/v1/partner`
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    this.port = (this.server.address() as AddressInfo).port
    return this
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer)
    for (const socket of this.sockets) socket.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  /** Makes the next `times` requests tagged `operation` fail with `fault`. */
  inject(operation: FakeBlazeOperation, fault: PosFault, times = 1): void {
    const list = this.faults.get(operation) ?? []
    list.push({ fault, times })
    this.faults.set(operation, list)
  }

  clearFaults(): void {
    this.faults.clear()
  }

  requestCount(operation: FakeBlazeOperation): number {
    return this.requests.filter((r) => r.operations.includes(operation)).length
  }

  /** Carts placed (submitted or any later status). */
  orderCount(): number {
    return [...this.carts.values()].filter((c) => c.cartStatus !== 'InProgress').length
  }

  /** Sales as `GET /transactions` serves them [FAKE shape, from third-party DTOs], oldest first. */
  readonly transactions: JsonObject[] = []

  /** A completed `Sale` rung up at the counter now (no consumer cart); returns its id. */
  sellAtCounter(items: Array<{ productId: string; quantity: number; inventoryId?: string }>): string {
    return this.ringUp(items, null)
  }

  /** Voids a transaction: `status` `Canceled`. */
  voidTransaction(id: string): void {
    Object.assign(this.transaction(id), { status: 'Canceled', modified: this.now() })
  }

  /**
   * Refunds a transaction: a `Refund` transaction naming it (`parentTransactionId`), and the original's
   * status becomes `RefundWithInventory`.
   */
  refundTransaction(id: string): string {
    const original = this.transaction(id)
    const items = ((original.cart as JsonObject).items as JsonObject[]).map((i) => ({
      productId: String(i.productId),
      quantity: Number(i.quantity),
      inventoryId: String(i.inventoryId),
    }))
    const refundId = this.ringUp(items, null, { transType: 'Refund', parentTransactionId: id })
    Object.assign(original, { status: 'RefundWithInventory', modified: this.now() })
    return refundId
  }

  /** The dispensary completes a placed cart: its transaction (carrying `consumerCartId`) is rung up. */
  completeCart(id: string): void {
    const cart = this.carts.get(id)
    if (!cart) throw new Error(`no cart ${id}`)
    const items = (((cart.cart as JsonObject | undefined)?.items ?? cart.items ?? []) as JsonObject[]).map(
      (i) => ({
        productId: String(i.productId),
        quantity: Number(i.quantity),
      }),
    )
    const transactionId = this.ringUp(items, id)
    this.patchCart(id, { cartStatus: 'Completed', completed: true, completedTime: this.now(), transactionId })
  }

  private transaction(id: string): JsonObject {
    const found = this.transactions.find((t) => t.id === id)
    if (!found) throw new Error(`no transaction ${id}`)
    return found
  }

  private ringUp(
    items: Array<{ productId: string; quantity: number; inventoryId?: string }>,
    consumerCartId: string | null,
    extra: JsonObject = {},
  ): string {
    const now = this.now()
    const id = objectId()
    this.transactions.push({
      id,
      companyId: COMPANY_ID,
      transNo: String(this.nextOrderNo++),
      transType: 'Sale',
      status: 'Completed',
      consumerCartId,
      processedTime: now,
      created: now,
      modified: now,
      cart: {
        items: items.map((i) => ({
          id: objectId(),
          productId: i.productId,
          quantity: i.quantity,
          inventoryId: i.inventoryId ?? INVENTORY_MAIN,
        })),
      },
      ...extra,
    })
    return id
  }

  /** `GET /transactions?startDate=MM/dd/yyyy&endDate=MM/dd/yyyy&skip=&limit=`: days inclusive, at most 7 [DOC]. */
  private transactionList(req: RouteRequest): Answer {
    const start = usDate(req.query.get('startDate'))
    const end = usDate(req.query.get('endDate'))
    if (start === null || end === null || end < start) {
      return fail(400, 'Invalid argument', 'startDate and endDate (MM/dd/yyyy) are required')
    }
    if (end - start > WEEK_MS) return fail(400, 'Invalid argument', 'Date range cannot exceed 7 days')
    const inRange = this.transactions.filter((t) => {
      const day = Math.floor((t.processedTime as number) / DAY_MS) * DAY_MS
      return day >= start && day <= end
    })
    return this.list(req, inRange)
  }

  /** Moves a cart along as the dispensary would (accept, package, dispatch, complete, decline). */
  patchCart(id: string, patch: JsonObject): void {
    const cart = this.carts.get(id)
    if (!cart) throw new Error(`no cart ${id}`)
    Object.assign(cart, patch, { modified: this.now() })
  }

  private takeFault(operations: FakeBlazeOperation[]): PosFault | null {
    for (const operation of operations) {
      const list = this.faults.get(operation)
      const first = list?.[0]
      if (!list || !first) continue
      first.times -= 1
      if (first.times <= 0) list.shift()
      return first.fault
    }
    return null
  }

  private send(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers })
    res.end(JSON.stringify(body))
  }

  private error(res: ServerResponse, status: number, error: string, message: string): void {
    this.send(res, status, { error, message, status })
  }

  private later(fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      fn()
    }, this.options.slowMs ?? 30_000)
    this.timers.add(timer)
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const prefix = '/api/v1/partner'
    const path = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : url.pathname
    const method = req.method ?? 'GET'
    const route = this.route(method, path)
    const record: FakeRequestRecord = {
      method,
      path,
      query: url.searchParams,
      headers: req.headers,
      operations: route?.operations ?? [],
      at: this.now(),
    }
    this.requests.push(record)
    const raw = await readBody(req)

    const partner = header(req, 'x-api-key') ?? header(req, 'partner_key')
    if (partner !== this.partnerKey || header(req, 'authorization') !== this.developerKey) {
      this.error(res, 401, 'Unauthorized', 'Invalid partner key or developer key')
      return
    }
    if (!route) {
      this.error(res, 404, 'Not found', 'No such endpoint')
      return
    }
    if (route.operations.some((op) => this.options.forbidden?.includes(op))) {
      this.error(res, 403, 'Forbidden', 'Partner key lacks the required permission')
      return
    }
    if (this.options.rateLimit) {
      const { requests, windowMs } = this.options.rateLimit
      const recent = this.requests.filter((r) => r.at > record.at - windowMs).length
      if (recent > requests) {
        this.error(res, 429, 'Too Many Requests', 'Rate limit exceeded')
        return
      }
    }

    const fault = this.takeFault(route.operations)
    if (fault?.kind === 'rate_limit') {
      const headers: Record<string, string> =
        fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) }
      this.send(
        res,
        429,
        { error: 'Too Many Requests', message: 'Rate limit exceeded', status: 429 },
        headers,
      )
      return
    }
    if (fault?.kind === 'server_error') {
      this.error(res, fault.status, 'Internal Server Error', 'Something went wrong')
      return
    }
    if (fault?.kind === 'reset') {
      req.socket.destroy()
      return
    }

    let body: unknown = null
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw)
      } catch {
        this.error(res, 400, 'Invalid argument', 'Request body is not valid JSON')
        return
      }
    }
    // The work is done before any answer-side fault, so `lost_response` and `timeout` commit.
    const answer = route.handle({
      query: url.searchParams,
      body,
      cuid: url.searchParams.get('cuid') ?? header(req, 'cuid') ?? null,
    })
    this.onHandled?.(route.operations, answer.status)

    if (fault?.kind === 'lost_response') {
      req.socket.destroy()
      return
    }
    const respond = () => {
      if (res.destroyed || res.writableEnded) return
      if (fault?.kind === 'malformed_json' && answer.status < 300) {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end('{"values": [{"id": "65f1c0a2e4b0a1b2c3d4e5f6", "name": ')
        return
      }
      const out =
        fault?.kind === 'wrong_types' && answer.status < 300 ? withWrongTypes(answer.body) : answer.body
      this.send(res, answer.status, out)
    }
    if (fault?.kind === 'timeout') this.later(respond)
    else respond()
  }

  private route(method: string, path: string): { operations: FakeBlazeOperation[]; handle: Handler } | null {
    const seg = path.split('/').filter(Boolean)
    const is = (m: string, pattern: string) => {
      if (m !== method) return false
      const parts = pattern.split('/').filter(Boolean)
      return parts.length === seg.length && parts.every((p, i) => p === '*' || p === seg[i])
    }
    const id = seg[seg.length - 1] ?? ''
    if (is('GET', '/products')) return { operations: ['pullProducts'], handle: (r) => this.productList(r) }
    if (is('GET', '/store/inventory/products'))
      return { operations: ['pullInventory'], handle: (r) => this.productList(r) }
    if (is('GET', '/store/inventory/products/dates')) {
      return { operations: ['pullProducts', 'pullInventory'], handle: (r) => this.productsByDates(r) }
    }
    if (is('GET', '/transactions'))
      return { operations: ['pullSales'], handle: (r) => this.transactionList(r) }
    if (is('GET', '/store/inventory/inventories')) {
      return { operations: ['inventories'], handle: (r) => this.list(r, this.options.inventories ?? []) }
    }
    if (is('GET', '/store/cart/active'))
      return { operations: ['activeCart'], handle: (r) => this.getActive(r) }
    if (is('GET', '/store/cart/history')) return { operations: ['findOrder'], handle: (r) => this.history(r) }
    if (is('POST', '/store/cart/prepare'))
      return { operations: ['prepareCart'], handle: (r) => this.prepare(r) }
    if (is('POST', '/store/cart/submitCart/*'))
      return { operations: ['pushOrder'], handle: (r) => this.submit(r, id) }
    if (is('POST', '/store/cart/updateCart/*'))
      return { operations: ['updateOrder'], handle: (r) => this.update(r, id) }
    if (is('DELETE', '/store/cart/cancelCart/*'))
      return { operations: ['cancelOrder'], handle: (r) => this.cancel(r, id) }
    if (is('GET', '/store/cart/*'))
      return { operations: ['getOrderStatus'], handle: (r) => this.getCart(r, id) }
    return null
  }

  private list(req: RouteRequest, items: unknown[]): Answer {
    const skip = intParam(req.query, 'skip') ?? intParam(req.query, 'start') ?? 0
    const limit = Math.min(intParam(req.query, 'limit') ?? 100, this.options.maxLimit ?? 100)
    const page = items.slice(skip, skip + limit)
    const wrapper = this.options.listWrapper ?? 'values'
    if (wrapper === 'searchResult') return ok({ count: page.length, total: items.length, searchResult: page })
    if (wrapper === 'results')
      return ok({ count: page.length, cursor: String(skip + page.length), results: page })
    return ok({ values: page, skip, limit, total: items.length })
  }

  private productList(req: RouteRequest): Answer {
    return this.list(req, this.products)
  }

  private productsByDates(req: RouteRequest): Answer {
    const start = intParam(req.query, 'startDate')
    const end = intParam(req.query, 'endDate')
    if (start === null || end === null || end < start) {
      return fail(400, 'Invalid argument', 'startDate and endDate (epoch ms) are required')
    }
    if (end - start > WEEK_MS) return fail(400, 'Invalid argument', 'Date range cannot exceed 7 days')
    const changed = this.products.filter((p) => {
      const modified = p.modified as number
      return modified >= start && modified < end
    })
    const answer = this.list(req, changed)
    return { status: answer.status, body: { ...(answer.body as JsonObject), beforeDate: end } }
  }

  private consumer(cuid: string | null): FakeConsumer | Answer {
    if (!cuid) return fail(400, 'Invalid argument', 'cuid is required')
    const consumer = this.consumers.find((c) => c.id === cuid)
    return consumer ?? fail(404, 'Not found', 'Consumer not found')
  }

  private getActive(req: RouteRequest): Answer {
    const consumer = this.consumer(req.cuid)
    if (isAnswer(consumer)) return consumer
    const existing = this.activeCart.get(consumer.id)
    if (existing) return ok(this.carts.get(existing))
    const now = this.now()
    const cart: JsonObject = {
      id: objectId(),
      companyId: COMPANY_ID,
      shopId: SHOP_ID,
      created: now,
      modified: now,
      deleted: false,
      consumerId: consumer.id,
      consumerUser: { ...consumer },
      cartStatus: 'InProgress',
      orderNo: null,
      accepted: false,
      acceptedTime: 0,
      packaged: false,
      onTheWay: false,
      completed: false,
      completedTime: 0,
      canceledTime: 0,
      declinedTime: 0,
      memo: null,
      externalId: null,
      transactionId: null,
      cart: { id: objectId(), items: [], subTotal: 0, discount: 0, tax: 0, total: 0, balanceDue: 0 },
    }
    this.carts.set(cart.id as string, cart)
    this.activeCart.set(consumer.id, cart.id as string)
    return ok(cart)
  }

  private history(req: RouteRequest): Answer {
    const consumer = this.consumer(req.cuid)
    if (isAnswer(consumer)) return consumer
    const placed = [...this.carts.values()]
      .filter((c) => c.consumerId === consumer.id && c.cartStatus !== 'InProgress')
      // Newest first; carts placed in the same millisecond (a stopped test clock) by order number.
      .sort(
        (a, b) =>
          (b.orderPlacedTime as number) - (a.orderPlacedTime as number) ||
          Number(b.orderNo) - Number(a.orderNo),
      )
    return this.list(req, placed)
  }

  private ownCart(cuid: string | null, id: string): JsonObject | Answer {
    const consumer = this.consumer(cuid)
    if (isAnswer(consumer)) return consumer
    if (!/^[0-9a-f]{24}$/.test(id)) return fail(400, 'Invalid argument', 'Invalid cart id')
    const cart = this.carts.get(id)
    if (!cart || cart.consumerId !== consumer.id) return fail(404, 'Not found', 'Cart not found')
    return cart
  }

  private getCart(req: RouteRequest, id: string): Answer {
    const cart = this.ownCart(req.cuid, id)
    return isAnswer(cart) ? cart : ok(cart)
  }

  /** Copies items, memo and externalId from a request body onto the cart and prices it. */
  private applyBody(cart: JsonObject, body: unknown): Answer | null {
    if (!isObject(body)) return fail(400, 'Invalid argument', 'A ConsumerCart body is required')
    const inner = isObject(body.cart) ? body.cart : {}
    const items = Array.isArray(inner.items) ? inner.items : []
    const priced: JsonObject[] = []
    let subTotal = 0
    let tax = 0
    for (const item of items) {
      if (!isObject(item) || typeof item.productId !== 'string' || typeof item.quantity !== 'number') {
        return fail(400, 'Invalid argument', 'Each item needs productId and quantity')
      }
      if (!(item.quantity > 0)) return fail(400, 'Invalid argument', 'Quantity must be positive')
      const product = this.products.find((p) => p.id === item.productId)
      if (!product) return fail(400, 'Invalid argument', `Product not found: ${item.productId}`)
      const unitPrice = (product.unitPrice as number | null) ?? 0
      const cost = round2(unitPrice * item.quantity)
      const calcTax = round2(cost * (this.options.taxRate ?? 0.09))
      subTotal += cost
      tax += calcTax
      priced.push({
        id: objectId(),
        orderItemId: String(priced.length + 1),
        productId: item.productId,
        quantity: item.quantity,
        unitPrice,
        cost,
        discount: 0,
        calcDiscount: 0,
        calcTax,
        finalPrice: cost,
      })
    }
    const previous = isObject(cart.cart) ? cart.cart : {}
    cart.cart = {
      ...previous,
      items: priced,
      subTotal: round2(subTotal),
      discount: 0,
      totalDiscount: 0,
      deliveryFee: 0,
      tax: round2(tax),
      totalCalcTax: round2(tax),
      totalFees: 0,
      total: round2(subTotal + tax),
      balanceDue: round2(subTotal + tax),
    }
    for (const key of [
      'memo',
      'externalId',
      'pickupType',
      'completeAfter',
      'deliveryDate',
      'deliveryAddress',
    ] as const) {
      if (key in body) cart[key] = body[key]
    }
    cart.modified = this.now()
    return null
  }

  private prepare(req: RouteRequest): Answer {
    const consumer = this.consumer(req.cuid)
    if (isAnswer(consumer)) return consumer
    const activeId = this.activeCart.get(consumer.id)
    if (!isObject(req.body) || !activeId || req.body.id !== activeId) {
      return fail(400, 'Invalid argument', 'Cart is not the active cart of this consumer')
    }
    const cart = this.carts.get(activeId) as JsonObject
    const problem = this.applyBody(cart, req.body)
    return problem ?? ok(cart)
  }

  private submit(req: RouteRequest, id: string): Answer {
    const cart = this.ownCart(req.cuid, id)
    if (isAnswer(cart)) return cart
    if (cart.cartStatus !== 'InProgress')
      return fail(400, 'Invalid argument', 'Cart has already been submitted')
    const problem = this.applyBody(cart, req.body)
    if (problem) return problem
    const items = ((cart.cart as JsonObject).items as JsonObject[]) ?? []
    if (items.length === 0) return fail(400, 'Invalid argument', 'Cart is empty')
    for (const item of items) {
      const product = this.products.find((p) => p.id === item.productId) as JsonObject
      if ((item.quantity as number) > (product.totalSellableQuantity as number)) {
        return fail(400, 'Invalid argument', `Not enough inventory for product ${product.sku ?? product.id}`)
      }
    }
    const now = this.now()
    Object.assign(cart, {
      cartStatus: 'Placed',
      orderNo: String(this.nextOrderNo++),
      orderPlacedTime: now,
      modified: now,
    })
    this.activeCart.delete(cart.consumerId as string)
    return ok(cart)
  }

  private update(req: RouteRequest, id: string): Answer {
    const cart = this.ownCart(req.cuid, id)
    if (isAnswer(cart)) return cart
    const open = (cart.cartStatus === 'Placed' || cart.cartStatus === 'Accepted') && cart.packaged !== true
    if (!open) return fail(400, 'Invalid argument', `Cart cannot be updated in status ${cart.cartStatus}`)
    const problem = this.applyBody(cart, req.body)
    return problem ?? ok(cart)
  }

  private cancel(req: RouteRequest, id: string): Answer {
    const cart = this.ownCart(req.cuid, id)
    if (isAnswer(cart)) return cart
    if (CANCELED.has(cart.cartStatus as string))
      return fail(400, 'Invalid argument', 'Cart is already canceled')
    if (cart.cartStatus === 'Completed' || cart.cartStatus === 'Declined') {
      return fail(400, 'Invalid argument', `Cart cannot be canceled in status ${cart.cartStatus}`)
    }
    Object.assign(cart, { cartStatus: 'CanceledByConsumer', canceledTime: this.now(), modified: this.now() })
    if (this.activeCart.get(cart.consumerId as string) === id)
      this.activeCart.delete(cart.consumerId as string)
    return ok(cart)
  }
}

interface RouteRequest {
  query: URLSearchParams
  body: unknown
  cuid: string | null
}
interface Answer {
  status: number
  body: unknown
}
type Handler = (req: RouteRequest) => Answer

const ok = (body: unknown): Answer => ({ status: 200, body })
const fail = (status: number, error: string, message: string): Answer => ({
  status,
  body: { error, message, status },
})
const isAnswer = (value: unknown): value is Answer =>
  isObject(value) && typeof value.status === 'number' && 'body' in value && !('id' in value)
const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
const round2 = (n: number) => Math.round(n * 100) / 100

const DAY_MS = 24 * 3600 * 1000

/** `MM/dd/yyyy` as epoch ms of that UTC day, or null. */
function usDate(value: string | null): number | null {
  const match = value ? /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(value) : null
  if (!match) return null
  const ms = Date.UTC(Number(match[3]), Number(match[1]) - 1, Number(match[2]))
  return Number.isNaN(ms) ? null : ms
}

function intParam(query: URLSearchParams, name: string): number | null {
  const value = query.get(name)
  if (value === null || !/^\d+$/.test(value)) return null
  return Number(value)
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

/** The same envelope with a wrong type in it: a quantity (or status) as a string. */
function withWrongTypes(body: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(body)) as JsonObject
  const list = (copy.values ?? copy.searchResult ?? copy.results) as JsonObject[] | undefined
  const target = list?.[0] ?? copy
  const quantities = target.quantities as JsonObject[] | undefined
  const firstQuantity = quantities?.[0]
  if (firstQuantity) firstQuantity.quantity = String(firstQuantity.quantity)
  else if ('cartStatus' in target) target.cartStatus = 3
  else if ('unitPrice' in target) target.unitPrice = String(target.unitPrice)
  return copy
}
