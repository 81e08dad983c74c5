import { describe, expect, test } from 'vitest'
import type { Order, Reservation } from '../../domain/schemas'
import { uid } from '../fixtures'
import type { Suite } from './suite'
import { useStorage } from './use-storage'

const now = new Date('2026-11-22T12:00:00.000Z')

const hold = (over: Partial<Reservation>): Reservation => ({
  id: uid('hold'),
  itemId: 'i',
  locationId: 'l',
  orderId: 'o',
  orderLineId: 'ol',
  quantityReserved: 1,
  quantityFulfilled: 0,
  quantityReleased: 0,
  status: 'active',
  expiresAt: new Date(now.getTime() + 60_000),
  reservedAt: now,
  releasedAt: null,
  fulfilledAt: null,
  notes: null,
  createdAt: now,
  updatedAt: now,
  ...over,
})

/** The atomic primitives of the storage port, called directly. */
export const primitivesSuite: Suite = (target, options) =>
  describe('storage primitives', () => {
    const storage = useStorage(target)

    test('a throw inside a transaction rolls every write back', async () => {
      const item = uid('item')
      await expect(
        storage().transaction(async (tx) => {
          await tx.inventory.applyDeltas(item, 'loc', { onHand: 5 }, { now })
          await tx.sequences.next(item)
          throw new Error('boom')
        }),
      ).rejects.toThrow('boom')
      const level = await storage().transaction((tx) => tx.inventory.getLevel(item, 'loc'))
      expect(level).toBeNull()
      expect(await storage().transaction((tx) => tx.sequences.next(item))).toBe(1)
    })

    test('applyDeltas refuses a write that would take a figure below zero, and creates missing rows', async () => {
      const item = uid('item')
      const s = storage()
      expect(
        await s.transaction((tx) => tx.inventory.applyDeltas(item, 'loc', { onHand: -1 }, { now })),
      ).toBeNull()
      const level = await s.transaction((tx) => tx.inventory.applyDeltas(item, 'loc', { onHand: 3 }, { now }))
      expect(level).toMatchObject({ itemId: item, locationId: 'loc', onHand: 3, reserved: 0 })
      expect(
        await s.transaction((tx) => tx.inventory.applyDeltas(item, 'loc', { reserved: -1 }, { now })),
      ).toBeNull()
    })

    test('the conditional reserve holds only what is available, one write each', async () => {
      const item = uid('item')
      const s = storage()
      await s.transaction((tx) => tx.inventory.applyDeltas(item, 'loc', { onHand: 5, damaged: 1 }, { now }))
      const ok = await s.transaction((tx) =>
        tx.inventory.applyDeltas(item, 'loc', { reserved: 4 }, { requireAvailable: 4, now }),
      )
      expect(ok?.reserved).toBe(4)
      const no = await s.transaction((tx) =>
        tx.inventory.applyDeltas(item, 'loc', { reserved: 1 }, { requireAvailable: 1, now }),
      )
      expect(no).toBeNull()
    })

    test(`concurrent reserves never hold more than the stock (${options.concurrency} callers)`, async () => {
      const item = uid('item')
      const s = storage()
      await s.transaction((tx) => tx.inventory.applyDeltas(item, 'loc', { onHand: 10 }, { now }))
      const results = await Promise.all(
        Array.from({ length: options.concurrency * 2 }, () =>
          s.transaction((tx) =>
            tx.inventory.applyDeltas(item, 'loc', { reserved: 1 }, { requireAvailable: 1, now }),
          ),
        ),
      )
      expect(results.filter(Boolean)).toHaveLength(Math.min(10, options.concurrency * 2))
      expect((await s.transaction((tx) => tx.inventory.getLevel(item, 'loc')))?.reserved).toBe(
        Math.min(10, options.concurrency * 2),
      )
    })

    test('set-quantity compare-and-swap writes only on the expected on-hand', async () => {
      const item = uid('item')
      const s = storage()
      await s.transaction((tx) => tx.inventory.applyDeltas(item, 'loc', { onHand: 5 }, { now }))
      expect(
        await s.transaction((tx) =>
          tx.inventory.applyDeltas(item, 'loc', { onHand: 2 }, { expectOnHand: 4, now }),
        ),
      ).toBeNull()
      expect(
        (
          await s.transaction((tx) =>
            tx.inventory.applyDeltas(item, 'loc', { onHand: 2 }, { expectOnHand: 5, now }),
          )
        )?.onHand,
      ).toBe(7)
    })

    test('sequences are unique and gap-free under concurrency', async () => {
      const name = uid('seq')
      const s = storage()
      const values = await Promise.all(
        Array.from({ length: 40 }, () => s.transaction((tx) => tx.sequences.next(name))),
      )
      expect([...values].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
    })

    test('a hold changes only if it is still as the caller read it', async () => {
      const h = hold({})
      const s = storage()
      await s.transaction((tx) => tx.reservations.insertMany([h]))
      const first = await s.transaction((tx) =>
        tx.reservations.update([
          { id: h.id, expected: h, patch: { quantityReleased: 1, status: 'released' } },
        ]),
      )
      expect(first).toHaveLength(1)
      const second = await s.transaction((tx) =>
        tx.reservations.update([
          { id: h.id, expected: h, patch: { quantityReleased: 1, status: 'released' } },
        ]),
      )
      expect(second).toHaveLength(0)
    })

    test('expireDue hands each due hold to one caller only, and only due ones', async () => {
      const orderId = uid('order')
      const due = Array.from({ length: 6 }, () => hold({ orderId, expiresAt: new Date(now.getTime() - 1) }))
      const later = hold({ orderId })
      const never = hold({ orderId, expiresAt: null })
      const s = storage()
      await s.transaction((tx) => tx.reservations.insertMany([...due, later, never]))
      const batches = await Promise.all(
        Array.from({ length: 4 }, () => s.transaction((tx) => tx.reservations.expireDue(now, 2))),
      )
      const got = batches.flat().map((r) => r.id)
      expect(new Set(got).size).toBe(got.length)
      const after = await s.transaction((tx) => tx.reservations.listByOrder(orderId))
      const expired = after.filter((r) => r.status === 'expired')
      expect(expired.map((r) => r.id).sort()).toEqual(due.map((r) => r.id).sort())
      for (const r of expired) expect(r.quantityReleased).toBe(r.quantityReserved)
      expect(
        after
          .filter((r) => r.status === 'active')
          .map((r) => r.id)
          .sort(),
      ).toEqual([later.id, never.id].sort())
    })

    test('an order update is a compare-and-swap on its version', async () => {
      const s = storage()
      const order: Order = {
        id: uid('order'),
        number: `ORD-20261122-${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`,
        channel: 'kiosk',
        flow: 'pickup',
        storeId: 's',
        locationId: 'l',
        customerId: null,
        lines: [
          {
            id: 'l1',
            itemId: 'i',
            sku: null,
            name: null,
            quantity: 1,
            unitPriceMinor: 100,
            discountMinor: 0,
            taxMinor: 0,
            totalMinor: 100,
          },
        ],
        totals: {
          subtotalMinor: 100,
          discountMinor: 0,
          taxMinor: 0,
          shippingMinor: 0,
          totalMinor: 100,
          currency: 'USD',
        },
        paymentStatus: 'unpaid',
        status: 'payment_pending',
        cancellationReason: null,
        packedQuantity: 0,
        assigneeId: null,
        posSyncState: null,
        version: 1,
        externalIds: {},
        attributes: {},
        idempotencyKey: null,
        createdAt: now,
        updatedAt: now,
      }
      await s.transaction((tx) => tx.orders.insert(order))
      expect(
        await s.transaction((tx) => tx.orders.update({ ...order, status: 'confirmed', version: 2 }, 1)),
      ).toBe(true)
      expect(
        await s.transaction((tx) => tx.orders.update({ ...order, status: 'cancelled', version: 2 }, 1)),
      ).toBe(false)
      expect((await s.transaction((tx) => tx.orders.get(order.id)))?.status).toBe('confirmed')
      expect((await s.transaction((tx) => tx.orders.getByNumber(order.number)))?.id).toBe(order.id)
    })

    test('outbox claims lease events, one per aggregate at a time, in order', async () => {
      const s = storage()
      const a = uid('agg')
      const b = uid('agg')
      const ev = (aggregateId: string, type: string) => ({
        id: uid('ev'),
        type,
        aggregateId,
        payload: { type },
        createdAt: now,
      })
      await s.transaction((tx) => tx.outbox.append([ev(a, 'a1'), ev(b, 'b1'), ev(a, 'a2')]))
      const mine = <E extends { aggregateId: string }>(events: E[]) =>
        events.filter((e) => e.aggregateId === a || e.aggregateId === b)
      const first = mine(
        await s.transaction((tx) => tx.outbox.claim({ owner: 'r1', limit: 100, leaseMs: 1000, now })),
      )
      expect(first.map((e) => e.type).sort()).toEqual(['a1', 'b1'])
      // while leased, nobody else gets them, and a2 waits for a1
      expect(
        mine(await s.transaction((tx) => tx.outbox.claim({ owner: 'r2', limit: 100, leaseMs: 1000, now }))),
      ).toEqual([])
      const a1 = first.find((e) => e.type === 'a1')
      if (!a1) throw new Error('a1 not claimed')
      await s.transaction((tx) => tx.outbox.markDelivered([a1.seq], 'r2', now)) // not the owner: ignored
      expect(
        mine(await s.transaction((tx) => tx.outbox.claim({ owner: 'r2', limit: 100, leaseMs: 1000, now }))),
      ).toEqual([])
      await s.transaction((tx) => tx.outbox.markDelivered([a1.seq], 'r1', now))
      const next = mine(
        await s.transaction((tx) => tx.outbox.claim({ owner: 'r2', limit: 100, leaseMs: 1000, now })),
      )
      expect(next.map((e) => e.type)).toEqual(['a2'])
      // a lease that ran out can be claimed again (a crashed relay)
      const later = new Date(now.getTime() + 5000)
      const again = mine(
        await s.transaction((tx) => tx.outbox.claim({ owner: 'r3', limit: 100, leaseMs: 1000, now: later })),
      )
      expect(again.map((e) => e.type).sort()).toEqual(['a2', 'b1'])
    })

    test('idempotency claims are exclusive and keep the result', async () => {
      const s = storage()
      const key = uid('key')
      expect(await s.transaction((tx) => tx.idempotency.claim('scope', key, 'h1', now))).toBeNull()
      await s.transaction((tx) => tx.idempotency.complete('scope', key, '{"ok":1}'))
      const existing = await s.transaction((tx) => tx.idempotency.claim('scope', key, 'h2', now))
      expect(existing).toMatchObject({ requestHash: 'h1', result: '{"ok":1}' })
      expect(await s.transaction((tx) => tx.idempotency.claim('other-scope', key, 'h1', now))).toBeNull()
    })
  })
