import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { type CallerActor, type Fulfillment, fulfillmentDispatchedAt } from '../../domain/schemas'
import type { FulfillmentFigures, FulfillmentStatistics } from '../../fulfillment/fulfillment-statistics'
import { actors, createWorld, uid, type World } from '../fixtures'
import type { Suite } from './suite'
import { codeOf, expectInvariants, useSharedStorage } from './use-storage'

const m = actors.manager
const MINUTE = 60_000

/** How far one fulfillment of the scenario goes. */
type Stage = 'pending' | 'picking' | 'packing' | 'ready' | 'dispatched' | 'delivered' | 'cancelled'

interface Spec {
  store: 0 | 1
  flow: 'pickup' | 'delivery'
  quantity: number
  assignee: 'picker-a' | 'picker-b' | null
  wrongScans: number
  overScans: number
  short: boolean
  stage: Stage
  /** Minutes the clock moves before each step of this fulfillment. */
  pace: number
}

const specArb: fc.Arbitrary<Spec> = fc.record({
  store: fc.constantFrom(0 as const, 1 as const),
  flow: fc.constantFrom('pickup' as const, 'delivery' as const),
  quantity: fc.integer({ min: 1, max: 3 }),
  assignee: fc.constantFrom('picker-a' as const, 'picker-b' as const, null),
  wrongScans: fc.nat(2),
  overScans: fc.nat(1),
  short: fc.boolean(),
  stage: fc.constantFrom<Stage>(
    'pending',
    'picking',
    'packing',
    'ready',
    'dispatched',
    'delivered',
    'cancelled',
  ),
  pace: fc.integer({ min: 1, max: 300 }),
})

const STAGES: readonly Stage[] = ['pending', 'picking', 'packing', 'ready', 'dispatched', 'delivered']
const reached = (spec: Spec, stage: Stage) =>
  spec.stage !== 'cancelled' && STAGES.indexOf(spec.stage) >= STAGES.indexOf(stage)

/** Two stores of one storage, a floor each with stock; the world's clock drives both. */
async function twoStores(storage: World['storage']) {
  const w = await createWorld(storage, { flower: 1000 })
  const otherStore = uid('store-b')
  const otherFloor = uid('floor-b')
  await w.oms.inventory.defineLocation({
    actor: m,
    location: { id: otherFloor, storeId: otherStore, name: 'Floor B', kind: 'sales_floor' },
  })
  await w.oms.inventory.receive({
    actor: m,
    itemId: w.items.flower as string,
    locationId: otherFloor,
    quantity: 1000,
  })
  return { w, stores: [w.storeId, otherStore] as const, floors: [w.locationId, otherFloor] as const }
}

/** Drives one fulfillment as its spec says, moving the clock before each step; returns the time marks. */
async function drive(
  w: World,
  stores: readonly [string, string],
  floors: readonly [string, string],
  spec: Spec,
): Promise<Date[]> {
  const marks: Date[] = []
  const tick = () => {
    marks.push(w.clock.advance(spec.pace * MINUTE))
  }
  const staff: CallerActor = { id: spec.assignee ?? 'picker-x', roles: ['warehouse_staff'] }
  tick()
  const order = await w.oms.orders.create({
    actor: m,
    channel: spec.flow === 'delivery' ? 'ecommerce' : 'kiosk',
    flow: spec.flow,
    storeId: stores[spec.store],
    locationId: floors[spec.store],
    currency: 'USD',
    lines: [{ itemId: w.items.flower as string, quantity: spec.quantity, unitPriceMinor: 1000 }],
  })
  await w.oms.orders.confirmPayment({ actor: actors.payments, orderId: order.id })
  tick()
  const [f] = await w.oms.fulfillments.create({
    actor: m,
    orderId: order.id,
    ...(spec.assignee ? { assignedToId: spec.assignee } : {}),
  })
  const fulfillmentId = (f as Fulfillment).id
  const sku = (w.items.flower as string).toUpperCase()
  if (spec.stage === 'cancelled') {
    tick()
    await w.oms.fulfillments.cancel({ actor: staff, fulfillmentId, reason: 'not today' })
    return marks
  }
  if (!reached(spec, 'picking')) return marks
  // short: one unit fewer than planned (only where there is more than one)
  const short = spec.short && spec.quantity > 1
  const picking = short ? spec.quantity - 1 : spec.quantity
  tick()
  await w.oms.fulfillments.scan({ actor: staff, fulfillmentId, code: sku, quantity: picking })
  for (let i = 0; i < spec.wrongScans; i++)
    expect(await codeOf(w.oms.fulfillments.scan({ actor: staff, fulfillmentId, code: 'NOT-HERE' }))).toBe(
      'SCAN_REJECTED',
    )
  for (let i = 0; i < spec.overScans; i++)
    expect(
      await codeOf(w.oms.fulfillments.scan({ actor: staff, fulfillmentId, code: sku, quantity: 4 })),
    ).toBe('SCAN_REJECTED')
  if (!reached(spec, 'packing')) return marks
  tick()
  await w.oms.fulfillments.completePicking({ actor: staff, fulfillmentId, shortPick: short })
  if (!reached(spec, 'ready')) return marks
  tick()
  await w.oms.fulfillments.pack({ actor: staff, fulfillmentId, boxSize: 'S', weightGrams: 100 })
  if (!reached(spec, 'dispatched')) return marks
  tick()
  if (spec.flow === 'pickup') await w.oms.fulfillments.handOver({ actor: staff, fulfillmentId })
  else
    await w.oms.fulfillments.ship({ actor: staff, fulfillmentId, carrier: 'UPS', trackingNumber: uid('T') })
  if (!reached(spec, 'delivered') || spec.flow === 'pickup') return marks
  tick()
  await w.oms.fulfillments.deliver({ actor: staff, fulfillmentId })
  return marks
}

/** The test's own model of the figures, from every fulfillment read back and its order's creation time. */
function modelFigures(rows: ReadonlyArray<{ f: Fulfillment; orderCreatedAt: Date }>, from: Date, to: Date) {
  const inWindow = (d: Date) => d >= from && d < to
  const figures: FulfillmentFigures = {
    fulfillments: 0,
    byStatus: {},
    cycleTime: { dispatched: 0, averageMs: null, p50Ms: null, p90Ms: null, maxMs: null },
    scans: { accepted: 0, rejected: 0, rejectionRate: null, accuracy: null },
    backlog: { open: 0, byStatus: {} },
  }
  const cycles: number[] = []
  for (const { f, orderCreatedAt } of rows) {
    if (inWindow(f.createdAt)) {
      figures.fulfillments += 1
      figures.byStatus[f.status] = (figures.byStatus[f.status] ?? 0) + 1
      figures.scans.accepted += f.scansAccepted
      figures.scans.rejected += f.scansRejected
    }
    if (['pending', 'picking', 'packing', 'ready_to_ship'].includes(f.status)) {
      figures.backlog.open += 1
      figures.backlog.byStatus[f.status] = (figures.backlog.byStatus[f.status] ?? 0) + 1
    }
    const left = fulfillmentDispatchedAt(f)
    if (left && inWindow(left)) cycles.push(left.getTime() - orderCreatedAt.getTime())
  }
  const scans = figures.scans.accepted + figures.scans.rejected
  if (scans) {
    figures.scans.rejectionRate = figures.scans.rejected / scans
    figures.scans.accuracy = figures.scans.accepted / scans
  }
  if (cycles.length) {
    cycles.sort((a, b) => a - b)
    const rank = (p: number) => cycles[Math.ceil((p * cycles.length) / 100) - 1] as number
    figures.cycleTime = {
      dispatched: cycles.length,
      averageMs: Math.round(cycles.reduce((a, b) => a + b, 0) / cycles.length),
      p50Ms: rank(50),
      p90Ms: rank(90),
      maxMs: cycles[cycles.length - 1] as number,
    }
  }
  return figures
}

/** Whether a group has anything to show (a group appears when it has a row in some aggregate). */
const present = (g: FulfillmentFigures) =>
  g.fulfillments > 0 || g.backlog.open > 0 || g.cycleTime.dispatched > 0

function model(
  rows: ReadonlyArray<{ f: Fulfillment; orderCreatedAt: Date }>,
  stores: readonly string[],
  from: Date,
  to: Date,
): Omit<FulfillmentStatistics, 'from' | 'to' | 'storeIds'> {
  const mine = rows.filter((r) => stores.includes(r.f.storeId))
  const assignees = [...new Set(mine.map((r) => r.f.assignedToId))].sort((a, b) =>
    a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1,
  )
  return {
    overall: modelFigures(mine, from, to),
    byStore: [...stores]
      .sort()
      .map((storeId) => ({
        storeId,
        ...modelFigures(
          mine.filter((r) => r.f.storeId === storeId),
          from,
          to,
        ),
      }))
      .filter(present),
    byAssignee: assignees
      .map((assignedToId) => ({
        assignedToId,
        ...modelFigures(
          mine.filter((r) => r.f.assignedToId === assignedToId),
          from,
          to,
        ),
      }))
      .filter(present),
  }
}

async function readBack(w: World, stores: readonly string[]) {
  const rows: Array<{ f: Fulfillment; orderCreatedAt: Date }> = []
  const fs = await w.oms.fulfillments.list({ actor: actors.storeManager([...stores]), limit: 500 })
  for (const f of fs)
    rows.push({ f, orderCreatedAt: (await w.oms.orders.get({ actor: m, orderId: f.orderId })).createdAt })
  return rows
}

export const fulfillmentStatisticsSuite: Suite = (target, options) =>
  describe('fulfillment statistics', () => {
    const storage = useSharedStorage(target)

    test('a worked example: counts, cycle time percentiles, picking accuracy, backlog, per store and assignee', async () => {
      const { w, stores, floors } = await twoStores(storage())
      const start = w.clock.now()
      const base: Omit<Spec, 'stage' | 'store' | 'assignee'> = {
        flow: 'delivery',
        quantity: 2,
        wrongScans: 0,
        overScans: 0,
        short: false,
        pace: 10,
      }
      // store A, picker-a: shipped after 4 × 10 min steps from the order (create→fulfil→scan→pick→pack→ship)
      await drive(w, stores, floors, {
        ...base,
        store: 0,
        assignee: 'picker-a',
        stage: 'dispatched',
        wrongScans: 1,
      })
      // store A, picker-a: slower, 4 steps of 30 min to the ship
      await drive(w, stores, floors, {
        ...base,
        store: 0,
        assignee: 'picker-a',
        stage: 'delivered',
        pace: 30,
      })
      // store B, picker-b, pickup handed over (steps of 20 min), one over-scan
      await drive(w, stores, floors, {
        ...base,
        flow: 'pickup',
        store: 1,
        assignee: 'picker-b',
        stage: 'dispatched',
        pace: 20,
        overScans: 1,
      })
      // store B, nobody assigned, still picking; store A, cancelled
      await drive(w, stores, floors, { ...base, store: 1, assignee: null, stage: 'picking', wrongScans: 2 })
      await drive(w, stores, floors, { ...base, store: 0, assignee: 'picker-b', stage: 'cancelled' })
      const stats = await w.oms.fulfillments.statistics({
        actor: m,
        from: start,
        to: w.clock.advance(1),
        storeIds: [...stores],
      })
      // order → ship spans 5 steps (fulfil, scan, complete picking, pack, ship)
      expect(stats.overall).toEqual({
        fulfillments: 5,
        byStatus: { shipped: 1, fulfilled: 2, picking: 1, cancelled: 1 },
        cycleTime: {
          dispatched: 3,
          averageMs: Math.round(((50 + 150 + 100) * MINUTE) / 3),
          p50Ms: 100 * MINUTE,
          p90Ms: 150 * MINUTE,
          maxMs: 150 * MINUTE,
        },
        scans: { accepted: 4, rejected: 4, rejectionRate: 0.5, accuracy: 0.5 },
        backlog: { open: 1, byStatus: { picking: 1 } },
      })
      expect(
        stats.byStore.map((s) => [s.storeId, s.fulfillments, s.cycleTime.p50Ms, s.backlog.open]),
      ).toEqual(
        [
          [stores[0], 3, 50 * MINUTE, 0],
          [stores[1], 2, 100 * MINUTE, 1],
        ].sort((a, b) => ((a[0] as string) < (b[0] as string) ? -1 : 1)),
      )
      expect(
        stats.byAssignee.map((a) => [a.assignedToId, a.fulfillments, a.cycleTime.maxMs, a.scans.rejected]),
      ).toEqual([
        ['picker-a', 2, 150 * MINUTE, 1],
        ['picker-b', 2, 100 * MINUTE, 1],
        [null, 1, null, 2],
      ])
      // a store manager of store B sees store B only, by default
      const scoped = await w.oms.fulfillments.statistics({
        actor: actors.storeManager([stores[1]]),
        from: start,
        to: w.clock.now(),
      })
      expect(scoped.storeIds).toEqual([stores[1]])
      expect(scoped.overall.fulfillments).toBe(2)
      expect(scoped.byStore.map((s) => s.storeId)).toEqual([stores[1]])
      await expectInvariants(w)
    })

    test('access: scoped staff only within their stores, customers and customer service never; bad windows refused', async () => {
      const { w, stores } = await twoStores(storage())
      const ask = (actor: CallerActor, extra: { storeIds?: string[] } = {}) =>
        codeOf(w.oms.fulfillments.statistics({ actor, ...extra }))
      const picker: CallerActor = { id: 'p', roles: ['warehouse_staff'], storeIds: [stores[0]] }
      expect(await ask(picker)).toBe('OK')
      expect(await ask(picker, { storeIds: [stores[0]] })).toBe('OK')
      expect(await ask(picker, { storeIds: [stores[1]] })).toBe('FORBIDDEN')
      expect(await ask(actors.customer('c-1'))).toBe('FORBIDDEN')
      expect(await ask(actors.service)).toBe('FORBIDDEN')
      expect(await ask(actors.payments)).toBe('FORBIDDEN')
      const now = w.clock.now()
      expect(await codeOf(w.oms.fulfillments.statistics({ actor: m, from: now, to: now }))).toBe('VALIDATION')
      expect(
        await codeOf(
          w.oms.fulfillments.statistics({
            actor: m,
            from: new Date(now.getTime() - 400 * 24 * 3_600_000),
            to: now,
          }),
        ),
      ).toBe('VALIDATION')
    })

    const runs = Math.max(4, Math.round(options.numRuns / 40))
    test(`random fulfillments: every figure equals the test's own model over what is read back (${runs} runs)`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(specArb, { minLength: 1, maxLength: 7 }),
          fc.nat(),
          fc.nat(),
          async (specs, a, b) => {
            const { w, stores, floors } = await twoStores(storage())
            const marks: Date[] = [w.clock.now()]
            for (const spec of specs) marks.push(...(await drive(w, stores, floors, spec)))
            marks.push(w.clock.advance(MINUTE))
            // a window between two of the moments the scenario went through (bounds fall on writes)
            const i = a % marks.length
            const j = b % marks.length
            const [lo, hi] = i === j ? [0, marks.length - 1] : [Math.min(i, j), Math.max(i, j)]
            const from = marks[lo] as Date
            const to = marks[hi] as Date
            const stats = await w.oms.fulfillments.statistics({ actor: m, from, to, storeIds: [...stores] })
            const rows = await readBack(w, stores)
            expect({ from: stats.from, to: stats.to, storeIds: stats.storeIds }).toEqual({
              from,
              to,
              storeIds: [...stores],
            })
            const { from: _f, to: _t, storeIds: _s, ...figures } = stats
            expect(figures).toEqual(model(rows, stores, from, to))
            // one store's figures on their own are that store's breakdown
            const one = await w.oms.fulfillments.statistics({ actor: m, from, to, storeIds: [stores[1]] })
            const { storeId: _id, ...ofB } = stats.byStore.find((s) => s.storeId === stores[1]) ?? {
              storeId: stores[1],
              ...model([], [], from, to).overall,
            }
            expect(one.overall).toEqual(ofB)
            await expectInvariants(w)
          },
        ),
        { numRuns: runs },
      )
    }, 600_000)
  })
