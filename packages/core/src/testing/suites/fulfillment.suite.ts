import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import type { CallerActor, Order } from '../../domain/schemas'
import type { AllocationStrategy } from '../../fulfillment/allocation'
import type { CustomerNotification } from '../../ports/notifier'
import { actors, createWorld, placeOrder, RETURN_TO_QUALITY_CHECK, type World } from '../fixtures'
import { checkInvariants } from '../invariants'
import { raceOnOrderClaim } from './interleavings.suite'
import type { Suite } from './suite'
import { codeOf, expectInvariants, rejectionOf, useStorage } from './use-storage'

const staff = actors.warehouse
const m = actors.manager

/** A paid order of the given lines (delivery or pickup), with a barcode on the vape. */
async function paidOrder(
  w: World,
  lines: Record<string, number>,
  extra: { flow?: 'pickup' | 'delivery'; customerId?: string } = {},
): Promise<Order> {
  if (w.items.vape)
    await w.oms.inventory.defineItem({
      actor: m,
      item: {
        id: w.items.vape,
        sku: w.items.vape.toUpperCase(),
        name: 'vape',
        unit: 'each',
        barcode: '0012345',
      },
    })
  const order = await placeOrder(w, lines, extra)
  return w.oms.orders.confirmPayment({ actor: actors.payments, orderId: order.id })
}

const skuOf = (w: World, name: string) => (w.items[name] as string).toUpperCase()

async function level(w: World, name: string) {
  return w.oms.inventory.level({ actor: m, itemId: w.items[name] as string, locationId: w.locationId })
}

async function saleMovements(w: World, order: Order) {
  const moves = await w.oms.inventory.movements({ actor: m, locationId: w.locationId })
  return moves
    .filter((mv) => mv.reason === 'sale' && mv.reference?.id === order.id)
    .map((mv) => [mv.itemId, mv.delta])
    .sort()
}

/** Scans every line of a fulfillment in full and completes picking. */
async function pickAll(
  w: World,
  f: { id: string; lines: ReadonlyArray<{ sku: string | null; quantity: number }> },
) {
  for (const line of f.lines)
    await w.oms.fulfillments.scan({
      actor: staff,
      fulfillmentId: f.id,
      code: line.sku as string,
      quantity: line.quantity,
    })
  return w.oms.fulfillments.completePicking({ actor: staff, fulfillmentId: f.id })
}

/** Receives stock in the world's back room (its second location). */
const stockBackroom = (w: World, name: string, quantity: number) =>
  w.oms.inventory.receive({ actor: m, itemId: w.items[name] as string, locationId: w.backroomId, quantity })

/** Holds of an order as (item, location, quantity), sorted. */
async function holdsOf(w: World, order: Order) {
  return (await w.oms.reservations.listByOrder({ actor: m, orderId: order.id }))
    .map((h) => [h.itemId, h.locationId, h.quantityReserved] as const)
    .sort()
}

/** The order's one new fulfillment (all it holds is at one location). */
async function fulfillmentOf(w: World, order: Order) {
  const [f, ...more] = await w.oms.fulfillments.create({ actor: staff, orderId: order.id })
  if (!f || more.length) throw new Error('expected exactly one fulfillment')
  return f
}

/** Creates, scans every line in full and completes picking. */
async function picked(w: World, order: Order) {
  return pickAll(w, await fulfillmentOf(w, order))
}

/** Picks, packs and ships the order's one fulfillment with UPS under `tracking`. */
async function shippedOne(w: World, order: Order, tracking: string) {
  const f = await picked(w, order)
  await packIt(w, f.id)
  return w.oms.fulfillments.ship({
    actor: staff,
    fulfillmentId: f.id,
    carrier: 'UPS',
    trackingNumber: tracking,
  })
}

const packIt = (w: World, id: string) =>
  w.oms.fulfillments.pack({
    actor: staff,
    fulfillmentId: id,
    boxSize: 'S',
    weightGrams: 450,
    packingMaterials: ['mylar bag'],
    notes: 'fragile',
  })

/** One random step on one of a few paid orders and their fulfillments. */
type Step =
  | { kind: 'progress'; order: number }
  | { kind: 'create' | 'cancel' | 'cancelOrder' | 'pack' | 'ship' | 'handOver' | 'deliver'; order: number }
  | { kind: 'scan'; order: number; item: 'flower' | 'vape' | 'nothing'; quantity: number }
  | { kind: 'complete'; order: number; short: boolean }

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  // the next natural step of the order's fulfillment, most of the time, so runs get far
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('progress' as const), order: fc.nat(2) }) },
  fc.record({
    kind: fc.constantFrom('create', 'cancel', 'cancelOrder', 'pack', 'ship', 'handOver', 'deliver'),
    order: fc.nat(2),
  }) as fc.Arbitrary<Step>,
  fc.record({
    kind: fc.constant('scan' as const),
    order: fc.nat(2),
    item: fc.constantFrom('flower' as const, 'vape' as const, 'nothing' as const),
    quantity: fc.integer({ min: 1, max: 3 }),
  }),
  fc.record({ kind: fc.constant('complete' as const), order: fc.nat(2), short: fc.boolean() }),
)

/** What a refused step may answer: a definite, typed refusal (never CONFLICT or an untyped error). */
const REFUSALS = ['INVALID_TRANSITION', 'SCAN_REJECTED', 'VALIDATION']

export const fulfillmentSuite: Suite = (target, options) =>
  describe('fulfillment', () => {
    const storage = useStorage(target)

    test('a delivery order is picked by scans, packed and shipped: the order follows, exactly its holds are sold', async () => {
      const w = await createWorld(storage(), { flower: 10, vape: 5 })
      const order = await paidOrder(w, { flower: 3, vape: 2 }, { flow: 'delivery' })
      const [f, ...more] = await w.oms.fulfillments.create({
        actor: m,
        orderId: order.id,
        assignedToId: 'picker-1',
      })
      expect(more).toEqual([])
      if (!f) throw new Error('no fulfillment')
      expect(f).toMatchObject({ status: 'pending', locationId: w.locationId, assignedToId: 'picker-1' })
      expect(f.number).toMatch(/^FUL-\d{8}-\d{4}$/)
      expect(f.lines.map((l) => [l.itemId, l.quantity, l.quantityPicked]).sort()).toEqual(
        [
          [w.items.flower, 3, 0],
          [w.items.vape, 2, 0],
        ].sort(),
      )
      // Nothing is left to put in a second one.
      expect(await codeOf(w.oms.fulfillments.create({ actor: m, orderId: order.id }))).toBe(
        'INVALID_TRANSITION',
      )

      const reassigned = await w.oms.fulfillments.assign({
        actor: m,
        fulfillmentId: f.id,
        assignedToId: 'picker-2',
      })
      expect(reassigned.assignedToId).toBe('picker-2')
      const list = await w.oms.fulfillments.pickList({ actor: staff, fulfillmentId: f.id })
      expect(list.lines.find((l) => l.itemId === w.items.vape)).toMatchObject({
        sku: skuOf(w, 'vape'),
        barcode: '0012345',
        quantity: 2,
        locationName: 'Sales floor',
      })

      // scans: by sku, by barcode, refusals
      const scan = (code: string, quantity = 1) =>
        w.oms.fulfillments.scan({ actor: staff, fulfillmentId: f.id, code, quantity })
      const first = await scan(skuOf(w, 'flower'), 2)
      expect(first.status).toBe('picking')
      expect(first.pickingStartedAt).toEqual(w.clock.now())
      expect((await w.oms.orders.get({ actor: m, orderId: order.id })).status).toBe('processing')
      const wrong = await rejectionOf(scan('NOT-AN-ITEM'))
      expect(wrong).toMatchObject({ code: 'SCAN_REJECTED', details: { reason: 'wrong_item' } })
      const over = await rejectionOf(scan(skuOf(w, 'flower'), 2))
      expect(over).toMatchObject({
        code: 'SCAN_REJECTED',
        details: { reason: 'over_scan', picked: 2, planned: 3 },
      })
      expect(await codeOf(w.oms.fulfillments.completePicking({ actor: staff, fulfillmentId: f.id }))).toBe(
        'INVALID_TRANSITION',
      )
      await scan(skuOf(w, 'flower'))
      await scan('0012345', 2)
      const done = await w.oms.fulfillments.completePicking({ actor: staff, fulfillmentId: f.id })
      expect(done).toMatchObject({
        status: 'packing',
        scansAccepted: 3,
        scansRejected: 2,
        shortPicked: false,
      })
      expect(done.pickingCompletedAt).not.toBeNull()
      expect(done.packingStartedAt).not.toBeNull()

      const packed = await packIt(w, f.id)
      expect(packed).toMatchObject({
        status: 'ready_to_ship',
        boxSize: 'S',
        weightGrams: 450,
        packingMaterials: ['mylar bag'],
        packingNotes: 'fragile',
      })
      const packedOrder = await w.oms.orders.get({ actor: m, orderId: order.id })
      expect(packedOrder).toMatchObject({ status: 'packed', packedQuantity: 5 })
      // the cancellation rule now sees what is packed
      expect(await codeOf(w.oms.orders.cancel({ actor: m, orderId: order.id }))).toBe('INVALID_TRANSITION')
      expect(await saleMovements(w, order)).toEqual([])

      const shipped = await w.oms.fulfillments.ship({
        actor: staff,
        fulfillmentId: f.id,
        carrier: 'UPS',
        trackingNumber: '1Z999',
      })
      expect(shipped).toMatchObject({ status: 'shipped', carrier: 'UPS', trackingNumber: '1Z999' })
      expect(shipped.shippedAt).toEqual(w.clock.now())
      expect((await w.oms.orders.get({ actor: m, orderId: order.id })).status).toBe('shipped')
      expect(await saleMovements(w, order)).toEqual(
        [
          [w.items.flower, -3],
          [w.items.vape, -2],
        ].sort(),
      )
      expect(await level(w, 'flower')).toMatchObject({ onHand: 7, reserved: 0 })
      expect(await level(w, 'vape')).toMatchObject({ onHand: 3, reserved: 0 })

      const delivered = await w.oms.fulfillments.deliver({ actor: staff, fulfillmentId: f.id })
      expect(delivered.status).toBe('fulfilled')
      expect(delivered.fulfilledAt).not.toBeNull()
      expect((await w.oms.orders.get({ actor: m, orderId: order.id })).status).toBe('delivered')
      expect(await saleMovements(w, order)).toHaveLength(2)

      const history = await w.oms.history.forOrder({ actor: m, orderId: order.id })
      const actions = history.filter((h) => h.entityType === 'fulfillment').map((h) => h.action)
      expect(actions).toEqual(
        expect.arrayContaining([
          'fulfillment_created',
          'assigned',
          'item_scanned',
          'scan_rejected',
          'packed',
          'shipped',
          'delivered',
        ]),
      )
      expect(actions.filter((a) => a === 'assigned')).toHaveLength(2)
      expect(actions.filter((a) => a === 'scan_rejected')).toHaveLength(2)
      await expectInvariants(w)
    })

    test('pickup: a short pick releases what was not found; the hand-over sells only what was picked', async () => {
      const w = await createWorld(storage(), { flower: 10 })
      const order = await paidOrder(w, { flower: 3 })
      const f = await fulfillmentOf(w, order)
      await w.oms.fulfillments.scan({
        actor: staff,
        fulfillmentId: f.id,
        code: skuOf(w, 'flower'),
        quantity: 2,
      })
      const short = await w.oms.fulfillments.completePicking({
        actor: staff,
        fulfillmentId: f.id,
        shortPick: true,
        notes: 'one jar missing',
      })
      expect(short).toMatchObject({ status: 'packing', shortPicked: true, pickingNotes: 'one jar missing' })
      expect(await level(w, 'flower')).toMatchObject({ onHand: 10, reserved: 2 })
      await packIt(w, f.id)
      expect(await w.oms.orders.get({ actor: m, orderId: order.id })).toMatchObject({
        status: 'ready_for_pickup',
        packedQuantity: 2,
      })
      const handed = await w.oms.fulfillments.handOver({ actor: staff, fulfillmentId: f.id })
      expect(handed.status).toBe('partially_fulfilled')
      expect((await w.oms.orders.get({ actor: m, orderId: order.id })).status).toBe('picked_up')
      expect(await saleMovements(w, order)).toEqual([[w.items.flower, -2]])
      expect(await level(w, 'flower')).toMatchObject({ onHand: 8, reserved: 0 })
      await expectInvariants(w)
    })

    test('a short pick of nothing is refused; cancelling a fulfillment gives its goods back to the order', async () => {
      const w = await createWorld(storage(), { flower: 10 })
      const order = await paidOrder(w, { flower: 3 })
      const f = await fulfillmentOf(w, order)
      await w.oms.fulfillments.startPicking({ actor: staff, fulfillmentId: f.id })
      expect(
        await codeOf(
          w.oms.fulfillments.completePicking({ actor: staff, fulfillmentId: f.id, shortPick: true }),
        ),
      ).toBe('VALIDATION')
      const cancelled = await w.oms.fulfillments.cancel({
        actor: staff,
        fulfillmentId: f.id,
        reason: 'restart',
      })
      expect(cancelled.status).toBe('cancelled')
      expect(cancelled.cancelledAt).toEqual(w.clock.now())
      // still held for the order, not back in open stock
      expect(await level(w, 'flower')).toMatchObject({ onHand: 10, reserved: 3 })
      const [hold] = await w.oms.reservations.listByOrder({ actor: m, orderId: order.id })
      expect(hold).toMatchObject({ status: 'active', quantityReleased: 0 })
      const [again] = await w.oms.fulfillments.create({ actor: staff, orderId: order.id })
      expect(again?.number).not.toBe(f.number)
      expect(again?.lines[0]?.quantity).toBe(3)
      expect(
        await codeOf(
          w.oms.fulfillments.ship({ actor: staff, fulfillmentId: f.id, carrier: 'x', trackingNumber: 'y' }),
        ),
      ).toBe('INVALID_TRANSITION')
      await expectInvariants(w)
    })

    test('cancelling the order closes its fulfillments and releases the goods to open stock', async () => {
      const w = await createWorld(storage(), { flower: 10 })
      const order = await paidOrder(w, { flower: 3 })
      const f = await fulfillmentOf(w, order)
      await w.oms.fulfillments.scan({ actor: staff, fulfillmentId: f.id, code: skuOf(w, 'flower') })
      const cancelled = await w.oms.orders.cancel({ actor: m, orderId: order.id, reason: 'customer called' })
      expect(cancelled.status).toBe('cancelled')
      expect((await w.oms.fulfillments.get({ actor: staff, fulfillmentId: f.id })).status).toBe('cancelled')
      expect(await level(w, 'flower')).toMatchObject({ onHand: 10, reserved: 0 })
      expect(await w.oms.fulfillments.allowedEvents({ actor: staff, fulfillmentId: f.id })).toEqual([])
      await expectInvariants(w)
    })

    test('with the policy, confirming an order creates its fulfillment in the same transaction', async () => {
      const w = await createWorld(storage(), { flower: 10 }, { policies: { autoCreateFulfillments: true } })
      const order = await paidOrder(w, { flower: 2 })
      const fs = await w.oms.fulfillments.listByOrder({ actor: m, orderId: order.id })
      expect(fs.map((f) => [f.status, f.lines[0]?.quantity])).toEqual([['pending', 2]])
      expect(
        await w.oms.fulfillments.allowedEvents({ actor: staff, fulfillmentId: fs[0]?.id as string }),
      ).toEqual(['fulfillment.start_picking', 'fulfillment.cancel'])
      await expectInvariants(w)
    })

    test('customers hear about the lifecycle once per step, after commit, with tracking for each shipment', async () => {
      const sent: CustomerNotification[] = []
      let failNext = true
      const w = await createWorld(
        storage(),
        { flower: 10 },
        {
          notifier: {
            notify: async (n) => {
              // the first shipment notice fails once: the relay tries it again, and it goes out once
              if (n.kind === 'order_lifecycle' && n.template === 'order_shipped' && failNext) {
                failNext = false
                throw new Error('mail server down')
              }
              sent.push(n)
            },
          },
        },
      )
      const order = await paidOrder(w, { flower: 2 }, { flow: 'delivery', customerId: 'cust-5' })
      await shippedOne(w, order, 'TRACK-1')
      await w.oms.events.drain()
      w.clock.advance(600_000)
      await w.oms.events.drain()
      const f = (await w.oms.fulfillments.listByOrder({ actor: m, orderId: order.id }))[0]
      await w.oms.fulfillments.deliver({ actor: staff, fulfillmentId: f?.id as string })
      await w.oms.events.drain()
      await w.oms.events.drain()
      const lifecycle = sent.flatMap((n) => (n.kind === 'order_lifecycle' ? [n] : []))
      expect(lifecycle.map((n) => n.template)).toEqual([
        'order_confirmed',
        'order_shipped',
        'order_delivered',
      ])
      expect(lifecycle[1]).toMatchObject({
        orderId: order.id,
        orderNumber: order.number,
        customerId: 'cust-5',
        data: { carrier: 'UPS', trackingNumber: 'TRACK-1' },
      })
      expect(JSON.stringify(lifecycle)).not.toContain('fragile')
      await expectInvariants(w)
    })

    test('an unpaid order cannot be fulfilled; list filters by status, assignee and location, a page at a time', async () => {
      const w = await createWorld(storage(), { flower: 20 })
      const unpaid = await placeOrder(w, { flower: 1 })
      expect(await codeOf(w.oms.fulfillments.create({ actor: staff, orderId: unpaid.id }))).toBe(
        'INVALID_TRANSITION',
      )
      const ids: string[] = []
      for (let i = 0; i < 3; i++) {
        const order = await paidOrder(w, { flower: 1 })
        const [f] = await w.oms.fulfillments.create({
          actor: m,
          orderId: order.id,
          ...(i < 2 ? { assignedToId: 'picker-9' } : {}),
        })
        ids.push(f?.id as string)
      }
      await w.oms.fulfillments.startPicking({ actor: staff, fulfillmentId: ids[0] as string })
      const scoped: CallerActor = { id: 'sm', roles: ['store_manager'], storeIds: [w.storeId] }
      const ofStore = await w.oms.fulfillments.list({ actor: scoped })
      expect(ofStore.map((f) => f.id)).toEqual(ids)
      expect(
        (await w.oms.fulfillments.list({ actor: scoped, statuses: ['pending'] })).map((f) => f.id),
      ).toEqual(ids.slice(1))
      expect(
        (await w.oms.fulfillments.list({ actor: scoped, assignedToId: 'picker-9' })).map((f) => f.id),
      ).toEqual(ids.slice(0, 2))
      expect(
        (await w.oms.fulfillments.list({ actor: scoped, locationId: w.locationId, limit: 2, offset: 1 })).map(
          (f) => f.id,
        ),
      ).toEqual(ids.slice(1, 3))
      expect(await w.oms.fulfillments.list({ actor: scoped, locationId: w.backroomId })).toEqual([])
      const elsewhere: CallerActor = { id: 'sm2', roles: ['store_manager'], storeIds: ['another-store'] }
      expect(await w.oms.fulfillments.list({ actor: elsewhere })).toEqual([])
      await expectInvariants(w)
    })

    test('a customer sees its fulfillment status and tracking, never staff notes; only staff act on it', async () => {
      const w = await createWorld(storage(), { flower: 10 })
      const order = await paidOrder(w, { flower: 1 }, { flow: 'delivery', customerId: 'cust-1' })
      const f = await shippedOne(w, order, '1Z1')
      const customer = actors.customer('cust-1')
      const seen = await w.oms.fulfillments.get({ actor: customer, fulfillmentId: f.id })
      expect(seen).toMatchObject({ status: 'shipped', carrier: 'UPS', trackingNumber: '1Z1' })
      expect(seen).toMatchObject({ packingNotes: null, pickingNotes: null, assignedToId: null })
      const [listed] = await w.oms.fulfillments.list({ actor: customer })
      expect(listed).toMatchObject({ id: f.id, packingNotes: null })
      expect((await w.oms.fulfillments.get({ actor: staff, fulfillmentId: f.id })).packingNotes).toBe(
        'fragile',
      )
      expect(await codeOf(w.oms.fulfillments.deliver({ actor: customer, fulfillmentId: f.id }))).toBe(
        'FORBIDDEN',
      )
      expect(await w.oms.fulfillments.allowedEvents({ actor: customer, fulfillmentId: f.id })).toEqual([])
      const stranger = actors.customer('cust-2')
      expect(await codeOf(w.oms.fulfillments.get({ actor: stranger, fulfillmentId: f.id }))).toBe('FORBIDDEN')
      expect(await codeOf(w.oms.fulfillments.get({ actor: stranger, fulfillmentId: 'missing' }))).toBe(
        'FORBIDDEN',
      )
      expect(await codeOf(w.oms.fulfillments.get({ actor: m, fulfillmentId: 'missing' }))).toBe('NOT_FOUND')
      await expectInvariants(w)
    })

    test('a scan sent twice with one idempotency key picks once', async () => {
      const w = await createWorld(storage(), { flower: 10 })
      const order = await paidOrder(w, { flower: 3 })
      const [f] = await w.oms.fulfillments.create({ actor: staff, orderId: order.id })
      const scan = () =>
        w.oms.fulfillments.scan({
          actor: staff,
          fulfillmentId: f?.id as string,
          code: skuOf(w, 'flower'),
          idempotencyKey: 'scan-1',
        })
      const a = await scan()
      const b = await scan()
      expect(b).toEqual(a)
      expect(
        (await w.oms.fulfillments.get({ actor: staff, fulfillmentId: f?.id as string })).lines[0],
      ).toMatchObject({
        quantityPicked: 1,
      })
      await expectInvariants(w)
    })

    test('allocation: the seed example splits A over two locations, B from the first, C from the second; each ships as its own fulfillment', async () => {
      const w = await createWorld(
        storage(),
        { a: 1, b: 5, c: 0 },
        { policies: { allocateAcrossLocations: true } },
      )
      await stockBackroom(w, 'a', 10)
      await stockBackroom(w, 'c', 3)
      const order = await paidOrder(w, { a: 2, b: 1, c: 1 }, { flow: 'delivery' })
      const [wh1, wh2] = [w.locationId, w.backroomId]
      expect(await holdsOf(w, order)).toEqual(
        [
          [w.items.a, wh1, 1],
          [w.items.a, wh2, 1],
          [w.items.b, wh1, 1],
          [w.items.c, wh2, 1],
        ].sort(),
      )
      const created = await w.oms.fulfillments.create({ actor: staff, orderId: order.id })
      expect(
        created.map((f) => [f.locationId, f.lines.map((l) => [l.itemId, l.quantity]).sort()]).sort(),
      ).toEqual(
        [
          [
            wh1,
            [
              [w.items.a, 1],
              [w.items.b, 1],
            ].sort(),
          ],
          [
            wh2,
            [
              [w.items.a, 1],
              [w.items.c, 1],
            ].sort(),
          ],
        ].sort(),
      )
      const first = created.find((f) => f.locationId === wh1)
      const second = created.find((f) => f.locationId === wh2)
      if (!first || !second) throw new Error('missing a fulfillment')
      const status = async () => (await w.oms.orders.get({ actor: m, orderId: order.id })).status
      await pickAll(w, first)
      await packIt(w, first.id)
      expect(await status()).toBe('processing')
      await w.oms.fulfillments.ship({
        actor: staff,
        fulfillmentId: first.id,
        carrier: 'UPS',
        trackingNumber: 'A1',
      })
      expect(await status()).toBe('partially_shipped')
      expect(await codeOf(w.oms.orders.cancel({ actor: m, orderId: order.id }))).toBe('INVALID_TRANSITION')
      const moves = async () =>
        (await w.oms.inventory.movements({ actor: m, limit: 1000 }))
          .filter((mv) => mv.reason === 'sale' && mv.reference?.id === order.id)
          .map((mv) => [mv.itemId, mv.locationId, mv.delta])
          .sort()
      expect(await moves()).toEqual(
        [
          [w.items.a, wh1, -1],
          [w.items.b, wh1, -1],
        ].sort(),
      )
      await pickAll(w, second)
      await packIt(w, second.id)
      await w.oms.fulfillments.ship({
        actor: staff,
        fulfillmentId: second.id,
        carrier: 'UPS',
        trackingNumber: 'A2',
      })
      expect(await status()).toBe('shipped')
      expect(await moves()).toEqual(
        [
          [w.items.a, wh1, -1],
          [w.items.b, wh1, -1],
          [w.items.a, wh2, -1],
          [w.items.c, wh2, -1],
        ].sort(),
      )
      await w.oms.fulfillments.deliver({ actor: staff, fulfillmentId: second.id })
      expect(await status()).toBe('partially_delivered')
      await w.oms.fulfillments.deliver({ actor: staff, fulfillmentId: first.id })
      expect(await status()).toBe('delivered')
      await expectInvariants(w)
    })

    test('a split order: a box called off after the other shipped leaves it partially shipped until its goods ship; a pickup order is handed over only once every box is packed', async () => {
      const w = await createWorld(storage(), { a: 1 }, { policies: { allocateAcrossLocations: true } })
      // one on the sales floor and one in the back room: an order for two is held in both
      await stockBackroom(w, 'a', 1)
      const status = async (id: string) => (await w.oms.orders.get({ actor: m, orderId: id })).status
      const ship = (fulfillmentId: string) =>
        w.oms.fulfillments.ship({
          actor: staff,
          fulfillmentId,
          carrier: 'UPS',
          trackingNumber: fulfillmentId,
        })
      const split = async (flow: 'delivery' | 'pickup') => {
        const order = await paidOrder(w, { a: 2 }, { flow })
        const fs = await w.oms.fulfillments.create({ actor: staff, orderId: order.id })
        const floor = fs.find((f) => f.locationId === w.locationId)
        const back = fs.find((f) => f.locationId === w.backroomId)
        if (!floor || !back) throw new Error('the order was not split over two locations')
        return { order, floor, back }
      }

      const delivery = await split('delivery')
      await pickAll(w, delivery.floor)
      await packIt(w, delivery.floor.id)
      await ship(delivery.floor.id)
      await w.oms.fulfillments.cancel({
        actor: staff,
        fulfillmentId: delivery.back.id,
        reason: 'box damaged',
      })
      expect(await status(delivery.order.id)).toBe('partially_shipped')
      const [again] = await w.oms.fulfillments.create({ actor: staff, orderId: delivery.order.id })
      if (!again) throw new Error('no fulfillment for the returned goods')
      await pickAll(w, again)
      await packIt(w, again.id)
      await ship(again.id)
      expect(await status(delivery.order.id)).toBe('shipped')

      // the same again, so the pickup order splits the same way
      await stockBackroom(w, 'a', 1)
      await w.oms.inventory.adjust({
        actor: m,
        itemId: w.items.a as string,
        locationId: w.locationId,
        delta: 1,
        reason: 'adjust_correction',
      })
      const pickup = await split('pickup')
      await pickAll(w, pickup.floor)
      await packIt(w, pickup.floor.id)
      const before = await w.oms.reservations.listByOrder({ actor: m, orderId: pickup.order.id })
      const early = await rejectionOf(
        w.oms.fulfillments.handOver({ actor: staff, fulfillmentId: pickup.floor.id }),
      )
      expect(early).toMatchObject({ code: 'INVALID_TRANSITION' })
      expect(JSON.stringify(early)).toContain('ready for pickup')
      expect(await w.oms.reservations.listByOrder({ actor: m, orderId: pickup.order.id })).toEqual(before)
      await pickAll(w, pickup.back)
      await packIt(w, pickup.back.id)
      expect(await status(pickup.order.id)).toBe('ready_for_pickup')
      await w.oms.fulfillments.handOver({ actor: staff, fulfillmentId: pickup.floor.id })
      expect(await status(pickup.order.id)).toBe('ready_for_pickup')
      await w.oms.fulfillments.handOver({ actor: staff, fulfillmentId: pickup.back.id })
      expect(await status(pickup.order.id)).toBe('picked_up')
      await expectInvariants(w)
    })

    test('allocation: a 20-unit order with 10 on the sales floor and 100 in the vault is held in the vault alone', async () => {
      const w = await createWorld(storage(), { flower: 10 }, { policies: { allocateAcrossLocations: true } })
      await stockBackroom(w, 'flower', 100)
      const order = await placeOrder(w, { flower: 20 })
      expect(await holdsOf(w, order)).toEqual([[w.items.flower, w.backroomId, 20]])
      // without the policy (the default) an order is held at the default location or refused
      const plain = await createWorld(storage(), { flower: 10 })
      await stockBackroom(plain, 'flower', 100)
      expect(await codeOf(placeOrder(plain, { flower: 20 }))).toBe('INSUFFICIENT_STOCK')
      // more than every location has together: refused, naming what there is in total
      const error = await rejectionOf(placeOrder(w, { flower: 91 }))
      expect(error).toMatchObject({ code: 'INSUFFICIENT_STOCK' })
      expect(JSON.stringify(error)).toContain('"available":90')
      // a named location is held there or refused, never split
      const named = w.oms.orders.create({
        actor: m,
        channel: 'kiosk',
        flow: 'pickup',
        storeId: w.storeId,
        locationId: w.locationId,
        currency: 'USD',
        lines: [{ itemId: w.items.flower as string, quantity: 11, unitPriceMinor: 100 }],
      })
      expect(await codeOf(named)).toBe('INSUFFICIENT_STOCK')
      await expectInvariants(w)
    })

    test('allocation: a pickup order stays in its store; a delivery order may ship from another store', async () => {
      const w = await createWorld(storage(), { flower: 2 }, { policies: { allocateAcrossLocations: true } })
      const elsewhere = `${w.locationId}-other-store`
      await w.oms.inventory.defineLocation({
        actor: m,
        location: {
          id: elsewhere,
          storeId: `${w.storeId}-other`,
          name: 'Other warehouse',
          kind: 'warehouse',
        },
      })
      await w.oms.inventory.receive({
        actor: m,
        itemId: w.items.flower as string,
        locationId: elsewhere,
        quantity: 50,
      })
      const refused = await rejectionOf(placeOrder(w, { flower: 5 }))
      expect(refused).toMatchObject({ code: 'INSUFFICIENT_STOCK' })
      expect(JSON.stringify(refused)).toContain('"available":2')
      const order = await placeOrder(w, { flower: 5 }, { flow: 'delivery' })
      expect(await holdsOf(w, order)).toEqual([[w.items.flower, elsewhere, 5]])
      await expectInvariants(w)
    })

    test('allocation: expired holds on the sales floor do not push an order elsewhere', async () => {
      const w = await createWorld(storage(), { flower: 5 }, { policies: { allocateAcrossLocations: true } })
      await stockBackroom(w, 'flower', 5)
      await placeOrder(w, { flower: 5 }, { holdSeconds: 60 })
      w.clock.advance(120_000)
      const order = await placeOrder(w, { flower: 5 })
      expect(await holdsOf(w, order)).toEqual([[w.items.flower, w.locationId, 5]])
      await expectInvariants(w)
    })

    test('allocation: a host strategy decides; a plan that does not add up is refused and nothing is held', async () => {
      const everythingInBack = (backroomId: () => string): AllocationStrategy => ({
        allocate: ({ lines }) => lines.map((l) => ({ ...l, locationId: backroomId() })),
      })
      let back = ''
      const w = await createWorld(storage(), { flower: 1 }, { allocation: everythingInBack(() => back) })
      back = w.backroomId
      await stockBackroom(w, 'flower', 5)
      const order = await placeOrder(w, { flower: 2 })
      expect(await holdsOf(w, order)).toEqual([[w.items.flower, w.backroomId, 2]])
      const halves: AllocationStrategy = {
        allocate: ({ lines, preferredLocationId }) =>
          lines.map((l) => ({ ...l, locationId: preferredLocationId, quantity: Math.ceil(l.quantity / 2) })),
      }
      const bad = await createWorld(storage(), { flower: 1 }, { allocation: halves })
      await stockBackroom(bad, 'flower', 5)
      expect(await codeOf(placeOrder(bad, { flower: 4 }))).toBe('VALIDATION')
      const never = await createWorld(storage(), { flower: 1 }, { allocation: { allocate: () => null } })
      expect(await codeOf(placeOrder(never, { flower: 4 }))).toBe('INSUFFICIENT_STOCK')
      expect(await level(bad, 'flower')).toMatchObject({ reserved: 0 })
      await expectInvariants(w)
      await expectInvariants(bad)
    })

    test('a return is checked per line: restocked, damaged or quarantined, never more than was sold', async () => {
      const w = await createWorld(storage(), { flower: 10, vape: 5 })
      const order = await paidOrder(w, { flower: 2, vape: 1 }, { flow: 'delivery' })
      const f = await shippedOne(w, order, 'R1')
      await w.oms.fulfillments.deliver({ actor: staff, fulfillmentId: f.id })
      const send = (type: string, data?: Record<string, unknown>) =>
        w.oms.orders.send({ actor: m, orderId: order.id, type, ...(data ? { data } : {}) })
      for (const type of RETURN_TO_QUALITY_CHECK) await send(type)
      const line = (name: string) => order.lines.find((l) => l.itemId === w.items[name])?.id as string
      const tooMany = await rejectionOf(
        send('refund.approve', { lines: [{ orderLineId: line('vape'), quantity: 2, outcome: 'restock' }] }),
      )
      expect(tooMany).toMatchObject({ code: 'VALIDATION' })
      expect(JSON.stringify(tooMany)).toContain('data.lines.0.quantity')
      await send('refund.approve', {
        lines: [
          { orderLineId: line('flower'), quantity: 1, outcome: 'restock' },
          { orderLineId: line('flower'), quantity: 1, outcome: 'quarantine' },
          { orderLineId: line('vape'), quantity: 1, outcome: 'damaged' },
        ],
      })
      expect(await level(w, 'flower')).toMatchObject({ onHand: 10, quarantine: 1, available: 9 })
      expect(await level(w, 'vape')).toMatchObject({ onHand: 5, damaged: 1, available: 4 })
      expect((await send('refund.process')).status).toBe('refunded')
      await expectInvariants(w)
    })

    test('a picked-up kiosk order can be returned: goods checked and restocked, payment refunded', async () => {
      const w = await createWorld(storage(), { flower: 10 })
      const order = await paidOrder(w, { flower: 2 }, { customerId: 'cust-9' })
      const f = await picked(w, order)
      await packIt(w, f.id)
      await w.oms.fulfillments.handOver({ actor: staff, fulfillmentId: f.id })
      expect((await w.oms.orders.get({ actor: m, orderId: order.id })).status).toBe('picked_up')
      const send = (type: string, actor: CallerActor = m) =>
        w.oms.orders.send({ actor, orderId: order.id, type })
      await send('return.request', actors.customer('cust-9'))
      for (const type of [
        'return.approve',
        'return.ship_back',
        'return.receive',
        'return.inspect',
        'refund.approve',
      ])
        await send(type)
      const refunded = await send('refund.process')
      expect(refunded).toMatchObject({ status: 'refunded', paymentStatus: 'refunded' })
      expect(await level(w, 'flower')).toMatchObject({ onHand: 10, reserved: 0 })
      await expectInvariants(w)
    })

    test(`random fulfillment steps on split and single-location orders sell exactly what shipped (${Math.max(10, Math.round(options.numRuns / 5))} runs)`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(stepArb, { minLength: 12, maxLength: 30 }), async (steps) => {
          const w = await createWorld(
            storage(),
            { flower: 4, vape: 2 },
            { policies: { allocateAcrossLocations: true } },
          )
          await stockBackroom(w, 'flower', 3)
          await stockBackroom(w, 'vape', 3)
          const start = { flower: 7, vape: 5 }
          // a delivery order split over both locations, a pickup order, and a second delivery order
          const orders = [
            await paidOrder(w, { flower: 5, vape: 1 }, { flow: 'delivery' }),
            await paidOrder(w, { vape: 1 }),
            await paidOrder(w, { flower: 1 }, { flow: 'delivery' }),
          ]
          const latest = async (i: number) => {
            const fs = await w.oms.fulfillments.listByOrder({ actor: m, orderId: (orders[i] as Order).id })
            return fs.filter((f) => f.status !== 'cancelled').at(-1) ?? fs.at(-1)
          }
          for (const step of steps) {
            const order = orders[step.order] as Order
            const f = await latest(step.order)
            const fulfillmentId = f?.id ?? 'none-yet'
            const call = async (): Promise<unknown> => {
              const a = { actor: staff, fulfillmentId }
              if (step.kind === 'progress') {
                const missing = f?.lines.find((l) => l.quantityPicked < l.quantity)
                switch (f?.status) {
                  case 'pending':
                  case 'picking':
                    return missing
                      ? w.oms.fulfillments.scan({
                          ...a,
                          code: missing.sku as string,
                          quantity: missing.quantity - missing.quantityPicked,
                        })
                      : w.oms.fulfillments.completePicking(a)
                  case 'packing':
                    return w.oms.fulfillments.pack({ ...a, boxSize: 'S', weightGrams: 10 })
                  case 'ready_to_ship':
                    return order.flow === 'delivery'
                      ? w.oms.fulfillments.ship({ ...a, carrier: 'UPS', trackingNumber: 'T' })
                      : w.oms.fulfillments.handOver(a)
                  case 'shipped':
                    return w.oms.fulfillments.deliver(a)
                  default:
                    return w.oms.fulfillments.create({ actor: staff, orderId: order.id })
                }
              }
              switch (step.kind) {
                case 'create':
                  return w.oms.fulfillments.create({ actor: staff, orderId: order.id })
                case 'cancelOrder':
                  return w.oms.orders.cancel({ actor: m, orderId: order.id })
                case 'cancel':
                  return w.oms.fulfillments.cancel(a)
                case 'pack':
                  return w.oms.fulfillments.pack({ ...a, boxSize: 'S', weightGrams: 10 })
                case 'ship':
                  return w.oms.fulfillments.ship({ ...a, carrier: 'UPS', trackingNumber: 'T' })
                case 'handOver':
                  return w.oms.fulfillments.handOver(a)
                case 'deliver':
                  return w.oms.fulfillments.deliver(a)
                case 'scan':
                  return w.oms.fulfillments.scan({
                    ...a,
                    code: step.item === 'nothing' ? 'NOTHING' : skuOf(w, step.item),
                    quantity: step.quantity,
                  })
                case 'complete':
                  return w.oms.fulfillments.completePicking({ ...a, shortPick: step.short })
              }
            }
            const code =
              f || step.kind === 'create' || step.kind === 'cancelOrder' ? await codeOf(call()) : 'OK'
            if (code !== 'OK') expect(REFUSALS, `${JSON.stringify(step)} → ${code}`).toContain(code)
          }
          // every unit sold is a unit some fulfillment shipped or handed over, and nothing else
          const sold: Record<string, number> = { flower: 0, vape: 0 }
          for (const [i, order] of orders.entries()) {
            const fs = await w.oms.fulfillments.listByOrder({ actor: m, orderId: order.id })
            for (const f of fs) {
              for (const l of f.lines) {
                expect(l.quantityFulfilled).toBeLessThanOrEqual(l.quantityPicked)
                expect(l.quantityPicked).toBeLessThanOrEqual(l.quantity)
                const name = l.itemId === w.items.flower ? 'flower' : 'vape'
                sold[name] = (sold[name] as number) + l.quantityFulfilled
                const gone = ['shipped', 'partially_fulfilled', 'fulfilled'].includes(f.status)
                expect(l.quantityFulfilled, `${f.status} fulfillment of order ${i}`).toBe(
                  gone ? l.quantityPicked : 0,
                )
              }
            }
            const now = await w.oms.orders.get({ actor: m, orderId: order.id })
            if (fs.some((f) => f.lines.some((l) => l.quantityFulfilled > 0)))
              expect(now.status).not.toBe('cancelled')
          }
          for (const name of ['flower', 'vape'] as const) {
            const levels = await w.oms.inventory.levels({ actor: m, itemId: w.items[name] as string })
            expect(
              levels.reduce((s, l) => s + l.onHand, 0),
              name,
            ).toBe(start[name] - (sold[name] as number))
          }
          await expectInvariants(w)
        }),
        { numRuns: Math.max(10, Math.round(options.numRuns / 5)) },
      )
    }, 600_000)

    for (const [first, second] of [
      ['ship', 'cancel'],
      ['cancel', 'ship'],
    ] as const) {
      test(`forced interleaving: ${first} stopped inside its transaction while ${second} runs`, async () => {
        const w = await createWorld(storage(), { flower: 10 })
        const order = await paidOrder(w, { flower: 3 }, { flow: 'delivery' })
        const f = await picked(w, order)
        await packIt(w, f.id)
        const run = {
          ship: (oms: World['oms']) =>
            codeOf(
              oms.fulfillments.ship({
                actor: staff,
                fulfillmentId: f.id,
                carrier: 'UPS',
                trackingNumber: 'T',
              }),
            ),
          cancel: (oms: World['oms']) =>
            codeOf(oms.fulfillments.cancel({ actor: staff, fulfillmentId: f.id })),
        }
        const [a, b] = await raceOnOrderClaim(w, target, run[first], run[second])
        // the first one wins; the second sees what it committed and is refused, never half-applied
        expect([a, b]).toEqual(['OK', 'INVALID_TRANSITION'])
        const after = await w.oms.fulfillments.get({ actor: m, fulfillmentId: f.id })
        expect(after.status).toBe(first === 'ship' ? 'shipped' : 'cancelled')
        expect(await saleMovements(w, order)).toEqual(first === 'ship' ? [[w.items.flower, -3]] : [])
        expect(await level(w, 'flower')).toMatchObject(
          first === 'ship' ? { onHand: 7, reserved: 0 } : { onHand: 10, reserved: 3 },
        )
        expect(await checkInvariants(w.storage, w.oms.machines.orderMachines, w.clock.now())).toEqual([])
      })
    }

    for (const [first, second] of [
      ['handOver', 'pack'],
      ['pack', 'handOver'],
    ] as const) {
      test(`forced interleaving, split pickup order: ${first} of one box stopped inside its transaction while ${second} of the other runs`, async () => {
        const w = await createWorld(storage(), { a: 1 }, { policies: { allocateAcrossLocations: true } })
        await stockBackroom(w, 'a', 1)
        const order = await paidOrder(w, { a: 2 }, { flow: 'pickup' })
        const fs = await w.oms.fulfillments.create({ actor: staff, orderId: order.id })
        const floor = fs.find((f) => f.locationId === w.locationId)
        const back = fs.find((f) => f.locationId === w.backroomId)
        if (!floor || !back) throw new Error('the order was not split over two locations')
        await pickAll(w, floor)
        await pickAll(w, back)
        await packIt(w, floor.id)
        const run = {
          handOver: (oms: World['oms']) =>
            codeOf(oms.fulfillments.handOver({ actor: staff, fulfillmentId: floor.id })),
          pack: (oms: World['oms']) =>
            codeOf(
              oms.fulfillments.pack({ actor: staff, fulfillmentId: back.id, boxSize: 'S', weightGrams: 5 }),
            ),
        }
        const [a, b] = await raceOnOrderClaim(w, target, run[first], run[second])
        // as if one ran after the other: a hand-over before the last box is packed is refused
        expect([a, b]).toEqual(first === 'handOver' ? ['INVALID_TRANSITION', 'OK'] : ['OK', 'OK'])
        const now = await w.oms.orders.get({ actor: m, orderId: order.id })
        expect(now.status).toBe('ready_for_pickup')
        const handed = (await w.oms.fulfillments.get({ actor: m, fulfillmentId: floor.id })).status
        expect(handed).toBe(first === 'handOver' ? 'ready_to_ship' : 'fulfilled')
        expect(await saleMovements(w, order)).toEqual(first === 'handOver' ? [] : [[w.items.a, -1]])
        expect(await checkInvariants(w.storage, w.oms.machines.orderMachines, w.clock.now())).toEqual([])
      })
    }
  })
