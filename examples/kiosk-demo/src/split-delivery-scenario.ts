import type { Actor, Oms, Storage } from '@peak-oms/core'
import { createOms } from '@peak-oms/core'
import { createDemoClock } from './kiosk-scenario'

const manager: Actor = { id: 'mgr-ana', roles: ['order_manager'] }
const shop: Actor = { id: 'web-shop', roles: ['order_manager'], userAgent: 'shop/2.3' }
const payments: Actor = { id: 'payments-webhook', roles: ['payment_service'] }
/** One picker per warehouse, each scoped to the online store's fulfillment work. */
const picker = (id: string): Actor => ({ id, roles: ['warehouse_staff'], storeIds: ['store-online'] })

export interface SplitDeliveryResult {
  order: { number: string; status: string }
  /** Per fulfillment: number, warehouse, lines, status, tracking. */
  fulfillments: Array<{
    number: string
    locationId: string
    lines: Array<[string, number]>
    status: string
    trackingNumber: string | null
  }>
  /** Every stock movement of the order: [item, location, delta, reason]. */
  movements: Array<[string, string, number, string]>
  /** On hand and reserved per item and warehouse at the end. */
  levels: Array<[string, string, number, number]>
  /** The order's status when created, paid, and after each shipment and delivery (repeats left out). */
  statuses: string[]
  drifts: number
}

/**
 * A delivery order no single warehouse can fill: A × 2 (one in each warehouse), B (only in WH1) and C
 * (only in WH2). With allocation on, it is held across both warehouses, becomes two fulfillments (one
 * per warehouse), each picked by scans, packed and shipped with its own tracking number; each shipment
 * sells exactly its warehouse's holds.
 */
export async function runSplitDeliveryScenario(
  storage: Storage,
  log: (line: string) => void = () => {},
): Promise<SplitDeliveryResult> {
  const clock = createDemoClock()
  const oms: Oms = createOms({ storage, clock, policies: { allocateAcrossLocations: true } })
  // WH1 is the store's default location (its "sales floor" for online orders); WH2 a second warehouse.
  const warehouses = [
    { id: 'wh-1', name: 'Warehouse 1 (Denver)', kind: 'sales_floor' as const },
    { id: 'wh-2', name: 'Warehouse 2 (Aurora)', kind: 'warehouse' as const },
  ]
  for (const w of warehouses)
    await oms.inventory.defineLocation({
      actor: manager,
      location: { id: w.id, storeId: 'store-online', name: w.name, kind: w.kind },
    })
  const items = [
    { id: 'item-a', sku: 'A-VAPE', name: 'A: vape cartridge' },
    { id: 'item-b', sku: 'B-GUMMY', name: 'B: gummies 10 pk' },
    { id: 'item-c', sku: 'C-PREROLL', name: 'C: pre-roll 5 pk' },
  ]
  for (const i of items)
    await oms.inventory.defineItem({ actor: manager, item: { ...i, unit: 'each', category: 'demo' } })
  const stock: Array<[string, string, number]> = [
    ['item-a', 'wh-1', 1],
    ['item-b', 'wh-1', 4],
    ['item-a', 'wh-2', 6],
    ['item-c', 'wh-2', 2],
  ]
  for (const [itemId, locationId, quantity] of stock)
    await oms.inventory.receive({ actor: manager, itemId, locationId, quantity })
  log('stock: WH1 1 × A, 4 × B; WH2 6 × A, 2 × C')

  const created = await oms.orders.create({
    actor: shop,
    channel: 'ecommerce',
    flow: 'delivery',
    storeId: 'store-online',
    currency: 'USD',
    customerId: 'cust-42',
    lines: [
      { itemId: 'item-a', quantity: 2, unitPriceMinor: 4000 },
      { itemId: 'item-b', quantity: 1, unitPriceMinor: 2200 },
      { itemId: 'item-c', quantity: 1, unitPriceMinor: 1800 },
    ],
  })
  const holds = await oms.reservations.listByOrder({ actor: manager, orderId: created.id })
  log(
    `${created.number} (A × 2, B × 1, C × 1) held as ${holds
      .map((h) => `${h.quantityReserved} × ${h.itemId} at ${h.locationId}`)
      .sort()
      .join(', ')}`,
  )
  await oms.orders.confirmPayment({ actor: payments, orderId: created.id, idempotencyKey: 'psp:evt_2001' })
  const fulfillments = await oms.fulfillments.create({ actor: manager, orderId: created.id })
  for (const f of fulfillments)
    log(`${f.number} at ${f.locationId}: ${f.lines.map((l) => `${l.quantity} × ${l.sku}`).join(', ')}`)

  const statuses = [created.status, 'confirmed']
  const note = async () => {
    const { status } = await oms.orders.get({ actor: manager, orderId: created.id })
    if (statuses.at(-1) !== status) statuses.push(status)
    return status
  }
  // Each warehouse works its own fulfillment: scan, pack, ship; the order follows.
  for (const [n, f] of [...fulfillments].sort((a, b) => (a.locationId < b.locationId ? -1 : 1)).entries()) {
    const who = picker(`picker-${f.locationId}`)
    await oms.fulfillments.assign({ actor: manager, fulfillmentId: f.id, assignedToId: who.id })
    for (const line of f.lines)
      await oms.fulfillments.scan({
        actor: who,
        fulfillmentId: f.id,
        code: line.sku as string,
        quantity: line.quantity,
      })
    await oms.fulfillments.completePicking({ actor: who, fulfillmentId: f.id })
    await oms.fulfillments.pack({
      actor: who,
      fulfillmentId: f.id,
      boxSize: 'S',
      weightGrams: 300,
      packingMaterials: ['mylar bag', 'tamper seal'],
    })
    clock.skip(60 * 60_000)
    const shipped = await oms.fulfillments.ship({
      actor: who,
      fulfillmentId: f.id,
      carrier: 'UPS',
      trackingNumber: `1Z999AA1000000${n + 1}`,
    })
    log(
      `${shipped.number} shipped from ${f.locationId} (UPS ${shipped.trackingNumber}): order ${await note()}`,
    )
  }
  for (const f of fulfillments) {
    clock.skip(24 * 60 * 60_000)
    await oms.fulfillments.deliver({ actor: manager, fulfillmentId: f.id })
    log(`${f.number} delivered: order ${await note()}`)
  }

  const movements = (await oms.inventory.movements({ actor: manager, referenceId: created.id, limit: 1000 }))
    .map((m): [string, string, number, string] => [m.itemId, m.locationId, m.delta, m.reason])
    .sort()
  log(
    `stock movements of ${created.number}: ${movements.map(([i, l, d, r]) => `${r} ${d} × ${i} at ${l}`).join('; ')}`,
  )
  const levels: SplitDeliveryResult['levels'] = []
  for (const w of warehouses)
    for (const v of await oms.inventory.levels({ actor: manager, locationId: w.id }))
      levels.push([v.itemId, w.id, v.onHand, v.reserved])
  levels.sort()
  const order = await oms.orders.get({ actor: manager, orderId: created.id })
  const result: SplitDeliveryResult = {
    order: { number: order.number, status: order.status },
    fulfillments: (await oms.fulfillments.listByOrder({ actor: manager, orderId: created.id })).map((f) => ({
      number: f.number,
      locationId: f.locationId,
      lines: f.lines.map((l): [string, number] => [l.itemId, l.quantityFulfilled]).sort(),
      status: f.status,
      trackingNumber: f.trackingNumber,
    })),
    movements,
    levels,
    statuses,
    drifts: (await oms.inventory.reconcileProjections({ actor: manager })).drifts.length,
  }
  await oms.close()
  return result
}
