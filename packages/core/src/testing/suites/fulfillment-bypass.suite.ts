import { describe, expect, test } from 'vitest'
import type { Fulfillment, Order } from '../../domain/schemas'
import { actors, createWorld, placeOrder, type World } from '../fixtures'
import { checkInvariants, snapshotStorage } from '../invariants'
import { raceOnOrderClaim } from './interleavings.suite'
import type { Suite } from './suite'
import { codeOf, expectInvariants, rejectionOf, useStorage } from './use-storage'

const m = actors.manager
const staff = actors.warehouse

async function paid(w: World, quantity: number, flow: 'pickup' | 'delivery'): Promise<Order> {
  const order = await placeOrder(w, { flower: quantity }, { flow })
  return w.oms.orders.confirmPayment({ actor: actors.payments, orderId: order.id })
}

/** The order's one fulfillment, scanned in full and packed (ready to ship / hand over). */
async function packed(w: World, order: Order): Promise<Fulfillment> {
  const [f] = await w.oms.fulfillments.create({ actor: staff, orderId: order.id })
  const id = (f as Fulfillment).id
  const line = (f as Fulfillment).lines[0]
  await w.oms.fulfillments.scan({
    actor: staff,
    fulfillmentId: id,
    code: line?.sku as string,
    quantity: line?.quantity,
  })
  await w.oms.fulfillments.completePicking({ actor: staff, fulfillmentId: id })
  return w.oms.fulfillments.pack({ actor: staff, fulfillmentId: id, boxSize: 'S', weightGrams: 10 })
}

const status = async (w: World, order: Order) =>
  (await w.oms.orders.get({ actor: m, orderId: order.id })).status

async function level(w: World) {
  const l = await w.oms.inventory.level({
    actor: m,
    itemId: w.items.flower as string,
    locationId: w.locationId,
  })
  return { onHand: l.onHand, reserved: l.reserved }
}

/**
 * While an order has an open fulfillment, its goods leave through it: direct hand-over events, direct
 * sales from its holds and releases of what the fulfillment covers are refused and write nothing.
 */
export const fulfillmentBypassSuite: Suite = (target) =>
  describe('fulfillment bypass', () => {
    const storage = useStorage(target)

    test('pickup: with an open fulfillment, order.ready, order.pick_up and reservations.commit are refused; the hand-over goes through the fulfillment', async () => {
      const w = await createWorld(storage(), { flower: 10 })
      const order = await paid(w, 3, 'pickup')
      const [f] = await w.oms.fulfillments.create({ actor: staff, orderId: order.id })
      const fulfillment = f as Fulfillment
      await w.oms.fulfillments.scan({
        actor: staff,
        fulfillmentId: fulfillment.id,
        code: fulfillment.lines[0]?.sku as string,
        quantity: 1,
      })
      expect(await status(w, order)).toBe('processing')
      const before = await snapshotStorage(w.storage)
      const ready = await rejectionOf(w.oms.orders.send({ actor: m, orderId: order.id, type: 'order.ready' }))
      expect(ready).toMatchObject({ code: 'INVALID_TRANSITION' })
      expect(ready.message).toContain(fulfillment.number)
      expect(await snapshotStorage(w.storage)).toBe(before)

      // packed through the fulfillment: the order is ready for pickup, the goods still held
      await w.oms.fulfillments.scan({
        actor: staff,
        fulfillmentId: fulfillment.id,
        code: fulfillment.lines[0]?.sku as string,
        quantity: 2,
      })
      await w.oms.fulfillments.completePicking({ actor: staff, fulfillmentId: fulfillment.id })
      await w.oms.fulfillments.pack({
        actor: staff,
        fulfillmentId: fulfillment.id,
        boxSize: 'S',
        weightGrams: 5,
      })
      expect(await status(w, order)).toBe('ready_for_pickup')
      const packedState = await snapshotStorage(w.storage)
      expect(await codeOf(w.oms.orders.send({ actor: m, orderId: order.id, type: 'order.pick_up' }))).toBe(
        'INVALID_TRANSITION',
      )
      const bulk = await w.oms.orders.bulkStatus({ actor: m, orderIds: [order.id], type: 'order.pick_up' })
      expect(bulk).toMatchObject({
        applied: 0,
        refused: 1,
        results: [{ ok: false, code: 'INVALID_TRANSITION' }],
      })
      const [hold] = await w.oms.reservations.listByOrder({ actor: m, orderId: order.id })
      expect(
        await codeOf(w.oms.reservations.commit({ actor: m, reservationId: hold?.id as string, quantity: 1 })),
      ).toBe('INVALID_TRANSITION')
      expect(await snapshotStorage(w.storage)).toBe(packedState)
      expect(await level(w)).toEqual({ onHand: 10, reserved: 3 })

      await w.oms.fulfillments.handOver({ actor: staff, fulfillmentId: fulfillment.id })
      expect(await status(w, order)).toBe('picked_up')
      expect(await level(w)).toEqual({ onHand: 7, reserved: 0 })
      await expectInvariants(w)
    })

    test('delivery: a packed order does not ship directly past its fulfillment; once the fulfillment is cancelled the direct path works', async () => {
      const w = await createWorld(storage(), { flower: 10 })
      const order = await paid(w, 2, 'delivery')
      const f = await packed(w, order)
      expect(await status(w, order)).toBe('packed')
      const before = await snapshotStorage(w.storage)
      expect(await codeOf(w.oms.orders.send({ actor: m, orderId: order.id, type: 'order.ship' }))).toBe(
        'INVALID_TRANSITION',
      )
      expect(await snapshotStorage(w.storage)).toBe(before)
      // The fulfillment is called off: the goods stay held for the order, and the direct path is open.
      await w.oms.fulfillments.cancel({ actor: staff, fulfillmentId: f.id, reason: 'shipping by courier' })
      await w.oms.orders.send({ actor: m, orderId: order.id, type: 'order.ship' })
      expect(await status(w, order)).toBe('shipped')
      expect(await level(w)).toEqual({ onHand: 8, reserved: 0 })
      expect((await w.oms.fulfillments.get({ actor: m, fulfillmentId: f.id })).status).toBe('cancelled')
      await expectInvariants(w)
    })

    test('a hold releases only what no open fulfillment covers', async () => {
      const w = await createWorld(storage(), { flower: 10 })
      const order = await paid(w, 3, 'pickup')
      const [f] = await w.oms.fulfillments.create({ actor: staff, orderId: order.id })
      const [hold] = await w.oms.reservations.listByOrder({ actor: m, orderId: order.id })
      const release = () =>
        w.oms.reservations.release({ actor: m, reservationId: hold?.id as string, quantity: 1 })
      const before = await snapshotStorage(w.storage)
      const refused = await rejectionOf(release())
      expect(refused).toMatchObject({ code: 'INVALID_TRANSITION' })
      expect(refused.message).toContain('outside an open fulfillment')
      expect(await snapshotStorage(w.storage)).toBe(before)
      await w.oms.fulfillments.cancel({ actor: staff, fulfillmentId: (f as Fulfillment).id })
      await release()
      expect(await level(w)).toEqual({ onHand: 10, reserved: 2 })
      // a new fulfillment takes what is still held
      const [again] = await w.oms.fulfillments.create({ actor: staff, orderId: order.id })
      expect(again?.lines.map((l) => l.quantity)).toEqual([2])
      await expectInvariants(w)
    })

    test('a no-show with a packed fulfillment cancels the order, closes the fulfillment and gives the goods back', async () => {
      const w = await createWorld(storage(), { flower: 10 })
      const order = await paid(w, 2, 'pickup')
      const f = await packed(w, order)
      await w.oms.orders.send({ actor: m, orderId: order.id, type: 'order.no_show' })
      expect(await status(w, order)).toBe('cancelled')
      expect((await w.oms.fulfillments.get({ actor: m, fulfillmentId: f.id })).status).toBe('cancelled')
      expect(await level(w)).toEqual({ onHand: 10, reserved: 0 })
      await expectInvariants(w)
    })

    for (const [first, second] of [
      ['direct pick-up', 'fulfillment create'],
      ['fulfillment create', 'direct pick-up'],
    ] as const) {
      test(`forced interleaving: ${first} stopped after claiming the order while ${second} runs`, async () => {
        const w = await createWorld(storage(), { flower: 10 })
        const order = await paid(w, 3, 'pickup')
        for (const type of ['order.start_processing', 'order.ready'])
          await w.oms.orders.send({ actor: m, orderId: order.id, type })
        const run = {
          'direct pick-up': (oms: World['oms']) =>
            codeOf(oms.orders.send({ actor: m, orderId: order.id, type: 'order.pick_up' })),
          'fulfillment create': (oms: World['oms']) =>
            codeOf(oms.fulfillments.create({ actor: staff, orderId: order.id })),
        }
        const [a, b] = await raceOnOrderClaim(w, target, run[first], run[second])
        // the order's claim serialises them: the first wins, the second sees it and is refused
        expect([a, b]).toEqual(['OK', 'INVALID_TRANSITION'])
        const open = await w.oms.fulfillments.listByOrder({ actor: m, orderId: order.id })
        if (first === 'direct pick-up') {
          expect(await status(w, order)).toBe('picked_up')
          expect(open).toEqual([])
          expect(await level(w)).toEqual({ onHand: 7, reserved: 0 })
        } else {
          expect(await status(w, order)).toBe('ready_for_pickup')
          expect(open.map((f) => f.status)).toEqual(['pending'])
          expect(await level(w)).toEqual({ onHand: 10, reserved: 3 })
        }
        expect(await checkInvariants(w.storage, w.oms.machines.orderMachines, w.clock.now())).toEqual([])
      })
    }
  })
