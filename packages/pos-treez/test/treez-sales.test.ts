import { pullAllPages } from '@peak-oms/core'
import { afterEach, describe, expect, test } from 'vitest'
import { formatTreezDate } from '../src/treez-adapter'
import { P1, P3, startTreezHarness, type TreezHarness } from './treez-harness'

let h: TreezHarness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

const feedRequests = (harness: TreezHarness) =>
  harness.fake.requests.filter((r) => r.path.includes('/ticket/lastUpdated/')).map((r) => r.path)

describe('treez: pullSales', () => {
  test('pages through the ticket feed by path page and size, stopping on a short page', async () => {
    h = await startTreezHarness()
    for (const quantity of [1, 2, 3])
      h.fake.sellAtCounter([{ productId: P1, location: 'FRONT OF HOUSE', quantity }])
    const pages: number[] = []
    for await (const page of pullAllPages((o) => (h as TreezHarness).adapter.pullSales(o), { pageSize: 2 }))
      pages.push(page.length)
    expect(pages).toEqual([2, 1])
    const since = formatTreezDate(new Date(h.clock.now().getTime() - 14 * 24 * 3600 * 1000))
    expect(feedRequests(h)).toEqual([
      `/dispensary/v3/peak-test-store/ticket/lastUpdated/${since}/page/1/pagesize/2`,
      `/dispensary/v3/peak-test-store/ticket/lastUpdated/${since}/page/2/pagesize/2`,
    ])
  })

  test('with since, asks the feed from since less the overlap; weighed lines come in milligrams', async () => {
    h = await startTreezHarness()
    h.fake.sellAtCounter([{ productId: P3, location: 'DISPLAY CASE 1', quantity: 3.5 }])
    const since = new Date(h.clock.now().getTime() - 3_600_000)
    const page = await h.adapter.pullSales({ since })
    expect(feedRequests(h)[0]).toContain(
      `/lastUpdated/${formatTreezDate(new Date(since.getTime() - 60_000))}/`,
    )
    expect(page.items.map((s) => s.lines)).toEqual([
      [{ externalProductId: P3, externalLocationId: 'DISPLAY CASE 1', quantity: 3500, unit: 'mg' }],
    ])
  })

  test('open, cancelled and removed tickets are not sales; a pushed one carries our order number', async () => {
    h = await startTreezHarness()
    const line = [{ productId: P1, location: 'FRONT OF HOUSE', quantity: 1 }]
    h.fake.sellAtCounter(line, 'IN_PROCESS')
    h.fake.setTicketStatus(h.fake.sellAtCounter(line, 'IN_PROCESS'), 'REMOVED')
    const ref = await h.adapter.pushOrder(h.order('ORD-20261122-0041'))
    h.fake.setTicketStatus(ref.externalId, 'COMPLETED')
    const page = await h.adapter.pullSales()
    expect(page.items.map((s) => [s.externalId, s.orderNumber])).toEqual([
      [ref.externalId, 'ORD-20261122-0041'],
    ])
  })
})
