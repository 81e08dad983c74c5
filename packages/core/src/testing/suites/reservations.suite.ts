import { describe, expect, test } from 'vitest'
import { actors, createWorld, placeOrder } from '../fixtures'
import type { Suite } from './suite'
import { expectInvariants, rejectionOf, useStorage } from './use-storage'

const MINUTE = 60_000

export const reservationsSuite: Suite = (target, options) =>
  describe('reservations', () => {
    const storage = useStorage(target)

    test(`never oversells under ${options.concurrency} concurrent orders (I1)`, async () => {
      const w = await createWorld(storage(), { flower: 10 })
      const attempts = options.concurrency * 3
      const results = await Promise.allSettled(
        Array.from({ length: attempts }, () => placeOrder(w, { flower: 1 })),
      )
      const ok = results.filter((r) => r.status === 'fulfilled')
      const refused = results.filter((r) => r.status === 'rejected')
      expect(ok).toHaveLength(10)
      for (const r of refused) expect((r as PromiseRejectedResult).reason.code).toBe('INSUFFICIENT_STOCK')
      const level = await w.oms.inventory.level({
        actor: actors.manager,
        itemId: w.items.flower as string,
        locationId: w.locationId,
      })
      expect(level).toMatchObject({ onHand: 10, reserved: 10, available: 0 })
      await expectInvariants(w)
    })

    test('concurrent multi-line orders in opposite line order neither deadlock nor oversell', async () => {
      const w = await createWorld(storage(), { flower: 6, vape: 6 })
      const results = await Promise.allSettled(
        Array.from({ length: options.concurrency }, (_, i) =>
          placeOrder(w, i % 2 ? { flower: 1, vape: 1 } : { vape: 1, flower: 1 }),
        ),
      )
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(Math.min(6, options.concurrency))
      await expectInvariants(w)
    })

    test('an expired hold is not counted by any read, and never blocks a new order (lazy expiry)', async () => {
      const w = await createWorld(storage(), { flower: 2 })
      const first = await placeOrder(w, { flower: 2 })
      w.clock.advance(16 * MINUTE)
      const level = await w.oms.inventory.level({
        actor: actors.manager,
        itemId: w.items.flower as string,
        locationId: w.locationId,
      })
      expect(level).toMatchObject({ reserved: 2, heldLive: 0, available: 2 })
      const second = await placeOrder(w, { flower: 2 })
      expect(second.status).toBe('payment_pending')
      // the first order cannot be paid any more: its stock went to the second
      const error = await rejectionOf(
        w.oms.orders.confirmPayment({ actor: actors.system, orderId: first.id }),
      )
      expect(error.code).toBe('RESERVATION_EXPIRED')
      // the sweeper moves the first order on
      const swept = await w.oms.reservations.expireDue()
      expect(swept.ordersMoved).toBe(1)
      expect((await w.oms.orders.get({ actor: actors.manager, orderId: first.id })).status).toBe('cancelled')
      await expectInvariants(w)
    })

    test('expireDue releases, cancels and audits; running it twice or concurrently changes nothing more', async () => {
      const w = await createWorld(storage(), { flower: 10 })
      const orders = await Promise.all([
        placeOrder(w, { flower: 2 }),
        placeOrder(w, { flower: 3 }),
        placeOrder(w, { flower: 1 }),
      ])
      await w.oms.orders.confirmPayment({ actor: actors.system, orderId: (orders[2] as { id: string }).id })
      w.clock.advance(15 * MINUTE)
      const runs = await Promise.all([
        w.oms.reservations.expireDue(),
        w.oms.reservations.expireDue(),
        w.oms.reservations.expireDue(),
      ])
      expect(runs.reduce((s, r) => s + r.ordersMoved, 0)).toBe(2)
      expect(runs.reduce((s, r) => s + r.expiredHolds, 0)).toBe(2)
      expect((await w.oms.reservations.expireDue()).ordersMoved).toBe(0)
      const statuses = await Promise.all(
        orders.map((o) => w.oms.orders.get({ actor: actors.manager, orderId: o.id })),
      )
      expect(statuses.map((o) => o.status)).toEqual(['cancelled', 'cancelled', 'confirmed'])
      const level = await w.oms.inventory.level({
        actor: actors.manager,
        itemId: w.items.flower as string,
        locationId: w.locationId,
      })
      expect(level).toMatchObject({ reserved: 1, available: 9 })
      const history = await w.oms.history.forOrder({
        actor: actors.manager,
        orderId: (orders[0] as { id: string }).id,
      })
      expect(history.map((h) => h.action)).toEqual(expect.arrayContaining(['reservation_expired']))
      await expectInvariants(w)
    })

    test('release gives back exactly what it releases; a partial release keeps the rest held', async () => {
      const w = await createWorld(storage(), { flower: 10 })
      const order = await placeOrder(w, { flower: 4 })
      const [hold] = await w.oms.reservations.listByOrder({ actor: actors.manager, orderId: order.id })
      const partial = await w.oms.reservations.release({
        actor: actors.manager,
        reservationId: hold?.id as string,
        quantity: 1,
      })
      expect(partial).toMatchObject({ status: 'active', quantityReleased: 1 })
      expect(
        (
          await w.oms.inventory.level({
            actor: actors.manager,
            itemId: w.items.flower as string,
            locationId: w.locationId,
          })
        ).reserved,
      ).toBe(3)
      const error = await rejectionOf(
        w.oms.reservations.release({ actor: actors.manager, reservationId: hold?.id as string, quantity: 4 }),
      )
      expect(error.code).toBe('CONFLICT')
      const rest = await w.oms.reservations.release({
        actor: actors.manager,
        reservationId: hold?.id as string,
      })
      expect(rest).toMatchObject({ status: 'released', quantityReleased: 4 })
      const again = await rejectionOf(
        w.oms.reservations.release({ actor: actors.manager, reservationId: hold?.id as string }),
      )
      expect(again.code).toBe('CONFLICT')
      expect(
        (
          await w.oms.inventory.level({
            actor: actors.manager,
            itemId: w.items.flower as string,
            locationId: w.locationId,
          })
        ).reserved,
      ).toBe(0)
      await expectInvariants(w)
    })

    test('a partial commit sells part and keeps the remainder held', async () => {
      const w = await createWorld(storage(), { flower: 10 })
      const order = await placeOrder(w, { flower: 5 })
      await w.oms.orders.confirmPayment({ actor: actors.system, orderId: order.id })
      const [hold] = await w.oms.reservations.listByOrder({ actor: actors.manager, orderId: order.id })
      const part = await w.oms.reservations.commit({
        actor: actors.manager,
        reservationId: hold?.id as string,
        quantity: 2,
      })
      expect(part).toMatchObject({ status: 'active', quantityFulfilled: 2 })
      const level = await w.oms.inventory.level({
        actor: actors.manager,
        itemId: w.items.flower as string,
        locationId: w.locationId,
      })
      expect(level).toMatchObject({ onHand: 8, reserved: 3, available: 5 })
      const rest = await w.oms.reservations.commit({
        actor: actors.manager,
        reservationId: hold?.id as string,
      })
      expect(rest).toMatchObject({ status: 'committed', quantityFulfilled: 5 })
      await expectInvariants(w)
    })

    test('an expired hold cannot be committed', async () => {
      const w = await createWorld(storage(), { flower: 10 })
      const order = await placeOrder(w, { flower: 2 })
      const [hold] = await w.oms.reservations.listByOrder({ actor: actors.manager, orderId: order.id })
      w.clock.advance(20 * MINUTE)
      const error = await rejectionOf(
        w.oms.reservations.commit({ actor: actors.manager, reservationId: hold?.id as string }),
      )
      expect(error.code).toBe('RESERVATION_EXPIRED')
      await expectInvariants(w)
    })

    test('cancel releases every active hold and records why', async () => {
      const w = await createWorld(storage(), { flower: 10, vape: 10 })
      const order = await placeOrder(w, { flower: 2, vape: 3 })
      const cancelled = await w.oms.orders.cancel({
        actor: actors.manager,
        orderId: order.id,
        reason: 'changed mind',
      })
      expect(cancelled.cancellationReason).toBe('changed mind')
      const holds = await w.oms.reservations.listByOrder({ actor: actors.manager, orderId: order.id })
      expect(holds.map((h) => h.status)).toEqual(['released', 'released'])
      const history = await w.oms.history.forOrder({ actor: actors.manager, orderId: order.id })
      expect(history.map((h) => h.action)).toEqual([
        'created',
        'inventory_reserved',
        'inventory_released',
        'cancelled',
      ])
      await expectInvariants(w)
    })
  })
