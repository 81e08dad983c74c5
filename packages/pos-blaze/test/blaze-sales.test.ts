import { pullAllPages } from '@peak-oms/core'
import { afterEach, describe, expect, test } from 'vitest'
import { INVENTORY_MAIN, INVENTORY_SAFE } from '../src/testing/fake-blaze-server'
import { type BlazeHarness, GUMMIES, OG_KUSH, startBlazeHarness } from './blaze-harness'

const DAY = 24 * 3_600_000

let h: BlazeHarness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

const transactionQueries = (harness: BlazeHarness) =>
  harness.fake.requests
    .filter((r) => r.path.endsWith('/transactions'))
    .map((r) => [r.query.get('startDate'), r.query.get('endDate'), r.query.get('skip'), r.query.get('limit')])

describe('blaze: pullSales', () => {
  test('pages with skip and limit over the last 7 days without since', async () => {
    h = await startBlazeHarness()
    for (const quantity of [1, 2, 3]) h.fake.sellAtCounter([{ productId: GUMMIES, quantity }])
    const pages: number[] = []
    for await (const page of pullAllPages((o) => (h as BlazeHarness).adapter.pullSales(o), { pageSize: 2 }))
      pages.push(page.length)
    expect(pages).toEqual([2, 1])
    // The harness clock stands at 2026-11-22.
    expect(transactionQueries(h)).toEqual([
      ['11/16/2026', '11/22/2026', '0', '2'],
      ['11/16/2026', '11/22/2026', '2', '2'],
    ])
  })

  test('since 10 days back walks two windows of at most 7 days; weighed quantities come in mg', async () => {
    h = await startBlazeHarness()
    h.fake.sellAtCounter([{ productId: OG_KUSH, quantity: 3.5, inventoryId: INVENTORY_SAFE }])
    const sales = []
    const since = new Date(h.clock.now().getTime() - 10 * DAY)
    for await (const page of pullAllPages((o) => (h as BlazeHarness).adapter.pullSales(o), { since }))
      sales.push(...page)
    expect(transactionQueries(h)).toEqual([
      ['11/12/2026', '11/18/2026', '0', '100'],
      ['11/19/2026', '11/22/2026', '0', '100'],
    ])
    expect(sales.map((s) => s.lines)).toEqual([
      [{ externalProductId: OG_KUSH, externalLocationId: INVENTORY_SAFE, quantity: 3500, unit: 'mg' }],
    ])
  })

  test('with locations configured, lines are mapped and an unmapped inventory is left out', async () => {
    h = await startBlazeHarness({ adapter: { locations: { [INVENTORY_MAIN]: 'floor' } } })
    h.fake.sellAtCounter([
      { productId: GUMMIES, quantity: 1, inventoryId: INVENTORY_MAIN },
      { productId: GUMMIES, quantity: 4, inventoryId: INVENTORY_SAFE },
    ])
    const page = await h.adapter.pullSales()
    expect(page.items.map((s) => s.lines)).toEqual([
      [{ externalProductId: GUMMIES, externalLocationId: 'floor', quantity: 1, unit: 'each' }],
    ])
  })
})
