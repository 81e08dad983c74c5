import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { PosFault } from '@peak-oms/core/testing'
/** A JSON object as the fake stores and serves it. */
export type JsonObject = Record<string, unknown>

/** The endpoints the fake serves; faults and counters are kept per route. */
export type FakeDutchieRoute =
  | 'whoami'
  | 'products'
  | 'inventory'
  | 'submit'
  | 'status'
  | 'openOrders'
  | 'update'
  | 'cancel'
  | 'transactions'

export type FakePreOrderStatus = 'Submitted' | 'Processing' | 'Filled' | 'Complete' | 'Cancelled'

export interface FakePreOrder {
  preOrderId: number
  status: FakePreOrderStatus
  customerId: number
  items: Array<{ productId: number; quantity: number }>
  notes: string | null
  isDelivery: boolean
  /** The delivery fields as sent (`deliveryStreet`, `deliveryCity`, …). */
  delivery: Record<string, string>
  orderDate: Date
  idempotencyKey: string | null
}

export interface FakeCustomer {
  customerId: number
  firstName: string
  lastName: string
  phone: string
}

export interface FakeDutchieOptions {
  /** The only location API key the fake accepts (HTTP Basic username). */
  locationKey: string
  /** When set, the Basic password may be this or empty; any other password is a 401. */
  integratorKey?: string
  location: { locationId: number; locationName: string }
  products: JsonObject[]
  inventory: JsonObject[]
  customers: FakeCustomer[]
  /** False: the key lacks the PreOrder role, so every /preorder call is a 403. @default true */
  preOrderRole?: boolean
  /** Include `notes` in PreOrderStatus (not in the spec: [FAKE]). @default true */
  statusNotes?: boolean
  /** Answer /whoami with PascalCase keys, as a [3P] source reports. @default false */
  whoamiPascalCase?: boolean
  /** How late a `timeout` fault answers: keep it far beyond the adapter's timeout. @default 30000 */
  slowMs?: number
  /** The clock of pre-order dates and of the 14-day open-order window: the test's clock, never today's date. */
  now: () => Date
}

export interface RecordedRequest {
  route: FakeDutchieRoute | null
  method: string
  path: string
  query: Record<string, string>
  authorization: string | undefined
  consumerKey: string | undefined
  body: unknown
}

interface Reply {
  status: number
  /** Serialised with JSON.stringify; undefined means an empty body. */
  json?: unknown
  text?: string
  headers?: Record<string, string>
}

const TAX_RATE = 0.08
const round2 = (value: number) => Math.round(value * 100) / 100
const OPEN: ReadonlySet<FakePreOrderStatus> = new Set(['Submitted', 'Processing', 'Filled'])
const CHANGEABLE: ReadonlySet<FakePreOrderStatus> = new Set(['Submitted', 'Processing'])
const FOURTEEN_DAYS_MS = 14 * 24 * 3600 * 1000

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * A fake Dutchie POS API on 127.0.0.1 following the contract brief: HTTP Basic auth, whole-array product
 * and inventory reads, pre-order submit/Status/update/cancel with the per-endpoint error bodies, and
 * ConsumerKey + idempotencyKey dedupe. Faults are injected per route.
 */
export class FakeDutchieServer {
  readonly orders = new Map<number, FakePreOrder>()
  readonly requests: RecordedRequest[] = []
  private readonly faults = new Map<FakeDutchieRoute, PosFault[]>()
  private readonly counts = new Map<FakeDutchieRoute, number>()
  private readonly idempotency = new Map<string, number>()
  private readonly timers = new Set<NodeJS.Timeout>()
  private nextId = 48_213
  private server: Server | null = null
  baseUrl = ''

  constructor(readonly options: FakeDutchieOptions) {}

  static async start(options: FakeDutchieOptions): Promise<FakeDutchieServer> {
    const fake = new FakeDutchieServer(options)
    await fake.listen()
    return fake
  }

  /** The next `times` requests on `route` fail with `fault`. */
  inject(route: FakeDutchieRoute, fault: PosFault, times = 1): void {
    const queue = this.faults.get(route) ?? []
    for (let i = 0; i < times; i += 1) queue.push(fault)
    this.faults.set(route, queue)
  }

  /** Requests received on `route`, faulted ones included. */
  count(route: FakeDutchieRoute): number {
    return this.counts.get(route) ?? 0
  }

  /** Moves a pre-order along, as store staff would. Completing it rings up its transaction (`wasPreOrdered`). */
  setStatus(preOrderId: number, status: FakePreOrderStatus): void {
    const order = this.orders.get(preOrderId)
    if (!order) throw new Error(`no pre-order ${preOrderId}`)
    order.status = status
    if (status === 'Complete') {
      this.ringUp(order.items, { wasPreOrdered: true, orderIds: [preOrderId], orderSource: 'Online' })
    }
  }

  /** Transactions as `GET /reporting/transactions` serves them (with detail), oldest first. */
  readonly transactions: JsonObject[] = []
  private nextTransactionId = 880_001

  /** A completed `Retail` sale rung up at the counter now; returns its `transactionId`. */
  sellAtCounter(items: Array<{ productId: number; quantity: number }>): number {
    return this.ringUp(items, { wasPreOrdered: false, orderIds: [], orderSource: 'In Store' })
  }

  /** Voids a transaction (`isVoid`, `voidDate`) and moves its `lastModifiedDateUTC` to now. */
  voidTransaction(transactionId: number): void {
    const t = this.transaction(transactionId)
    const now = this.options.now().toISOString()
    Object.assign(t, { isVoid: true, voidDate: now, lastModifiedDateUTC: now })
  }

  /** Returns every item of a transaction: a return transaction (`isReturn`) and the items marked returned. */
  returnTransaction(transactionId: number): number {
    const t = this.transaction(transactionId)
    const now = this.options.now().toISOString()
    const items = (t.items as JsonObject[]).map((i) => ({
      productId: i.productId as number,
      quantity: i.quantity as number,
    }))
    const id = this.ringUp(items, { isReturn: true, returnOnTransactionId: transactionId })
    for (const item of t.items as JsonObject[]) {
      Object.assign(item, {
        isReturned: true,
        returnDate: now,
        returnedByTransactionId: id,
        returnReason: 'Return',
      })
    }
    t.lastModifiedDateUTC = now
    return id
  }

  private transaction(transactionId: number): JsonObject {
    const t = this.transactions.find((row) => row.transactionId === transactionId)
    if (!t) throw new Error(`no transaction ${transactionId}`)
    return t
  }

  private ringUp(items: Array<{ productId: number; quantity: number }>, extra: JsonObject): number {
    const transactionId = this.nextTransactionId++
    const now = this.options.now().toISOString()
    const lines = items.map((item, index) => {
      const price = Number(this.product(item.productId)?.recPrice ?? 10)
      return {
        transactionId,
        productId: item.productId,
        totalPrice: round2(price * item.quantity),
        quantity: item.quantity,
        unitPrice: price,
        totalDiscount: 0,
        inventoryId: 0,
        unitId: 1,
        isReturned: false,
        transactionItemId: index + 1,
        isCoupon: false,
      }
    })
    const subtotal = round2(lines.reduce((sum, l) => sum + l.totalPrice, 0))
    this.transactions.push({
      transactionId,
      customerId: 0,
      employeeId: 1,
      transactionDate: now,
      voidDate: null,
      isVoid: false,
      subtotal,
      totalDiscount: 0,
      totalBeforeTax: subtotal,
      tax: round2(subtotal * TAX_RATE),
      total: round2(subtotal * (1 + TAX_RATE)),
      paid: round2(subtotal * (1 + TAX_RATE)),
      changeDue: 0,
      totalItems: lines.length,
      isTaxInclusive: false,
      transactionType: 'Retail',
      items: lines,
      lastModifiedDateUTC: now,
      wasPreOrdered: false,
      isReturn: false,
      customerTypeId: 1,
      isMedical: false,
      orderIds: [],
      totalCredit: 0,
      responsibleForSaleUserId: 1,
      transactionDateLocalTime: now,
      ...extra,
    })
    return transactionId
  }

  /**
   * `GET /reporting/transactions`: transaction id, transaction-date range and last-modified range are
   * mutually exclusive (a 400 `ValidationResult` otherwise) [SPEC]; no filter returns all [FAKE].
   */
  private listTransactions(url: URL): Reply {
    const q = url.searchParams
    const modes = [
      q.has('TransactionId'),
      q.has('FromDateUTC') || q.has('ToDateUTC'),
      q.has('FromLastModifiedDateUTC') || q.has('ToLastModifiedDateUTC'),
    ].filter(Boolean).length
    const from = q.get('FromLastModifiedDateUTC')
    const fromMs = from === null ? Number.NEGATIVE_INFINITY : Date.parse(from)
    if (modes > 1 || Number.isNaN(fromMs)) {
      return {
        status: 400,
        json: {
          isValid: false,
          errors: [
            {
              propertyName: modes > 1 ? 'TransactionId' : 'FromLastModifiedDateUTC',
              errorMessage: modes > 1 ? 'Filters are mutually exclusive.' : 'Invalid date.',
              errorCode: 'PredicateValidator',
              severity: 0,
            },
          ],
          ruleSetsExecuted: [],
        },
      }
    }
    const detail = q.get('IncludeDetail') === 'true'
    const orderIds = q.get('IncludeOrderIds') === 'true'
    const rows = this.transactions
      .filter((t) => Date.parse(String(t.lastModifiedDateUTC)) >= fromMs)
      .map((t) => {
        const row: JsonObject = structuredClone(t)
        if (!detail) row.items = null
        if (!orderIds) row.orderIds = null
        return row
      })
    return { status: 200, json: rows }
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    const server = this.server
    if (!server) return
    this.server = null
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  private listen(): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500)
        res.end()
      })
    })
    this.server = server
    return new Promise((resolve) => {
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo
        this.baseUrl = `http://127.0.0.1:${port}`
        resolve()
      })
    })
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const raw = await readBody(req)
    let body: unknown
    try {
      body = raw === '' ? undefined : JSON.parse(raw)
    } catch {
      body = raw
    }
    const route = routeOf(req.method ?? 'GET', url)
    const consumerKey = req.headers.consumerkey
    this.requests.push({
      route,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      authorization: req.headers.authorization,
      consumerKey: Array.isArray(consumerKey) ? consumerKey[0] : consumerKey,
      body,
    })
    if (route === null) return send(res, { status: 404 })
    this.counts.set(route, this.count(route) + 1)

    if (!this.authorised(req.headers.authorization)) {
      return send(res, { status: 401, text: 'Invalid or missing API key' })
    }
    if (
      route !== 'whoami' &&
      url.pathname.toLowerCase().startsWith('/preorder') &&
      this.options.preOrderRole === false
    ) {
      return send(res, { status: 403 })
    }

    const fault = this.faults.get(route)?.shift()
    switch (fault?.kind) {
      case 'rate_limit':
        return send(res, {
          status: 429,
          headers:
            fault.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(fault.retryAfterSeconds) },
        })
      case 'server_error':
        return send(res, { status: fault.status })
      case 'reset':
        req.socket.destroy()
        return
      default:
        break
    }

    const reply = this.serve(route, url, body, req.headers.consumerkey)
    switch (fault?.kind) {
      case 'lost_response':
        res.socket?.destroy()
        return
      case 'timeout': {
        const timer = setTimeout(() => {
          this.timers.delete(timer)
          if (!res.destroyed && !res.writableEnded) send(res, reply)
        }, this.options.slowMs ?? 30_000)
        this.timers.add(timer)
        return
      }
      case 'malformed_json':
        return send(res, { status: 200, text: '{"preOrderId": 1, "status": "Subm' })
      case 'wrong_types':
        return send(res, { ...reply, json: mangle(route, reply.json) })
      default:
        return send(res, reply)
    }
  }

  private authorised(header: string | undefined): boolean {
    const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header ?? '')
    if (!match?.[1]) return false
    const decoded = Buffer.from(match[1], 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon < 0) return false
    const user = decoded.slice(0, colon)
    const password = decoded.slice(colon + 1)
    if (user !== this.options.locationKey) return false
    return (
      password === '' || (this.options.integratorKey !== undefined && password === this.options.integratorKey)
    )
  }

  private serve(
    route: FakeDutchieRoute,
    url: URL,
    body: unknown,
    consumerKey: string | string[] | undefined,
  ): Reply {
    switch (route) {
      case 'whoami':
        return { status: 200, json: this.whoami() }
      case 'products':
        return this.products(url)
      case 'inventory':
        return this.inventory(url)
      case 'submit':
        return this.submit(body, Array.isArray(consumerKey) ? consumerKey[0] : consumerKey)
      case 'status':
        return this.status(url)
      case 'openOrders': {
        const since = this.options.now().getTime() - FOURTEEN_DAYS_MS
        const open = [...this.orders.values()].filter(
          (order) => OPEN.has(order.status) && order.orderDate.getTime() >= since,
        )
        return { status: 200, json: open.map((order) => this.statusOf(order, false)) }
      }
      case 'update':
        return this.update(body)
      case 'cancel':
        return this.cancel(body)
      case 'transactions':
        return this.listTransactions(url)
    }
  }

  private whoami(): JsonObject {
    const identity: JsonObject = {
      locationId: this.options.location.locationId,
      lspId: 77,
      locationName: this.options.location.locationName,
      lspName: 'Example Cannabis Co',
      address: '1 Example St',
      city: 'Portland',
      state: 'OR',
      postalCode: '97201',
      licenseNumber: 'LIC-0001',
      shareCustomerProfiles: false,
    }
    if (!this.options.whoamiPascalCase) return identity
    return Object.fromEntries(
      Object.entries(identity).map(([key, value]) => [key.charAt(0).toUpperCase() + key.slice(1), value]),
    )
  }

  /** The whole array, never paged: `offset`/`limit` ([3P]) are ignored. */
  private products(url: URL): Reply {
    let products = this.options.products
    const from = url.searchParams.get('fromLastModifiedDateUTC')
    if (from !== null) {
      const fromMs = Date.parse(from)
      if (Number.isNaN(fromMs)) return { status: 400 }
      products = products.filter((product) => {
        const modified = product.lastModifiedDateUTC
        if (typeof modified !== 'string') return false
        const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(modified) ? modified : `${modified}Z`)
        return ms >= fromMs
      })
    }
    const isActive = url.searchParams.get('isActive')
    if (isActive === 'true' || isActive === 'false') {
      products = products.filter((product) => product.isActive === (isActive === 'true'))
    }
    return { status: 200, json: products }
  }

  private inventory(url: URL): Reply {
    const rooms = url.searchParams.get('includeRoomQuantities') === 'true'
    return {
      status: 200,
      json: this.options.inventory.map((row) => ({
        ...row,
        roomQuantities: rooms ? (row.roomQuantities ?? []) : null,
      })),
    }
  }

  private product(productId: unknown): JsonObject | undefined {
    return this.options.products.find((product) => product.productId === productId)
  }

  private badRequest(
    errors: Array<[string, string]>,
    message = 'One or more validation errors occurred.',
  ): Reply {
    return {
      status: 400,
      json: {
        message,
        propertyErrors:
          errors.length === 0
            ? null
            : errors.map(([propertyName, propertyError]) => ({ propertyName, propertyError })),
      },
    }
  }

  private itemErrors(items: unknown): Array<[string, string]> {
    if (!Array.isArray(items) || items.length === 0) return [['Items', 'At least one item is required.']]
    const errors: Array<[string, string]> = []
    items.forEach((item, index) => {
      const product = isObject(item) ? this.product(item.productId) : undefined
      if (!product || product.isActive === false) {
        errors.push([`Items[${index}].ProductId`, 'Product not found or not available online.'])
        return
      }
      const quantity = isObject(item) ? item.quantity : undefined
      if (typeof quantity !== 'number' || !(quantity > 0)) {
        errors.push([`Items[${index}].Quantity`, 'Quantity must be greater than 0.'])
      } else if (product.unitType === 'Qty' && !Number.isInteger(quantity)) {
        errors.push([`Items[${index}].Quantity`, 'Quantity must be a whole number for this product.'])
      }
    })
    return errors
  }

  private submit(body: unknown, consumerKey: string | undefined): Reply {
    if (!isObject(body)) return this.badRequest([], 'A non-empty request body is required.')
    const errors: Array<[string, string]> = []
    const customerId = body.customerId
    if (!this.options.customers.some((customer) => customer.customerId === customerId)) {
      errors.push(['CustomerId', 'Customer not found.'])
    }
    errors.push(...this.itemErrors(body.items))
    const idempotencyKey = typeof body.idempotencyKey === 'string' ? body.idempotencyKey : null
    if (idempotencyKey !== null && idempotencyKey.length > 36) {
      errors.push([
        'IdempotencyKey',
        'The field IdempotencyKey must be a string with a maximum length of 36.',
      ])
    }
    if (errors.length > 0) return this.badRequest(errors)

    const dedupeKey = consumerKey && idempotencyKey ? `${consumerKey}\u0000${idempotencyKey}` : null
    const seen = dedupeKey === null ? undefined : this.idempotency.get(dedupeKey)
    if (seen !== undefined) return { status: 200, json: seen }

    const preOrderId = this.nextId
    this.nextId += 1
    this.orders.set(preOrderId, {
      preOrderId,
      status: 'Submitted',
      customerId: customerId as number,
      items: (body.items as Array<{ productId: number; quantity: number }>).map(
        ({ productId, quantity }) => ({
          productId,
          quantity,
        }),
      ),
      notes: typeof body.notes === 'string' ? body.notes : null,
      isDelivery: body.isDelivery === true,
      delivery: deliveryOf(body),
      orderDate: this.options.now(),
      idempotencyKey,
    })
    if (dedupeKey !== null) this.idempotency.set(dedupeKey, preOrderId)
    return { status: 200, json: preOrderId }
  }

  private status(url: URL): Reply {
    const id = Number(url.searchParams.get('PreOrderId'))
    const order = Number.isInteger(id) ? this.orders.get(id) : undefined
    // The spec declares only 400 (empty body) for Status; an unknown id gets that too [FAKE].
    if (!order) return { status: 400 }
    return { status: 200, json: this.statusOf(order, url.searchParams.get('includeLineItems') === 'true') }
  }

  private statusOf(order: FakePreOrder, lineItems: boolean): JsonObject {
    const lines = order.items.map((item) => {
      const product = this.product(item.productId)
      const unitPrice = Number(product?.recPrice ?? product?.price ?? 0)
      const totalPrice = round2(unitPrice * item.quantity)
      return {
        productName: (product?.productName as string | undefined) ?? null,
        quantity: item.quantity,
        totalPrice,
        totalDiscount: 0,
        totalTax: round2(totalPrice * TAX_RATE),
      }
    })
    const subTotal = round2(lines.reduce((sum, line) => sum + line.totalPrice, 0))
    const totalTax = round2(lines.reduce((sum, line) => sum + line.totalTax, 0))
    const customer = this.options.customers.find((candidate) => candidate.customerId === order.customerId)
    return {
      preOrderId: order.preOrderId,
      status: order.status,
      transactionId: 91_000_000 + order.preOrderId,
      orderDate: order.orderDate.toISOString(),
      customerFirstName: customer?.firstName ?? null,
      customerLastName: customer?.lastName ?? null,
      customerId: order.customerId,
      orderType: null,
      orderSource: null,
      rejectedReason: null,
      isCancellable: CHANGEABLE.has(order.status),
      isUpdateable: CHANGEABLE.has(order.status),
      total: round2(subTotal + totalTax),
      subTotal,
      totalTax,
      sourceSystem: null,
      items: lineItems ? lines : null,
      ...(this.options.statusNotes === false ? {} : { notes: order.notes }),
    }
  }

  /** 200 with no body; 404 unknown; 400 with an empty body for anything else [SPEC]. */
  private update(body: unknown): Reply {
    if (!isObject(body) || typeof body.orderId !== 'number') return { status: 400 }
    const order = this.orders.get(body.orderId)
    if (!order) return { status: 404 }
    if (!CHANGEABLE.has(order.status) || this.itemErrors(body.items).length > 0) return { status: 400 }
    order.items = (body.items as Array<{ productId: number; quantity: number }>).map(
      ({ productId, quantity }) => ({
        productId,
        quantity,
      }),
    )
    if (typeof body.notes === 'string') order.notes = body.notes
    if (typeof body.isDelivery === 'boolean') order.isDelivery = body.isDelivery
    if (Object.keys(deliveryOf(body)).length) order.delivery = deliveryOf(body)
    return { status: 200 }
  }

  /** 200 with the id; 404 unknown; 400 with an empty body when not cancellable [SPEC]. */
  private cancel(body: unknown): Reply {
    if (!isObject(body) || typeof body.orderId !== 'number') return { status: 400 }
    const order = this.orders.get(body.orderId)
    if (!order) return { status: 404 }
    if (!CHANGEABLE.has(order.status)) return { status: 400 }
    order.status = 'Cancelled'
    return { status: 200, json: order.preOrderId }
  }
}

function routeOf(method: string, url: URL): FakeDutchieRoute | null {
  const path = url.pathname.toLowerCase()
  if (method === 'GET' && path === '/whoami') return 'whoami'
  if (method === 'GET' && path === '/products') return 'products'
  if (method === 'GET' && path === '/reporting/inventory') return 'inventory'
  if (method === 'GET' && path === '/reporting/transactions') return 'transactions'
  if (method === 'POST' && path === '/preorder/submit') return 'submit'
  if (method === 'POST' && path === '/preorder/update') return 'update'
  if (method === 'POST' && path === '/preorder/cancel') return 'cancel'
  if (method === 'GET' && path === '/preorder/status') {
    return url.searchParams.has('PreOrderId') ? 'status' : 'openOrders'
  }
  return null
}

/** The right envelope with the wrong types: numbers the adapter relies on become strings. */
function mangle(route: FakeDutchieRoute, json: unknown): unknown {
  const stringify = (row: unknown, keys: string[]) =>
    isObject(row) ? { ...row, ...Object.fromEntries(keys.map((key) => [key, String(row[key])])) } : row
  switch (route) {
    case 'products':
      return Array.isArray(json) ? json.map((row) => stringify(row, ['recPrice'])) : json
    case 'inventory':
      return Array.isArray(json) ? json.map((row) => stringify(row, ['quantityAvailable'])) : json
    case 'transactions':
      return Array.isArray(json) ? json.map((row) => stringify(row, ['transactionId'])) : json
    case 'openOrders':
      return Array.isArray(json) ? json.map((row) => stringify(row, ['preOrderId'])) : json
    case 'status':
      return stringify(json, ['preOrderId'])
    case 'whoami':
      return stringify(json, ['locationId'])
    default:
      return typeof json === 'number' ? String(json) : json
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.destroyed || res.writableEnded) return
  const body = reply.text ?? (reply.json === undefined ? '' : JSON.stringify(reply.json))
  const contentType = reply.text !== undefined && reply.status !== 200 ? 'text/plain' : 'application/json'
  res.writeHead(reply.status, {
    ...(body === '' ? {} : { 'Content-Type': `${contentType}; charset=utf-8` }),
    'Content-Length': Buffer.byteLength(body),
    ...reply.headers,
  })
  res.end(body)
}

/** The delivery address fields of a create or update body. */
function deliveryOf(body: Record<string, unknown>): Record<string, string> {
  const fields = ['deliveryStreet', 'deliveryStreet2', 'deliveryCity', 'deliveryState', 'deliveryPostalCode']
  return Object.fromEntries(
    fields.flatMap((f) => (typeof body[f] === 'string' ? [[f, body[f] as string]] : [])),
  )
}
