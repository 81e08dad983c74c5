import { describe, expect, test } from 'vitest'
import { type Order, remainingOf } from '../../domain/schemas'
import { actors, createWorld, placeOrder } from '../fixtures'
import type { Suite } from './suite'
import { expectInvariants, rejectionOf, useStorage } from './use-storage'

/** `orders.edit`: holds change by the difference only, totals follow, one audit row; concurrent holds never oversell. */
export const orderEditsSuite: Suite = (target, options) => {
  describe('order edits', () => {
    const storage = useStorage(target)

    test('more, fewer, removed and new lines change the holds by the difference only', async () => {
      const w = await createWorld(storage(), { flower: 20, gummies: 20, vape: 20 })
      const m = actors.manager
      const order = await placeOrder(w, { flower: 5, gummies: 3 })
      const [flowerLine, gummiesLine] = order.lines as [Order['lines'][0], Order['lines'][0]]
      const before = await w.oms.reservations.listByOrder({ actor: m, orderId: order.id })
      const edited = await w.oms.orders.edit({
        actor: m,
        orderId: order.id,
        set: [
          { lineId: flowerLine.id, quantity: 7 },
          { lineId: gummiesLine.id, quantity: 0 },
        ],
        add: [{ itemId: w.items.vape as string, quantity: 2, unitPriceMinor: 4000 }],
        reason: 'customer changed their mind',
      })
      expect(edited.lines.map((l) => [l.itemId, l.quantity])).toEqual([
        [w.items.flower, 7],
        [w.items.vape, 2],
      ])
      expect(edited.totals.totalMinor).toBe(7 * 1500 + 2 * 4000)
      expect(edited.version).toBe(order.version + 1)
      const after = await w.oms.reservations.listByOrder({ actor: m, orderId: order.id })
      // the first flower hold is as it was; a new hold of 2 for the extra flower; gummies released
      const oldFlower = before.find((h) => h.itemId === w.items.flower)
      expect(after.find((h) => h.id === oldFlower?.id)).toEqual(oldFlower)
      const newFlower = after.filter((h) => h.itemId === w.items.flower && h.id !== oldFlower?.id)
      expect(newFlower.map((h) => h.quantityReserved)).toEqual([2])
      expect(newFlower[0]?.expiresAt).toEqual(oldFlower?.expiresAt)
      const gummies = after.find((h) => h.itemId === w.items.gummies)
      expect(gummies).toMatchObject({ status: 'released', quantityReleased: 3 })
      expect(after.filter((h) => h.itemId === w.items.vape).map(remainingOf)).toEqual([2])
      const level = (item: string) =>
        w.oms.inventory.level({ actor: m, itemId: w.items[item] as string, locationId: w.locationId })
      expect((await level('flower')).reserved).toBe(7)
      expect((await level('gummies')).reserved).toBe(0)
      expect((await level('vape')).reserved).toBe(2)
      // fewer: released from the line's holds, never re-reserved
      await w.oms.orders.edit({ actor: m, orderId: order.id, set: [{ lineId: flowerLine.id, quantity: 4 }] })
      expect((await level('flower')).reserved).toBe(4)
      const edits = (await w.oms.history.forOrder({ actor: m, orderId: order.id })).filter(
        (h) => h.action === 'edited',
      )
      expect(edits).toHaveLength(2)
      expect(edits[0]?.additionalData).toMatchObject({
        before: { totalMinor: 8 * 1500 },
        after: { totalMinor: 7 * 1500 + 2 * 4000 },
      })
      const events = await w.storage.transaction((tx) => tx.outbox.list({ aggregateId: order.id }))
      expect(events.filter((e) => e.type === 'order.edited')).toHaveLength(2)
      // the edit is found by the new line's words, not by the removed one's
      const byVape = await w.oms.orders.search({ actor: m, text: 'vape' })
      expect(byVape.orders.map((o) => o.id)).toEqual([order.id])
      expect((await w.oms.orders.search({ actor: m, text: 'gummies' })).orders).toEqual([])
      await expectInvariants(w)
    })

    test('an edit that cannot be held, of a processing order or of an expired hold writes nothing', async () => {
      const w = await createWorld(storage(), { flower: 10 })
      const m = actors.manager
      const order = await placeOrder(w, { flower: 4 })
      const line = order.lines[0]?.id as string
      expect(
        await rejectionOf(
          w.oms.orders.edit({ actor: m, orderId: order.id, set: [{ lineId: line, quantity: 11 }] }),
        ),
      ).toMatchObject({ code: 'INSUFFICIENT_STOCK' })
      expect((await w.oms.orders.get({ actor: m, orderId: order.id })).version).toBe(order.version)
      expect(
        await rejectionOf(
          w.oms.orders.edit({ actor: m, orderId: order.id, set: [{ lineId: line, quantity: 0 }] }),
        ),
      ).toMatchObject({ code: 'VALIDATION' })
      expect(
        await rejectionOf(
          w.oms.orders.edit({ actor: m, orderId: order.id, set: [{ lineId: 'nope', quantity: 1 }] }),
        ),
      ).toMatchObject({ code: 'VALIDATION' })
      await w.oms.orders.confirmPayment({ actor: actors.payments, orderId: order.id })
      // confirmed: still editable; the new hold does not expire either
      const more = await w.oms.orders.edit({
        actor: m,
        orderId: order.id,
        set: [{ lineId: line, quantity: 6 }],
      })
      expect(more.totals.totalMinor).toBe(6 * 1500)
      const holds = await w.oms.reservations.listByOrder({ actor: m, orderId: order.id })
      expect(holds.map((h) => h.expiresAt)).toEqual([null, null])
      await w.oms.orders.send({ actor: m, orderId: order.id, type: 'order.start_processing' })
      expect(
        await rejectionOf(
          w.oms.orders.edit({ actor: m, orderId: order.id, set: [{ lineId: line, quantity: 5 }] }),
        ),
      ).toMatchObject({ code: 'INVALID_TRANSITION' })
      const late = await placeOrder(w, { flower: 1 }, { holdSeconds: 60 })
      w.clock.advance(61_000)
      expect(
        await rejectionOf(
          w.oms.orders.edit({
            actor: m,
            orderId: late.id,
            set: [{ lineId: late.lines[0]?.id as string, quantity: 2 }],
          }),
        ),
      ).toMatchObject({ code: 'RESERVATION_EXPIRED' })
      await expectInvariants(w)
    })

    test('edits racing new orders for the same stock never oversell and leave no drift', async () => {
      const w = await createWorld(storage(), { flower: 30 })
      const m = actors.manager
      const orders: Order[] = []
      for (let i = 0; i < 5; i++) orders.push(await placeOrder(w, { flower: 2 }))
      // 10 held, 20 left: every order asks for 4 more while 8 new orders ask for 2 each (20 + 16 > 20)
      const outcomes = await Promise.allSettled([
        ...orders.map((o) =>
          w.oms.orders.edit({
            actor: m,
            orderId: o.id,
            set: [{ lineId: o.lines[0]?.id as string, quantity: 6 }],
          }),
        ),
        ...Array.from({ length: Math.min(8, options.concurrency) }, () => placeOrder(w, { flower: 2 })),
      ])
      for (const o of outcomes)
        if (o.status === 'rejected') expect((o.reason as { code?: string }).code).toBe('INSUFFICIENT_STOCK')
      const level = await w.oms.inventory.level({
        actor: m,
        itemId: w.items.flower as string,
        locationId: w.locationId,
      })
      expect(level.reserved).toBeLessThanOrEqual(30)
      const held = await w.oms.reservations.list({ actor: m, statuses: ['active'], limit: 1000 })
      expect(held.reservations.reduce((s, h) => s + remainingOf(h), 0)).toBe(level.reserved)
      // every order's lines are what its holds hold
      for (const o of orders) {
        const now = await w.oms.orders.get({ actor: m, orderId: o.id })
        const own = held.reservations.filter((h) => h.orderId === o.id)
        expect(own.reduce((s, h) => s + remainingOf(h), 0)).toBe(now.lines[0]?.quantity)
      }
      await expectInvariants(w)
    })
  })
}
