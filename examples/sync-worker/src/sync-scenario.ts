import { type CallerActor, createOms, type Order, type Storage, type SyncJob } from '@peak-oms/core'
import { createFakeClock } from '@peak-oms/core/testing'
import type { DemoPos } from './fake-poses'

const manager: CallerActor = { id: 'ops-manager', roles: ['order_manager'] }
const STORE = 'store-downtown'
const FLOOR = 'downtown-floor'
const ITEM = 'house-tablets'
/** An item BLAZE does not know yet: its push there is rejected until the mapping is fixed. */
const NEW_ITEM = 'new-gummies'
const UNKNOWN_AT_BLAZE = '000000000000000000000000'

export interface SyncScenarioResult {
  orders: Order[]
  /** Every job, oldest first. */
  jobs: SyncJob[]
  /** Per POS: its tickets, and which of our order numbers they carry. */
  tickets: Record<string, Array<{ externalId: string; reference: string; status: string }>>
  /** The drain's progress after the outage: jobs still queued after each pass. */
  drainProgress: number[]
  /** POS states seen during the outage and after the drain. */
  healthDuring: Record<string, string>
  healthAfter: Record<string, string>
  /** The job table and tickets as printed. */
  table: string[]
}

/**
 * The whole story on one storage and three POSs: orders are pushed, the POSs go down, orders keep being
 * taken and queue, the POSs come back and the queue drains in order, an order BLAZE rejects is
 * dead-lettered, the operator fixes the product mapping and retries it. `log` gets one line per step.
 */
export async function runSyncScenario(
  storage: Storage,
  poses: readonly DemoPos[],
  log: (line: string) => void = () => {},
  clock = createFakeClock(),
): Promise<SyncScenarioResult> {
  let seed = 0
  const oms = createOms({
    storage,
    clock,
    sync: {
      connections: poses.map((p) => ({
        pos: p.pos,
        adapter: p.adapter,
        storeIds: [STORE],
        externalCustomerId: () => p.customerId,
      })),
      retryBaseMs: 1000,
      // A fixed jitter sequence: every run of the example retries at the same times.
      random: () => (seed++ % 4) / 4,
    },
  })
  const externalIds = (pick: (p: DemoPos) => string | null) =>
    Object.fromEntries(poses.flatMap((p) => (pick(p) === null ? [] : [[p.pos, pick(p) as string]])))
  await oms.inventory.defineLocation({
    actor: manager,
    location: {
      id: FLOOR,
      storeId: STORE,
      name: 'Sales floor',
      kind: 'sales_floor',
      externalIds: externalIds((p) => p.locationId),
    },
  })
  for (const [id, blazeId] of [
    [ITEM, null],
    [NEW_ITEM, UNKNOWN_AT_BLAZE],
  ] as const) {
    await oms.inventory.defineItem({
      actor: manager,
      item: {
        id,
        sku: id.toUpperCase(),
        name: id,
        unit: 'each',
        externalIds: externalIds((p) => (p.pos === 'blaze' && blazeId ? blazeId : p.productId)),
      },
    })
    await oms.inventory.receive({ actor: manager, itemId: id, locationId: FLOOR, quantity: 50 })
  }
  const order = (itemId = ITEM) =>
    oms.orders.create({
      actor: manager,
      channel: 'kiosk',
      flow: 'pickup',
      storeId: STORE,
      currency: 'USD',
      lines: [{ itemId, quantity: 1, unitPriceMinor: 1850 }],
    })
  const orders: Order[] = []
  const health = async () =>
    Object.fromEntries((await oms.sync.health({ actor: manager })).map((h) => [h.pos, h.state]))

  orders.push(await order(), await order())
  let run: { succeeded: number; dead: number; retried: number } = await oms.sync.drain()
  log(`2 orders pushed: ${run.succeeded} job(s) done, ${run.dead} dead`)

  for (const p of poses) p.outage.down()
  log('all three POSs go down')
  orders.push(await order(), await order(), await order(NEW_ITEM))
  await oms.orders.cancel({ actor: manager, orderId: (orders[0] as Order).id, reason: 'customer left' })
  run = await oms.sync.runOnce()
  log(
    `3 more orders taken against local stock, 1 cancelled; a pass: ${run.retried} retried, ${run.succeeded} done`,
  )
  const healthDuring = await health()
  log(`health: ${JSON.stringify(healthDuring)}`)

  clock.advance(60_000)
  for (const p of poses) p.outage.up()
  log('the POSs are back')
  clock.advance(10 * 60_000)
  const drainProgress: number[] = []
  run = await oms.sync.drain({
    batchSize: 4,
    onProgress: (progress) => {
      drainProgress.push(progress.remaining)
      log(
        `  drain pass ${progress.passes}: ${progress.succeeded} done, ${progress.dead} dead, ${progress.remaining} queued`,
      )
    },
  })

  const [dead] = await oms.sync.listJobs({ actor: manager, statuses: ['dead'] })
  if (dead) {
    log(
      `dead letter: ${dead.kind} of ${dead.entityId} at ${dead.pos}: ${dead.lastError?.code} ${dead.lastError?.message}`,
    )
    await oms.inventory.defineItem({
      actor: manager,
      item: {
        id: NEW_ITEM,
        sku: NEW_ITEM.toUpperCase(),
        name: NEW_ITEM,
        unit: 'each',
        externalIds: externalIds((p) => p.productId),
      },
    })
    await oms.sync.retryJob({ actor: manager, jobId: dead.id, reason: 'product mapped at BLAZE' })
    run = await oms.sync.drain()
    log(`operator mapped the product and retried: ${run.succeeded} done, ${run.dead} dead`)
  }
  const healthAfter = await health()
  log(`health: ${JSON.stringify(healthAfter)}`)

  const jobs = await oms.sync.listJobs({ actor: manager, limit: 1000 })
  const tickets = Object.fromEntries(poses.map((p) => [p.pos, p.tickets()]))
  const numberOf = new Map(orders.map((o) => [o.id, o.number]))
  const table = [
    'job  pos      kind          order              status     tries  note / last error',
    ...jobs.map(
      (j) =>
        `${String(j.seq).padEnd(4)} ${j.pos.padEnd(8)} ${j.kind.padEnd(13)} ${(numberOf.get(j.entityId) ?? j.entityId).padEnd(18)} ${j.status.padEnd(10)} ${String(j.attempts).padEnd(6)} ${j.note ?? ''}${j.lastError ? ` (last error ${j.lastError.code})` : ''}`,
    ),
    '',
    ...poses.flatMap((p) => [
      `${p.pos} tickets:`,
      ...p.tickets().map((t) => `  ${t.externalId.padEnd(26)} ${t.status.padEnd(10)} ${t.reference}`),
    ]),
  ]
  const final = await Promise.all(orders.map((o) => oms.orders.get({ actor: manager, orderId: o.id })))
  return { orders: final, jobs, tickets, drainProgress, healthDuring, healthAfter, table }
}
