import { describe, expect, test } from 'vitest'
import type { Order, Reservation } from '../../domain/schemas'
import type { StorageTx } from '../../ports/storage'
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

/** An order of `store` found by words containing `token` (number, customer, sku, item name). */
const anOrder = (store: string, token: string, k: number, over: Partial<Order> = {}): Order => ({
  id: uid('order'),
  number: `ORD-${token}-${k}`,
  channel: 'kiosk',
  flow: 'pickup',
  storeId: store,
  locationId: 'l',
  customerId: `cust-${token}-${k}`,
  lines: [
    {
      id: 'l1',
      itemId: 'i',
      sku: `SKU-${token}-${k}`,
      name: `Old${token} Flower`,
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
  createdAt: new Date(now.getTime() + k),
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
      const order = anOrder('s', String(Math.floor(Math.random() * 1e8)), 0, {
        customerId: null,
        createdAt: now,
      })
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

    test('updateMany writes every field an order write changes and keeps the search terms in step, as update does', async () => {
      const s = storage()
      const store = uid('store')
      const token = uid('t')
        .toLowerCase()
        .replaceAll(/[^a-z0-9]/g, '')
      const order = (k: number, over: Partial<Order> = {}) => anOrder(store, token, k, over)
      const [a, b, c, d] = [order(1), order(2), order(3), order(4)] as [Order, Order, Order, Order]
      await s.transaction(async (tx) => {
        for (const o of [a, b, c, d]) await tx.orders.insert(o)
      })
      const find = (text: string) =>
        s.transaction(async (tx) =>
          (
            await tx.orders.search(
              { storeIds: [store], words: text.toLowerCase().split(' ') },
              { sort: { field: 'created', direction: 'desc' }, limit: 10 },
            )
          ).map((o) => o.number),
        )
      // a: new lines, customer, external id, assignee, sync state; b: status only; c: a stale version
      const line = a.lines[0] as Order['lines'][number]
      const a2: Order = {
        ...a,
        customerId: `newcust-${token}`,
        lines: [{ ...line, sku: `NEWSKU-${token}`, name: `New${token} Vape`, quantity: 2, totalMinor: 200 }],
        totals: { ...a.totals, subtotalMinor: 200, totalMinor: 200 },
        externalIds: { treez: `TZ-${token}` },
        assigneeId: 'staff-1',
        posSyncState: 'synced',
        status: 'confirmed',
        paymentStatus: 'paid',
        version: 2,
      }
      const b2: Order = { ...b, status: 'confirmed', paymentStatus: 'paid', version: 2 }
      const c2: Order = { ...c, externalIds: { treez: `TZC-${token}` }, version: 2 }
      const written = await s.transaction((tx) =>
        tx.orders.updateMany([
          { order: a2, expectedVersion: 1 },
          { order: b2, expectedVersion: 1 },
          { order: c2, expectedVersion: 7 },
        ]),
      )
      expect(written).toBe(2)
      expect(await s.transaction((tx) => tx.orders.get(a.id))).toEqual(a2)
      expect(await s.transaction((tx) => tx.orders.get(b.id))).toEqual(b2)
      expect(await s.transaction((tx) => tx.orders.get(c.id))).toEqual(c)
      expect(await find(`TZ-${token}`)).toEqual([a.number])
      expect(await find(`NEWSKU-${token}`)).toEqual([a.number])
      expect(await find(`newcust-${token}`)).toEqual([a.number])
      expect(await find(`New${token} vape`)).toEqual([a.number])
      expect(await find(`SKU-${token}-1`)).toEqual([])
      expect(await find(`cust-${token}-1`)).toEqual([])
      // b's terms are untouched, c (not written) keeps its old terms and gains none
      expect(await find(`SKU-${token}-2`)).toEqual([b.number])
      expect(await find(`TZC-${token}`)).toEqual([])
      expect(await find(`Old${token}`)).toEqual([d.number, c.number, b.number])
      // update: the same for one order
      const d2: Order = { ...d, externalIds: { dutchie: `DU-${token}` }, customerId: null, version: 2 }
      expect(await s.transaction((tx) => tx.orders.update(d2, 1))).toBe(true)
      expect(await find(`DU-${token}`)).toEqual([d.number])
      expect(await find(`cust-${token}-4`)).toEqual([])
      expect(await find(`Old${token} flower`)).toEqual([d.number, c.number, b.number])
    })

    test('text pages newest first and several statuses newest first are the same as sorting every match, over orders months apart', async () => {
      const s = storage()
      const store = uid('store')
      const token = uid('w')
        .toLowerCase()
        .replaceAll(/[^a-z0-9]/g, '')
      const DAY = 86_400_000
      // 60 orders over 200 days (bursts today, days ago, weeks ago, months ago), some sharing a time
      const ages = [0, 0, 0.2, 0.5, 2, 2, 3, 6, 9, 12, 20, 30, 33, 45, 90, 120, 200]
      const statuses = ['confirmed', 'processing', 'ready_for_pickup', 'cancelled'] as const
      const all = Array.from({ length: 60 }, (_, k) =>
        anOrder(store, token, k, {
          createdAt: new Date(now.getTime() - (ages[k % ages.length] as number) * DAY - (k % 3) * 1000),
          status: statuses[k % 4] as Order['status'],
          lines: [
            {
              id: 'l1',
              itemId: 'i',
              sku: `SKU-${token}-${k}`,
              name: `${token} ${k % 2 ? 'Vape' : 'Flower'} ${k % 3 ? 'Cart' : 'Jar'}`,
              quantity: 1,
              unitPriceMinor: 100,
              discountMinor: 0,
              taxMinor: 0,
              totalMinor: 100,
            },
          ],
        }),
      )
      await s.transaction(async (tx) => {
        for (const o of all) await tx.orders.insert(o)
      })
      const newestFirst = (a: Order, b: Order) =>
        b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)
      const pages = async (filter: Parameters<StorageTx['orders']['search']>[0], limit: number) => {
        const seen: string[] = []
        let after: { value: number; id: string } | undefined
        for (;;) {
          const page = await s.transaction((tx) =>
            tx.orders.search(filter, {
              sort: { field: 'created', direction: 'desc' },
              limit,
              ...(after ? { after } : {}),
            }),
          )
          seen.push(...page.map((o) => o.id))
          const last = page[page.length - 1]
          if (page.length < limit || !last) return seen
          after = { value: last.createdAt.getTime(), id: last.id }
        }
      }
      const vapeCart = all.filter((_, k) => k % 2 === 1 && k % 3 !== 0).sort(newestFirst)
      for (const limit of [1, 4, 7, 100])
        expect(await pages({ storeIds: [store], words: [token, 'vap', 'car'] }, limit)).toEqual(
          vapeCart.map((o) => o.id),
        )
      // a creation range bounds the windows
      const to = new Date(now.getTime() - 10 * DAY)
      expect(await pages({ storeIds: [store], words: [token, 'flow'], createdTo: to }, 3)).toEqual(
        all
          .filter((o, k) => k % 2 === 0 && o.createdAt < to)
          .sort(newestFirst)
          .map((o) => o.id),
      )
      // several statuses: pages merged from one range per status
      expect(
        await pages({ storeIds: [store], statuses: ['processing', 'cancelled', 'confirmed'] }, 5),
      ).toEqual(
        all
          .filter((o) => o.status !== 'ready_for_pickup')
          .sort(newestFirst)
          .map((o) => o.id),
      )
      expect(
        await s.transaction((tx) => tx.orders.count({ storeIds: [store], words: [token, 'vap', 'car'] })),
      ).toBe(vapeCart.length)
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
