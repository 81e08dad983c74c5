import {
  isPosError,
  type PosProduct,
  type PosStockLevel,
  pullAllPages,
  ValidationError,
} from '@peak-oms/core'
import { createFakeClock } from '@peak-oms/core/testing'
import { afterEach, describe, expect, test } from 'vitest'
import {
  defaultFakeProducts,
  fakeBlazeProduct,
  INVENTORY_MAIN,
  INVENTORY_SAFE,
} from '../src/testing/fake-blaze-server'
import { BLUE_DREAM, type BlazeHarness, GUMMIES, OG_KUSH, startBlazeHarness } from './blaze-harness'

const DAY = 24 * 3_600_000
const WEEK = 7 * DAY

async function all<T>(
  pull: (o: { cursor?: string | null }) => Promise<{ items: T[]; nextCursor: string | null }>,
  options = {},
) {
  const items: T[] = []
  let pages = 0
  for await (const page of pullAllPages(pull, options)) {
    items.push(...page)
    pages += 1
  }
  return { items, pages }
}

const byId = (a: PosProduct, b: PosProduct) => a.externalId.localeCompare(b.externalId)
const levelKey = (l: PosStockLevel) => `${l.externalProductId}@${l.externalLocationId}`

describe('blaze: product and inventory pulls', () => {
  let h: BlazeHarness
  afterEach(async () => {
    await h.close()
  })

  test('a full product pull pages with skip and limit until total', async () => {
    h = await startBlazeHarness()
    const { items, pages } = await all((o) => h.adapter.pullProducts({ ...o, pageSize: 2 }))
    expect(pages).toBe(3)
    expect(items.sort(byId)).toEqual([...h.expected.products].sort(byId))
    const queries = h.fake.requests.map((r) => [r.path, r.query.get('skip'), r.query.get('limit')])
    expect(queries).toEqual([
      ['/products', '0', '2'],
      ['/products', '2', '2'],
      ['/products', '4', '2'],
    ])
  })

  test('a page size above 100 is clamped, and a server that caps limit lower still yields everything', async () => {
    h = await startBlazeHarness({ fake: { maxLimit: 2 } })
    const { items, pages } = await all((o) => h.adapter.pullProducts({ ...o, pageSize: 500 }))
    expect(h.fake.requests[0]?.query.get('limit')).toBe('100')
    expect(pages).toBe(3)
    expect(items).toHaveLength(5)
  })

  test.each(['searchResult', 'results'] as const)('the %s list wrapper is read too', async (listWrapper) => {
    h = await startBlazeHarness({ fake: { listWrapper } })
    const { items } = await all((o) => h.adapter.pullProducts({ ...o, pageSize: 2 }))
    expect(items.sort(byId)).toEqual([...h.expected.products].sort(byId))
  })

  test('a full inventory pull reads the inventory product list and reports whole units per inventory', async () => {
    h = await startBlazeHarness()
    const { items } = await all((o) => h.adapter.pullInventory({ ...o, pageSize: 2 }))
    expect(items.map(levelKey).sort()).toEqual(h.expected.inventory.map(levelKey).sort())
    expect(
      items.find((l) => l.externalProductId === OG_KUSH && l.externalLocationId === INVENTORY_MAIN),
    ).toMatchObject({
      quantity: 453_500,
      unit: 'mg',
    })
    expect(new Set(h.fake.requests.map((r) => r.path))).toEqual(new Set(['/store/inventory/products']))
  })

  test('by default stock is what BLAZE calls sellable: the safe inventory is not counted', async () => {
    h = await startBlazeHarness({ adapter: { quantitySource: undefined } })
    const { items } = await all((o) => h.adapter.pullInventory({ ...o, pageSize: 100 }))
    expect(items.length).toBeGreaterThan(0)
    expect(items.filter((l) => l.externalLocationId === INVENTORY_SAFE)).toEqual([])
    const counted = await startBlazeHarness()
    const { items: everything } = await all((o) => counted.adapter.pullInventory({ ...o, pageSize: 100 }))
    await counted.close()
    expect(everything.some((l) => l.externalLocationId === INVENTORY_SAFE)).toBe(true)
  })

  test('a location map limits and renames inventories, reporting 0 where a product has none', async () => {
    h = await startBlazeHarness({ adapter: { locations: { [INVENTORY_SAFE]: 'safe' } } })
    const { items } = await all((o) => h.adapter.pullInventory({ ...o, pageSize: 100 }))
    expect(items).toHaveLength(5)
    expect(new Set(items.map((l) => l.externalLocationId))).toEqual(new Set(['safe']))
    expect(items.find((l) => l.externalProductId === BLUE_DREAM)?.quantity).toBe(12)
    expect(items.find((l) => l.externalProductId === GUMMIES)?.quantity).toBe(0)
  })

  test('an incremental pull asks in windows of at most 7 days covering since..now', async () => {
    h = await startBlazeHarness()
    const since = new Date(h.now - 20 * DAY)
    const { items } = await all((o) => h.adapter.pullProducts({ ...o, since, pageSize: 100 }))
    const ranges = h.fake.requests.map((r) => {
      expect(r.path).toBe('/store/inventory/products/dates')
      return [Number(r.query.get('startDate')), Number(r.query.get('endDate'))] as const
    })
    expect(ranges).toHaveLength(3)
    expect(ranges[0]?.[0]).toBe(since.getTime())
    for (const [start, end] of ranges) expect(end - start).toBeLessThanOrEqual(WEEK)
    for (let i = 1; i < ranges.length; i += 1) expect(ranges[i]?.[0]).toBe(ranges[i - 1]?.[1])
    expect(ranges[2]?.[1]).toBe(h.clock.now().getTime())
    // Changed in the last 20 days: all but the 30-day-old vape.
    expect(items.map((p) => p.externalId).sort()).toEqual(
      h.expected.products
        .filter((p) => p.name !== 'Discontinued Vape')
        .map((p) => p.externalId)
        .sort(),
    )
  })

  test('an incremental pull returns only what changed since, paging inside a window', async () => {
    h = await startBlazeHarness()
    const since = new Date(h.now - 5 * 3_600_000)
    const { items, pages } = await all((o) => h.adapter.pullProducts({ ...o, since, pageSize: 1 }))
    expect(items.map((p) => p.externalId).sort()).toEqual([BLUE_DREAM, OG_KUSH].sort())
    expect(pages).toBe(2)
  })

  test('windows without changes are skipped rather than returned as empty pages', async () => {
    const clock = createFakeClock()
    const now = clock.now().getTime()
    const products = [
      fakeBlazeProduct({
        id: '65f1c0a2e4b0a1b2c3d4eb00',
        name: 'Old',
        sku: 'OLD',
        category: 'Flower',
        unitPrice: 10,
        quantities: [[INVENTORY_MAIN, 1]],
        modified: now - 40 * DAY,
      }),
      fakeBlazeProduct({
        id: '65f1c0a2e4b0a1b2c3d4ec00',
        name: 'New',
        sku: 'NEW',
        category: 'Flower',
        unitPrice: 10,
        quantities: [[INVENTORY_MAIN, 4]],
        modified: now - DAY,
      }),
    ]
    h = await startBlazeHarness({ clock, fake: { products } })
    const first = await h.adapter.pullInventory({ since: new Date(now - 41 * DAY) })
    expect(first.items.map((l) => l.quantity)).toEqual([1])
    const second = await h.adapter.pullInventory({ cursor: first.nextCursor })
    expect(second.items.map((l) => l.quantity)).toEqual([4])
    expect(second.nextCursor).toBeNull()
    expect(h.fake.requests).toHaveLength(6)
  })

  test('a since in the future returns nothing without a request', async () => {
    h = await startBlazeHarness()
    const page = await h.adapter.pullProducts({ since: new Date(h.now + DAY) })
    expect(page).toEqual({ items: [], nextCursor: null })
    expect(h.fake.requests).toHaveLength(0)
  })

  test('a cursor the adapter did not issue is a ValidationError', async () => {
    h = await startBlazeHarness()
    await expect(h.adapter.pullProducts({ cursor: 'bogus' })).rejects.toBeInstanceOf(ValidationError)
    const forged = Buffer.from(JSON.stringify({ v: 1, mode: 'full', skip: -3 })).toString('base64url')
    await expect(h.adapter.pullInventory({ cursor: forged })).rejects.toBeInstanceOf(ValidationError)
  })

  test('a fractional quantity on a counted product fails the page with its field path', async () => {
    const clock = createFakeClock()
    const products = defaultFakeProducts(clock.now().getTime())
    const gummies = products[1] as { quantities: Array<{ quantity: number }> }
    const first = gummies.quantities[0]
    if (!first) throw new Error('no quantity')
    first.quantity = 117.5
    h = await startBlazeHarness({ clock, fake: { products } })
    const error = await h.adapter.pullInventory({ pageSize: 100 }).catch((e: unknown) => e)
    expect(isPosError(error) && error.code).toBe('POS_INVALID_RESPONSE')
    const fields = (error as { details: { fields: string[] } }).details.fields
    expect(fields).toEqual(['values.1.quantities.0.quantity'])
    expect((error as Error).message).toContain('values.1.quantities.0.quantity')
    expect((error as Error).message).toMatch(/^blaze pullInventory \(GET \/store\/inventory\/products\)/)
  })
})
