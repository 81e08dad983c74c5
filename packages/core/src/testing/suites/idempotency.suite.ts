import { describe, expect, test } from 'vitest'
import { actors, createWorld, placeOrder } from '../fixtures'
import { snapshotStorage } from '../invariants'
import type { Suite } from './suite'
import { expectInvariants, rejectionOf, useStorage } from './use-storage'

export const idempotencySuite: Suite = (target, options) =>
  describe('idempotency and rejected commands', () => {
    const storage = useStorage(target)

    test('the same key and payload returns the first result and writes nothing new (I5)', async () => {
      const w = await createWorld(storage(), { flower: 5 })
      const first = await placeOrder(w, { flower: 2 }, { idempotencyKey: 'kiosk-7:cart-42' })
      const before = await snapshotStorage(w.storage)
      w.clock.advance(1000)
      const again = await placeOrder(w, { flower: 2 }, { idempotencyKey: 'kiosk-7:cart-42' })
      expect(again).toEqual(first)
      expect(await snapshotStorage(w.storage)).toBe(before)
    })

    test('concurrent retries with one key create one order', async () => {
      const w = await createWorld(storage(), { flower: 50 })
      const results = await Promise.allSettled(
        Array.from({ length: options.concurrency }, () =>
          placeOrder(w, { flower: 1 }, { idempotencyKey: 'same-key' }),
        ),
      )
      const ok = results.filter(
        (r): r is PromiseFulfilledResult<Awaited<ReturnType<typeof placeOrder>>> => r.status === 'fulfilled',
      )
      expect(new Set(ok.map((r) => r.value.id)).size).toBe(1)
      for (const r of results) if (r.status === 'rejected') expect(r.reason.code).toBe('CONFLICT')
      expect(await w.oms.orders.list({ actor: actors.manager, storeIds: [w.storeId] })).toHaveLength(1)
      await expectInvariants(w)
    })

    test('the same key with a different payload is IDEMPOTENCY_MISMATCH and writes nothing', async () => {
      const w = await createWorld(storage(), { flower: 5 })
      await placeOrder(w, { flower: 2 }, { idempotencyKey: 'k1' })
      const before = await snapshotStorage(w.storage)
      expect((await rejectionOf(placeOrder(w, { flower: 3 }, { idempotencyKey: 'k1' }))).code).toBe(
        'IDEMPOTENCY_MISMATCH',
      )
      expect(await snapshotStorage(w.storage)).toBe(before)
    })

    test('re-sending the event that produced the current state with its key is a no-op', async () => {
      const w = await createWorld(storage(), { flower: 5 })
      const order = await placeOrder(w, { flower: 1 })
      const cmd = { actor: actors.payments, orderId: order.id, idempotencyKey: 'psp-evt-123' }
      const paid = await w.oms.orders.confirmPayment(cmd)
      const before = await snapshotStorage(w.storage)
      expect(await w.oms.orders.confirmPayment(cmd)).toEqual(paid)
      expect(await snapshotStorage(w.storage)).toBe(before)
      // without the key, the second payment event is an illegal transition
      expect(
        (await rejectionOf(w.oms.orders.confirmPayment({ actor: actors.payments, orderId: order.id }))).code,
      ).toBe('INVALID_TRANSITION')
    })

    test('a rejected command writes nothing, its key included, so a retry with the key can succeed later (I6)', async () => {
      const w = await createWorld(storage(), { flower: 1 })
      const before = await snapshotStorage(w.storage)
      expect((await rejectionOf(placeOrder(w, { flower: 2 }, { idempotencyKey: 'retry-me' }))).code).toBe(
        'INSUFFICIENT_STOCK',
      )
      expect(await snapshotStorage(w.storage)).toBe(before)
      await w.oms.inventory.receive({
        actor: actors.manager,
        itemId: w.items.flower as string,
        locationId: w.locationId,
        quantity: 1,
      })
      expect((await placeOrder(w, { flower: 2 }, { idempotencyKey: 'retry-me' })).status).toBe(
        'payment_pending',
      )
    })

    test('every kind of rejected command writes nothing (I6)', async () => {
      const w = await createWorld(storage(), { flower: 3 })
      const order = await placeOrder(w, { flower: 1 }, { idempotencyKey: 'used' })
      const before = await snapshotStorage(w.storage)
      const item = w.items.flower as string
      const cases: Array<[string, () => Promise<unknown>]> = [
        ['VALIDATION', () => placeOrder(w, { flower: -1 })],
        ['VALIDATION', () => w.oms.notes.add({ actor: actors.manager, orderId: order.id, text: '' })],
        [
          'VALIDATION',
          () =>
            w.oms.inventory.adjust({
              actor: actors.manager,
              itemId: item,
              locationId: w.locationId,
              delta: 1.5,
              reason: 'receive',
            }),
        ],
        ['FORBIDDEN', () => w.oms.orders.cancel({ actor: actors.customer('nobody'), orderId: order.id })],
        [
          'INVALID_TRANSITION',
          () => w.oms.orders.send({ actor: actors.manager, orderId: order.id, type: 'order.ship' }),
        ],
        ['INSUFFICIENT_STOCK', () => placeOrder(w, { flower: 3 })],
        [
          'INSUFFICIENT_STOCK',
          () =>
            w.oms.inventory.adjust({
              actor: actors.manager,
              itemId: item,
              locationId: w.locationId,
              delta: -4,
              reason: 'adjust_theft',
            }),
        ],
        ['IDEMPOTENCY_MISMATCH', () => placeOrder(w, { flower: 2 }, { idempotencyKey: 'used' })],
        [
          'CONFLICT',
          () =>
            w.oms.inventory.set({
              actor: actors.manager,
              itemId: item,
              locationId: w.locationId,
              expected: 0,
              quantity: 5,
            }),
        ],
        ['NOT_FOUND', () => w.oms.orders.cancel({ actor: actors.manager, orderId: 'missing' })],
      ]
      for (const [code, attempt] of cases) expect((await rejectionOf(attempt())).code).toBe(code)
      expect(await snapshotStorage(w.storage)).toBe(before)
      await expectInvariants(w)
    })
  })
