import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { createOms, type Oms } from '../../create-oms'
import type { SearchOrdersInput } from '../../domain/commands'
import type { CallerActor, Fulfillment, Note, Order } from '../../domain/schemas'
import { newFulfillment } from '../../fulfillment/fulfillment-records'
import type { Storage } from '../../ports/storage'
import { createFakeClock, type FakeClock } from '../fake-clock'
import { actors, uid } from '../fixtures'
import type { Suite } from './suite'
import { rejectionOf, useStorage } from './use-storage'

/** The test's own view of what an order is found by (written here, not taken from the library). */
interface Row {
  order: Order
  notes: number
  fulfillmentStatuses: string[]
}

const PRODUCTS = [
  { key: 'bd', sku: 'BD-35', name: 'Blue Dream 3.5g' },
  { key: 'og', sku: 'OGK-1', name: 'OG Kush' },
  { key: 'sd', sku: 'SD-PR', name: 'Sour Diesel Pre-Roll' },
  { key: 'gm', sku: 'GUM-M', name: 'Mango Gummies' },
] as const

const STATUSES = ['payment_pending', 'confirmed', 'cancelled', 'processing']
const CHANNELS = ['kiosk', 'ecommerce', 'pos'] as const
const PAYMENTS = ['unpaid', 'paid', 'failed'] as const
const FULFILMENTS = ['pending', 'picking', 'shipped'] as const
const ASSIGNEES = ['staff-a', 'staff-b']
const SYNC_STATES = ['synced', 'failed']

interface Dataset {
  oms: Oms
  storage: Storage
  clock: FakeClock
  stores: [string, string]
  locations: [string, string, string]
  customers: [string, string]
  items: Record<string, string>
  rows: () => Promise<Row[]>
  /** A few more orders, as other callers would create them while someone pages. */
  addOrders(count: number, options?: { sameTime?: boolean }): Promise<Order[]>
}

/**
 * Two stores (the first with two locations), four products, two customers and `count` orders spread over
 * time with every field the search filters on varied: statuses through real transitions, notes, assignees,
 * POS sync states, fulfillments and external ids written through the storage.
 */
async function dataset(storage: Storage, count: number): Promise<Dataset> {
  const clock = createFakeClock()
  const oms = createOms({ storage, clock })
  const m = actors.manager
  const tag = uid('q')
  const stores: [string, string] = [`${tag}-sa`, `${tag}-sb`]
  const locations: [string, string, string] = [`${tag}-la1`, `${tag}-la2`, `${tag}-lb`]
  const customers: [string, string] = [`${tag}-cust1`, `${tag}-cust2`]
  const storeOf = [stores[0], stores[0], stores[1]]
  for (const [i, id] of locations.entries())
    await oms.inventory.defineLocation({
      actor: m,
      location: { id, storeId: storeOf[i] as string, name: `L${i}`, kind: i === 1 ? 'vault' : 'sales_floor' },
    })
  const items: Record<string, string> = {}
  for (const p of PRODUCTS) {
    const id = `${tag}-${p.key}`
    items[p.key] = id
    await oms.inventory.defineItem({ actor: m, item: { id, sku: p.sku, name: p.name, unit: 'each' } })
    for (const locationId of locations)
      await oms.inventory.receive({ actor: m, itemId: id, locationId, quantity: 100_000 })
  }
  let n = 0
  const one = async (sameTime: boolean): Promise<Order> => {
    const i = n++
    if (!sameTime) clock.advance(((i * 7919) % 5) * 60_000 + 1000)
    const loc = i % 3
    const product = PRODUCTS[i % 4] as (typeof PRODUCTS)[number]
    const second = PRODUCTS[(i + 1) % 4] as (typeof PRODUCTS)[number]
    return oms.orders.create({
      actor: m,
      channel: CHANNELS[i % 3] as (typeof CHANNELS)[number],
      flow: i % 4 === 0 ? 'delivery' : 'pickup',
      storeId: storeOf[loc] as string,
      locationId: locations[loc],
      ...(i % 5 === 4 ? {} : { customerId: customers[i % 2] }),
      currency: 'USD',
      holdSeconds: 7 * 24 * 3600,
      lines: [
        {
          itemId: items[product.key] as string,
          quantity: 1 + (i % 3),
          unitPriceMinor: 500 + ((i * 37) % 11) * 250,
        },
        ...(i % 3 === 0 ? [{ itemId: items[second.key] as string, quantity: 1, unitPriceMinor: 1200 }] : []),
      ],
    })
  }
  const orders: Order[] = []
  for (let i = 0; i < count; i++) orders.push(await one(false))
  // statuses through the machine; notes; host fields and fulfillments through the storage
  for (const [i, o] of orders.entries()) {
    clock.advance(1000)
    if (i % 4 === 1) await oms.orders.confirmPayment({ actor: actors.payments, orderId: o.id })
    if (i % 4 === 2) await oms.orders.failPayment({ actor: actors.payments, orderId: o.id })
    if (i % 8 === 5) await oms.orders.send({ actor: m, orderId: o.id, type: 'order.start_processing' })
    if (i % 3 === 1) await oms.notes.add({ actor: m, orderId: o.id, text: `note ${i}` })
    if (i % 5 === 0 || i % 7 === 3) {
      await storage.transaction(async (tx) => {
        const cur = (await tx.orders.get(o.id)) as Order
        const next: Order = {
          ...cur,
          assigneeId: i % 5 === 0 ? (ASSIGNEES[i % 2] as string) : cur.assigneeId,
          posSyncState: i % 7 === 3 ? (SYNC_STATES[i % 2] as string) : cur.posSyncState,
          externalIds: i % 7 === 3 ? { treez: `TZ-${1000 + i}` } : cur.externalIds,
          version: cur.version + 1,
          updatedAt: clock.now(),
        }
        expect(await tx.orders.update(next, cur.version)).toBe(true)
      })
    }
    if (i % 6 === 2 || i % 6 === 3) {
      const now = clock.now()
      const f: Fulfillment = {
        ...newFulfillment({
          id: uid('ful'),
          number: `FUL-20261122-${String(i).padStart(4, '0')}`,
          orderId: o.id,
          storeId: o.storeId,
          customerId: o.customerId,
          locationId: o.locationId,
          assignedToId: null,
          lines: [
            {
              orderLineId: o.lines[0]?.id as string,
              itemId: o.lines[0]?.itemId as string,
              sku: null,
              quantity: 1,
              quantityPicked: 0,
              quantityFulfilled: 0,
            },
          ],
          now,
        }),
        status: FULFILMENTS[i % 3] as Fulfillment['status'],
      }
      await storage.transaction((tx) => tx.fulfillments.insert(f))
    }
  }
  const rows = async (): Promise<Row[]> =>
    storage.transaction(async (tx) => {
      const all = await tx.orders.list({ storeIds: stores, limit: 100_000 })
      const out: Row[] = []
      for (const order of all) {
        const notes: Note[] = await tx.notes.listByOrder(order.id, { includeInternal: true })
        const fulfillments = await tx.fulfillments.listByOrder(order.id)
        out.push({ order, notes: notes.length, fulfillmentStatuses: fulfillments.map((f) => f.status) })
      }
      return out
    })
  return {
    oms,
    storage,
    clock,
    stores,
    locations,
    customers,
    items,
    rows,
    async addOrders(k, options = {}) {
      const added: Order[] = []
      for (let i = 0; i < k; i++) added.push(await one(options.sameTime ?? false))
      return added
    },
  }
}

type Criteria = Omit<SearchOrdersInput, 'actor' | 'cursor' | 'limit' | 'includeTotal'>

/** The model: which rows a search must return, in which order (written independently of the library). */
function expected(rows: readonly Row[], c: Criteria, actor: CallerActor): string[] {
  const words = (c.text ?? '')
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w.length > 0)
  const termsOf = (o: Order) => {
    const values = [o.number, o.customerId ?? '', ...Object.values(o.externalIds)]
    for (const l of o.lines) values.push(l.sku ?? '', l.name ?? '', ...(l.name ?? '').split(' '))
    return values.map((v) => v.toLowerCase()).filter((v) => v !== '')
  }
  const inList = <T>(list: readonly T[] | undefined, v: T) => list === undefined || list.includes(v)
  const visible = (o: Order) =>
    actor.roles.includes('customer')
      ? o.customerId === actor.customerId
      : actor.storeIds === undefined || actor.storeIds.includes(o.storeId)
  const ms = (d: Date | string | undefined) => (d === undefined ? undefined : new Date(d).getTime())
  const matched = rows.filter(({ order: o, notes, fulfillmentStatuses }) => {
    const created = o.createdAt.getTime()
    const updated = o.updatedAt.getTime()
    const from = ms(c.createdFrom)
    const to = ms(c.createdTo)
    const ufrom = ms(c.updatedFrom)
    const uto = ms(c.updatedTo)
    return (
      visible(o) &&
      words.every((w) => termsOf(o).some((t) => t.startsWith(w))) &&
      inList(c.statuses, o.status) &&
      inList(c.channels, o.channel) &&
      inList(c.flows, o.flow) &&
      inList(c.storeIds, o.storeId) &&
      inList(c.locationIds, o.locationId) &&
      (c.customerId === undefined || o.customerId === c.customerId) &&
      (from === undefined || created >= from) &&
      (to === undefined || created < to) &&
      (ufrom === undefined || updated >= ufrom) &&
      (uto === undefined || updated < uto) &&
      (c.totalMin === undefined || o.totals.totalMinor >= c.totalMin) &&
      (c.totalMax === undefined || o.totals.totalMinor <= c.totalMax) &&
      inList(c.paymentStatuses, o.paymentStatus) &&
      (c.fulfillmentStatuses === undefined ||
        fulfillmentStatuses.some((s) => c.fulfillmentStatuses?.includes(s as never))) &&
      (c.assigneeId === undefined || o.assigneeId === c.assigneeId) &&
      (c.hasNotes === undefined || notes > 0 === c.hasNotes) &&
      (c.posSyncStates === undefined || c.posSyncStates.includes(o.posSyncState))
    )
  })
  const sort = c.sort ?? { field: 'created', direction: 'desc' }
  const key = (o: Order): number | string =>
    sort.field === 'created'
      ? o.createdAt.getTime()
      : sort.field === 'updated'
        ? o.updatedAt.getTime()
        : sort.field === 'total'
          ? o.totals.totalMinor
          : o.number
  const sign = (sort.direction ?? 'desc') === 'asc' ? 1 : -1
  return matched
    .map((r) => r.order)
    .sort((a, b) => {
      const ka = key(a)
      const kb = key(b)
      if (ka !== kb) return (ka < kb ? -1 : 1) * sign
      return (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) * sign
    })
    .map((o) => o.id)
}

/** Every page of a search, followed by cursor. */
async function allPages(
  oms: Oms,
  input: SearchOrdersInput,
): Promise<{ ids: string[]; total: number | undefined; pages: number }> {
  const ids: string[] = []
  let cursor: string | undefined
  let total: number | undefined
  let pages = 0
  for (;;) {
    const page = await oms.orders.search({ ...input, ...(cursor ? { cursor } : {}) })
    pages += 1
    if (pages === 1) total = page.total
    ids.push(...page.orders.map((o) => o.id))
    if (!page.nextCursor) return { ids, total, pages }
    expect(page.orders.length).toBe(input.limit)
    cursor = page.nextCursor
    if (pages > 500) throw new Error('search did not end')
  }
}

/**
 * `orders.search` and `orders.getByNumber`: every filter and sort against the test's own model, cursor
 * paging that stays put while orders are inserted, the caller's reach inside the query.
 */
export const orderSearchSuite: Suite = (target, options) => {
  describe('order search', () => {
    const storage = useStorage(target)

    test('every filter and sort, and their combinations, return what the model says, page by page', async () => {
      const d = await dataset(storage(), 36)
      const rows = await d.rows()
      const orders = rows.map((r) => r.order)
      const times = orders.map((o) => o.createdAt.getTime()).sort((a, b) => a - b)
      const utimes = orders.map((o) => o.updatedAt.getTime()).sort((a, b) => a - b)
      // each criterion is set in about one search of five, so most searches combine a few and match some
      const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
        fc.oneof({ arbitrary: fc.constant(undefined), weight: 4 }, { arbitrary: arb, weight: 1 })
      const someOf = <T>(values: readonly T[]) => maybe(fc.subarray([...values], { minLength: 0 }))
      const date = (list: number[]) => maybe(fc.constantFrom(...list).map((t) => new Date(t)))
      const criteria: fc.Arbitrary<Criteria> = fc.record(
        {
          text: maybe(
            fc.constantFrom(
              'blue',
              'BD-3',
              'og kush',
              'kush og',
              'diesel pre',
              'pre diesel',
              'mango',
              'gum',
              orders[3]?.number as string,
              (orders[7] as Order).number.slice(0, 13),
              d.customers[0],
              'tz-10',
              'nothing-like-this',
            ),
          ),
          statuses: someOf(STATUSES),
          channels: someOf(CHANNELS),
          flows: someOf(['pickup', 'delivery'] as const),
          storeIds: someOf(d.stores),
          locationIds: someOf(d.locations),
          customerId: maybe(fc.constantFrom(...d.customers)),
          createdFrom: date(times),
          createdTo: date(times),
          updatedFrom: date(utimes),
          updatedTo: date(utimes),
          totalMin: maybe(fc.integer({ min: 0, max: 8000 })),
          totalMax: maybe(fc.integer({ min: 0, max: 8000 })),
          paymentStatuses: someOf(PAYMENTS),
          fulfillmentStatuses: someOf(FULFILMENTS),
          assigneeId: maybe(fc.constantFrom<string | null>(null, ...ASSIGNEES)),
          hasNotes: maybe(fc.boolean()),
          posSyncStates: someOf<string | null>([null, ...SYNC_STATES]),
          sort: fc.record({
            field: fc.constantFrom('created', 'updated', 'total', 'number') as fc.Arbitrary<
              'created' | 'updated' | 'total' | 'number'
            >,
            direction: fc.constantFrom('asc', 'desc') as fc.Arbitrary<'asc' | 'desc'>,
          }),
        },
        { requiredKeys: ['sort'] },
      )
      const callers: CallerActor[] = [
        actors.manager,
        actors.storeManager([d.stores[0]]),
        actors.customer(d.customers[1]),
        { id: 'cs-b', roles: ['customer_service'], storeIds: [d.stores[1]] },
      ]
      // each criterion alone: the data has orders on both sides of it, and the search agrees with the model
      const singles: Criteria[] = [
        { text: 'blue' },
        { text: 'og kush' },
        // the same words the other way round (the rarer is walked first, whichever the caller wrote first)
        { text: 'kush og' },
        { text: orders[5]?.number as string },
        { text: d.customers[1] },
        { text: 'tz-1' },
        { statuses: ['cancelled'] },
        { channels: ['pos', 'kiosk'] },
        { flows: ['delivery'] },
        { storeIds: [d.stores[1]] },
        { locationIds: [d.locations[1]] },
        { customerId: d.customers[0] },
        { createdFrom: new Date(times[10] as number) },
        { createdTo: new Date(times[10] as number) },
        { updatedFrom: new Date(utimes[20] as number) },
        { updatedTo: new Date(utimes[20] as number) },
        { totalMin: 2000 },
        { totalMax: 2000 },
        { paymentStatuses: ['paid'] },
        { fulfillmentStatuses: ['picking', 'shipped'] },
        { assigneeId: 'staff-a' },
        { assigneeId: null },
        { hasNotes: true },
        { hasNotes: false },
        { posSyncStates: ['failed'] },
        { posSyncStates: [null] },
      ]
      for (const c of singles) {
        const want = expected(rows, c, actors.manager)
        expect([JSON.stringify(c), want.length > 0 && want.length < rows.length]).toEqual([
          JSON.stringify(c),
          true,
        ])
        const got = await allPages(d.oms, { ...c, actor: actors.manager, limit: 7, includeTotal: true })
        expect([JSON.stringify(c), got.ids]).toEqual([JSON.stringify(c), want])
        expect(got.total).toBe(want.length)
      }
      await fc.assert(
        fc.asyncProperty(
          criteria,
          fc.constantFrom(...callers),
          fc.integer({ min: 1, max: 9 }),
          async (c, actor, limit) => {
            const want = expected(rows, c, actor)
            const got = await allPages(d.oms, { ...c, actor, limit, includeTotal: true })
            expect(got.ids).toEqual(want)
            expect(got.total).toBe(want.length)
          },
        ),
        { numRuns: Math.min(options.numRuns, 120) },
      )
    }, 240_000)

    test('a cursor keeps its place while orders are inserted: no order twice, none skipped', async () => {
      const d = await dataset(storage(), 14)
      const actor = actors.manager
      for (const sort of [
        { field: 'created', direction: 'desc' },
        { field: 'created', direction: 'asc' },
        { field: 'total', direction: 'desc' },
        { field: 'number', direction: 'asc' },
      ] as const) {
        const before = expected(await d.rows(), { sort }, actor)
        const seen: string[] = []
        let cursor: string | undefined
        let inserted: Order[] = []
        for (let page = 0; ; page++) {
          const r = await d.oms.orders.search({ actor, sort, limit: 4, ...(cursor ? { cursor } : {}) })
          seen.push(...r.orders.map((o) => o.id))
          // between pages, others create orders: some at the same instant as the last one seen
          inserted = [...inserted, ...(await d.addOrders(2, { sameTime: page % 2 === 0 }))]
          if (!r.nextCursor) break
          cursor = r.nextCursor
        }
        const counts = new Map<string, number>()
        for (const id of seen) counts.set(id, (counts.get(id) ?? 0) + 1)
        expect([...counts.values()].every((n) => n === 1)).toBe(true)
        // every order that existed before the first page was seen, in the order it had then
        expect(seen.filter((id) => before.includes(id))).toEqual(before)
        // newer orders show only after the cursor's place (newest-first never shows them)
        if (sort.field === 'created' && sort.direction === 'desc')
          expect(seen.filter((id) => !before.includes(id))).toEqual([])
      }
    }, 120_000)

    test('the caller reach is part of the query; getByNumber answers a missing and an unreachable order alike', async () => {
      const d = await dataset(storage(), 10)
      const rows = await d.rows()
      const inA = rows.find((r) => r.order.storeId === d.stores[0])?.order as Order
      const inB = rows.find((r) => r.order.storeId === d.stores[1])?.order as Order
      const scoped = actors.storeManager([d.stores[0]])
      const all = await d.oms.orders.search({ actor: scoped, limit: 200, includeTotal: true })
      expect(all.orders.every((o) => o.storeId === d.stores[0])).toBe(true)
      expect(all.total).toBe(rows.filter((r) => r.order.storeId === d.stores[0]).length)
      // asking for another store's orders narrows, never widens
      const other = await d.oms.orders.search({ actor: scoped, storeIds: [d.stores[1]], includeTotal: true })
      expect(other.orders).toEqual([])
      expect(other.total).toBe(0)
      const customer = actors.customer(d.customers[0])
      const mine = await d.oms.orders.search({ actor: customer, limit: 200 })
      expect(mine.orders.length).toBeGreaterThan(0)
      expect(mine.orders.every((o) => o.customerId === d.customers[0])).toBe(true)

      expect((await d.oms.orders.getByNumber({ actor: scoped, number: inA.number })).id).toBe(inA.id)
      const far = await rejectionOf(d.oms.orders.getByNumber({ actor: scoped, number: inB.number }))
      const missing = await rejectionOf(
        d.oms.orders.getByNumber({ actor: scoped, number: 'ORD-19990101-0001' }),
      )
      expect(far.code).toBe('FORBIDDEN')
      expect(missing.code).toBe('FORBIDDEN')
      expect(far.message.replace(inB.number, 'N')).toBe(missing.message.replace('ORD-19990101-0001', 'N'))
      const unscoped = await rejectionOf(
        d.oms.orders.getByNumber({ actor: actors.manager, number: 'ORD-19990101-0001' }),
      )
      expect(unscoped.code).toBe('NOT_FOUND')
      expect(await rejectionOf(d.oms.orders.search({ actor: scoped, limit: 500 }))).toMatchObject({
        code: 'VALIDATION',
      })
    }, 120_000)

    test('a cursor is bound to its sort; a made-up one is refused', async () => {
      const d = await dataset(storage(), 4)
      const actor = actors.manager
      const first = await d.oms.orders.search({ actor, limit: 1 })
      expect(first.nextCursor).not.toBeNull()
      const wrong = await rejectionOf(
        d.oms.orders.search({
          actor,
          limit: 1,
          sort: { field: 'total', direction: 'desc' },
          cursor: first.nextCursor as string,
        }),
      )
      expect(wrong).toMatchObject({ code: 'VALIDATION' })
      for (const cursor of ['garbage', Buffer.from('["created","desc","x","y"]').toString('base64url')])
        expect(await rejectionOf(d.oms.orders.search({ actor, cursor }))).toMatchObject({
          code: 'VALIDATION',
        })
      expect(await rejectionOf(d.oms.orders.search({ actor, text: 'a b c d e f g h i' }))).toMatchObject({
        code: 'VALIDATION',
      })
    }, 60_000)
  })
}
