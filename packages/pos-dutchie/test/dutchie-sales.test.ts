import { afterEach, describe, expect, test } from 'vitest'
import { FIXTURE_LOCATION } from '../src/testing/dutchie-fixtures'
import { type DutchieTestRig, startRig } from './dutchie-harness'

let rig: DutchieTestRig | undefined
afterEach(async () => {
  await rig?.close()
  rig = undefined
})

const transactionQueries = (r: DutchieTestRig) =>
  r.fake.requests.filter((q) => q.route === 'transactions').map((q) => q.query)

describe('dutchie: pullSales', () => {
  test('one unpaged read with detail and order ids; with since, from since less the overlap', async () => {
    rig = await startRig()
    const sold = rig.fake.sellAtCounter([{ productId: 1184920, quantity: 2 }])
    const page = await rig.adapter.pullSales({ pageSize: 1 })
    expect(page.nextCursor).toBeNull()
    expect(page.items).toEqual([
      {
        externalId: String(sold),
        orderNumber: null,
        lines: [
          {
            externalProductId: '1184920',
            externalLocationId: String(FIXTURE_LOCATION.locationId),
            quantity: 2,
            unit: 'each',
          },
        ],
        at: rig.clock.now(),
      },
    ])
    // an hour before the harness clock (the fake runs on the same clock); the overlap is one minute
    const since = new Date(rig.clock.now().getTime() - 3_600_000)
    await rig.adapter.pullSales({ since })
    expect(transactionQueries(rig)).toEqual([
      { IncludeDetail: 'true', IncludeOrderIds: 'true' },
      {
        FromLastModifiedDateUTC: new Date(since.getTime() - 60_000).toISOString(),
        IncludeDetail: 'true',
        IncludeOrderIds: 'true',
      },
    ])
  })

  test('a partly returned sale keeps its unreturned items; non-retail and voided ones are left out', async () => {
    rig = await startRig()
    const kept = rig.fake.sellAtCounter([
      { productId: 1184920, quantity: 1 },
      { productId: 1185377, quantity: 2 },
    ])
    const row = rig.fake.transactions.find((t) => t.transactionId === kept)
    const items = row?.items as Array<Record<string, unknown>>
    if (items[1]) items[1].isReturned = true
    const transfer = rig.fake.sellAtCounter([{ productId: 1184920, quantity: 1 }])
    const transferRow = rig.fake.transactions.find((t) => t.transactionId === transfer)
    if (transferRow) transferRow.transactionType = 'Transfer'
    rig.fake.voidTransaction(rig.fake.sellAtCounter([{ productId: 1184920, quantity: 1 }]))
    const page = await rig.adapter.pullSales()
    expect(
      page.items.map((s) => [s.externalId, s.lines.map((l) => [l.externalProductId, l.quantity])]),
    ).toEqual([[String(kept), [['1184920', 1]]]])
  })
})
