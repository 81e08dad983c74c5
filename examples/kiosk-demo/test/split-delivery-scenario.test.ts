import { describe, expect, test } from 'vitest'
import { runSplitDeliveryScenario } from '../src/split-delivery-scenario'
import { scenarioStorages } from './storages'

describe.each(scenarioStorages('split'))('split delivery scenario on %s', (_name, open) => {
  test('an order split over two warehouses ships as two fulfillments with exact stock movements', async () => {
    const lines: string[] = []
    const result = await runSplitDeliveryScenario(await open(), (l) => lines.push(l))
    // A × 2 from WH1 and WH2, B from WH1, C from WH2: one fulfillment per warehouse
    expect(result.fulfillments.map((f) => [f.locationId, f.lines, f.status]).sort()).toEqual([
      [
        'wh-1',
        [
          ['item-a', 1],
          ['item-b', 1],
        ],
        'fulfilled',
      ],
      [
        'wh-2',
        [
          ['item-a', 1],
          ['item-c', 1],
        ],
        'fulfilled',
      ],
    ])
    expect(result.fulfillments.map((f) => f.trackingNumber).sort()).toEqual([
      '1Z999AA10000001',
      '1Z999AA10000002',
    ])
    // exactly one sale movement per unit shipped, from the warehouse that shipped it
    expect(result.movements).toEqual([
      ['item-a', 'wh-1', -1, 'sale'],
      ['item-a', 'wh-2', -1, 'sale'],
      ['item-b', 'wh-1', -1, 'sale'],
      ['item-c', 'wh-2', -1, 'sale'],
    ])
    expect(result.levels).toEqual([
      ['item-a', 'wh-1', 0, 0],
      ['item-a', 'wh-2', 5, 0],
      ['item-b', 'wh-1', 3, 0],
      ['item-c', 'wh-2', 1, 0],
    ])
    expect(result.statuses).toEqual([
      'payment_pending',
      'confirmed',
      'partially_shipped',
      'shipped',
      'partially_delivered',
      'delivered',
    ])
    expect(result.order.status).toBe('delivered')
    expect(result.drifts).toBe(0)
    expect(lines.some((l) => l.includes('1 × item-a at wh-1') && l.includes('1 × item-a at wh-2'))).toBe(true)
  })
})
