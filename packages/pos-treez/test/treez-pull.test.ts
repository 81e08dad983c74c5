import { isPosError, type PosStockLevel, pullAllPages, ValidationError } from '@peak-oms/core'
import { afterEach, describe, expect, test } from 'vitest'
import {
  EXPECTED_INVENTORY,
  EXPECTED_PRODUCTS,
  fixtureProducts,
  P1,
  P2,
  P3,
  startTreezHarness,
  type TreezHarness,
} from './treez-harness'

async function collect<T>(pages: AsyncGenerator<T[]>): Promise<T[][]> {
  const all: T[][] = []
  for await (const page of pages) all.push(page)
  return all
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

const byKey = (levels: PosStockLevel[]) =>
  [...levels].sort((a, b) =>
    `${a.externalProductId}@${a.externalLocationId}`.localeCompare(
      `${b.externalProductId}@${b.externalLocationId}`,
    ),
  )

/** What Treez is asked for: `since` less the default 60 s overlap, in UTC as `+00:00`. */
const overlapped = (since: Date) => new Date(since.getTime() - 60_000).toISOString().replace('Z', '+00:00')

describe('treez: pulls', () => {
  let h: TreezHarness
  afterEach(async () => {
    await h.close()
  })

  test('a full product pull pages from 1 with pagesize and active=ALL, stopping on the short page', async () => {
    h = await startTreezHarness()
    const pages = await collect(pullAllPages((o) => h.adapter.pullProducts(o), { pageSize: 2 }))
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1])
    expect(pages.flat().sort((a, b) => a.externalId.localeCompare(b.externalId))).toEqual(
      [...EXPECTED_PRODUCTS].sort((a, b) => a.externalId.localeCompare(b.externalId)),
    )
    const sent = h.fake.requests.map((r) => [r.path, Object.fromEntries(r.query)])
    expect(sent).toEqual(
      [1, 2, 3].map((page) => [
        '/dispensary/v3/peak-test-store/product/product_list',
        { page: String(page), pagesize: '2', active: 'ALL', include_discounts: 'false' },
      ]),
    )
  })

  test('a page exactly full is followed by one more request, which comes back empty', async () => {
    h = await startTreezHarness({ fake: { products: fixtureProducts().slice(0, 4) } })
    const pages = await collect(pullAllPages((o) => h.adapter.pullProducts(o), { pageSize: 2 }))
    expect(pages.map((p) => p.length)).toEqual([2, 2, 0])
  })

  test('an incremental product pull asks lastUpdated/after/{iso} and gets only what changed', async () => {
    h = await startTreezHarness()
    const since = new Date(h.clock.now().getTime() - 60_000)
    h.fake.touchProduct(P2, { product_status: 'INACTIVE' })
    const pages = await collect(pullAllPages((o) => h.adapter.pullProducts(o), { since, pageSize: 2 }))
    expect(pages.flat().map((p) => [p.externalId, p.active])).toEqual([[P2, false]])
    const [request] = h.fake.requests
    expect(request?.path).toBe(
      `/dispensary/v3/peak-test-store/product/product_list/lastUpdated/after/${overlapped(since)}`,
    )
    expect(Object.fromEntries(request?.query ?? [])).toEqual({ page: '1', pagesize: '2', active: 'ALL' })
  })

  test('the page size is clamped to maxPageSize; a page over what Treez allows is POS_REJECTED once', async () => {
    h = await startTreezHarness({ adapter: { maxPageSize: 3, pageSize: 3 } })
    await h.adapter.pullProducts({ pageSize: 100 })
    expect(h.fake.requests[0]?.query.get('pagesize')).toBe('3')
    await h.adapter.pullProducts()
    expect(h.fake.requests[1]?.query.get('pagesize')).toBe('3')
    await h.close()

    h = await startTreezHarness({ fake: { maxPageSize: 2 } })
    const error = await rejection(h.adapter.pullInventory({ pageSize: 5 }))
    expect(isPosError(error) && error.code).toBe('POS_REJECTED')
    expect(isPosError(error) && error.details.vendorCode).toBe('RESPONSE_LIMIT_EXCEEDS')
    expect(h.fake.requestCount('pullInventory')).toBe(1)
  })

  test('a full inventory pull pages getStock with page_size and the configured inventory_type', async () => {
    h = await startTreezHarness()
    const pages = await collect(pullAllPages((o) => h.adapter.pullInventory(o), { pageSize: 2 }))
    expect(pages).toHaveLength(3)
    expect(byKey(pages.flat())).toEqual(byKey(EXPECTED_INVENTORY))
    expect(h.fake.requests.map((r) => Object.fromEntries(r.query))).toEqual(
      [1, 2, 3].map((page) => ({ page: String(page), page_size: '2', inventory_type: 'ADULT' })),
    )
  })

  test('an incremental inventory pull sends last_update_date and returns only the changed lines', async () => {
    h = await startTreezHarness()
    const since = new Date(h.clock.now().getTime() - 60_000)
    h.fake.setStock(P1, 'FRONT OF HOUSE', 'ADULT', 12)
    h.fake.setStock(P3, 'DISPLAY CASE 1', 'ADULT', 7.25)
    const items = (
      await collect(pullAllPages((o) => h.adapter.pullInventory(o), { since, pageSize: 10 }))
    ).flat()
    expect(items.map((l) => [l.externalProductId, l.externalLocationId, l.quantity, l.unit])).toEqual([
      [P1, 'FRONT OF HOUSE', 12, 'each'],
      [P3, 'DISPLAY CASE 1', 7250, 'mg'],
    ])
    expect(h.fake.requests[0]?.query.get('last_update_date')).toBe(overlapped(since))
  })

  test('inventoryType ALL sums ADULT and MEDICAL per location; no location list counts every location', async () => {
    h = await startTreezHarness({ adapter: { inventoryType: 'ALL', sellableLocations: undefined } })
    const items = (await collect(pullAllPages((o) => h.adapter.pullInventory(o), { pageSize: 10 }))).flat()
    expect(items.find((l) => l.externalProductId === P1)?.quantity).toBe(20)
    expect(
      items.find((l) => l.externalProductId === P2 && l.externalLocationId === 'BACK OF HOUSE')?.quantity,
    ).toBe(5000)
    expect(h.fake.requests[0]?.query.get('inventory_type')).toBe('ALL')
  })

  test('a fractional count is POS_INVALID_RESPONSE naming the field, never a rounded quantity', async () => {
    h = await startTreezHarness()
    h.fake.setStock(P2, 'DISPLAY CASE 1', 'ADULT', 2.5)
    const error = await rejection(h.adapter.pullInventory({ pageSize: 10 }))
    expect(isPosError(error) && error.code).toBe('POS_INVALID_RESPONSE')
    const field = 'data.stock.0.inventory_details.0.sellable_quantity'
    expect(isPosError(error) && error.details.fields).toEqual([field])
    expect((error as Error).message).toContain(field)
    expect((error as Error).message).toContain('treez')
    expect(h.fake.requestCount('pullInventory')).toBe(1)
  })

  test('a cursor that is not ours is a ValidationError and sends nothing', async () => {
    h = await startTreezHarness()
    await expect(h.adapter.pullProducts({ cursor: 'offset=10' })).rejects.toBeInstanceOf(ValidationError)
    expect(h.fake.requests).toHaveLength(0)
  })

  test('an aborted pull stops with POS_UNAVAILABLE', async () => {
    h = await startTreezHarness()
    h.inject('pullInventory', { kind: 'timeout' })
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 50)
    const error = await rejection(h.adapter.pullInventory({ signal: controller.signal }))
    expect(isPosError(error) && error.code).toBe('POS_UNAVAILABLE')
    expect((error as Error).message).toContain('aborted')
  })
})
