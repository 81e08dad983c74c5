import { type KeyObject, randomUUID, verify } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { PosOperation } from '@peak-oms/core'
import type { PosFault } from '@peak-oms/core/testing'
import ticketTemplate from './fixtures/ticket-create-response.json'

/**
 * A local Treez Dispensary API v3 for tests. It follows the Treez Dispensary API v3 contract (the vendor's OpenAPI document) and the
 * spec subset: same paths, envelopes, paging and error bodies. Where no public source says what Treez
 * does, the choice is ours and marked [FAKE].
 */

/** A product as `product_list` returns it (examples/product-list-page.json). */
export type TreezProductRecord = Record<string, unknown> & {
  product_id: string
  product_status: string
  last_updated_at: string
}

export interface TreezInventoryDetailRecord {
  location_name: string
  inventory_type: 'ADULT' | 'MEDICAL'
  sellable_quantity: number
  last_updated_at: string
}

/** A row of `stock/getStock` (examples/stock-page.json). */
export type TreezStockRecord = Record<string, unknown> & {
  product_id: string
  inventory_details: TreezInventoryDetailRecord[]
}

/** A ticket as create and get-by-id return it (examples/ticket-create-response.json `data`). */
export type TreezTicketRecord = Record<string, unknown> & {
  ticket_id: string
  order_number: string
  external_order_number: string | null
  order_status: string
  last_updated_at: string
  items: Array<Record<string, unknown>>
}

export interface FakeTreezOptions {
  dispensary: string
  /** Public half of the integrator key: every token is verified with it. */
  publicKey: KeyObject
  certificateId: string
  organizationId: string
  products: TreezProductRecord[]
  stock: TreezStockRecord[]
  /** Customer ids that exist. @default any numeric id */
  customerIds?: string[]
  /** Requests accepted per rolling window before 429 (no Retry-After) [FAKE]. @default { requests: 30, windowMs: 60000 } */
  rateLimit?: { requests: number; windowMs: number }
  /** A larger page gets 400 RESPONSE_LIMIT_EXCEEDS [3P]. @default 1000 */
  maxPageSize?: number
  /** How late a `timeout` fault answers: keep it far beyond the adapter's timeout. @default 30000 */
  slowMs?: number
  /**
   * Clock of token expiry, of the rate-limit window and of ticket and stock times. Pass the clock the
   * adapter under test reads, so tokens it signs are judged by the same time.
   */
  now: () => Date
}

export interface RecordedRequest {
  method: string
  /** Path without the query string. */
  path: string
  query: URLSearchParams
  operation: PosOperation | null
  body: unknown
  authorization: string | undefined
  status: number | null
}

export interface FakeTreezServer {
  /** Base URL to configure the adapter with (`…/dispensary/v3`). */
  baseUrl: string
  /** Origin only (`http://127.0.0.1:port`). */
  origin: string
  inject(operation: PosOperation, fault: PosFault, times?: number): void
  /** Answers the next request for `operation` (after auth) with this reply instead of handling it. */
  respondOnce(
    operation: PosOperation,
    reply: { status: number; body: unknown; headers?: Record<string, string> },
  ): void
  requestCount(operation: PosOperation): number
  readonly requests: RecordedRequest[]
  tickets(): TreezTicketRecord[]
  ticket(id: string): TreezTicketRecord | undefined
  setTicketStatus(id: string, status: string): void
  /**
   * A sale rung up at the counter: a `POS` ticket from `IN_STORE` with no external order number, COMPLETED
   * now unless `status` says otherwise. Served by the ticket feed. Returns its ticket id.
   */
  sellAtCounter(
    lines: Array<{ productId: string; location: string; quantity: number }>,
    status?: string,
  ): string
  /** Refunds a ticket: a COMPLETED refund ticket naming it (`original_ticket_id`), listed on it (`refund_ticket_ids`). */
  refundTicket(id: string): string
  /** Changes a product and moves its `last_updated_at` to now. */
  touchProduct(productId: string, patch?: Record<string, unknown>): void
  /** Sets one stock line and moves its `last_updated_at` to now. */
  setStock(productId: string, location: string, type: 'ADULT' | 'MEDICAL', quantity: number): void
  close(): Promise<void>
}

const PREFIX = '/dispensary/v3/'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const TREEZ_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?([+-]\d{2}:\d{2}|Z)$/
const TICKET_TYPES = ['DELIVERY', 'PICKUP', 'EXPRESS', 'POS', 'DRIVE_THRU', 'CURBSIDE']
const ORDER_SOURCES = ['ECOMMERCE', 'IN_STORE', 'VENDING_MACHINE', 'KIOSK']
const CREATE_STATUSES = [
  'DRAFT',
  'VERIFICATION_PENDING',
  'AWAITING_PROCESSING',
  'IN_PROCESS',
  'PACKED_READY',
  'OUT_FOR_DELIVERY',
]
const CLOSED = new Set(['COMPLETED', 'CANCELED', 'REMOVED'])
const TAX_RATE = 0.13

/** [SPEC] body of a missing or invalid token. */
export const TREEZ_401_BODY = {
  resultCode: 'FAIL',
  resultReason: 'Full authentication is required to access this resource',
}

interface Reply {
  status: number
  body: unknown
  headers?: Record<string, string>
}

const fail = (
  status: number,
  resultReason: string,
  resultDetail: string,
  extra: Record<string, unknown> = {},
) => ({
  status,
  body: {
    resultCode: 'FAIL',
    resultReason,
    resultDetail,
    ...(Object.keys(extra).length ? extra : { data: null }),
  },
})

const ok = (payload: Record<string, unknown>): Reply => ({
  status: 200,
  body: { resultCode: 'SUCCESS', resultReason: null, resultDetail: null, ...payload },
})

/** Treez timestamps carry the store's local offset; the fake's store is at -07:00. */
export function treezLocalTime(date: Date): string {
  const shifted = new Date(date.getTime() - 7 * 3600 * 1000)
  return `${shifted.toISOString().slice(0, 23)}-07:00`
}

const round2 = (value: number) => Math.round(value * 100) / 100

const clone = <T>(value: T): T => structuredClone(value)

export async function startFakeTreezServer(options: FakeTreezOptions): Promise<FakeTreezServer> {
  const { now } = options
  const maxPageSize = options.maxPageSize ?? 1000
  const rate = options.rateLimit ?? { requests: 30, windowMs: 60_000 }
  const slowMs = options.slowMs ?? 30_000
  const products = new Map(options.products.map((p) => [p.product_id, clone(p)]))
  const stock = new Map(options.stock.map((s) => [s.product_id, clone(s)]))
  const tickets = new Map<string, TreezTicketRecord>()
  const faults = new Map<PosOperation, PosFault[]>()
  const canned = new Map<PosOperation, Reply[]>()
  const counts = new Map<PosOperation, number>()
  const requests: RecordedRequest[] = []
  const accepted: number[] = []
  const timers = new Set<NodeJS.Timeout>()
  let origin = ''

  const locations = () => {
    const names = new Set<string>()
    for (const row of stock.values()) for (const d of row.inventory_details) names.add(d.location_name)
    return names
  }

  const customerExists = (id: string) =>
    options.customerIds ? options.customerIds.includes(id) : /^\d{1,12}$/.test(id)

  function route(method: string, parts: string[]): { operation: PosOperation | null; handler: string } {
    const [, a, b, c, d] = parts
    if (method === 'GET' && a === 'product' && b === 'product_list' && parts.length === 3)
      return { operation: 'pullProducts', handler: 'products' }
    if (method === 'GET' && a === 'product' && b === 'product_list' && c === 'lastUpdated' && d === 'after')
      return { operation: 'pullProducts', handler: 'productsAfter' }
    if (method === 'GET' && a === 'stock' && b === 'getStock' && parts.length === 3)
      return { operation: 'pullInventory', handler: 'stock' }
    if (method === 'POST' && a === 'ticket' && b === 'detailticket' && parts.length === 3)
      return { operation: 'pushOrder', handler: 'create' }
    if (method === 'GET' && a === 'ticket' && b === 'lastUpdated' && parts.length === 8)
      return { operation: 'findOrder', handler: 'feed' }
    if (method === 'GET' && a === 'ticket' && parts.length === 3)
      return { operation: 'getOrderStatus', handler: 'ticket' }
    if (method === 'PUT' && a === 'ticket' && b === 'update' && parts.length === 4)
      return { operation: 'updateOrder', handler: 'update' }
    return { operation: null, handler: 'none' }
  }

  /** Verifies the self-signed token; null when it is good, else the reply Treez gives. */
  function checkToken(authorization: string | undefined, url: string): Reply | null {
    const unauthorized = { status: 401, body: TREEZ_401_BODY }
    if (!authorization || authorization.startsWith('Bearer ')) return unauthorized
    const parts = authorization.split('.')
    if (parts.length !== 2) return unauthorized
    const [payload = '', signature = ''] = parts
    let valid = false
    try {
      valid = verify(
        'RSA-SHA256',
        Buffer.from(payload, 'utf8'),
        options.publicKey,
        Buffer.from(signature, 'base64'),
      )
    } catch {
      valid = false
    }
    if (!valid) return unauthorized
    let claims: Record<string, unknown>
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
    } catch {
      return unauthorized
    }
    const { aud, iss, oid, iat, exp } = claims
    if (typeof aud !== 'string' || typeof iss !== 'string' || typeof oid !== 'string') return unauthorized
    if (typeof iat !== 'number' || typeof exp !== 'number') return unauthorized
    if (iss !== options.certificateId || oid !== options.organizationId) return unauthorized
    // [DOC] any TTL other than 30 000 ms is a 400, not a 401. The body is [FAKE].
    if (exp - iat !== 30_000) {
      return fail(400, 'INVALID_TOKEN', 'exp must be iat + 30000 milliseconds')
    }
    if (exp <= now().getTime()) return unauthorized
    if (aud !== url) return unauthorized
    return null
  }

  function page<T>(list: T[], pageText: string | null, sizeText: string | null, defaultSize: number) {
    const pageNo = pageText === null ? 1 : Number(pageText)
    const size = sizeText === null ? defaultSize : Number(sizeText)
    if (!Number.isInteger(pageNo) || pageNo < 1 || !Number.isInteger(size) || size < 1) {
      return { error: fail(400, 'INVALID_PAGE_PARAMETER', 'page and page size must be positive integers') }
    }
    if (size > maxPageSize) {
      return { error: fail(400, 'RESPONSE_LIMIT_EXCEEDS', `page size must not exceed ${maxPageSize}`) }
    }
    return { items: list.slice((pageNo - 1) * size, pageNo * size) }
  }

  function productPage(query: URLSearchParams, after: string | null): Reply {
    const active = (query.get('active') ?? 'TRUE').toUpperCase()
    if (!['TRUE', 'FALSE', '1', '0', 'ALL'].includes(active)) {
      return fail(
        400,
        'INVALID_ACTIVE_PARAMETER',
        `'${query.get('active')}' is not a valid value for active parameter. Possible values are: true, false, 1, 0, all`,
      )
    }
    if (after !== null && !TREEZ_DATE.test(after))
      return fail(400, 'INVALID_DATE_FORMAT', `Invalid date ${after}`)
    const afterMs = after === null ? null : Date.parse(after)
    const list = [...products.values()]
      .filter((p) => {
        if (active === 'TRUE' || active === '1') return p.product_status === 'ACTIVE'
        if (active === 'FALSE' || active === '0') return p.product_status !== 'ACTIVE'
        return true
      })
      .filter((p) => afterMs === null || Date.parse(p.last_updated_at) > afterMs)
      .sort((x, y) => x.product_id.localeCompare(y.product_id))
    const paged = page(list, query.get('page'), query.get('pagesize'), 1000)
    if (paged.error) return paged.error
    const items = paged.items.map((p) => {
      const copy = clone(p)
      if (query.get('include_discounts') === 'false') delete copy.discounts
      return copy
    })
    return ok({ data: { page_count: items.length, total_count: list.length, product_list: items } })
  }

  function stockPage(query: URLSearchParams): Reply {
    const type = query.get('inventory_type') ?? 'ALL'
    if (!['ADULT', 'MEDICAL', 'ALL'].includes(type))
      return fail(400, 'INVALID_INVENTORY_TYPE', `Invalid ${type}`)
    const since = query.get('last_update_date')
    if (since !== null && !TREEZ_DATE.test(since))
      return fail(400, 'INVALID_DATE_FORMAT', `Invalid date ${since}`)
    const sinceMs = since === null ? null : Date.parse(since)
    const location = query.get('location_name')
    const list = [...stock.values()]
      .map((row) => ({
        ...clone(row),
        inventory_details: row.inventory_details.filter(
          (d) =>
            (type === 'ALL' || d.inventory_type === type) &&
            (location === null || d.location_name === location) &&
            (sinceMs === null || Date.parse(d.last_updated_at) >= sinceMs),
        ),
      }))
      .filter((row) => row.inventory_details.length > 0)
      .sort((x, y) => x.product_id.localeCompare(y.product_id))
    const paged = page(list, query.get('page'), query.get('page_size'), 1000)
    if (paged.error) return paged.error
    return ok({
      data: { page_elements: paged.items.length, total_elements: list.length, stock: paged.items },
    })
  }

  /** Checks a create/update body; returns the TICKET_FORMAT_ERROR-style reply or the built items. */
  function checkTicketBody(
    body: unknown,
    statuses: string[],
  ): { error: Reply } | { fields: Record<string, unknown>; items: Array<Record<string, unknown>> } {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return { error: fail(400, 'TICKET_FORMAT_ERROR', 'Malformed JSON request') }
    }
    const b = body as Record<string, unknown>
    const required: Array<[string, string[] | null]> = [
      ['type', TICKET_TYPES],
      ['order_source', ORDER_SOURCES],
      ['order_status', statuses],
      ['revenue_source', null],
    ]
    for (const [field, allowed] of required) {
      const value = b[field]
      if (typeof value !== 'string' || value === '' || (allowed && !allowed.includes(value))) {
        return { error: fail(400, 'TICKET_FORMAT_ERROR', `${field} is required`) }
      }
    }
    if (
      b.customer_id !== undefined &&
      (typeof b.customer_id !== 'string' || !customerExists(b.customer_id))
    ) {
      return { error: fail(404, 'CUSTOMER_DOESNT_EXIST', 'Customer does not exist') }
    }
    const items: Array<Record<string, unknown>> = []
    for (const raw of Array.isArray(b.items) ? b.items : []) {
      const item = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>
      const sizeId = item.size_id
      if (typeof sizeId !== 'string' || !UUID.test(sizeId)) {
        // Verbatim [SPEC] example: examples/error-400-ticket-format.json.
        return { error: fail(400, 'TICKET_FORMAT_ERROR', 'Invalid UUID format, size_id is required') }
      }
      const product = products.get(sizeId)
      if (!product) return { error: fail(400, 'PRODUCT_NOT_FOUND', `Cannot find product by id ${sizeId}`) }
      const quantity = item.quantity
      if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1) {
        return { error: fail(400, 'TICKET_FORMAT_ERROR', 'quantity must be a positive integer') }
      }
      if (item.inventory_type !== 'ADULT' && item.inventory_type !== 'MEDICAL') {
        return { error: fail(400, 'TICKET_FORMAT_ERROR', 'inventory_type must be ADULT or MEDICAL') }
      }
      if (typeof item.location_name !== 'string' || !locations().has(item.location_name)) {
        return { error: fail(400, 'TICKET_FORMAT_ERROR', 'Invalid location_name') }
      }
      const fields = (product.product_configurable_fields ?? {}) as Record<string, unknown>
      const priceSell = Number((product.pricing as Record<string, unknown> | undefined)?.price_sell ?? 0)
      items.push({
        ...clone(ticketTemplate.data.items[0]),
        id: randomUUID(),
        product_id: sizeId,
        size_id: sizeId,
        location_name: item.location_name,
        product_size_name: fields.name ?? null,
        product_type: product.category_type ?? null,
        product_unit: fields.uom ?? null,
        product_amount: fields.amount ?? null,
        quantity,
        price_sell: priceSell,
        price_total: round2(priceSell * quantity * (1 + TAX_RATE)),
        tax: [
          {
            id: randomUUID(),
            rate: TAX_RATE,
            tax_name: 'State Excise Tax (13%)',
            amount: round2(priceSell * quantity * TAX_RATE),
          },
        ],
      })
    }
    return { fields: b, items }
  }

  function priceTicket(ticket: TreezTicketRecord) {
    const sub = round2(ticket.items.reduce((sum, i) => sum + Number(i.price_sell) * Number(i.quantity), 0))
    const tax = round2(sub * TAX_RATE)
    ticket.sub_total = sub
    ticket.tax_total = tax
    ticket.total = round2(sub + tax)
  }

  function createTicket(body: unknown): Reply {
    const checked = checkTicketBody(body, CREATE_STATUSES)
    if ('error' in checked) return checked.error
    const b = checked.fields
    const stamp = treezLocalTime(now())
    const ticket: TreezTicketRecord = {
      ...clone(ticketTemplate.data),
      type: b.type,
      ticket_id: randomUUID(),
      order_number: Math.random().toString(36).slice(2, 8).toUpperCase().padEnd(6, 'X'),
      external_order_number: typeof b.external_order_number === 'string' ? b.external_order_number : null,
      order_source: b.order_source,
      customer_id: typeof b.customer_id === 'string' ? Number(b.customer_id) : null,
      ticket_patient_type: 'ADULT',
      order_status: String(b.order_status),
      date_created: stamp,
      last_updated_at: stamp,
      ticket_note: typeof b.ticket_note === 'string' ? b.ticket_note : null,
      revenue_source: b.revenue_source,
      items: checked.items,
    }
    priceTicket(ticket)
    tickets.set(ticket.ticket_id, ticket)
    return ok({ data: clone(ticket) })
  }

  function updateTicket(id: string, body: unknown): Reply {
    // [SPEC] the published 200 and 400 examples of update are both `{}`.
    const empty400 = { status: 400, body: {} }
    const ticket = tickets.get(id)
    if (!ticket || CLOSED.has(ticket.order_status)) return empty400
    const checked = checkTicketBody(body, [...CREATE_STATUSES, 'CANCELED'])
    if ('error' in checked) return empty400
    const b = checked.fields
    Object.assign(ticket, {
      type: b.type,
      order_source: b.order_source,
      order_status: b.order_status,
      revenue_source: b.revenue_source,
      external_order_number: typeof b.external_order_number === 'string' ? b.external_order_number : null,
      customer_id: typeof b.customer_id === 'string' ? Number(b.customer_id) : null,
      ticket_note: typeof b.ticket_note === 'string' ? b.ticket_note : null,
      items: checked.items,
      last_updated_at: treezLocalTime(now()),
    })
    priceTicket(ticket)
    return { status: 200, body: {} }
  }

  function getTicket(id: string): Reply {
    const ticket = tickets.get(id)
    if (!ticket) return fail(400, 'TICKET_NOT_FOUND', `Cannot find the ticket ${id}`, { ticketList: [] })
    return ok({ ticketList: [clone(ticket)] })
  }

  /** [FAKE] shape: no 200 example is published; it answers like the status listing. */
  function ticketFeed(date: string, pageText: string, sizeText: string): Reply {
    if (!TREEZ_DATE.test(date)) return fail(400, 'INVALID_DATE_FORMAT', `Invalid date ${date}`)
    const since = Date.parse(date)
    const list = [...tickets.values()]
      .filter((t) => Date.parse(t.last_updated_at) >= since)
      .sort(
        (x, y) =>
          // Stable: tickets updated in the same millisecond stay in creation order.
          Date.parse(x.last_updated_at) - Date.parse(y.last_updated_at),
      )
    const paged = page(list, pageText, sizeText, 100)
    if (paged.error) return paged.error
    return ok({
      pageElements: paged.items.length,
      totalElements: list.length,
      ticketList: paged.items.map(clone),
    })
  }

  function handle(handler: string, parts: string[], query: URLSearchParams, body: unknown): Reply {
    switch (handler) {
      case 'products':
        return productPage(query, null)
      case 'productsAfter':
        return productPage(query, parts.slice(5).join('/'))
      case 'stock':
        return stockPage(query)
      case 'create':
        return createTicket(body)
      case 'feed':
        return ticketFeed(parts[3] ?? '', parts[5] ?? '', parts[7] ?? '')
      case 'ticket':
        return getTicket(parts[2] ?? '')
      case 'update':
        return updateTicket(parts[3] ?? '', body)
      default:
        return fail(404, 'NOT_FOUND', 'No such resource')
    }
  }

  /** Gives a 200 body the wrong types in a field the adapter must check. */
  function wrongTypes(operation: PosOperation, reply: Reply): Reply {
    const body = clone(reply.body) as Record<string, unknown>
    const data = body.data as Record<string, unknown> | undefined
    if (operation === 'pullInventory') {
      const first = (data?.stock as TreezStockRecord[] | undefined)?.[0]?.inventory_details[0]
      if (first)
        (first as unknown as Record<string, unknown>).sellable_quantity = String(first.sellable_quantity)
      else if (data) data.stock = 'none'
    } else if (operation === 'pullProducts') {
      const first = (data?.product_list as Array<Record<string, unknown>> | undefined)?.[0]
      if (first) first.pricing = { price_sell: '18.50' }
      else if (data) data.product_list = 'none'
    } else if (operation === 'pushOrder' && data) {
      data.ticket_id = 12345
    } else if (Array.isArray(body.ticketList)) {
      const first = body.ticketList[0] as Record<string, unknown> | undefined
      if (first) first.order_status = 7
      else body.ticketList = 'none'
    } else {
      body.resultCode = 42
    }
    return { ...reply, body }
  }

  function send(res: ServerResponse, reply: Reply) {
    if (res.destroyed || res.writableEnded) return
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body)
    res.writeHead(reply.status, {
      'content-type': typeof reply.body === 'string' ? 'text/plain' : 'application/json',
      ...reply.headers,
    })
    res.end(text)
  }

  async function readBody(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    if (text === '') return undefined
    try {
      return JSON.parse(text)
    } catch {
      return text
    }
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse) {
    const method = req.method ?? 'GET'
    const url = new URL(req.url ?? '/', origin)
    const body = await readBody(req)
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      query: url.searchParams,
      operation: null,
      body,
      authorization: req.headers.authorization,
      status: null,
    }
    requests.push(record)
    const reply = (r: Reply) => {
      record.status = r.status
      send(res, r)
    }
    if (!url.pathname.startsWith(PREFIX)) return reply(fail(404, 'NOT_FOUND', 'No such resource'))
    const parts = url.pathname.slice(PREFIX.length).split('/').map(decodeURIComponent)
    let { operation, handler } = route(method, parts)
    if (
      operation === 'updateOrder' &&
      (body as { order_status?: unknown } | undefined)?.order_status === 'CANCELED'
    ) {
      operation = 'cancelOrder'
    }
    record.operation = operation
    if (operation) counts.set(operation, (counts.get(operation) ?? 0) + 1)

    // [FAKE] a rolling window over accepted requests; 429 without Retry-After.
    const t = now().getTime()
    while (accepted.length > 0 && (accepted[0] ?? 0) <= t - rate.windowMs) accepted.shift()
    if (accepted.length >= rate.requests) {
      return reply(fail(429, 'TOO_MANY_REQUESTS', 'Rate limit exceeded'))
    }
    accepted.push(t)

    // The audience is the URL the client addressed (its Host header): the same as `origin` when it calls
    // the fake directly, the relay's address when a test puts a relay (e.g. an outage switch) in between.
    const addressed = req.headers.host ? `http://${req.headers.host}` : origin
    const denied = checkToken(req.headers.authorization, `${addressed}${req.url}`)
    if (denied) return reply(denied)
    if (parts[0] !== options.dispensary) return reply(fail(404, 'NOT_FOUND', 'Unknown dispensary'))

    const cannedReply = operation ? canned.get(operation)?.shift() : undefined
    if (cannedReply) return reply(cannedReply)
    const fault = operation ? faults.get(operation)?.shift() : undefined
    switch (fault?.kind) {
      case 'rate_limit':
        return reply({
          ...fail(429, 'TOO_MANY_REQUESTS', 'Rate limit exceeded'),
          ...(fault.retryAfterSeconds === undefined
            ? {}
            : { headers: { 'retry-after': String(fault.retryAfterSeconds) } }),
        })
      case 'server_error':
        return reply({ status: fault.status, body: 'Service error' })
      case 'reset':
        record.status = -1
        req.socket.destroy()
        return
      case 'malformed_json':
        return reply({
          status: 200,
          body: '{"resultCode":"SUCCESS","data":{"stock":[{"product_id":',
          headers: { 'content-type': 'application/json' },
        })
      default:
        break
    }
    const result = handle(handler, parts, url.searchParams, body)
    if (fault?.kind === 'lost_response') {
      record.status = -1
      req.socket.destroy()
      return
    }
    if (fault?.kind === 'timeout') {
      const timer = setTimeout(() => {
        timers.delete(timer)
        reply(result)
      }, slowMs)
      timers.add(timer)
      return
    }
    if (fault?.kind === 'wrong_types' && operation && result.status === 200)
      return reply(wrongTypes(operation, result))
    return reply(result)
  }

  const server: Server = createServer((req, res) => {
    onRequest(req, res).catch(() => {
      if (!res.headersSent) send(res, { status: 500, body: 'fake error' })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  origin = `http://127.0.0.1:${port}`

  return {
    baseUrl: `${origin}/dispensary/v3`,
    origin,
    requests,
    inject(operation, fault, times = 1) {
      const queue = faults.get(operation) ?? []
      for (let i = 0; i < times; i += 1) queue.push(fault)
      faults.set(operation, queue)
    },
    respondOnce(operation, r) {
      canned.set(operation, [...(canned.get(operation) ?? []), r])
    },
    requestCount: (operation) => counts.get(operation) ?? 0,
    tickets: () => [...tickets.values()].map(clone),
    ticket: (id) => (tickets.has(id) ? clone(tickets.get(id)) : undefined),
    setTicketStatus(id, status) {
      const ticket = tickets.get(id)
      if (!ticket) throw new Error(`no ticket ${id}`)
      ticket.order_status = status
      ticket.last_updated_at = treezLocalTime(now())
      if (CLOSED.has(status)) ticket.date_closed = ticket.last_updated_at
    },
    sellAtCounter(lines, status = 'COMPLETED') {
      const stamp = treezLocalTime(now())
      const ticket: TreezTicketRecord = {
        ...clone(ticketTemplate.data),
        type: 'POS',
        ticket_id: randomUUID(),
        order_number: Math.random().toString(36).slice(2, 8).toUpperCase().padEnd(6, 'X'),
        external_order_number: null,
        order_source: 'IN_STORE',
        customer_id: null,
        order_status: status,
        date_created: stamp,
        last_updated_at: stamp,
        date_closed: CLOSED.has(status) ? stamp : null,
        revenue_source: null,
        original_ticket_id: null,
        refund_ticket_ids: [],
        items: lines.map((l) => ({
          ...clone(ticketTemplate.data.items[0]),
          id: randomUUID(),
          product_id: l.productId,
          size_id: l.productId,
          product_type: products.get(l.productId)?.category_type ?? null,
          location_name: l.location,
          inventory_type: 'ADULT',
          quantity: l.quantity,
        })),
      }
      priceTicket(ticket)
      tickets.set(ticket.ticket_id, ticket)
      return ticket.ticket_id
    },
    refundTicket(id) {
      const original = tickets.get(id)
      if (!original) throw new Error(`no ticket ${id}`)
      const stamp = treezLocalTime(now())
      const refund: TreezTicketRecord = {
        ...clone(original),
        ticket_id: randomUUID(),
        order_status: 'COMPLETED',
        date_created: stamp,
        last_updated_at: stamp,
        date_closed: stamp,
        original_ticket_id: id,
        refund_reason: 'CUSTOMER_RETURN',
        refund_ticket_ids: [],
      }
      tickets.set(refund.ticket_id, refund)
      original.refund_ticket_ids = [
        ...((original.refund_ticket_ids as string[] | null) ?? []),
        refund.ticket_id,
      ]
      original.last_updated_at = stamp
      return refund.ticket_id
    },
    touchProduct(productId, patch = {}) {
      const product = products.get(productId)
      if (!product) throw new Error(`no product ${productId}`)
      Object.assign(product, patch, { last_updated_at: treezLocalTime(now()) })
    },
    setStock(productId, location, type, quantity) {
      const row = stock.get(productId)
      if (!row) throw new Error(`no stock row ${productId}`)
      const stamp = treezLocalTime(now())
      const line = row.inventory_details.find(
        (d) => d.location_name === location && d.inventory_type === type,
      )
      if (line) Object.assign(line, { sellable_quantity: quantity, last_updated_at: stamp })
      else
        row.inventory_details.push({
          location_name: location,
          inventory_type: type,
          sellable_quantity: quantity,
          last_updated_at: stamp,
        })
    },
    async close() {
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
