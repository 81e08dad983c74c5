import { describe, expect, test } from 'vitest'
import { reconcile } from '../../inventory/inventory-service'
import { actors, createWorld, placeOrder } from '../fixtures'
import type { Suite } from './suite'
import { expectInvariants, rejectionOf, useStorage } from './use-storage'

export const inventorySuite: Suite = (target) =>
  describe('inventory ledger', () => {
    const storage = useStorage(target)

    test('receive, adjust and set each write a movement, and levels equal the ledger', async () => {
      const w = await createWorld(storage(), { flower: 0 })
      const item = w.items.flower as string
      const at = { actor: actors.manager, itemId: item, locationId: w.locationId }
      await w.oms.inventory.receive({ ...at, quantity: 20, packageId: '1A4060300003D5A000012345' })
      await w.oms.inventory.adjust({ ...at, delta: -3, reason: 'adjust_damage', note: 'dropped jar' })
      await w.oms.inventory.adjust({ ...at, delta: 2, reason: 'quarantine' })
      const set = await w.oms.inventory.set({ ...at, expected: 17, quantity: 15 })
      expect(set).toMatchObject({ onHand: 15, quarantine: 2, available: 13 })
      const moves = await w.oms.inventory.movements({ actor: actors.manager, itemId: item })
      expect(moves.map((m) => [m.reason, m.bucket, m.delta])).toEqual([
        ['receive', 'on_hand', 20],
        ['adjust_damage', 'on_hand', -3],
        ['quarantine', 'quarantine', 2],
        ['count_correction', 'on_hand', -2],
      ])
      expect(moves[0]?.packageId).toBe('1A4060300003D5A000012345')
      const history = await w.oms.history.list({ actor: actors.manager, action: 'inventory_adjusted' })
      expect(history.filter((h) => JSON.stringify(h.additionalData).includes(item))).toHaveLength(2)
      await expectInvariants(w)
    })

    test('set-quantity with a stale expected value is CONFLICT with the current value, writing nothing', async () => {
      const w = await createWorld(storage(), { flower: 5 })
      const error = await rejectionOf(
        w.oms.inventory.set({
          actor: actors.manager,
          itemId: w.items.flower as string,
          locationId: w.locationId,
          expected: 4,
          quantity: 9,
        }),
      )
      expect(error.code).toBe('CONFLICT')
      expect(error.details).toMatchObject({ expected: 4, actual: 5 })
      expect(
        (
          await w.oms.inventory.level({
            actor: actors.manager,
            itemId: w.items.flower as string,
            locationId: w.locationId,
          })
        ).onHand,
      ).toBe(5)
    })

    test('on-hand never goes below zero', async () => {
      const w = await createWorld(storage(), { flower: 2 })
      const error = await rejectionOf(
        w.oms.inventory.adjust({
          actor: actors.manager,
          itemId: w.items.flower as string,
          locationId: w.locationId,
          delta: -3,
          reason: 'adjust_theft',
        }),
      )
      expect(error.code).toBe('INSUFFICIENT_STOCK')
    })

    test('a count below what is reserved is a recorded shortage, and blocks new holds until resolved', async () => {
      const w = await createWorld(storage(), { flower: 5 })
      await placeOrder(w, { flower: 4 })
      const at = { actor: actors.manager, itemId: w.items.flower as string, locationId: w.locationId }
      const short = await w.oms.inventory.adjust({ ...at, delta: -3, reason: 'adjust_correction' })
      expect(short).toMatchObject({ onHand: 2, reserved: 4, available: 0, shortage: 2 })
      const events = await w.storage.transaction((tx) =>
        tx.outbox.list({ aggregateId: `inventory:${at.itemId}@${at.locationId}` }),
      )
      expect(events.map((e) => e.type)).toContain('inventory.shortage')
      expect((await rejectionOf(placeOrder(w, { flower: 1 }))).code).toBe('INSUFFICIENT_STOCK')
      await w.oms.inventory.receive({ ...at, quantity: 3 })
      await placeOrder(w, { flower: 1 })
      await expectInvariants(w)
    })

    test('safety stock is kept out of available', async () => {
      const w = await createWorld(storage(), { flower: 5 })
      const level = await w.oms.inventory.setSafetyStock({
        actor: actors.manager,
        itemId: w.items.flower as string,
        locationId: w.locationId,
        safetyStock: 2,
      })
      expect(level.available).toBe(3)
      expect((await rejectionOf(placeOrder(w, { flower: 4 }))).code).toBe('INSUFFICIENT_STOCK')
    })

    test('availability across locations clamps each location at zero before summing', async () => {
      const w = await createWorld(storage(), { flower: 5 })
      const at = { actor: actors.manager, itemId: w.items.flower as string }
      await w.oms.inventory.receive({ ...at, locationId: w.backroomId, quantity: 2 })
      await placeOrder(w, { flower: 5 })
      await w.oms.inventory.adjust({
        ...at,
        locationId: w.locationId,
        delta: -3,
        reason: 'adjust_correction',
      })
      expect(await w.oms.inventory.availableAcross(at)).toBe(2)
    })

    test('reconcileProjections reports drift in a tampered level and repairs it', async () => {
      const w = await createWorld(storage(), { flower: 5 })
      await placeOrder(w, { flower: 2 })
      const item = w.items.flower as string
      await w.storage.transaction(async (tx) => {
        const level = await tx.inventory.getLevel(item, w.locationId)
        if (!level) throw new Error('no level')
        await tx.inventory.overwriteLevel({ ...level, onHand: 99, reserved: 0 })
      })
      const report = await w.oms.inventory.reconcileProjections({ actor: actors.manager })
      const mine = report.drifts.filter((d) => d.itemId === item)
      expect(mine).toEqual(
        expect.arrayContaining([
          { itemId: item, locationId: w.locationId, field: 'onHand', stored: 99, expected: 5 },
          { itemId: item, locationId: w.locationId, field: 'reserved', stored: 0, expected: 2 },
        ]),
      )
      const repaired = await w.oms.inventory.reconcileProjections({ actor: actors.manager, repair: true })
      expect(repaired.repaired).toBe(true)
      const after = await w.storage.transaction((tx) => reconcile(tx, false, w.clock.now()))
      expect(after.drifts).toEqual([])
      await expectInvariants(w)
    })
  })
