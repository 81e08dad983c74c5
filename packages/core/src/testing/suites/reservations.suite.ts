import { describe, expect, test } from 'vitest'
import type { Reservation } from '../../domain/schemas'
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
        w.oms.orders.confirmPayment({ actor: actors.payments, orderId: first.id }),
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
      await w.oms.orders.confirmPayment({ actor: actors.payments, orderId: (orders[2] as { id: string }).id })
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
      const w = await createWorld(storage(), { flower: 10, vape: 10 })
      const order = await placeOrder(w, { flower: 4, vape: 2 })
      const holds = await w.oms.reservations.listByOrder({ actor: actors.manager, orderId: order.id })
      const flower = holds.find((h) => h.itemId === w.items.flower) as Reservation
      const vape = holds.find((h) => h.itemId === w.items.vape) as Reservation
      const reserved = async (item: string) =>
        (
          await w.oms.inventory.level({
            actor: actors.manager,
            itemId: w.items[item] as string,
            locationId: w.locationId,
          })
        ).reserved
      const partial = await w.oms.reservations.release({
        actor: actors.manager,
        reservationId: flower.id,
        quantity: 1,
      })
      expect(partial).toMatchObject({ status: 'active', quantityReleased: 1 })
      expect(await reserved('flower')).toBe(3)
      const tooMuch = await rejectionOf(
        w.oms.reservations.release({ actor: actors.manager, reservationId: flower.id, quantity: 4 }),
      )
      expect(tooMuch.code).toBe('VALIDATION')
      const rest = await w.oms.reservations.release({ actor: actors.manager, reservationId: flower.id })
      expect(rest).toMatchObject({ status: 'released', quantityReleased: 4 })
      const again = await rejectionOf(
        w.oms.reservations.release({ actor: actors.manager, reservationId: flower.id }),
      )
      expect(again.code).toBe('INVALID_TRANSITION')
      // the order's last held units: releasing them would leave an order holding nothing
      const last = await rejectionOf(
        w.oms.reservations.release({ actor: actors.manager, reservationId: vape.id }),
      )
      expect(last).toMatchObject({ code: 'INVALID_TRANSITION' })
      expect(last.message).toContain('cancel the order instead')
      expect(await reserved('flower')).toBe(0)
      expect(await reserved('vape')).toBe(2)
      await expectInvariants(w)
    })

    test('a partial commit sells part of a bag ready for pickup and keeps the remainder held', async () => {
      const w = await createWorld(storage(), { flower: 10 })
      const order = await placeOrder(w, { flower: 5 })
      const a = { actor: actors.manager, orderId: order.id }
      await w.oms.orders.confirmPayment({ actor: actors.payments, orderId: order.id })
      await w.oms.orders.send({ ...a, type: 'order.start_processing' })
      await w.oms.orders.send({ ...a, type: 'order.ready' })
      const [hold] = await w.oms.reservations.listByOrder(a)
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
      // part of the bag is handed over: the customer cannot be a no-show any more
      const noShow = await rejectionOf(w.oms.orders.send({ ...a, type: 'order.no_show' }))
      expect(noShow.code).toBe('INVALID_TRANSITION')
      const picked = await w.oms.orders.send({ ...a, type: 'order.pick_up' })
      expect(picked.status).toBe('picked_up')
      const [after] = await w.oms.reservations.listByOrder(a)
      expect(after).toMatchObject({ status: 'committed', quantityFulfilled: 5 })
      await expectInvariants(w)
    })

    test('a hold past its expiry cannot be committed (RESERVATION_EXPIRED)', async () => {
      const w = await createWorld(storage(), { flower: 10 }, { policies: { confirmedHoldSeconds: 60 } })
      const order = await placeOrder(w, { flower: 2 })
      const a = { actor: actors.manager, orderId: order.id }
      await w.oms.orders.confirmPayment({ actor: actors.payments, orderId: order.id })
      await w.oms.orders.send({ ...a, type: 'order.start_processing' })
      await w.oms.orders.send({ ...a, type: 'order.ready' })
      const [hold] = await w.oms.reservations.listByOrder(a)
      w.clock.advance(2 * MINUTE)
      const error = await rejectionOf(
        w.oms.reservations.commit({ actor: actors.manager, reservationId: hold?.id as string }),
      )
      expect(error.code).toBe('RESERVATION_EXPIRED')
      const pickUp = await rejectionOf(w.oms.orders.send({ ...a, type: 'order.pick_up' }))
      expect(pickUp.code).toBe('RESERVATION_EXPIRED')
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
