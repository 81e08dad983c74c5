import { describe, expect, test } from 'vitest'
import { actors, createWorld, placeOrder } from '../fixtures'
import type { Suite } from './suite'
import { expectInvariants, rejectionOf, useStorage } from './use-storage'

export const ordersSuite: Suite = (target, options) =>
  describe('orders', () => {
    const storage = useStorage(target)

    test('create numbers the order, computes integer totals and holds every line', async () => {
      const w = await createWorld(storage(), { flower: 10, vape: 5 })
      const order = await w.oms.orders.create({
        actor: actors.manager,
        channel: 'kiosk',
        flow: 'pickup',
        storeId: w.storeId,
        currency: 'USD',
        lines: [
          {
            itemId: w.items.flower as string,
            quantity: 2,
            unitPriceMinor: 1999,
            discountMinor: 500,
            taxMinor: 300,
          },
          { itemId: w.items.vape as string, quantity: 1, unitPriceMinor: 4500 },
          { itemId: w.items.flower as string, quantity: 1, unitPriceMinor: 1999 },
        ],
      })
      expect(order.number).toMatch(/^ORD-20261122-\d{4}$/)
      expect(order.status).toBe('payment_pending')
      expect(order.totals).toEqual({
        subtotalMinor: 3 * 1999 + 4500,
        discountMinor: 500,
        taxMinor: 300,
        shippingMinor: 0,
        totalMinor: 3 * 1999 + 4500 - 500 + 300,
        currency: 'USD',
      })
      const holds = await w.oms.reservations.listByOrder({ actor: actors.manager, orderId: order.id })
      expect(holds).toHaveLength(3)
      for (const h of holds) expect(h.expiresAt?.getTime()).toBe(w.clock.now().getTime() + 15 * 60 * 1000)
      const flower = await w.oms.inventory.level({
        actor: actors.manager,
        itemId: w.items.flower as string,
        locationId: w.locationId,
      })
      expect(flower).toMatchObject({ onHand: 10, reserved: 3, available: 7 })
      await expectInvariants(w)
    })

    test('order numbers are unique under concurrent creation', async () => {
      const w = await createWorld(storage(), { flower: 100 })
      const orders = await Promise.all(
        Array.from({ length: options.concurrency }, () => placeOrder(w, { flower: 1 })),
      )
      expect(new Set(orders.map((o) => o.number)).size).toBe(orders.length)
      await expectInvariants(w)
    })

    test('the hold time follows the channel policy, then the per-order override', async () => {
      const w = await createWorld(
        storage(),
        { flower: 10 },
        { policies: { holdSecondsByChannel: { kiosk: 300 } } },
      )
      const kiosk = await placeOrder(w, { flower: 1 })
      const custom = await placeOrder(w, { flower: 1 }, { holdSeconds: 60 })
      const [k] = await w.oms.reservations.listByOrder({ actor: actors.manager, orderId: kiosk.id })
      const [c] = await w.oms.reservations.listByOrder({ actor: actors.manager, orderId: custom.id })
      expect(k?.expiresAt?.getTime()).toBe(w.clock.now().getTime() + 300_000)
      expect(c?.expiresAt?.getTime()).toBe(w.clock.now().getTime() + 60_000)
    })

    test('one line short means no order and no holds at all (all or nothing)', async () => {
      const w = await createWorld(storage(), { flower: 10, vape: 1 })
      const error = await rejectionOf(placeOrder(w, { flower: 2, vape: 2 }))
      expect(error.code).toBe('INSUFFICIENT_STOCK')
      expect(error.details).toMatchObject({ itemId: w.items.vape, requested: 2, available: 1 })
      expect(await w.oms.orders.list({ actor: actors.manager, storeIds: [w.storeId] })).toEqual([])
      const flower = await w.oms.inventory.level({
        actor: actors.manager,
        itemId: w.items.flower as string,
        locationId: w.locationId,
      })
      expect(flower.reserved).toBe(0)
      await expectInvariants(w)
    })

    test('INSUFFICIENT_STOCK names every short line, with its index, item, sku, requested and available', async () => {
      const w = await createWorld(storage(), { flower: 10, vape: 1, edible: 0 })
      const error = await rejectionOf(placeOrder(w, { vape: 2, flower: 3, edible: 5 }))
      expect(error.code).toBe('INSUFFICIENT_STOCK')
      expect(error.details?.shortfalls).toEqual([
        expect.objectContaining({ lineIndexes: [0], itemId: w.items.vape, requested: 2, available: 1 }),
        expect.objectContaining({ lineIndexes: [2], itemId: w.items.edible, requested: 5, available: 0 }),
      ])
      const shortfalls = (error.details?.shortfalls ?? []) as Array<{ sku: unknown }>
      for (const s of shortfalls) expect(s.sku).toEqual(expect.any(String))
      expect(error.message).toContain('line 0')
      expect(error.message).toContain('line 2')
      expect(await w.oms.orders.list({ actor: actors.manager, storeIds: [w.storeId] })).toEqual([])
      await expectInvariants(w)
    })

    test('lines of the same item are summed before the conditional write', async () => {
      const w = await createWorld(storage(), { flower: 3 })
      const error = await rejectionOf(
        w.oms.orders.create({
          actor: actors.manager,
          channel: 'pos',
          flow: 'pickup',
          storeId: w.storeId,
          currency: 'USD',
          lines: [
            { itemId: w.items.flower as string, quantity: 2, unitPriceMinor: 100 },
            { itemId: w.items.flower as string, quantity: 2, unitPriceMinor: 100 },
          ],
        }),
      )
      expect(error.code).toBe('INSUFFICIENT_STOCK')
      expect(error.details).toMatchObject({ requested: 4, available: 3 })
      expect(error.details?.shortfalls).toEqual([
        expect.objectContaining({ lineIndexes: [0, 1], requested: 4 }),
      ])
    })

    test('an unknown item is a VALIDATION error naming the line', async () => {
      const w = await createWorld(storage(), { flower: 3 })
      const error = await rejectionOf(placeOrder(w, { flower: 1, 'no-such-item': 1 }))
      expect(error.code).toBe('VALIDATION')
      expect(error.message).toContain('lines.1.itemId')
    })

    test('pickup flow end to end: pay, pick, bag, collect — the sale leaves the ledger', async () => {
      const w = await createWorld(storage(), { flower: 10 })
      const order = await placeOrder(w, { flower: 3 })
      const a = { actor: actors.manager, orderId: order.id }
      expect(await w.oms.orders.allowedEvents(a)).toEqual(
        expect.arrayContaining(['payment.succeeded', 'payment.failed', 'order.cancel', 'order.confirm']),
      )
      const paid = await w.oms.orders.confirmPayment(a)
      expect(paid).toMatchObject({ status: 'confirmed', paymentStatus: 'paid' })
      const [h] = await w.oms.reservations.listByOrder(a)
      expect(h?.expiresAt).toBeNull()
      await w.oms.orders.send({ ...a, type: 'order.start_processing' })
      await w.oms.orders.send({ ...a, type: 'order.ready' })
      const collected = await w.oms.orders.send({ ...a, type: 'order.pick_up' })
      expect(collected.status).toBe('picked_up')
      const level = await w.oms.inventory.level({
        actor: actors.manager,
        itemId: w.items.flower as string,
        locationId: w.locationId,
      })
      expect(level).toMatchObject({ onHand: 7, reserved: 0, available: 7 })
      const sale = await w.oms.inventory.movements({ actor: actors.manager, referenceId: order.id })
      expect(sale.map((m) => [m.reason, m.delta])).toEqual([['sale', -3]])
      await w.oms.orders.send({ ...a, type: 'order.complete' })
      await expectInvariants(w)
    })

    test('delivery flow: the sale happens at shipping; returns run through review and refund', async () => {
      const w = await createWorld(storage(), { flower: 10 })
      const order = await placeOrder(w, { flower: 2 }, { flow: 'delivery' })
      const a = { actor: actors.manager, orderId: order.id }
      await w.oms.orders.confirmPayment(a)
      for (const type of [
        'order.start_processing',
        'order.pack',
        'order.ship',
        'order.in_transit',
        'order.out_for_delivery',
        'order.deliver',
      ]) {
        await w.oms.orders.send({ ...a, type })
      }
      expect(
        (
          await w.oms.inventory.level({
            actor: actors.manager,
            itemId: w.items.flower as string,
            locationId: w.locationId,
          })
        ).onHand,
      ).toBe(8)
      for (const type of [
        'return.request',
        'return.review',
        'return.approve',
        'return.ship_back',
        'return.receive',
        'return.inspect',
        'refund.approve',
      ]) {
        await w.oms.orders.send({ ...a, type })
      }
      expect(
        (
          await w.oms.inventory.level({
            actor: actors.manager,
            itemId: w.items.flower as string,
            locationId: w.locationId,
          })
        ).onHand,
      ).toBe(10)
      const refunded = await w.oms.orders.send({ ...a, type: 'refund.process' })
      expect(refunded).toMatchObject({ status: 'refunded', paymentStatus: 'refunded' })
      await expectInvariants(w)
    })

    test('payment failure cancels the order and gives the stock back', async () => {
      const w = await createWorld(storage(), { flower: 5 })
      const order = await placeOrder(w, { flower: 5 })
      const failed = await w.oms.orders.failPayment({
        actor: actors.payments,
        orderId: order.id,
        reason: 'card declined',
      })
      expect(failed).toMatchObject({
        status: 'cancelled',
        paymentStatus: 'failed',
        cancellationReason: 'card declined',
      })
      const level = await w.oms.inventory.level({
        actor: actors.manager,
        itemId: w.items.flower as string,
        locationId: w.locationId,
      })
      expect(level).toMatchObject({ reserved: 0, available: 5 })
      await placeOrder(w, { flower: 5 })
      await expectInvariants(w)
    })

    test('cancellation rules: confirmed yes, packed and shipped no (use a return)', async () => {
      const w = await createWorld(storage(), { flower: 10 })
      const a = await placeOrder(w, { flower: 1 }, { flow: 'delivery' })
      await w.oms.orders.confirmPayment({ actor: actors.payments, orderId: a.id })
      const cancelled = await w.oms.orders.cancel({
        actor: actors.manager,
        orderId: a.id,
        reason: 'customer asked',
      })
      expect(cancelled.status).toBe('cancelled')
      const events = await w.storage.transaction((tx) => tx.outbox.list({ aggregateId: a.id }))
      expect(events.map((e) => e.type)).toContain('payment.refund_requested')

      const b = await placeOrder(w, { flower: 1 }, { flow: 'delivery' })
      await w.oms.orders.confirmPayment({ actor: actors.payments, orderId: b.id })
      for (const type of ['order.start_processing', 'order.pack', 'order.ship'])
        await w.oms.orders.send({ actor: actors.manager, orderId: b.id, type })
      const refused = await rejectionOf(w.oms.orders.cancel({ actor: actors.manager, orderId: b.id }))
      expect(refused.code).toBe('INVALID_TRANSITION')
      expect(refused.message).toMatch(/return/)
      await expectInvariants(w)
    })

    test('an illegal transition is INVALID_TRANSITION and lists what is allowed', async () => {
      const w = await createWorld(storage(), { flower: 10 })
      const order = await placeOrder(w, { flower: 1 })
      const error = await rejectionOf(
        w.oms.orders.send({ actor: actors.manager, orderId: order.id, type: 'order.pick_up' }),
      )
      expect(error.code).toBe('INVALID_TRANSITION')
      expect(error.details?.allowed).toEqual(expect.arrayContaining(['payment.succeeded']))
    })

    test('a missing order is NOT_FOUND for a manager', async () => {
      const w = await createWorld(storage(), {})
      const error = await rejectionOf(w.oms.orders.get({ actor: actors.manager, orderId: 'no-such-order' }))
      expect(error.code).toBe('NOT_FOUND')
    })
  })
