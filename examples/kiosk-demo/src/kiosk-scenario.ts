import type { Actor, Clock, HistoryEntry, Oms, Storage } from '@peak-oms/core'
import { createOms, isOmsError } from '@peak-oms/core'

/** A clock the demo can move forward, so a 15-minute hold expires without waiting 15 minutes. */
export function createDemoClock(): Clock & { skip(ms: number): void } {
  let offset = 0
  return {
    now: () => new Date(Date.now() + offset),
    skip(ms) {
      offset += ms
    },
  }
}

const manager: Actor = {
  id: 'mgr-ana',
  roles: ['order_manager'],
  ip: '10.1.0.5',
  userAgent: 'backoffice/1.0',
}
const kiosk = (n: number): Actor => ({ id: `kiosk-${n}`, roles: ['order_manager'], userAgent: `kiosk/${n}` })
const payments: Actor = { id: 'payments-webhook', roles: ['payment_service'] }
/** The budtender who picks kiosk orders in Denver: fulfillment only, in that store only. */
const budtender: Actor = { id: 'budtender-sam', roles: ['warehouse_staff'], storeIds: ['store-denver'] }

export interface ScenarioResult {
  timeline: string[]
  levels: string[]
  orders: Array<{ number: string; status: string }>
}

/**
 * The kiosk scenario: stock received at two stores, concurrent kiosk orders (some refused for stock),
 * one hold expires, one order is cancelled, one is paid and collected. Returns what the demo prints.
 */
export async function runKioskScenario(
  storage: Storage,
  log: (line: string) => void = () => {},
): Promise<ScenarioResult> {
  const clock = createDemoClock()
  const oms: Oms = createOms({ storage, clock })
  const stores = [
    { storeId: 'store-denver', locationId: 'denver-floor', name: 'Denver sales floor' },
    { storeId: 'store-boulder', locationId: 'boulder-floor', name: 'Boulder sales floor' },
  ]
  for (const s of stores) {
    await oms.inventory.defineLocation({
      actor: manager,
      location: { id: s.locationId, storeId: s.storeId, name: s.name, kind: 'sales_floor' },
    })
  }
  const items = [
    { id: 'blue-dream-3.5g', sku: 'BD-35', name: 'Blue Dream 3.5 g', unit: 'each', price: 3500 },
    {
      id: 'mango-gummies-10pk',
      sku: 'MG-10',
      name: 'Mango gummies 10 pk',
      unit: 'each',
      price: 2200,
      barcode: '850001234567',
    },
  ] as const
  for (const i of items)
    await oms.inventory.defineItem({
      actor: manager,
      item: { id: i.id, sku: i.sku, name: i.name, unit: i.unit, barcode: 'barcode' in i ? i.barcode : null },
    })
  await oms.inventory.receive({
    actor: manager,
    itemId: 'blue-dream-3.5g',
    locationId: 'denver-floor',
    quantity: 5,
    packageId: '1A4FF0100000022000001234',
  })
  await oms.inventory.receive({
    actor: manager,
    itemId: 'mango-gummies-10pk',
    locationId: 'denver-floor',
    quantity: 8,
  })
  await oms.inventory.receive({
    actor: manager,
    itemId: 'blue-dream-3.5g',
    locationId: 'boulder-floor',
    quantity: 3,
  })
  log('stock received: Denver 5 × Blue Dream, 8 × gummies; Boulder 3 × Blue Dream')

  // Four kiosks in Denver check out at the same moment, asking for 7 Blue Dream between them (5 in stock).
  const wanted = [2, 2, 2, 1]
  const attempts = await Promise.allSettled(
    wanted.map((quantity, n) =>
      oms.orders.create({
        actor: kiosk(n + 1),
        channel: 'kiosk',
        flow: 'pickup',
        storeId: 'store-denver',
        currency: 'USD',
        idempotencyKey: `kiosk-${n + 1}:cart-1`,
        lines: [
          { itemId: 'blue-dream-3.5g', quantity, unitPriceMinor: 3500 },
          { itemId: 'mango-gummies-10pk', quantity: 1, unitPriceMinor: 2200 },
        ],
      }),
    ),
  )
  const placed = []
  for (const [n, a] of attempts.entries()) {
    if (a.status === 'fulfilled') {
      placed.push(a.value)
      log(`kiosk-${n + 1}: ${a.value.number} holds ${wanted[n]} × Blue Dream (${a.value.status})`)
    } else {
      log(
        `kiosk-${n + 1}: refused — ${isOmsError(a.reason) ? `${a.reason.code}: ${a.reason.message}` : String(a.reason)}`,
      )
    }
  }
  const boulder = await oms.orders.create({
    actor: kiosk(9),
    channel: 'kiosk',
    flow: 'pickup',
    storeId: 'store-boulder',
    currency: 'USD',
    lines: [{ itemId: 'blue-dream-3.5g', quantity: 1, unitPriceMinor: 3500 }],
  })
  log(`kiosk-9 (Boulder): ${boulder.number} holds 1 × Blue Dream`)

  const [paid, cancelled, abandoned] = placed
  if (!paid || !cancelled || !abandoned) throw new Error('expected three Denver orders to be placed')

  await oms.orders.confirmPayment({ actor: payments, orderId: paid.id, idempotencyKey: 'psp:evt_1001' })
  await oms.orders.confirmPayment({ actor: payments, orderId: boulder.id })
  await oms.orders.cancel({ actor: manager, orderId: cancelled.id, reason: 'customer left the line' })
  log(`${paid.number} paid; ${cancelled.number} cancelled at the counter; ${abandoned.number} left unpaid`)

  clock.skip(16 * 60_000)
  const swept = await oms.reservations.expireDue()
  log(
    `16 minutes later the sweeper expired ${swept.expiredHolds} hold(s) and cancelled ${swept.ordersMoved} order(s)`,
  )

  // The budtender picks the paid order by scanning each item (sku label or package barcode), bags it,
  // and hands it over at the counter; the order follows (processing → ready_for_pickup → picked_up).
  const [pick] = await oms.fulfillments.create({
    actor: budtender,
    orderId: paid.id,
    assignedToId: budtender.id,
  })
  if (!pick) throw new Error('expected a fulfillment for the paid order')
  const list = await oms.fulfillments.pickList({ actor: budtender, fulfillmentId: pick.id })
  log(
    `${pick.number} for ${paid.number}: pick ${list.lines.map((l) => `${l.quantity} × ${l.sku} at ${l.locationName}`).join(', ')}`,
  )
  for (const line of list.lines) {
    const code = line.barcode ?? (line.sku as string)
    await oms.fulfillments.scan({ actor: budtender, fulfillmentId: pick.id, code, quantity: line.quantity })
    log(`  scanned ${line.quantity} × ${code}`)
  }
  const extra = list.lines[0]?.sku as string
  try {
    await oms.fulfillments.scan({ actor: budtender, fulfillmentId: pick.id, code: extra })
  } catch (error) {
    log(
      `  one more ${extra} refused — ${isOmsError(error) ? `${error.code}: ${error.message}` : String(error)}`,
    )
  }
  await oms.fulfillments.completePicking({ actor: budtender, fulfillmentId: pick.id })
  await oms.fulfillments.pack({
    actor: budtender,
    fulfillmentId: pick.id,
    boxSize: 'exit bag',
    weightGrams: 120,
  })
  await oms.fulfillments.handOver({ actor: budtender, fulfillmentId: pick.id })
  await oms.orders.send({ actor: manager, orderId: paid.id, type: 'order.complete' })
  log(`${paid.number} picked by scans, bagged and collected`)

  const timeline: string[] = []
  const all = await oms.orders.list({ actor: manager })
  for (const order of [...all].reverse()) {
    for (const h of await oms.history.forOrder({ actor: manager, orderId: order.id }))
      timeline.push(formatEntry(order.number, h))
  }
  const levels: string[] = []
  for (const s of stores) {
    for (const v of await oms.inventory.levels({ actor: manager, locationId: s.locationId })) {
      levels.push(
        `${s.name.padEnd(20)} ${v.itemId.padEnd(20)} on hand ${String(v.onHand).padStart(2)}  reserved ${String(v.reserved).padStart(2)}  available ${String(v.available).padStart(2)}`,
      )
    }
  }
  const drift = await oms.inventory.reconcileProjections({ actor: manager })
  levels.push(`reconcile: ${drift.checked} level(s) checked, ${drift.drifts.length} drift(s)`)
  const orders = [...all].reverse().map((o) => ({ number: o.number, status: o.status }))
  await oms.close()
  return { timeline, levels, orders }
}

function formatEntry(number: string, h: HistoryEntry): string {
  const time = h.createdAt.toISOString().slice(11, 19)
  const change = h.newStatus ? `${h.oldStatus ?? '∅'} → ${h.newStatus}` : ''
  return `${time}  ${number}  ${h.action.padEnd(20)} ${change.padEnd(34)} by ${h.actorId}`
}
