import { describe, expect, test } from 'vitest'
import type { Oms } from '../../create-oms'
import { bulkResultCsv, parseBulkCsv } from '../../inventory/bulk-csv'
import type { BulkProgress } from '../../inventory/bulk-update'
import { actors, createWorld, placeOrder, uid, type World } from '../fixtures'
import { snapshotStorage } from '../invariants'
import type { PausePoint } from '../pausable-storage'
import { race } from './interleavings.suite'
import type { Suite } from './suite'
import { codeOf, expectInvariants, rejectionOf, useStorage } from './use-storage'

const m = actors.manager

/** A second store with a floor of its own, for transfers between stores. */
async function otherStore(w: World): Promise<{ storeId: string; locationId: string }> {
  const storeId = uid('store2')
  const locationId = uid('floor2')
  await w.oms.inventory.defineLocation({
    actor: m,
    location: { id: locationId, storeId, name: 'Other floor', kind: 'sales_floor' },
  })
  return { storeId, locationId }
}

const level = (w: World, item: string, locationId: string) =>
  w.oms.inventory.level({ actor: m, itemId: w.items[item] ?? item, locationId })

/** Places an order and takes it to picked up: its holds are sold. */
async function sell(w: World, lines: Record<string, number>): Promise<void> {
  const order = await placeOrder(w, lines)
  await w.oms.orders.confirmPayment({ actor: actors.payments, orderId: order.id })
  for (const type of ['order.start_processing', 'order.ready', 'order.pick_up'])
    await w.oms.orders.send({ actor: m, orderId: order.id, type })
}

const eventsOf = (w: World, aggregateId: string) =>
  w.storage.transaction((tx) => tx.outbox.list({ aggregateId }))

export const inventoryOperationsSuite: Suite = (target) =>
  describe('inventory operations', () => {
    const storage = useStorage(target)

    describe('transfers', () => {
      test('draft → shipped (source debited, destination incoming) → partly received → closed with the loss recorded', async () => {
        const w = await createWorld(storage(), { flower: 10, vape: 4 })
        const other = await otherStore(w)
        const flower = w.items.flower as string
        const vape = w.items.vape as string
        const draft = await w.oms.transfers.create({
          actor: m,
          fromLocationId: w.locationId,
          toLocationId: other.locationId,
          lines: [
            { itemId: flower, quantity: 6 },
            { itemId: vape, quantity: 4 },
          ],
          note: 'restock store 2',
        })
        expect(draft).toMatchObject({ status: 'draft', fromStoreId: w.storeId, toStoreId: other.storeId })
        expect((await level(w, 'flower', w.locationId)).onHand).toBe(10)

        const shipped = await w.oms.transfers.ship({ actor: m, transferId: draft.id })
        expect(shipped.status).toBe('shipped')
        expect(await level(w, 'flower', w.locationId)).toMatchObject({ onHand: 4, available: 4 })
        expect(await level(w, 'flower', other.locationId)).toMatchObject({ onHand: 0, incoming: 6 })
        await expectInvariants(w)

        const partly = await w.oms.transfers.receive({
          actor: m,
          transferId: draft.id,
          lines: [
            { itemId: flower, quantity: 5 },
            { itemId: vape, quantity: 4 },
          ],
        })
        expect(partly.status).toBe('partially_received')
        expect(await level(w, 'flower', other.locationId)).toMatchObject({ onHand: 5, incoming: 1 })
        expect(await level(w, 'vape', other.locationId)).toMatchObject({ onHand: 4, incoming: 0 })

        const noReason = await rejectionOf(w.oms.transfers.close({ actor: m, transferId: draft.id }))
        expect(noReason.code).toBe('VALIDATION')
        const closed = await w.oms.transfers.close({
          actor: m,
          transferId: draft.id,
          lossReason: 'one jar broken in transit',
        })
        expect(closed.status).toBe('closed')
        expect(closed.lines.find((l) => l.itemId === flower)).toMatchObject({
          quantity: 6,
          quantityReceived: 5,
          quantityLost: 1,
        })
        expect(await level(w, 'flower', other.locationId)).toMatchObject({ onHand: 5, incoming: 0 })

        const moves = await w.oms.inventory.movements({ actor: m, referenceId: draft.id })
        expect(
          moves.filter((mv) => mv.itemId === flower).map((mv) => [mv.reason, mv.bucket, mv.delta]),
        ).toEqual(
          expect.arrayContaining([
            ['transfer_out', 'on_hand', -6],
            ['transfer_out', 'incoming', 6],
            ['transfer_in', 'incoming', -5],
            ['transfer_in', 'on_hand', 5],
            ['transfer_loss', 'incoming', -1],
          ]),
        )
        expect(moves.every((mv) => mv.reference?.kind === 'transfer')).toBe(true)
        const events = await eventsOf(w, `transfer:${draft.id}`)
        expect(events.map((e) => e.payload.to)).toEqual(['draft', 'shipped', 'partially_received', 'closed'])
        const history = await w.oms.history.list({ actor: m, entityId: draft.id })
        // one row per store touched, per step
        expect(history.filter((h) => h.action === 'transfer_shipped')).toHaveLength(2)
        await expectInvariants(w)
      })

      test('a transfer never ships stock that is held: INSUFFICIENT_STOCK, and nothing is written', async () => {
        const w = await createWorld(storage(), { flower: 5 })
        await placeOrder(w, { flower: 4 })
        const t = await w.oms.transfers.create({
          actor: m,
          fromLocationId: w.locationId,
          toLocationId: w.backroomId,
          lines: [{ itemId: w.items.flower as string, quantity: 2 }],
        })
        const before = await snapshotStorage(w.storage)
        const error = await rejectionOf(w.oms.transfers.ship({ actor: m, transferId: t.id }))
        expect(error.code).toBe('INSUFFICIENT_STOCK')
        expect(error.details).toMatchObject({ requested: 2, available: 1 })
        expect(await snapshotStorage(w.storage)).toBe(before)
        expect((await w.oms.transfers.get({ actor: m, transferId: t.id })).status).toBe('draft')
        await expectInvariants(w)
      })

      test('a draft can be cancelled; a shipped transfer cannot, and steps out of order are INVALID_TRANSITION', async () => {
        const w = await createWorld(storage(), { flower: 5 })
        const lines = [{ itemId: w.items.flower as string, quantity: 1 }]
        const at = { actor: m, fromLocationId: w.locationId, toLocationId: w.backroomId, lines }
        const a = await w.oms.transfers.create(at)
        expect((await w.oms.transfers.cancel({ actor: m, transferId: a.id })).status).toBe('cancelled')
        expect((await rejectionOf(w.oms.transfers.ship({ actor: m, transferId: a.id }))).code).toBe(
          'INVALID_TRANSITION',
        )
        const b = await w.oms.transfers.create(at)
        expect((await rejectionOf(w.oms.transfers.receive({ actor: m, transferId: b.id }))).code).toBe(
          'INVALID_TRANSITION',
        )
        await w.oms.transfers.ship({ actor: m, transferId: b.id })
        expect((await rejectionOf(w.oms.transfers.cancel({ actor: m, transferId: b.id }))).code).toBe(
          'INVALID_TRANSITION',
        )
        expect(
          (
            await rejectionOf(
              w.oms.transfers.receive({
                actor: m,
                transferId: b.id,
                lines: [{ itemId: w.items.flower as string, quantity: 2 }],
              }),
            )
          ).code,
        ).toBe('VALIDATION')
        const received = await w.oms.transfers.receive({ actor: m, transferId: b.id })
        expect(received.status).toBe('received')
        expect((await w.oms.transfers.close({ actor: m, transferId: b.id })).status).toBe('closed')
        expect((await level(w, 'flower', w.backroomId)).onHand).toBe(1)
        await expectInvariants(w)
      })

      test('each step is idempotent: the same key returns the first result and moves nothing twice', async () => {
        const w = await createWorld(storage(), { flower: 5 })
        const t = await w.oms.transfers.create({
          actor: m,
          idempotencyKey: 'create-1',
          fromLocationId: w.locationId,
          toLocationId: w.backroomId,
          lines: [{ itemId: w.items.flower as string, quantity: 3 }],
        })
        const again = await w.oms.transfers.create({
          actor: m,
          idempotencyKey: 'create-1',
          fromLocationId: w.locationId,
          toLocationId: w.backroomId,
          lines: [{ itemId: w.items.flower as string, quantity: 3 }],
        })
        expect(again.id).toBe(t.id)
        const first = await w.oms.transfers.ship({ actor: m, transferId: t.id, idempotencyKey: 'ship-1' })
        const second = await w.oms.transfers.ship({ actor: m, transferId: t.id, idempotencyKey: 'ship-1' })
        expect(second).toEqual(first)
        expect((await level(w, 'flower', w.locationId)).onHand).toBe(2)
        expect(await w.oms.inventory.movements({ actor: m, referenceId: t.id })).toHaveLength(2)
        await expectInvariants(w)
      })

      test('store-scoped staff ship only out of locations they reach and receive only into them', async () => {
        const w = await createWorld(storage(), { flower: 5 })
        const other = await otherStore(w)
        await w.oms.inventory.receive({
          actor: m,
          itemId: w.items.flower as string,
          locationId: other.locationId,
          quantity: 5,
        })
        const mine = actors.storeManager([w.storeId])
        const lines = [{ itemId: w.items.flower as string, quantity: 1 }]
        const out = await w.oms.transfers.create({
          actor: mine,
          fromLocationId: w.locationId,
          toLocationId: other.locationId,
          lines,
        })
        await w.oms.transfers.ship({ actor: mine, transferId: out.id })
        expect((await rejectionOf(w.oms.transfers.receive({ actor: mine, transferId: out.id }))).code).toBe(
          'FORBIDDEN',
        )
        expect(
          (
            await rejectionOf(
              w.oms.transfers.create({
                actor: mine,
                fromLocationId: other.locationId,
                toLocationId: w.locationId,
                lines,
              }),
            )
          ).code,
        ).toBe('FORBIDDEN')
        const inbound = await w.oms.transfers.create({
          actor: m,
          fromLocationId: other.locationId,
          toLocationId: w.locationId,
          lines,
        })
        expect((await rejectionOf(w.oms.transfers.ship({ actor: mine, transferId: inbound.id }))).code).toBe(
          'FORBIDDEN',
        )
        await w.oms.transfers.ship({ actor: m, transferId: inbound.id })
        await w.oms.transfers.receive({ actor: mine, transferId: inbound.id })
        const seen = await w.oms.transfers.list({ actor: actors.storeManager([other.storeId]) })
        expect(seen.map((t) => t.id).sort()).toEqual([out.id, inbound.id].sort())
        await expectInvariants(w)
      })
    })

    describe('counts', () => {
      test('counting is blind, expected is taken when a line is counted, and a sale during the count is no discrepancy', async () => {
        const w = await createWorld(storage(), { flower: 10, vape: 6 })
        const flower = w.items.flower as string
        const vape = w.items.vape as string
        const count = await w.oms.counts.open({ actor: m, locationId: w.locationId })
        expect(count).toMatchObject({ status: 'open', kind: 'full' })
        const recorded = await w.oms.counts.record({
          actor: { id: 'counter-a', roles: ['store_manager'] },
          countId: count.id,
          lines: [{ itemId: flower, quantity: 9 }],
        })
        expect(recorded[0]).not.toHaveProperty('expected')
        // sold after flower was counted: the count must not see these 2 as missing
        await sell(w, { flower: 2 })
        await w.oms.counts.record({
          actor: { id: 'counter-b', roles: ['store_manager'] },
          countId: count.id,
          lines: [{ itemId: vape, quantity: 6 }],
        })
        const view = await w.oms.counts.get({ actor: m, countId: count.id })
        expect(view.lines.map((l) => [l.itemId, l.counted, l.countedBy]).sort()).toEqual(
          [
            [flower, 9, 'counter-a'],
            [vape, 6, 'counter-b'],
          ].sort(),
        )
        expect(JSON.stringify(view)).not.toContain('expected')
        const report = await w.oms.counts.report({
          actor: m,
          countId: count.id,
          unitCostsMinor: { [flower]: 1200 },
        })
        expect(report.lines.find((l) => l.itemId === flower)).toMatchObject({
          expected: 10,
          counted: 9,
          difference: -1,
          valueMinor: -1200,
        })
        expect(report.lines.find((l) => l.itemId === vape)).toMatchObject({ difference: 0, valueMinor: null })
        expect(report).toMatchObject({
          discrepancies: 1,
          netDifference: -1,
          netValueMinor: -1200,
          uncounted: [],
        })

        const approved = await w.oms.counts.approve({ actor: m, countId: count.id })
        expect(approved.status).toBe('approved')
        expect((await level(w, 'flower', w.locationId)).onHand).toBe(7)
        const moves = await w.oms.inventory.movements({ actor: m, referenceId: count.id })
        expect(moves.map((mv) => [mv.itemId, mv.reason, mv.delta])).toEqual([
          [flower, 'count_correction', -1],
        ])
        expect((await rejectionOf(w.oms.counts.approve({ actor: m, countId: count.id }))).code).toBe(
          'INVALID_TRANSITION',
        )
        await expectInvariants(w)
      })

      test('a count below what is reserved is a recorded shortage', async () => {
        const w = await createWorld(storage(), { flower: 5 })
        await placeOrder(w, { flower: 4 })
        const flower = w.items.flower as string
        const count = await w.oms.counts.open({ actor: m, locationId: w.locationId, itemIds: [flower] })
        await w.oms.counts.record({ actor: m, countId: count.id, lines: [{ itemId: flower, quantity: 2 }] })
        await w.oms.counts.approve({ actor: m, countId: count.id })
        expect(await level(w, 'flower', w.locationId)).toMatchObject({ onHand: 2, reserved: 4, shortage: 2 })
        const events = await eventsOf(w, `inventory:${flower}@${w.locationId}`)
        expect(events.map((e) => e.type)).toContain('inventory.shortage')
        await expectInvariants(w)
      })

      test('a cycle count refuses items it does not list, reports what was not counted, and can be cancelled', async () => {
        const w = await createWorld(storage(), { flower: 5, vape: 3, gummy: 2 })
        const { flower, vape, gummy } = w.items as Record<'flower' | 'vape' | 'gummy', string>
        const count = await w.oms.counts.open({ actor: m, locationId: w.locationId, itemIds: [flower, vape] })
        expect(
          (
            await rejectionOf(
              w.oms.counts.record({ actor: m, countId: count.id, lines: [{ itemId: gummy, quantity: 1 }] }),
            )
          ).code,
        ).toBe('VALIDATION')
        await w.oms.counts.record({ actor: m, countId: count.id, lines: [{ itemId: flower, quantity: 4 }] })
        // counted again: the later count replaces the earlier one
        await w.oms.counts.record({ actor: m, countId: count.id, lines: [{ itemId: flower, quantity: 5 }] })
        const report = await w.oms.counts.report({ actor: m, countId: count.id })
        expect(report.uncounted).toEqual([vape])
        expect(report.discrepancies).toBe(0)
        const before = await snapshotStorage(w.storage)
        expect((await w.oms.counts.cancel({ actor: m, countId: count.id })).status).toBe('cancelled')
        expect(
          (
            await rejectionOf(
              w.oms.counts.record({ actor: m, countId: count.id, lines: [{ itemId: flower, quantity: 1 }] }),
            )
          ).code,
        ).toBe('INVALID_TRANSITION')
        expect((await w.oms.inventory.movements({ actor: m, referenceId: count.id })).length).toBe(0)
        expect(JSON.parse(await snapshotStorage(w.storage)).levels).toEqual(JSON.parse(before).levels)
        await expectInvariants(w)
      })

      test('a second open count of the same items is CONFLICT; other items and other locations may be counted', async () => {
        const w = await createWorld(storage(), { flower: 5, vape: 5 })
        const { flower, vape } = w.items as Record<'flower' | 'vape', string>
        const first = await w.oms.counts.open({ actor: m, locationId: w.locationId, itemIds: [flower] })
        const clash = await rejectionOf(w.oms.counts.open({ actor: m, locationId: w.locationId }))
        expect(clash.code).toBe('CONFLICT')
        expect(clash.details).toMatchObject({ countId: first.id })
        const other = await w.oms.counts.open({ actor: m, locationId: w.locationId, itemIds: [vape] })
        await w.oms.counts.open({ actor: m, locationId: w.backroomId })
        const open = await w.oms.counts.list({ actor: m, locationId: w.locationId, status: 'open' })
        expect(open.map((c) => c.id).sort()).toEqual([first.id, other.id].sort())
        await w.oms.counts.approve({ actor: m, countId: first.id })
        await w.oms.counts.open({ actor: m, locationId: w.locationId, itemIds: [flower] })
        await expectInvariants(w)
      })

      test('several counters record at once; every line is kept', async () => {
        const w = await createWorld(storage(), { a: 5, b: 5, c: 5, d: 5 })
        const count = await w.oms.counts.open({ actor: m, locationId: w.locationId })
        await Promise.all(
          Object.values(w.items).map((itemId, i) =>
            w.oms.counts.record({
              actor: { id: `counter-${i}`, roles: ['order_manager'] },
              countId: count.id,
              lines: [{ itemId, quantity: 4 }],
            }),
          ),
        )
        const report = await w.oms.counts.report({ actor: m, countId: count.id })
        expect(report.lines).toHaveLength(4)
        expect(report.netDifference).toBe(-4)
        await w.oms.counts.approve({ actor: m, countId: count.id })
        expect((await level(w, 'a', w.locationId)).onHand).toBe(4)
        await expectInvariants(w)
      })
    })

    describe('buckets', () => {
      test('stock moves into and out of damaged and quarantine with reasons; held stock cannot be set aside', async () => {
        const w = await createWorld(storage(), { flower: 10 })
        const at = { actor: m, itemId: w.items.flower as string, locationId: w.locationId }
        const q = await w.oms.inventory.setAside({
          ...at,
          bucket: 'quarantine',
          quantity: 3,
          reason: 'lab retest',
        })
        expect(q).toMatchObject({ onHand: 10, quarantine: 3, available: 7 })
        await w.oms.inventory.setAside({ ...at, bucket: 'damaged', quantity: 2, reason: 'crushed box' })
        await placeOrder(w, { flower: 5 })
        const error = await rejectionOf(
          w.oms.inventory.setAside({ ...at, bucket: 'damaged', quantity: 1, reason: 'x' }),
        )
        expect(error.code).toBe('INSUFFICIENT_STOCK')
        const restocked = await w.oms.inventory.releaseFromBucket({
          ...at,
          bucket: 'quarantine',
          quantity: 3,
          disposition: 'restock',
          reason: 'passed retest',
        })
        expect(restocked).toMatchObject({ quarantine: 0, available: 3 })
        const written = await w.oms.inventory.releaseFromBucket({
          ...at,
          bucket: 'damaged',
          quantity: 2,
          disposition: 'write_off',
          reason: 'destroyed per SOP',
        })
        expect(written).toMatchObject({ onHand: 8, damaged: 0, reserved: 5, available: 3 })
        expect(
          (
            await rejectionOf(
              w.oms.inventory.releaseFromBucket({
                ...at,
                bucket: 'damaged',
                quantity: 1,
                disposition: 'restock',
                reason: 'x',
              }),
            )
          ).code,
        ).toBe('INSUFFICIENT_STOCK')
        const moves = await w.oms.inventory.movements({ actor: m, itemId: at.itemId })
        expect(moves.slice(1).map((mv) => [mv.reason, mv.bucket, mv.delta, mv.note])).toEqual([
          ['quarantine', 'quarantine', 3, 'lab retest'],
          ['damage', 'damaged', 2, 'crushed box'],
          ['quarantine_release', 'quarantine', -3, 'passed retest'],
          ['damage_release', 'damaged', -2, 'destroyed per SOP'],
          ['adjust_destruction', 'on_hand', -2, 'destroyed per SOP'],
        ])
        await expectInvariants(w)
      })
    })

    describe('bulk updates', () => {
      test('each row is applied or refused on its own, with a result per row', async () => {
        const w = await createWorld(storage(), { flower: 5, vape: 5 })
        const other = await otherStore(w)
        const { flower, vape } = w.items as Record<'flower' | 'vape' | 'gummy', string>
        const loc = w.locationId
        const progress: BulkProgress[] = []
        const result = await w.oms.inventory.bulkUpdate(
          {
            actor: actors.storeManager([w.storeId]),
            rows: [
              { op: 'receive', itemId: flower, locationId: loc, quantity: 10 },
              { op: 'adjust', itemId: vape, locationId: loc, delta: -9, reason: 'adjust_theft' },
              { op: 'set', itemId: vape, locationId: loc, quantity: 2, expected: 4 },
              { op: 'set', itemId: vape, locationId: loc, quantity: 3, expected: 5 },
              { op: 'receive', itemId: flower, locationId: loc, quantity: -1 },
              { op: 'receive', itemId: 'no-such-item', locationId: loc, quantity: 1 },
              { op: 'receive', itemId: flower, locationId: other.locationId, quantity: 1 },
              { op: 'adjust', itemId: flower, locationId: loc, delta: 2, reason: 'quarantine' },
            ],
          },
          { onProgress: (p) => progress.push(p) },
        )
        expect(result.rows.map((r) => (r.ok ? 'ok' : r.code))).toEqual([
          'ok',
          'INSUFFICIENT_STOCK',
          'CONFLICT',
          'ok',
          'VALIDATION',
          'NOT_FOUND',
          'FORBIDDEN',
          'ok',
        ])
        expect(result).toMatchObject({ applied: 3, failed: 5 })
        expect(result.rows[0]).toMatchObject({ ok: true, onHand: 15 })
        expect(result.rows[4]).toMatchObject({ ok: false, message: expect.stringContaining('quantity') })
        expect(progress.at(-1)).toEqual({ done: 8, total: 8, applied: 3, failed: 5 })
        expect(await level(w, 'flower', loc)).toMatchObject({ onHand: 15, quarantine: 2 })
        expect((await level(w, 'vape', loc)).onHand).toBe(3)
        expect((await level(w, 'flower', other.locationId)).onHand).toBe(0)
        await expectInvariants(w)
      })

      test('large updates commit in batches, report progress per batch, and repeat idempotently', async () => {
        const w = await createWorld(storage(), { flower: 0 })
        const flower = w.items.flower as string
        const rows = Array.from({ length: 1_100 }, (_, i) => ({
          op: 'receive' as const,
          itemId: flower,
          locationId: i % 2 ? w.locationId : w.backroomId,
          quantity: 1,
        }))
        const progress: BulkProgress[] = []
        const first = await w.oms.inventory.bulkUpdate(
          { actor: m, idempotencyKey: 'import-1', rows },
          { onProgress: (p) => progress.push(p) },
        )
        expect(first).toMatchObject({ applied: 1_100, failed: 0 })
        expect(progress.map((p) => p.done)).toEqual([500, 1000, 1100])
        const again = await w.oms.inventory.bulkUpdate({ actor: m, idempotencyKey: 'import-1', rows })
        expect(again).toEqual(first)
        expect((await level(w, 'flower', w.locationId)).onHand).toBe(550)
        expect((await level(w, 'flower', w.backroomId)).onHand).toBe(550)
        await expectInvariants(w)
      })

      test('CSV in, per-row result out', async () => {
        const w = await createWorld(storage(), { flower: 5 })
        const flower = w.items.flower as string
        const csv = [
          'op,itemId,locationId,quantity,delta,expected,reason,note',
          `receive,${flower},${w.locationId},7,,,,"delivery 42, pallet 1"`,
          `set,${flower},${w.locationId},10,,12,,`,
          `adjust,${flower},${w.locationId},,-2,,adjust_damage,dropped`,
          `adjust,${flower},${w.locationId},,abc,,,`,
        ].join('\n')
        const result = await w.oms.inventory.bulkUpdate({ actor: m, rows: parseBulkCsv(csv) as never })
        const out = bulkResultCsv(result).trim().split('\n')
        expect(out[0]).toBe('row,status,itemId,locationId,onHand,code,message')
        expect(out[1]).toBe(`1,ok,${flower},${w.locationId},12,,`)
        expect(out[2]).toBe(`2,ok,${flower},${w.locationId},10,,`)
        expect(out[3]).toBe(`3,ok,${flower},${w.locationId},8,,`)
        expect(out[4]).toMatch(new RegExp(`^4,error,${flower},${w.locationId},,VALIDATION,`))
        const moves = await w.oms.inventory.movements({ actor: m, itemId: flower })
        expect(moves[1]?.note).toBe('delivery 42, pallet 1')
        await expectInvariants(w)
      })
    })

    describe('low stock', () => {
      test('inventory.low_stock is emitted once per crossing, and the list shows rows at or below their reorder point', async () => {
        const w = await createWorld(storage(), { flower: 10, vape: 10 })
        const flower = w.items.flower as string
        const at = { actor: m, itemId: flower, locationId: w.locationId }
        await w.oms.inventory.setReorderPoint({ ...at, reorderPoint: 5 })
        const lows = async () =>
          (await eventsOf(w, `inventory:${flower}@${w.locationId}`)).filter(
            (e) => e.type === 'inventory.low_stock',
          )
        await placeOrder(w, { flower: 4 })
        expect(await lows()).toHaveLength(0)
        await placeOrder(w, { flower: 1 })
        expect(await lows()).toHaveLength(1)
        expect((await lows())[0]?.payload).toMatchObject({ available: 5, reorderPoint: 5 })
        await placeOrder(w, { flower: 1 })
        await w.oms.inventory.adjust({ ...at, delta: -1, reason: 'adjust_damage' })
        expect(await lows()).toHaveLength(1)
        expect((await w.oms.inventory.lowStock({ actor: m })).map((l) => [l.itemId, l.available])).toEqual([
          [flower, 3],
        ])
        await w.oms.inventory.receive({ ...at, quantity: 10 })
        expect(await w.oms.inventory.lowStock({ actor: m, locationId: w.locationId })).toEqual([])
        await w.oms.inventory.adjust({ ...at, delta: -9, reason: 'adjust_correction' })
        expect(await lows()).toHaveLength(2)
        // raising the reorder point above what is available is a crossing too
        const vape = w.items.vape as string
        await w.oms.inventory.setReorderPoint({
          actor: m,
          itemId: vape,
          locationId: w.locationId,
          reorderPoint: 20,
        })
        const vapeLows = (await eventsOf(w, `inventory:${vape}@${w.locationId}`)).filter(
          (e) => e.type === 'inventory.low_stock',
        )
        expect(vapeLows).toHaveLength(1)
        await expectInvariants(w)
      })
    })

    test('a batch of rows larger than one statement can carry is appended in full', async () => {
      const w = await createWorld(storage(), { flower: 0 })
      const flower = w.items.flower as string
      const now = w.clock.now()
      const movements = Array.from({ length: 2_500 }, (_, i) => ({
        id: uid(`mv${i}`),
        itemId: flower,
        locationId: w.locationId,
        bucket: 'on_hand' as const,
        delta: 1,
        reason: 'receive' as const,
        packageId: null,
        actorId: 'bulk',
        reference: null,
        note: null,
        createdAt: now,
      }))
      await w.storage.transaction(async (tx) => {
        await tx.append({
          movements,
          outbox: movements.map((mv) => ({
            id: mv.id,
            type: 'test.appended',
            aggregateId: `test:${mv.id}`,
            payload: {},
            createdAt: now,
          })),
        })
        await tx.inventory.applyDeltas(flower, w.locationId, { onHand: 2_500 }, { now })
      })
      expect(await w.oms.inventory.movements({ actor: m, itemId: flower, limit: 1000 })).toHaveLength(1000)
      expect((await level(w, 'flower', w.locationId)).onHand).toBe(2_500)
      await expectInvariants(w)
    })

    describe('forced interleavings', () => {
      /** Runs `a` until `point`, then `b` on a peer instance until it finishes or waits on a lock, then `a`. */
      async function raced<A, B>(
        w: World,
        point: PausePoint,
        a: (oms: Oms) => Promise<A>,
        b: (oms: Oms) => Promise<B>,
      ): Promise<[A, B]> {
        const peer = target.peer ? await target.peer(w.storage) : null
        try {
          return await race(w, peer, { a, point, b })
        } finally {
          await peer?.close()
        }
      }

      test('a transfer shipping the last units and an order holding them: exactly one gets them', async () => {
        const w = await createWorld(storage(), { flower: 5 })
        const t = await w.oms.transfers.create({
          actor: m,
          fromLocationId: w.locationId,
          toLocationId: w.backroomId,
          lines: [{ itemId: w.items.flower as string, quantity: 5 }],
        })
        const results = await raced(
          w,
          { when: 'before', calls: ['inventory.applyDeltas'] },
          (oms) => codeOf(oms.transfers.ship({ actor: m, transferId: t.id })),
          (oms) =>
            codeOf(
              oms.orders.create({
                actor: m,
                channel: 'kiosk',
                flow: 'pickup',
                storeId: w.storeId,
                currency: 'USD',
                lines: [{ itemId: w.items.flower as string, quantity: 5, unitPriceMinor: 100 }],
              }),
            ),
        )
        expect([...results].sort()).toEqual(['INSUFFICIENT_STOCK', 'OK'])
        const floor = await level(w, 'flower', w.locationId)
        expect(floor.onHand - floor.reserved).toBe(0)
        await expectInvariants(w)
      })

      test('the same transfer shipped twice at once ships once; the other answer is INVALID_TRANSITION', async () => {
        const w = await createWorld(storage(), { flower: 5 })
        const t = await w.oms.transfers.create({
          actor: m,
          fromLocationId: w.locationId,
          toLocationId: w.backroomId,
          lines: [{ itemId: w.items.flower as string, quantity: 2 }],
        })
        const ship = (oms: Oms) => codeOf(oms.transfers.ship({ actor: m, transferId: t.id }))
        const results = await raced(w, { when: 'after', calls: ['transfers.lock'] }, ship, ship)
        expect(results).toEqual(['OK', 'INVALID_TRANSITION'])
        expect(await level(w, 'flower', w.locationId)).toMatchObject({ onHand: 3 })
        expect(await level(w, 'flower', w.backroomId)).toMatchObject({ incoming: 2 })
        await expectInvariants(w)
      })

      test('a count approval racing a sale keeps the sale: the correction is the difference seen when counting', async () => {
        const w = await createWorld(storage(), { flower: 10 })
        const flower = w.items.flower as string
        const order = await placeOrder(w, { flower: 2 })
        await w.oms.orders.confirmPayment({ actor: actors.payments, orderId: order.id })
        for (const type of ['order.start_processing', 'order.ready'])
          await w.oms.orders.send({ actor: m, orderId: order.id, type })
        const count = await w.oms.counts.open({ actor: m, locationId: w.locationId, itemIds: [flower] })
        await w.oms.counts.record({ actor: m, countId: count.id, lines: [{ itemId: flower, quantity: 9 }] })
        const results = await raced(
          w,
          { when: 'after', calls: ['inventory.listLevels'] },
          (oms) => codeOf(oms.counts.approve({ actor: m, countId: count.id })),
          (oms) => codeOf(oms.orders.send({ actor: m, orderId: order.id, type: 'order.pick_up' })),
        )
        expect(results).toEqual(['OK', 'OK'])
        expect(await level(w, 'flower', w.locationId)).toMatchObject({ onHand: 7, reserved: 0 })
        await expectInvariants(w)
      })

      test('a bulk update racing holds on the same row never oversells or drifts', async () => {
        const w = await createWorld(storage(), { flower: 5 })
        const flower = w.items.flower as string
        const [bulk, hold] = await raced(
          w,
          { when: 'before', calls: ['inventory.applyDeltas'] },
          (oms) =>
            oms.inventory.bulkUpdate({
              actor: m,
              rows: [{ op: 'set', itemId: flower, locationId: w.locationId, expected: 5, quantity: 2 }],
            }),
          (oms) =>
            codeOf(
              oms.orders.create({
                actor: m,
                channel: 'kiosk',
                flow: 'pickup',
                storeId: w.storeId,
                currency: 'USD',
                lines: [{ itemId: flower, quantity: 4, unitPriceMinor: 100 }],
              }),
            ),
        )
        expect(bulk.rows[0]?.ok).toBe(true)
        // the set went first (the hold then finds 2) or the hold did (the set leaves a recorded shortage)
        const floor = await level(w, 'flower', w.locationId)
        expect(floor.onHand).toBe(2)
        expect(hold === 'INSUFFICIENT_STOCK' ? floor.reserved : floor.shortage).toBe(hold === 'OK' ? 2 : 0)
        await expectInvariants(w)
      })
    })

    describe('packages', () => {
      test('per-package levels beside the item level; a sale takes packages oldest first; one call gives a package history', async () => {
        const w = await createWorld(storage(), { flower: 0 })
        const flower = w.items.flower as string
        const at = { actor: m, itemId: flower, locationId: w.locationId }
        const [p1, p2] = [uid('1A4000000000000000000001'), uid('1A4000000000000000000002')]
        await w.oms.inventory.receive({ ...at, quantity: 5, packageId: p1 })
        w.clock.advance(60_000)
        await w.oms.inventory.receive({ ...at, quantity: 4, packageId: p2 })
        await w.oms.inventory.receive({ ...at, quantity: 2 })
        expect((await w.oms.inventory.packages(at)).map((p) => [p.packageId, p.onHand])).toEqual([
          [p1, 5],
          [p2, 4],
        ])
        await sell(w, { flower: 6 })
        expect((await w.oms.inventory.packages(at)).map((p) => [p.packageId, p.onHand])).toEqual([[p2, 3]])
        expect((await level(w, 'flower', w.locationId)).onHand).toBe(5)
        // a named package is debited by itself, and cannot go below zero
        await w.oms.inventory.adjust({ ...at, delta: -1, reason: 'adjust_sample', packageId: p2 })
        const short = await rejectionOf(
          w.oms.inventory.adjust({ ...at, delta: -3, reason: 'adjust_sample', packageId: p2 }),
        )
        expect(short.code).toBe('INSUFFICIENT_STOCK')
        // a package travels with a transfer
        const t = await w.oms.transfers.create({
          actor: m,
          fromLocationId: w.locationId,
          toLocationId: w.backroomId,
          lines: [{ itemId: flower, quantity: 2, packageId: p2 }],
        })
        await w.oms.transfers.ship({ actor: m, transferId: t.id })
        await w.oms.transfers.receive({ actor: m, transferId: t.id })
        const history = await w.oms.inventory.packageHistory({ actor: m, packageId: p2 })
        expect(history.levels.map((p) => [p.locationId, p.onHand])).toEqual([[w.backroomId, 2]])
        expect(
          history.movements.map((mv) => [
            mv.reason,
            mv.locationId === w.locationId ? 'floor' : 'back',
            mv.delta,
          ]),
        ).toEqual([
          ['receive', 'floor', 4],
          ['sale', 'floor', -1],
          ['adjust_sample', 'floor', -1],
          // one ship writes both rows, in canonical (item, location) order
          ['transfer_out', 'back', 2],
          ['transfer_out', 'floor', -2],
          ['transfer_in', 'back', -2],
          ['transfer_in', 'back', 2],
        ])
        const p1History = await w.oms.inventory.packageHistory({ actor: m, packageId: p1 })
        expect(p1History.movements.map((mv) => [mv.reason, mv.delta])).toEqual([
          ['receive', 5],
          ['sale', -5],
        ])
        await expectInvariants(w)
      })

      test('a count may count packages one by one; its corrections land on those packages', async () => {
        const w = await createWorld(storage(), { flower: 0 })
        const flower = w.items.flower as string
        const at = { actor: m, itemId: flower, locationId: w.locationId }
        const [p1, p2] = [uid('pkg-c1'), uid('pkg-c2')]
        await w.oms.inventory.receive({ ...at, quantity: 5, packageId: p1 })
        await w.oms.inventory.receive({ ...at, quantity: 3, packageId: p2 })
        await w.oms.inventory.receive({ ...at, quantity: 2 })
        const count = await w.oms.counts.open({ actor: m, locationId: w.locationId, itemIds: [flower] })
        await w.oms.counts.record({
          actor: m,
          countId: count.id,
          lines: [
            { itemId: flower, packageId: p1, quantity: 4 },
            { itemId: flower, packageId: p2, quantity: 3 },
          ],
        })
        const mixed = await rejectionOf(
          w.oms.counts.record({ actor: m, countId: count.id, lines: [{ itemId: flower, quantity: 9 }] }),
        )
        expect(mixed.code).toBe('VALIDATION')
        const report = await w.oms.counts.report({ actor: m, countId: count.id })
        expect(report.lines.map((l) => [l.packageId, l.expected, l.counted, l.difference])).toEqual(
          [
            [p1, 5, 4, -1],
            [p2, 3, 3, 0],
          ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
        )
        await w.oms.counts.approve({ actor: m, countId: count.id })
        expect((await w.oms.inventory.packages(at)).map((p) => [p.packageId, p.onHand])).toEqual([
          [p1, 4],
          [p2, 3],
        ])
        expect((await level(w, 'flower', w.locationId)).onHand).toBe(9)
        const history = await w.oms.inventory.packageHistory({ actor: m, packageId: p1 })
        expect(history.movements.map((mv) => [mv.reason, mv.delta])).toEqual([
          ['receive', 5],
          ['count_correction', -1],
        ])
        await expectInvariants(w)
      })

      test('a sale may name its package', async () => {
        const w = await createWorld(storage(), { flower: 0 })
        const flower = w.items.flower as string
        const at = { actor: m, itemId: flower, locationId: w.locationId }
        const [p1, p2] = [uid('pkg-a'), uid('pkg-b')]
        await w.oms.inventory.receive({ ...at, quantity: 3, packageId: p1 })
        w.clock.advance(1_000)
        await w.oms.inventory.receive({ ...at, quantity: 3, packageId: p2 })
        const order = await placeOrder(w, { flower: 3 })
        await w.oms.orders.confirmPayment({ actor: actors.payments, orderId: order.id })
        for (const type of ['order.start_processing', 'order.ready'])
          await w.oms.orders.send({ actor: m, orderId: order.id, type })
        const [hold] = await w.oms.reservations.listByOrder({ actor: m, orderId: order.id })
        const reservationId = hold?.id as string
        await w.oms.reservations.commit({ actor: m, reservationId, quantity: 2, packageId: p2 })
        const short = await rejectionOf(
          w.oms.reservations.commit({ actor: m, reservationId, quantity: 1, packageId: uid('pkg-none') }),
        )
        expect(short.code).toBe('INSUFFICIENT_STOCK')
        expect((await w.oms.inventory.packages(at)).map((p) => [p.packageId, p.onHand])).toEqual([
          [p1, 3],
          [p2, 1],
        ])
        await expectInvariants(w)
      })

      test('an untagged transfer takes packages oldest first and the destination receives them tagged', async () => {
        const w = await createWorld(storage(), { flower: 0 })
        const flower = w.items.flower as string
        const at = { actor: m, itemId: flower, locationId: w.locationId }
        const p1 = uid('pkg')
        await w.oms.inventory.receive({ ...at, quantity: 3, packageId: p1 })
        await w.oms.inventory.receive({ ...at, quantity: 5 })
        const t = await w.oms.transfers.create({
          actor: m,
          fromLocationId: w.locationId,
          toLocationId: w.backroomId,
          lines: [{ itemId: flower, quantity: 4 }],
        })
        const shipped = await w.oms.transfers.ship({ actor: m, transferId: t.id })
        expect(shipped.lines.map((l) => [l.packageId, l.quantity])).toEqual([
          [p1, 3],
          [null, 1],
        ])
        await w.oms.transfers.receive({ actor: m, transferId: t.id })
        expect(
          (await w.oms.inventory.packages({ ...at, locationId: w.backroomId })).map((p) => [
            p.packageId,
            p.onHand,
          ]),
        ).toEqual([[p1, 3]])
        expect((await level(w, 'flower', w.backroomId)).onHand).toBe(4)
        await expectInvariants(w)
      })
    })
  })
