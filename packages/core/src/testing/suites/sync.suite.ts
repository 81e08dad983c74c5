import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { createOms } from '../../create-oms'
import type { Order } from '../../domain/schemas'
import type { SyncOptions } from '../../sync/sync-config'
import type { SyncJob } from '../../sync/sync-job'
import { FakePos, type FakePosFault } from '../fake-pos'
import { actors, createWorld, placeOrder, type World } from '../fixtures'
import { checkInvariants } from '../invariants'
import type { Suite } from './suite'
import { expectInvariants, rejectionOf, useStorage } from './use-storage'

export interface SyncWorld extends World {
  pos: Record<string, FakePos>
}

/** A world whose store is connected to one fake POS per name; items and the sales floor are mapped. */
export async function createSyncWorld(
  storage: import('../../ports/storage').Storage,
  names: readonly string[] = ['alpha'],
  stock: Record<string, number> = { flower: 10, gummies: 10 },
  options: Omit<SyncOptions, 'connections'> = {},
): Promise<SyncWorld> {
  const pos = Object.fromEntries(names.map((n) => [n, new FakePos(n)]))
  let seed = 0
  const w = await createWorld(storage, stock, {
    sync: {
      // Jitter is injected: the tests know every retry time.
      random: () => (seed++ % 2) / 2,
      ...options,
      connections: names.map((n) => ({ pos: n, adapter: pos[n] as FakePos })),
    },
  })
  for (const [name, id] of Object.entries(w.items)) {
    await w.oms.inventory.defineItem({
      actor: actors.manager,
      item: {
        id,
        sku: id.toUpperCase(),
        name,
        unit: 'each',
        externalIds: Object.fromEntries(names.map((n) => [n, `${n}-${name}`])),
      },
    })
  }
  await w.oms.inventory.defineLocation({
    actor: actors.manager,
    location: {
      id: w.locationId,
      storeId: w.storeId,
      name: 'Sales floor',
      kind: 'sales_floor',
      externalIds: Object.fromEntries(names.map((n) => [n, 'floor'])),
    },
  })
  return { ...w, pos }
}

const jobsOf = (w: World, order: Pick<Order, 'id'>) =>
  w.oms.sync.listJobs({ actor: actors.manager, entityId: order.id, limit: 1000 })
const summary = (jobs: SyncJob[]) => jobs.map((j) => `${j.pos}:${j.kind}:${j.status}`)

/** One step of the fault property. */
type Step =
  | { kind: 'create'; quantity: number }
  | { kind: 'cancel'; pick: number }
  | { kind: 'run'; batch: number }
  | { kind: 'fault'; fault: FakePosFault }
  | { kind: 'crash'; limit: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'outage'; down: boolean }
  | { kind: 'counterSale'; quantity: number }

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('create' as const), quantity: fc.integer({ min: 1, max: 3 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('run' as const), batch: fc.integer({ min: 1, max: 3 }) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('fault' as const),
      fault: fc.oneof(
        fc.constant<FakePosFault>('lost_response'),
        fc.constant<FakePosFault>('down'),
        fc
          .integer({ min: 1, max: 90_000 })
          .map((ms): FakePosFault => ({ kind: 'throttled', retryAfterMs: ms })),
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('crash' as const), limit: fc.integer({ min: 1, max: 2 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 120_000 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('outage' as const), down: fc.boolean() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('counterSale' as const),
      quantity: fc.integer({ min: 1, max: 3 }),
    }),
  },
)

let propertyRun = 0

export const syncSuite: Suite = (target, options) =>
  describe('POS sync', () => {
    const storage = useStorage(target)

    test('an order is queued for each POS in its own transaction and appears once at each', async () => {
      const w = await createSyncWorld(storage(), ['alpha', 'beta'])
      const order = await placeOrder(w, { flower: 2 })
      expect(summary(await jobsOf(w, order))).toEqual(['alpha:push_order:pending', 'beta:push_order:pending'])
      // a create that fails writes no job
      await rejectionOf(placeOrder(w, { flower: 1000 }))
      expect(await w.oms.sync.listJobs({ actor: actors.manager })).toHaveLength(2)
      const run = await w.oms.sync.runOnce()
      expect(run).toMatchObject({ claimed: 2, succeeded: 2 })
      for (const pos of Object.values(w.pos)) expect(pos.ticketsFor(order.number)).toHaveLength(1)
      const stored = await w.oms.orders.get({ actor: actors.manager, orderId: order.id })
      expect(stored.externalIds).toMatchObject({ alpha: 't1', beta: 't1', 'alpha.number': 'T1' })
      expect(stored.posSyncState).toBe('synced')
      const pushed = w.pos.alpha?.tickets[0]
      expect(pushed?.idempotencyKey).toBe(`${order.id}:alpha`)
      expect(pushed?.lines.map((l) => [l.externalProductId, l.externalLocationId, l.quantity])).toEqual([
        ['alpha-flower', 'floor', 2],
      ])
      const history = await w.oms.history.forOrder({ actor: actors.manager, orderId: order.id })
      expect(history.filter((h) => h.action === 'pos_synced')).toHaveLength(2)
      await expectInvariants(w)
    })

    test('a lost response, a reset and a crashed worker never make a second ticket', async () => {
      const w = await createSyncWorld(storage())
      const pos = w.pos.alpha as FakePos
      const order = await placeOrder(w, { flower: 1 })
      pos.faults.push('lost_response')
      expect(await w.oms.sync.runOnce()).toMatchObject({ retried: 1 })
      // a worker claims the retry and dies before recording anything
      w.clock.advance(60_000)
      const claimed = await w.storage.transaction((tx) =>
        tx.syncJobs.claim({ owner: 'dead-worker', limit: 10, leaseMs: 30_000, now: w.clock.now() }),
      )
      expect(claimed).toHaveLength(1)
      expect(await w.oms.sync.runOnce()).toMatchObject({ claimed: 0 })
      w.clock.advance(31_000)
      expect(await w.oms.sync.runOnce()).toMatchObject({ claimed: 1, succeeded: 1 })
      expect(pos.ticketsFor(order.number)).toHaveLength(1)
      expect(pos.creates).toBe(1)
      const [job] = await jobsOf(w, order)
      expect(job).toMatchObject({ status: 'succeeded', attempts: 3, lastError: { code: 'POS_UNAVAILABLE' } })
      // the dead worker's late outcome is refused: the job is no longer its own
      expect(
        await w.storage.transaction((tx) =>
          tx.syncJobs.finish(job?.id as string, 'dead-worker', { status: 'succeeded' }, w.clock.now()),
        ),
      ).toBe(false)
    })

    test('transient failures back off with jitter and honour Retry-After; permanent ones go to dead letter', async () => {
      const w = await createSyncWorld(storage(), ['alpha'], { flower: 10 }, { retryBaseMs: 1000 })
      const pos = w.pos.alpha as FakePos
      const order = await placeOrder(w, { flower: 1 })
      const start = w.clock.now().getTime()
      pos.faults.push('down', { kind: 'throttled', retryAfterMs: 45_000 })
      await w.oms.sync.runOnce()
      let [job] = await jobsOf(w, order)
      // attempt 1: base 1000 × jitter factor (0.5 + 0/2)
      expect(job?.nextAttemptAt.getTime()).toBe(start + 500)
      w.clock.advance(500)
      await w.oms.sync.runOnce()
      ;[job] = await jobsOf(w, order)
      // attempt 2: Retry-After (45 s) beats the backoff (2000 × 0.75)
      expect(job?.nextAttemptAt.getTime()).toBe(start + 500 + 45_000)
      expect(job?.lastError).toMatchObject({ code: 'POS_UNAVAILABLE' })
      w.clock.advance(44_000)
      expect(await w.oms.sync.runOnce()).toMatchObject({ claimed: 0 })
      w.clock.advance(1000)
      pos.faults.push('rejected')
      expect(await w.oms.sync.runOnce()).toMatchObject({ dead: 1 })
      ;[job] = await jobsOf(w, order)
      expect(job).toMatchObject({ status: 'dead', attempts: 3, lastError: { code: 'POS_REJECTED' } })
      expect(pos.tickets).toHaveLength(0)
      const failed = await w.oms.orders.search({ actor: actors.manager, posSyncStates: ['failed'] })
      expect(failed.orders.map((o) => o.id)).toEqual([order.id])
    })

    test('a job retried by an operator after running out of attempts gets them all again', async () => {
      const w = await createSyncWorld(storage(), ['alpha'], { flower: 10 }, { maxAttempts: 2 })
      const pos = w.pos.alpha as FakePos
      const order = await placeOrder(w, { flower: 1 })
      for (let i = 0; i < 2; i++) {
        pos.faults.push('down')
        await w.oms.sync.runOnce()
        w.clock.advance(3_600_000)
      }
      let [job] = await jobsOf(w, order)
      expect(job).toMatchObject({ status: 'dead', attempts: 2 })
      await w.oms.sync.retryJob({ actor: actors.manager, jobId: job?.id as string })
      pos.faults.push('down')
      await w.oms.sync.runOnce()
      ;[job] = await jobsOf(w, order)
      expect(job).toMatchObject({ status: 'pending', attempts: 1 })
      w.clock.advance(3_600_000)
      await w.oms.sync.runOnce()
      ;[job] = await jobsOf(w, order)
      expect(job).toMatchObject({ status: 'succeeded' })
      expect(pos.tickets).toHaveLength(1)
    })

    test('a cancel waits for its push, and a push that never started is dropped instead', async () => {
      const w = await createSyncWorld(storage())
      const pos = w.pos.alpha as FakePos
      const pushed = await placeOrder(w, { flower: 1 })
      const never = await placeOrder(w, { flower: 1 })
      pos.faults.push('down')
      // the first order's push fails once; its cancel must not overtake it
      expect(await w.oms.sync.runOnce({ batchSize: 1 })).toMatchObject({ retried: 1 })
      await w.oms.orders.cancel({ actor: actors.manager, orderId: pushed.id, reason: 'changed mind' })
      await w.oms.orders.cancel({ actor: actors.manager, orderId: never.id, reason: 'changed mind' })
      expect(summary(await jobsOf(w, pushed))).toEqual([
        'alpha:push_order:pending',
        'alpha:cancel_order:pending',
      ])
      expect(summary(await jobsOf(w, never))).toEqual(['alpha:push_order:skipped'])
      expect(await w.oms.sync.runOnce()).toMatchObject({ claimed: 0 })
      w.clock.advance(60_000)
      const drained = await w.oms.sync.drain()
      expect(drained).toMatchObject({ succeeded: 2, remaining: 0 })
      expect(pos.calls.filter((c) => c !== 'findOrder')).toEqual(['pushOrder', 'pushOrder', 'cancelOrder'])
      expect(pos.ticketsFor(pushed.number).map((t) => t.status)).toEqual(['cancelled'])
      expect(pos.ticketsFor(never.number)).toEqual([])
      await expectInvariants(w)
    })

    test('the operator lists, retries and skips dead jobs (audited), re-pushes coalesced, and reads health', async () => {
      const w = await createSyncWorld(storage(), ['alpha', 'beta'])
      const alpha = w.pos.alpha as FakePos
      const order = await placeOrder(w, { flower: 1 })
      alpha.faults.push('rejected')
      await w.oms.sync.drain()
      const [dead] = await w.oms.sync.listJobs({ actor: actors.manager, statuses: ['dead'], pos: 'alpha' })
      expect(dead).toMatchObject({ kind: 'push_order', entityId: order.id })
      let health = await w.oms.sync.health({ actor: actors.manager })
      expect(health.map((h) => [h.pos, h.state, h.dead, h.queueDepth])).toEqual([
        ['alpha', 'degraded', 1, 0],
        ['beta', 'up', 0, 0],
      ])
      // only a dead job can be retried
      const [done] = await w.oms.sync.listJobs({ actor: actors.manager, statuses: ['succeeded'] })
      expect(
        (await rejectionOf(w.oms.sync.retryJob({ actor: actors.manager, jobId: done?.id as string }))).code,
      ).toBe('CONFLICT')
      expect(
        (await rejectionOf(w.oms.sync.retryJob({ actor: actors.warehouse, jobId: dead?.id as string }))).code,
      ).toBe('FORBIDDEN')
      await w.oms.sync.retryJob({
        actor: actors.manager,
        jobId: dead?.id as string,
        reason: 'product mapped',
      })
      expect(await w.oms.sync.runOnce()).toMatchObject({ succeeded: 1 })
      expect(alpha.ticketsFor(order.number)).toHaveLength(1)
      // re-push twice: one pending job per POS (coalesced)
      await w.oms.sync.rePushOrder({ actor: actors.manager, orderId: order.id })
      const again = await w.oms.sync.rePushOrder({ actor: actors.manager, orderId: order.id, pos: ['beta'] })
      expect(summary(again)).toEqual(['alpha:push_order:pending', 'beta:push_order:pending'])
      const skipped = await w.oms.sync.skipJob({
        actor: actors.manager,
        jobId: again[0]?.id as string,
        reason: 'ticket checked by hand',
      })
      expect(skipped).toMatchObject({ status: 'skipped', note: 'ticket checked by hand' })
      await w.oms.sync.drain()
      expect(alpha.ticketsFor(order.number)).toHaveLength(1)
      expect(w.pos.beta?.ticketsFor(order.number)).toHaveLength(1)
      const audit = await w.oms.history.forOrder({ actor: actors.manager, orderId: order.id })
      expect(audit.filter((h) => h.action === 'pos_synced').map((h) => h.description)).toEqual(
        expect.arrayContaining([
          'retry of push_order at alpha: product mapped',
          'skip of push_order at alpha: ticket checked by hand',
        ]),
      )
      health = await w.oms.sync.health({ actor: actors.manager })
      expect(health.map((h) => h.state)).toEqual(['up', 'up'])
    })

    test('offline: orders keep being taken, jobs queue, and drain in order when the POS returns', async () => {
      const w = await createSyncWorld(storage(), ['alpha'], { flower: 20 })
      const pos = w.pos.alpha as FakePos
      pos.offline = true
      const orders: Order[] = []
      for (let i = 0; i < 5; i++) {
        orders.push(await placeOrder(w, { flower: 1 }))
        await w.oms.sync.runOnce()
        w.clock.advance(1000)
      }
      await w.oms.orders.cancel({ actor: actors.manager, orderId: (orders[0] as Order).id })
      const [down] = await w.oms.sync.health({ actor: actors.manager })
      expect(down).toMatchObject({ state: 'down', queueDepth: 6, lastSuccessAt: null })
      expect(down?.oldestJobAgeMs).toBeGreaterThanOrEqual(5000)
      pos.offline = false
      w.clock.advance(3_600_000)
      const progress: number[] = []
      const result = await w.oms.sync.drain({ batchSize: 2, onProgress: (p) => progress.push(p.remaining) })
      expect(result).toMatchObject({ succeeded: 6, dead: 0, remaining: 0 })
      expect(progress.slice(0, 3)).toEqual([4, 2, 0])
      expect(pos.tickets.map((t) => t.orderNumber)).toEqual(orders.map((o) => o.number))
      expect(pos.tickets.map((t) => t.status)).toEqual([
        'cancelled',
        'submitted',
        'submitted',
        'submitted',
        'submitted',
      ])
      expect((await w.oms.sync.health({ actor: actors.manager }))[0]).toMatchObject({
        state: 'up',
        queueDepth: 0,
      })
    })

    test('a pulled inventory sets on-hand by pos_sync movements, keeps holds, and records a shortage', async () => {
      const w = await createSyncWorld(storage(), ['alpha'], { flower: 10, gummies: 10 })
      const pos = w.pos.alpha as FakePos
      await placeOrder(w, { flower: 4 })
      await w.oms.sync.drain()
      pos.setStock('alpha-flower', 'floor', 3)
      pos.setStock('alpha-gummies', 'floor', 12)
      pos.setStock('alpha-unknown', 'floor', 7)
      const [job] = await w.oms.sync.requestPull({ actor: actors.manager, kind: 'pull_inventory_full' })
      await w.oms.sync.requestPull({ actor: actors.manager, kind: 'pull_inventory_full' })
      expect(await w.oms.sync.listJobs({ actor: actors.manager, kind: 'pull_inventory_full' })).toHaveLength(
        1,
      )
      await w.oms.sync.drain()
      const flower = await w.oms.inventory.level({
        actor: actors.manager,
        itemId: w.items.flower as string,
        locationId: w.locationId,
      })
      const gummies = await w.oms.inventory.level({
        actor: actors.manager,
        itemId: w.items.gummies as string,
        locationId: w.locationId,
      })
      expect([flower.onHand, flower.reserved, gummies.onHand]).toEqual([3, 4, 12])
      const movements = await w.storage.transaction((tx) =>
        tx.inventory.listMovements({ referenceId: job?.id as string }),
      )
      expect(movements.map((m) => [m.reason, m.delta]).sort()).toEqual([
        ['pos_sync', -7],
        ['pos_sync', 2],
      ])
      const events = await w.storage.transaction((tx) => tx.outbox.list({}))
      expect(events.filter((e) => e.type === 'inventory.shortage').map((e) => e.payload.deficit)).toEqual([1])
      const [pulled] = await w.oms.sync.listJobs({ actor: actors.manager, kind: 'pull_inventory_full' })
      expect(pulled?.note).toBe(
        '1 order(s) checked, 0 moved; 0 sale(s) read, 0 recorded, 0 of our own orders left out; 3 stock row(s) read, 2 changed, 1 not mapped',
      )
      // a second pull of the same figures changes nothing
      await w.oms.sync.requestPull({ actor: actors.manager, kind: 'pull_inventory_full' })
      await w.oms.sync.drain()
      expect(
        await w.storage.transaction((tx) =>
          tx.inventory.listMovements({ itemId: w.items.gummies as string }),
        ),
      ).toHaveLength(2)
      await expectInvariants(w)
    })

    test('counter sales are recorded once as sale movements; our own tickets are left out; the next stock pull agrees', async () => {
      const w = await createSyncWorld(storage(), ['alpha'], { flower: 10, gummies: 10 })
      const pos = w.pos.alpha as FakePos
      const order = await placeOrder(w, { flower: 1 })
      await w.oms.sync.drain()
      pos.setStock('alpha-flower', 'floor', 10)
      pos.setStock('alpha-gummies', 'floor', 10)
      pos.sellAtCounter('s-1', 'alpha-gummies', 'floor', 2)
      pos.sales.push({
        externalId: 's-2',
        orderNumber: order.number,
        lines: [
          { externalProductId: 'alpha-flower', externalLocationId: 'floor', quantity: 1, unit: 'each' },
        ],
        at: null,
      })
      await w.oms.sync.requestPull({ actor: actors.manager, kind: 'pull_sales' })
      await w.oms.sync.drain()
      const [job] = await w.oms.sync.listJobs({ actor: actors.manager, kind: 'pull_sales' })
      expect(job?.note).toBe('2 sale(s) read, 1 recorded, 1 of our own orders left out')
      // pulled again (e.g. a second worker's schedule), and inside the stock pull: nothing twice
      await w.oms.sync.requestPull({ actor: actors.manager, kind: 'pull_sales' })
      pos.sellAtCounter('s-3', 'alpha-gummies', 'floor', 1)
      await w.oms.sync.requestPull({ actor: actors.manager, kind: 'pull_inventory_full' })
      await w.oms.sync.drain()
      const movements = await w.storage.transaction((tx) =>
        tx.inventory.listMovements({ itemId: w.items.gummies as string }),
      )
      expect(movements.map((m) => [m.reason, m.delta, m.reference?.id ?? null])).toEqual([
        ['receive', 10, null],
        ['sale', -2, 'alpha:s-1'],
        ['sale', -1, 'alpha:s-3'],
      ])
      const level = await w.oms.inventory.level({
        actor: actors.manager,
        itemId: w.items.gummies as string,
        locationId: w.locationId,
      })
      expect(level.onHand).toBe(7)
      await expectInvariants(w)
    })

    test('the first sales pull starts where our stock was aligned with the POS: older sales are not taken off again', async () => {
      const w = await createSyncWorld(storage(), ['alpha'], { gummies: 10 })
      const pos = w.pos.alpha as FakePos
      // sold at the counter before Peak OMS knew this POS's stock: the POS's figure already shows it
      pos.setStock('alpha-gummies', 'floor', 10)
      pos.sellAtCounter('old', 'alpha-gummies', 'floor', 3, w.clock.now())
      w.clock.advance(60_000)
      await w.oms.sync.requestPull({ actor: actors.manager, kind: 'pull_inventory_full' })
      await w.oms.sync.drain()
      w.clock.advance(60_000)
      pos.sellAtCounter('new', 'alpha-gummies', 'floor', 2, w.clock.now())
      await w.oms.sync.requestPull({ actor: actors.manager, kind: 'pull_sales' })
      await w.oms.sync.drain()
      const movements = await w.storage.transaction((tx) =>
        tx.inventory.listMovements({ itemId: w.items.gummies as string }),
      )
      expect(movements.map((m) => [m.reason, m.delta, m.reason === 'sale' ? m.reference?.id : null])).toEqual(
        [
          ['receive', 10, null],
          ['pos_sync', -3, null],
          ['sale', -2, 'alpha:new'],
        ],
      )
      // and the next stock pull finds nothing to correct
      await w.oms.sync.requestPull({ actor: actors.manager, kind: 'pull_inventory_full' })
      await w.oms.sync.drain()
      const level = await w.oms.inventory.level({
        actor: actors.manager,
        itemId: w.items.gummies as string,
        locationId: w.locationId,
      })
      expect(level.onHand).toBe(5)
      expect(
        await w.storage.transaction((tx) =>
          tx.inventory.listMovements({ itemId: w.items.gummies as string }),
        ),
      ).toHaveLength(3)
      await expectInvariants(w)
    })

    test('a product pull refreshes the names of mapped items and creates nothing', async () => {
      const w = await createSyncWorld(storage(), ['alpha'], { flower: 1, gummies: 1 })
      const pos = w.pos.alpha as FakePos
      const product = (externalId: string, name: string) => ({
        externalId,
        sku: null,
        name,
        category: 'Flower',
        unit: 'each' as const,
        priceMinor: 1000,
        currency: 'USD',
        active: true,
        cannabis: { thc: null, cbd: null, potencyUnit: null, strain: null, netWeightMg: null },
        updatedAt: null,
      })
      pos.products.push(product('alpha-flower', 'Blue Dream 3.5g'), product('alpha-unknown', 'Not ours'))
      await w.oms.sync.requestPull({ actor: actors.manager, kind: 'pull_products' })
      await w.oms.sync.drain()
      const [job] = await w.oms.sync.listJobs({ actor: actors.manager, kind: 'pull_products' })
      expect(job).toMatchObject({
        status: 'succeeded',
        note: '2 product(s) read, 1 item(s) updated, 1 not mapped',
      })
      // getMany answers in no particular order
      const [flower, gummies] = await w.storage.transaction(async (tx) => [
        await tx.items.get(w.items.flower as string),
        await tx.items.get(w.items.gummies as string),
      ])
      expect([flower?.name, flower?.category, gummies?.name]).toEqual([
        'Blue Dream 3.5g',
        'Flower',
        'gummies',
      ])
      expect(
        await w.storage.transaction((tx) => tx.items.findByExternalIds('alpha', ['alpha-unknown'])),
      ).toEqual([])
    })

    test('an order edit queues an update after the push, and the POS gets the new lines', async () => {
      const w = await createSyncWorld(storage(), ['alpha'])
      const pos = w.pos.alpha as FakePos
      const order = await placeOrder(w, { flower: 1 })
      await w.oms.orders.edit({
        actor: actors.manager,
        orderId: order.id,
        set: [{ lineId: order.lines[0]?.id as string, quantity: 3 }],
      })
      expect(summary(await jobsOf(w, order))).toEqual([
        'alpha:push_order:pending',
        'alpha:update_order:pending',
      ])
      await w.oms.sync.drain()
      expect(pos.ticketsFor(order.number).map((t) => t.lines.map((l) => l.quantity))).toEqual([[3]])
      await expectInvariants(w)
    })

    test('a worker queues scheduled pulls when they are due, coalesced across workers', async () => {
      const w = await createSyncWorld(storage(), ['alpha', 'beta'])
      const schedule = { pull_inventory_incremental: 60_000, pull_order_status: 30_000 }
      expect(await w.oms.sync.queueDuePulls(schedule)).toBe(2)
      // another worker on the same schedule adds nothing: the pending pulls absorb its requests
      const other = createOms({
        storage: w.storage,
        clock: w.clock,
        sync: { connections: [...['alpha', 'beta'].map((p) => ({ pos: p, adapter: w.pos[p] as FakePos }))] },
      })
      expect(await other.sync.queueDuePulls(schedule)).toBe(2)
      expect(summary(await w.oms.sync.listJobs({ actor: actors.manager, statuses: ['pending'] }))).toEqual([
        'alpha:pull_inventory_incremental:pending',
        'beta:pull_inventory_incremental:pending',
        'alpha:pull_order_status:pending',
        'beta:pull_order_status:pending',
      ])
      w.clock.advance(30_000)
      expect(await w.oms.sync.queueDuePulls(schedule)).toBe(1)
      await w.oms.sync.drain()
      w.clock.advance(30_000)
      expect(await w.oms.sync.queueDuePulls(schedule)).toBe(2)
      expect(await w.oms.sync.listJobs({ actor: actors.manager, statuses: ['pending'] })).toHaveLength(4)
    })

    test('an order completed at the counter is our sale once, whether the status or the stock is pulled first', async () => {
      const w = await createSyncWorld(storage(), ['alpha'], { flower: 10, gummies: 10 })
      const pos = w.pos.alpha as FakePos
      const order = await placeOrder(w, { flower: 3 })
      await w.oms.sync.drain()
      pos.setStock('alpha-flower', 'floor', 10)
      pos.setStock('alpha-gummies', 'floor', 10)
      // the customer pays and picks up at the counter: the POS's stock drops with the ticket
      ;(pos.ticketsFor(order.number)[0] as { status: string }).status = 'completed'
      pos.setStock('alpha-flower', 'floor', 7)
      await w.oms.sync.requestPull({ actor: actors.manager, kind: 'pull_inventory_full' })
      await w.oms.sync.drain()
      await w.oms.sync.requestPull({ actor: actors.manager, kind: 'pull_order_status' })
      await w.oms.sync.drain()
      const level = await w.oms.inventory.level({
        actor: actors.manager,
        itemId: w.items.flower as string,
        locationId: w.locationId,
      })
      expect([level.onHand, level.reserved]).toEqual([7, 0])
      expect((await w.oms.orders.get({ actor: actors.manager, orderId: order.id })).status).toBe('completed')
      const movements = await w.storage.transaction((tx) =>
        tx.inventory.listMovements({ itemId: w.items.flower as string }),
      )
      expect(movements.map((m) => m.reason)).toEqual(['receive', 'sale'])
      await expectInvariants(w)
    })

    test('an order completed or cancelled at the POS moves through our machine', async () => {
      const w = await createSyncWorld(storage())
      const pos = w.pos.alpha as FakePos
      const done = await placeOrder(w, { flower: 2 })
      const gone = await placeOrder(w, { flower: 1 })
      await w.oms.orders.confirmPayment({ actor: actors.payments, orderId: gone.id })
      await w.oms.sync.drain()
      ;(pos.ticketsFor(done.number)[0] as { status: string }).status = 'completed'
      ;(pos.ticketsFor(gone.number)[0] as { status: string }).status = 'cancelled'
      await w.oms.sync.requestPull({ actor: actors.manager, kind: 'pull_order_status' })
      await w.oms.sync.drain()
      const a = await w.oms.orders.get({ actor: actors.manager, orderId: done.id })
      const b = await w.oms.orders.get({ actor: actors.manager, orderId: gone.id })
      expect([a.status, a.paymentStatus, b.status]).toEqual(['completed', 'paid', 'cancelled'])
      const level = await w.oms.inventory.level({
        actor: actors.manager,
        itemId: w.items.flower as string,
        locationId: w.locationId,
      })
      expect([level.onHand, level.reserved]).toEqual([8, 0])
      // our cancel reached the POS too, harmlessly (already cancelled there)
      expect(summary(await jobsOf(w, gone))).toEqual([
        'alpha:push_order:succeeded',
        'alpha:cancel_order:succeeded',
      ])
      await expectInvariants(w)
    })

    const runs = Math.max(10, Math.round(options.numRuns / 10))
    test(`under lost responses, resets, 429s, worker deaths and outages every order ends with one ticket and our stock is the POS's (${runs} runs)`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(stepArb, { minLength: 5, maxLength: 30 }), async (steps) => {
          const name = `fc${propertyRun++}`
          const w = await createSyncWorld(storage(), [name], { flower: 30, gummies: 30 })
          const pos = w.pos[name] as FakePos
          pos.setStock(`${name}-flower`, 'floor', 30)
          pos.setStock(`${name}-gummies`, 'floor', 30)
          const orders: Order[] = []
          for (const step of steps) {
            switch (step.kind) {
              case 'create':
                try {
                  orders.push(await placeOrder(w, { flower: step.quantity }))
                } catch (error) {
                  expect((error as { code?: string }).code).toBe('INSUFFICIENT_STOCK')
                }
                break
              case 'cancel': {
                const order = orders[step.pick % Math.max(1, orders.length)]
                if (
                  order &&
                  (await w.oms.orders.get({ actor: actors.manager, orderId: order.id })).status !==
                    'cancelled'
                )
                  await w.oms.orders.cancel({ actor: actors.manager, orderId: order.id })
                break
              }
              case 'run':
                await w.oms.sync.runOnce({ batchSize: step.batch })
                break
              case 'fault':
                pos.faults.push(step.fault)
                break
              case 'crash':
                // a worker claims and dies: its jobs wait for the lease to end
                await w.storage.transaction((tx) =>
                  tx.syncJobs.claim({
                    owner: 'dying',
                    limit: step.limit,
                    leaseMs: 60_000,
                    now: w.clock.now(),
                    pos: [name],
                  }),
                )
                break
              case 'advance':
                w.clock.advance(step.ms)
                break
              case 'outage':
                pos.offline = step.down
                break
              case 'counterSale': {
                const key = `${name}-gummies@floor`
                pos.stock.set(key, Math.max(0, (pos.stock.get(key) ?? 0) - step.quantity))
                break
              }
            }
          }
          // The POS comes back for good; time passes until the queue is empty, then a full pull.
          pos.offline = false
          pos.faults.length = 0
          await w.oms.sync.requestPull({ actor: actors.manager, kind: 'pull_inventory_full', pos: [name] })
          for (let i = 0; i < 50; i++) {
            w.clock.advance(15 * 60_000)
            const r = await w.oms.sync.drain({ pos: [name] })
            if (r.remaining === 0) break
          }
          const jobs = await w.oms.sync.listJobs({ actor: actors.manager, pos: name, limit: 1000 })
          expect(jobs.filter((j) => j.status !== 'succeeded' && j.status !== 'skipped')).toEqual([])
          for (const o of orders) {
            const order = await w.oms.orders.get({ actor: actors.manager, orderId: o.id })
            const tickets = pos.ticketsFor(o.number)
            const skipped = jobs.some((j) => j.entityId === o.id && j.status === 'skipped')
            // one ticket; none only when the order was cancelled before its push ever started
            expect(tickets.length, o.number).toBe(skipped ? 0 : 1)
            if (tickets[0]) expect(order.externalIds[name]).toBe(tickets[0].externalId)
            if (order.status === 'cancelled' && tickets[0]) expect(tickets[0].status).toBe('cancelled')
          }
          expect(pos.creates).toBe(pos.tickets.length)
          // the pull after the last change: our on-hand is the POS's, row by row
          await w.oms.sync.requestPull({ actor: actors.manager, kind: 'pull_inventory_full', pos: [name] })
          await w.oms.sync.drain({ pos: [name] })
          for (const item of ['flower', 'gummies']) {
            const level = await w.oms.inventory.level({
              actor: actors.manager,
              itemId: w.items[item] as string,
              locationId: w.locationId,
            })
            expect(level.onHand, item).toBe(pos.stock.get(`${name}-${item}@floor`))
          }
          expect(
            await checkInvariants(w.storage, w.oms.machines.orderMachines, w.clock.now(), {
              orderIds: orders.map((o) => o.id),
            }),
          ).toEqual([])
        }),
        { numRuns: runs },
      )
    })

    test('concurrent workers never run one job twice at the same time', async () => {
      const w = await createSyncWorld(storage(), ['alpha'], { flower: 50 })
      for (let i = 0; i < 12; i++) await placeOrder(w, { flower: 1 })
      const claims = await Promise.all(
        ['w1', 'w2', 'w3', 'w4'].map((owner) =>
          w.storage.transaction((tx) =>
            tx.syncJobs.claim({ owner, limit: 5, leaseMs: 60_000, now: w.clock.now() }),
          ),
        ),
      )
      const ids = claims.flat().map((j) => j.id)
      expect(new Set(ids).size).toBe(ids.length)
      expect(ids).toHaveLength(12)
    })
  })
