import { describe, expect, test } from 'vitest'
import type { CallerActor, HistoryEntry, Order, Reservation } from '../../domain/schemas'
import { actors, createWorld, placeOrder, uid } from '../fixtures'
import type { Suite } from './suite'
import { expectInvariants, rejectionOf, useStorage } from './use-storage'

const MINUTE = 60_000

/**
 * The audit, hold and monitoring reads and writes: `history.search` / `history.record`,
 * `reservations.get` / `list` / `extend`, `dashboard.summary`.
 */
export const historyHoldsDashboardSuite: Suite = (target) => {
  describe('history, holds and dashboard APIs', () => {
    const storage = useStorage(target)

    test('history.search pages newest first by action, actor, entity and dates; rows written meanwhile never shift a page', async () => {
      const w = await createWorld(storage(), { flower: 1000 })
      const m = actors.manager
      const orders: Order[] = []
      for (let i = 0; i < 5; i++) {
        w.clock.advance(MINUTE)
        orders.push(await placeOrder(w, { flower: 1 }))
      }
      const createdNewestFirst = [...orders].reverse().map((o) => o.id)
      const seen: string[] = []
      let cursor: string | undefined
      for (let page = 0; page < 10; page++) {
        const r = await w.oms.history.search({
          actor: m,
          actions: ['created'],
          limit: 2,
          ...(cursor ? { cursor } : {}),
        })
        expect(r.entries.every((e) => e.action === 'created')).toBe(true)
        seen.push(...r.entries.map((e) => e.orderId as string))
        w.clock.advance(MINUTE)
        await placeOrder(w, { flower: 1 }) // a newer row: it never appears on a later page
        if (!r.nextCursor) break
        cursor = r.nextCursor
      }
      expect(seen).toEqual(createdNewestFirst)

      // by actor, entity type, order and a date window
      const other: CallerActor = { id: 'other-manager', roles: ['order_manager'] }
      await w.oms.orders.cancel({ actor: other, orderId: orders[1]?.id as string })
      const byOther = await w.oms.history.search({ actor: m, actorId: 'other-manager' })
      expect(byOther.entries.length).toBeGreaterThan(0)
      expect(byOther.entries.every((e) => e.actorId === 'other-manager')).toBe(true)
      const releases = await w.oms.history.search({
        actor: m,
        entityType: 'reservation',
        orderId: orders[1]?.id,
      })
      expect(releases.entries.map((e) => e.action)).toEqual(['inventory_released'])
      const window = await w.oms.history.search({
        actor: m,
        actions: ['created'],
        from: orders[1]?.createdAt,
        to: orders[3]?.createdAt,
      })
      expect(window.entries.map((e) => e.orderId)).toEqual([orders[2]?.id, orders[1]?.id])
      expect(await rejectionOf(w.oms.history.search({ actor: m, cursor: 'nope' }))).toMatchObject({
        code: 'VALIDATION',
      })
    })

    test('history.record writes a host row on the order, once per idempotency key; library actions are refused', async () => {
      const w = await createWorld(storage(), { flower: 10 })
      const m = actors.manager
      const order = await placeOrder(w, { flower: 1 })
      const input = {
        actor: m,
        orderId: order.id,
        action: 'assigned' as const,
        description: 'assigned to Sam at the counter',
        data: { assignee: 'sam' },
        idempotencyKey: uid('k'),
      }
      const first = await w.oms.history.record(input)
      const again = await w.oms.history.record(input)
      expect(again.id).toBe(first.id)
      const rows = (await w.oms.history.forOrder({ actor: m, orderId: order.id })).filter(
        (h: HistoryEntry) => h.action === 'assigned',
      )
      expect(rows).toHaveLength(1)
      expect(rows[0]).toMatchObject({
        actorId: m.id,
        storeId: w.storeId,
        description: 'assigned to Sam at the counter',
        additionalData: { assignee: 'sam', source: 'host' },
      })
      for (const action of ['cancelled', 'inventory_released', 'created'])
        expect(
          await rejectionOf(
            w.oms.history.record({
              actor: m,
              orderId: order.id,
              action: action as 'edited',
              description: 'x',
            }),
          ),
        ).toMatchObject({ code: 'VALIDATION' })
    })

    test('reservations.list filters by status, item, location and order, newest first, a page at a time; get reads one', async () => {
      const w = await createWorld(storage(), { flower: 100, gummies: 100 })
      const m = actors.manager
      const short = await placeOrder(w, { flower: 1, gummies: 2 }, { holdSeconds: 60 })
      w.clock.advance(MINUTE)
      const long = await placeOrder(w, { flower: 3 }, { holdSeconds: 3600 })
      w.clock.advance(MINUTE)
      const third = await placeOrder(w, { gummies: 1 }, { holdSeconds: 3600 })
      await w.oms.reservations.expireDue({ actor: m })
      const all = await w.oms.reservations.list({ actor: m })
      const byIdDesc = (x: Reservation, y: Reservation) => (x.id < y.id ? 1 : x.id > y.id ? -1 : 0)
      const holdsOf = async (o: Order) =>
        (await w.oms.reservations.listByOrder({ actor: m, orderId: o.id })).sort(byIdDesc)
      const every = [...(await holdsOf(third)), ...(await holdsOf(long)), ...(await holdsOf(short))]
      expect(all.reservations.map((r) => r.id)).toEqual(every.map((r) => r.id))
      const expired = await w.oms.reservations.list({ actor: m, statuses: ['expired'] })
      expect(expired.reservations.map((r) => r.orderId)).toEqual([short.id, short.id])
      const active = await w.oms.reservations.list({ actor: m, statuses: ['active'] })
      expect(new Set(active.reservations.map((r) => r.orderId))).toEqual(new Set([long.id, third.id]))
      const gummies = await w.oms.reservations.list({ actor: m, itemId: w.items.gummies })
      expect(gummies.reservations.map((r) => r.orderId)).toEqual([third.id, short.id])
      expect((await w.oms.reservations.list({ actor: m, locationId: w.backroomId })).reservations).toEqual([])
      expect((await w.oms.reservations.list({ actor: m, orderId: long.id })).reservations).toEqual(
        await holdsOf(long),
      )
      // page by page: every hold once, in the same order
      const paged: string[] = []
      let cursor: string | undefined
      for (;;) {
        const r = await w.oms.reservations.list({ actor: m, limit: 1, ...(cursor ? { cursor } : {}) })
        paged.push(...r.reservations.map((h) => h.id))
        if (!r.nextCursor) break
        cursor = r.nextCursor
      }
      expect(paged).toEqual(every.map((r) => r.id))
      const one = every[0] as (typeof every)[number]
      expect(await w.oms.reservations.get({ actor: m, reservationId: one.id })).toEqual(one)
      // a store manager of another store sees none of them, and cannot read one
      const elsewhere = actors.storeManager([uid('other-store')])
      expect((await w.oms.reservations.list({ actor: elsewhere })).reservations).toEqual([])
      expect(
        await rejectionOf(w.oms.reservations.get({ actor: elsewhere, reservationId: one.id })),
      ).toMatchObject({
        code: 'FORBIDDEN',
      })
      await expectInvariants(w)
    })

    test('reservations.extend renews a live hold within the policy, never past it', async () => {
      const w = await createWorld(storage(), { flower: 10 }, { policies: { maxHoldSeconds: 3600 } })
      const m = actors.manager
      const order = await placeOrder(w, { flower: 2 }) // held 15 minutes
      const [hold] = await w.oms.reservations.listByOrder({ actor: m, orderId: order.id })
      if (!hold) throw new Error('no hold')
      w.clock.advance(10 * MINUTE)
      const extended = await w.oms.reservations.extend({ actor: m, reservationId: hold.id, seconds: 1800 })
      expect(extended.expiresAt?.getTime()).toBe(w.clock.now().getTime() + 1800 * 1000)
      // past the first expiry, the sweeper leaves it: it holds until the new one
      w.clock.advance(10 * MINUTE)
      expect((await w.oms.reservations.expireDue({ actor: m })).expiredHolds).toBe(0)
      expect((await w.oms.orders.get({ actor: m, orderId: order.id })).status).toBe('payment_pending')
      // a shorter expiry than it has changes nothing; beyond an hour after it was taken is refused
      const same = await w.oms.reservations.extend({ actor: m, reservationId: hold.id, seconds: 60 })
      expect(same.expiresAt).toEqual(extended.expiresAt)
      expect(
        await rejectionOf(w.oms.reservations.extend({ actor: m, reservationId: hold.id, seconds: 3000 })),
      ).toMatchObject({ code: 'VALIDATION' })
      const audit = await w.oms.history.search({ actor: m, orderId: order.id, entityType: 'reservation' })
      expect(audit.entries.map((e) => e.action)).toEqual(['edited'])
      // once it expired, it cannot be renewed: the stock may be gone
      w.clock.advance(31 * MINUTE)
      expect(
        await rejectionOf(w.oms.reservations.extend({ actor: m, reservationId: hold.id, seconds: 60 })),
      ).toMatchObject({ code: 'RESERVATION_EXPIRED' })
      await w.oms.reservations.expireDue({ actor: m })
      expect(
        await rejectionOf(w.oms.reservations.extend({ actor: m, reservationId: hold.id, seconds: 60 })),
      ).toMatchObject({ code: 'RESERVATION_EXPIRED' })
      // a confirmed order's hold does not expire: nothing to extend
      const paid = await placeOrder(w, { flower: 1 })
      await w.oms.orders.confirmPayment({ actor: actors.payments, orderId: paid.id })
      const [paidHold] = await w.oms.reservations.listByOrder({ actor: m, orderId: paid.id })
      expect(
        await rejectionOf(
          w.oms.reservations.extend({ actor: m, reservationId: paidHold?.id as string, seconds: 60 }),
        ),
      ).toMatchObject({ code: 'INVALID_TRANSITION' })
      await expectInvariants(w)
    })

    test('dashboard.summary counts what happened in the window, per store, with its alerts', async () => {
      const pos = { healthy: true }
      const w = await createWorld(
        storage(),
        { flower: 1000, scarce: 1 },
        { posHealth: async () => [{ vendor: 'treez', healthy: pos.healthy, detail: 'timeouts' }] },
      )
      const m = actors.manager
      const start = w.clock.now()
      const hourStart = Math.floor(start.getTime() / 3_600_000) * 3_600_000
      // hour 0: 4 orders (1 cancelled, 1 picked up, 1 expires); hour 1: 2 orders, both confirmed
      const a = await placeOrder(w, { flower: 1 }, { holdSeconds: 3600 })
      const b = await placeOrder(w, { flower: 2 }, { holdSeconds: 3600 })
      // c and d are left to expire (d after a minute, c when its hour is over)
      await placeOrder(w, { flower: 1 }, { holdSeconds: 3600 })
      await placeOrder(w, { flower: 1 }, { holdSeconds: 60 })
      await w.oms.orders.cancel({ actor: m, orderId: a.id })
      await w.oms.orders.confirmPayment({ actor: actors.payments, orderId: b.id })
      for (const type of ['order.start_processing', 'order.ready', 'order.pick_up'])
        await w.oms.orders.send({ actor: m, orderId: b.id, type })
      w.clock.set(new Date(hourStart + 3_600_000 + MINUTE))
      await w.oms.reservations.expireDue({ actor: m }) // both expire
      const e = await placeOrder(w, { flower: 1 })
      const f = await placeOrder(w, { flower: 3 })
      for (const o of [e, f]) await w.oms.orders.confirmPayment({ actor: actors.payments, orderId: o.id })
      // another store's order is not counted for this store
      const other = await createWorld(w.storage, { flower: 10 }, { clock: w.clock })
      await placeOrder(other, { flower: 1 })

      const from = new Date(hourStart)
      const to = new Date(hourStart + 2 * 3_600_000)
      const s = await w.oms.dashboard.summary({
        actor: m,
        from,
        to,
        storeIds: [w.storeId],
        thresholds: { cancellationRate: 0.2, minOrders: 1 },
      })
      expect(s.orders).toBe(6)
      expect(s.ordersByStatus).toEqual({ cancelled: 3, picked_up: 1, confirmed: 2 })
      expect(s.ordersPerHour).toEqual([
        { hour: from, orders: 4 },
        { hour: new Date(hourStart + 3_600_000), orders: 2 },
      ])
      // not cancelled: b (2 × 1500), e (1500), f (3 × 1500)
      expect(s.averageOrderValue).toEqual([{ currency: 'USD', orders: 3, averageMinor: 3000 }])
      expect(s.cancellationRate).toBe(3 / 6)
      expect(s.fulfillmentRate).toBe(1 / 4)
      expect(s.returnRate).toBe(0)
      expect(s.reservationExpirationRate).toBe(2 / 6)
      expect(s.stockOutIncidents).toBe(0)
      expect(s.fulfillmentBacklog).toEqual({ orders: 2, byStatus: { confirmed: 2 } })
      expect(s.alerts.map((x) => x.kind).sort()).toEqual(['high_cancellation_rate'])

      // low stock is inventory's: the scarce item (reorder point 0) held to its last unit is low; the
      // flower, counted below what its holds promise but not watched (no reorder point), is not
      const scarce = w.items.scarce as string
      const flower = w.items.flower as string
      await w.oms.inventory.setReorderPoint({
        actor: m,
        itemId: scarce,
        locationId: w.locationId,
        reorderPoint: 0,
      })
      await placeOrder(w, { scarce: 1 })
      // stock-out incidents: flower found short twice (two counts), scarce once: two items short
      for (const [itemId, quantity] of [
        [flower, 3],
        [flower, 2],
        [scarce, 0],
      ] as const) {
        const count = await w.oms.counts.open({ actor: m, locationId: w.locationId, itemIds: [itemId] })
        await w.oms.counts.record({ actor: m, countId: count.id, lines: [{ itemId, quantity }] })
        await w.oms.counts.approve({ actor: m, countId: count.id })
      }
      const shortageRows = await w.oms.history.search({ actor: m, actions: ['inventory_shortage'] })
      expect(shortageRows.entries).toHaveLength(3)
      pos.healthy = false
      const later = await w.oms.dashboard.summary({ actor: m, from, to: new Date(hourStart + 3 * 3_600_000) })
      expect(later.storeIds).toBeNull()
      expect(later.orders).toBe(8)
      expect(later.stockOutIncidents).toBe(2)
      const low = later.alerts.find((x) => x.kind === 'low_stock')
      expect(low).toMatchObject({
        rows: 1,
        lowest: [{ itemId: scarce, locationId: w.locationId, available: 0, reorderPoint: 0 }],
      })
      // the same levels as inventory.lowStock: one definition
      expect((await w.oms.inventory.lowStock({ actor: m })).map((l) => [l.itemId, l.locationId])).toEqual([
        [scarce, w.locationId],
      ])
      expect(later.alerts.some((x) => x.kind === 'pos_down' && x.vendor === 'treez')).toBe(true)
      expect(later.alerts.some((x) => x.kind === 'high_cancellation_rate')).toBe(false) // 3 of 8, under 20 orders

      // a store manager sees only its stores, and may not ask for another
      const own = await w.oms.dashboard.summary({ actor: actors.storeManager([w.storeId]), from, to })
      expect(own.orders).toBe(7) // the six and the scarce one; not the other store's
      expect(
        await rejectionOf(
          w.oms.dashboard.summary({
            actor: actors.storeManager([w.storeId]),
            from,
            to,
            storeIds: [other.storeId],
          }),
        ),
      ).toMatchObject({ code: 'FORBIDDEN' })
      expect(await rejectionOf(w.oms.dashboard.summary({ actor: m, from: to, to: from }))).toMatchObject({
        code: 'VALIDATION',
      })
      await expectInvariants(w)
    })
  })
}
