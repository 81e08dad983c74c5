import { describe, expect, test } from 'vitest'
import type { Order } from '../../domain/schemas'
import { actors, createWorld, placeOrder, type World } from '../fixtures'
import type { Suite } from './suite'
import { codeOf, expectInvariants, rejectionOf, useStorage } from './use-storage'

const MINUTE = 60_000

type Status =
  | 'payment_pending'
  | 'confirmed'
  | 'processing'
  | 'ready_for_pickup'
  | 'picked_up'
  | 'cancelled'
  | 'packed'
  | 'shipped'

/** The steps from a new order to each status (pickup flow, or delivery for packed and shipped). */
const PATHS: Record<Status, readonly string[]> = {
  payment_pending: [],
  confirmed: ['payment.succeeded'],
  processing: ['payment.succeeded', 'order.start_processing'],
  ready_for_pickup: ['payment.succeeded', 'order.start_processing', 'order.ready'],
  picked_up: ['payment.succeeded', 'order.start_processing', 'order.ready', 'order.pick_up'],
  cancelled: ['order.cancel'],
  packed: ['payment.succeeded', 'order.start_processing', 'order.pack'],
  shipped: ['payment.succeeded', 'order.start_processing', 'order.pack', 'order.ship'],
}

type Command = 'release part' | 'release the last unit' | 'commit part'

/**
 * What each hold command answers in each order status. A hold may be partly released exactly while the
 * order could still be cancelled, and never down to nothing (cancel the order instead); stock is sold
 * from a hold only when the order is handed over (ready for pickup, packed to ship); closed orders hold
 * nothing to act on.
 */
const RULES: Record<Status, Record<Command, 'OK' | 'INVALID_TRANSITION'>> = {
  payment_pending: {
    'release part': 'OK',
    'release the last unit': 'INVALID_TRANSITION',
    'commit part': 'INVALID_TRANSITION',
  },
  confirmed: {
    'release part': 'OK',
    'release the last unit': 'INVALID_TRANSITION',
    'commit part': 'INVALID_TRANSITION',
  },
  processing: {
    'release part': 'OK',
    'release the last unit': 'INVALID_TRANSITION',
    'commit part': 'INVALID_TRANSITION',
  },
  ready_for_pickup: {
    'release part': 'INVALID_TRANSITION',
    'release the last unit': 'INVALID_TRANSITION',
    'commit part': 'OK',
  },
  packed: {
    'release part': 'INVALID_TRANSITION',
    'release the last unit': 'INVALID_TRANSITION',
    'commit part': 'OK',
  },
  picked_up: {
    'release part': 'INVALID_TRANSITION',
    'release the last unit': 'INVALID_TRANSITION',
    'commit part': 'INVALID_TRANSITION',
  },
  shipped: {
    'release part': 'INVALID_TRANSITION',
    'release the last unit': 'INVALID_TRANSITION',
    'commit part': 'INVALID_TRANSITION',
  },
  cancelled: {
    'release part': 'INVALID_TRANSITION',
    'release the last unit': 'INVALID_TRANSITION',
    'commit part': 'INVALID_TRANSITION',
  },
}

async function orderIn(
  w: World,
  status: Status,
  lines: Record<string, number> = { flower: 3 },
): Promise<Order> {
  const flow = status === 'packed' || status === 'shipped' ? 'delivery' : 'pickup'
  let order = await placeOrder(w, lines, { flow })
  for (const type of PATHS[status]) {
    const actor = type.startsWith('payment.') ? actors.payments : actors.manager
    order = await w.oms.orders.send({ actor, orderId: order.id, type })
  }
  expect(order.status).toBe(status)
  return order
}

export const holdRulesSuite: Suite = (target) =>
  describe('hold commands follow the order', () => {
    const storage = useStorage(target)

    const cells = Object.entries(RULES).flatMap(([status, row]) =>
      Object.entries(row).map(
        ([command, expected]) => [status as Status, command as Command, expected] as const,
      ),
    )
    test.each(cells)('%s × %s → %s', async (status, command, expected) => {
      const w = await createWorld(storage(), { flower: 10 })
      const order = await orderIn(w, status)
      const [hold] = await w.oms.reservations.listByOrder({ actor: actors.manager, orderId: order.id })
      const reservationId = hold?.id as string
      const run =
        command === 'commit part'
          ? w.oms.reservations.commit({ actor: actors.manager, reservationId, quantity: 1 })
          : w.oms.reservations.release({
              actor: actors.manager,
              reservationId,
              ...(command === 'release part' ? { quantity: 1 } : {}),
            })
      expect(await codeOf(run)).toBe(expected)
      await expectInvariants(w)
    })

    test('after a partial sale the order can no longer be cancelled or abandoned: only handed over', async () => {
      const w = await createWorld(storage(), { flower: 10 })
      const order = await orderIn(w, 'packed')
      const [hold] = await w.oms.reservations.listByOrder({ actor: actors.manager, orderId: order.id })
      await w.oms.reservations.commit({
        actor: actors.manager,
        reservationId: hold?.id as string,
        quantity: 1,
      })
      // even with the stock short, a cancel would have to undo a sale
      await w.oms.inventory.adjust({
        actor: actors.manager,
        itemId: w.items.flower as string,
        locationId: w.locationId,
        delta: -8,
        reason: 'adjust_correction',
      })
      const a = { actor: actors.manager, orderId: order.id }
      expect((await rejectionOf(w.oms.orders.cancel(a))).code).toBe('INVALID_TRANSITION')
      expect(await w.oms.orders.allowedEvents(a)).toEqual(['order.ship'])
      await expectInvariants(w)
    })

    test('a packed order whose stock went short cannot ship, and can be cancelled: the way out', async () => {
      const w = await createWorld(storage(), { flower: 10 })
      const order = await orderIn(w, 'packed', { flower: 4 })
      const a = { actor: actors.manager, orderId: order.id }
      // not short: a packed order is shipped, never cancelled
      const refused = await rejectionOf(w.oms.orders.cancel(a))
      expect(refused.code).toBe('INVALID_TRANSITION')
      expect(refused.message).toMatch(/ship it, then request a return/)
      // a count finds 7 fewer: 3 on hand under a hold of 4
      await w.oms.inventory.adjust({
        actor: actors.manager,
        itemId: w.items.flower as string,
        locationId: w.locationId,
        delta: -7,
        reason: 'adjust_correction',
      })
      expect((await rejectionOf(w.oms.orders.send({ ...a, type: 'order.ship' }))).code).toBe(
        'INSUFFICIENT_STOCK',
      )
      expect((await w.oms.orders.allowedEvents(a)).sort()).toEqual(['order.cancel', 'order.ship'])
      const cancelled = await w.oms.orders.cancel({ ...a, reason: 'stock short' })
      expect(cancelled).toMatchObject({ status: 'cancelled', cancellationReason: 'stock short' })
      const level = await w.oms.inventory.level({
        actor: actors.manager,
        itemId: w.items.flower as string,
        locationId: w.locationId,
      })
      expect(level).toMatchObject({ onHand: 3, reserved: 0, shortage: 0 })
      const refund = await w.storage.transaction((tx) => tx.outbox.list({ aggregateId: order.id }))
      expect(refund.map((e) => e.type)).toContain('payment.refund_requested')
      await expectInvariants(w)
    })

    test('commands that lost to the sweeper say what happened: RESERVATION_EXPIRED or the status now', async () => {
      const w = await createWorld(storage(), { flower: 10 })
      const orders = await Promise.all([placeOrder(w, { flower: 1 }), placeOrder(w, { flower: 1 })])
      w.clock.advance(16 * MINUTE)
      expect((await w.oms.reservations.expireDue()).ordersMoved).toBe(2)
      const [first, second] = orders as [Order, Order]
      const paid = await rejectionOf(
        w.oms.orders.confirmPayment({ actor: actors.payments, orderId: first.id }),
      )
      expect(paid.code).toBe('RESERVATION_EXPIRED')
      const failed = await rejectionOf(
        w.oms.orders.failPayment({ actor: actors.payments, orderId: second.id }),
      )
      expect(failed).toMatchObject({
        code: 'INVALID_TRANSITION',
        details: expect.objectContaining({ from: 'cancelled' }),
      })
      const cancel = await rejectionOf(w.oms.orders.cancel({ actor: actors.manager, orderId: second.id }))
      expect(cancel.message).toContain('in status cancelled')
      await expectInvariants(w)
    })
  })
