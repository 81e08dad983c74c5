import { describe, expect, test } from 'vitest'
import type { Order } from '../../domain/schemas'
import type { OrderBulkProgress } from '../../order/bulk-operations'
import { actors, createWorld, placeOrder, uid } from '../fixtures'
import type { Suite } from './suite'
import { expectInvariants, rejectionOf, useStorage } from './use-storage'

/** `orders.assign`, `orders.bulkAssign`, `orders.bulkStatus`: a result per order, idempotent, with progress. */
export const bulkOperationsSuite: Suite = (target) => {
  describe('bulk operations', () => {
    const storage = useStorage(target)

    test('a bulk status change applies or refuses each order on its own, reports progress, and repeats as a no-op', async () => {
      const w = await createWorld(storage(), { flower: 100 })
      const m = actors.manager
      const confirmed: Order[] = []
      for (let i = 0; i < 4; i++) {
        const o = await placeOrder(w, { flower: 1 })
        await w.oms.orders.confirmPayment({ actor: actors.payments, orderId: o.id })
        confirmed.push(o)
      }
      const pending = await placeOrder(w, { flower: 1 }) // cannot start processing: not paid
      const other = await createWorld(w.storage, { flower: 10 }, { clock: w.clock })
      const elsewhere = await placeOrder(other, { flower: 1 })
      await w.oms.orders.confirmPayment({ actor: actors.payments, orderId: elsewhere.id })
      const ids = [confirmed[0], pending, confirmed[1], elsewhere, confirmed[2], confirmed[3]].map(
        (o) => (o as Order).id,
      )
      const progress: OrderBulkProgress[] = []
      const key = uid('bulk')
      const scoped = actors.storeManager([w.storeId])
      const first = await w.oms.orders.bulkStatus(
        { actor: scoped, orderIds: ids, type: 'order.start_processing', idempotencyKey: key },
        (p) => progress.push(p),
      )
      expect(first.results.map((r) => r.orderId)).toEqual(ids)
      expect(first.results.map((r) => (r.ok ? 'ok' : r.code))).toEqual([
        'ok',
        'INVALID_TRANSITION',
        'ok',
        'FORBIDDEN',
        'ok',
        'ok',
      ])
      expect([first.applied, first.refused]).toEqual([4, 2])
      expect(progress.map((p) => p.done)).toEqual([1, 2, 3, 4, 5, 6])
      expect(progress.at(-1)).toEqual({ done: 6, total: 6, applied: 4, refused: 2 })
      for (const o of confirmed)
        expect((await w.oms.orders.get({ actor: m, orderId: o.id })).status).toBe('processing')
      expect((await w.oms.orders.get({ actor: m, orderId: elsewhere.id })).status).toBe('confirmed')
      // the same call again: the same answer, nothing changed again (one processing_started row each)
      const again = await w.oms.orders.bulkStatus({
        actor: scoped,
        orderIds: ids,
        type: 'order.start_processing',
        idempotencyKey: key,
      })
      expect(again.results.map((r) => (r.ok ? r.version : r.code))).toEqual(
        first.results.map((r) => (r.ok ? r.version : r.code)),
      )
      const started = await w.oms.history.search({ actor: m, actions: ['processing_started'], limit: 100 })
      expect(started.entries.map((e) => e.orderId).sort()).toEqual(confirmed.map((o) => o.id).sort())
      // the same key with another payload is refused as a whole, before any order is touched
      expect(
        await rejectionOf(
          w.oms.orders.bulkStatus({
            actor: scoped,
            orderIds: ids,
            type: 'order.cancel',
            idempotencyKey: key,
          }),
        ),
      ).toMatchObject({ code: 'IDEMPOTENCY_MISMATCH' })
      await expectInvariants(w)
    })

    test('bulk assignment sets the assignee of each reachable order once; the assignee is searchable', async () => {
      const w = await createWorld(storage(), { flower: 100 })
      const m = actors.manager
      const orders: Order[] = []
      for (let i = 0; i < 5; i++) orders.push(await placeOrder(w, { flower: 1 }))
      const ids = [...orders.map((o) => o.id), 'no-such-order']
      const r = await w.oms.orders.bulkAssign({ actor: m, orderIds: ids, assigneeId: 'sam' })
      expect(r.results.map((x) => (x.ok ? 'ok' : x.code))).toEqual([
        'ok',
        'ok',
        'ok',
        'ok',
        'ok',
        'NOT_FOUND',
      ])
      const found = await w.oms.orders.search({ actor: m, assigneeId: 'sam', includeTotal: true })
      expect(found.total).toBe(5)
      // assigning again to the same person changes nothing; to nobody clears it, with an audit row each
      const same = await w.oms.orders.assign({
        actor: m,
        orderId: orders[0]?.id as string,
        assigneeId: 'sam',
      })
      expect(same.version).toBe(
        (await w.oms.orders.get({ actor: m, orderId: orders[0]?.id as string })).version,
      )
      const cleared = await w.oms.orders.assign({
        actor: m,
        orderId: orders[0]?.id as string,
        assigneeId: null,
      })
      expect(cleared.assigneeId).toBeNull()
      const audit = (await w.oms.history.forOrder({ actor: m, orderId: orders[0]?.id as string })).filter(
        (h) => h.action === 'assigned',
      )
      expect(audit.map((h) => h.additionalData)).toEqual([
        { from: null, to: 'sam' },
        { from: 'sam', to: null },
      ])
      // the warehouse may assign; customer service may not
      expect(
        (
          await w.oms.orders.bulkAssign({
            actor: actors.service,
            orderIds: [orders[1]?.id as string],
            assigneeId: 'x',
          })
        ).results[0],
      ).toMatchObject({ ok: false, code: 'FORBIDDEN' })
      expect(
        await rejectionOf(w.oms.orders.bulkAssign({ actor: m, orderIds: [], assigneeId: 'x' })),
      ).toMatchObject({ code: 'VALIDATION' })
      expect(
        await rejectionOf(
          w.oms.orders.bulkAssign({
            actor: m,
            orderIds: Array.from({ length: 1001 }, (_, i) => `o${i}`),
            assigneeId: 'x',
          }),
        ),
      ).toMatchObject({ code: 'VALIDATION' })
      await expectInvariants(w)
    })
  })
}
