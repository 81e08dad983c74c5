import { describe, expect, test } from 'vitest'
import type { DomainEvent } from '../../outbox/outbox-relay'
import { actors, createWorld, placeOrder } from '../fixtures'
import type { Suite } from './suite'
import { useStorage } from './use-storage'

export const outboxSuite: Suite = (target) =>
  describe('outbox', () => {
    const storage = useStorage(target)

    test('events are written with the change and delivered at least once, in order per order', async () => {
      const w = await createWorld(storage(), { flower: 5 })
      const seen: DomainEvent[] = []
      w.oms.events.subscribe((e) => void seen.push(e))
      const a = await placeOrder(w, { flower: 1 })
      const b = await placeOrder(w, { flower: 1 })
      await w.oms.orders.confirmPayment({ actor: actors.payments, orderId: a.id })
      await w.oms.orders.cancel({ actor: actors.manager, orderId: b.id })
      await w.oms.orders.send({ actor: actors.manager, orderId: a.id, type: 'order.start_processing' })
      await w.oms.events.drain()
      const forA = seen
        .filter((e) => e.aggregateId === a.id)
        .map((e) => `${e.type}:${(e.payload as { to?: string }).to ?? ''}`)
      expect(forA).toEqual([
        'order.created:',
        'order.status_changed:confirmed',
        'order.status_changed:processing',
      ])
      const forB = seen.filter((e) => e.aggregateId === b.id).map((e) => e.type)
      expect(forB).toEqual(['order.created', 'order.status_changed'])
      expect(await w.storage.transaction((tx) => tx.outbox.list({ delivered: false }))).toEqual([])
    })

    test('a failing handler is retried later; later events of that order wait for it', async () => {
      const w = await createWorld(storage(), { flower: 5 })
      const a = await placeOrder(w, { flower: 1 })
      await w.oms.orders.confirmPayment({ actor: actors.payments, orderId: a.id })
      let fail = true
      const seen: string[] = []
      w.oms.events.subscribe((e) => {
        if (e.aggregateId !== a.id) return
        if (fail && e.type === 'order.created') throw new Error('downstream down')
        seen.push(e.type)
      })
      const first = await w.oms.events.relayOnce()
      expect(first.failed).toBeGreaterThanOrEqual(1)
      expect(seen).toEqual([])
      fail = false
      w.clock.advance(10 * 60_000)
      await w.oms.events.drain()
      expect(seen).toEqual(['order.created', 'order.status_changed'])
    })

    test('a relay that died mid-delivery is taken over when its lease ends, losing nothing', async () => {
      const w = await createWorld(storage(), { flower: 5 })
      const a = await placeOrder(w, { flower: 1 })
      // a relay claims and "crashes" before marking anything delivered
      const claimed = await w.storage.transaction((tx) =>
        tx.outbox.claim({ owner: 'dead-relay', limit: 1000, leaseMs: 30_000, now: w.clock.now() }),
      )
      expect(claimed.some((e) => e.aggregateId === a.id)).toBe(true)
      const seen: string[] = []
      w.oms.events.subscribe((e) => void (e.aggregateId === a.id && seen.push(e.type)))
      await w.oms.events.drain()
      expect(seen).toEqual([])
      w.clock.advance(31_000)
      await w.oms.events.drain()
      expect(seen).toEqual(['order.created'])
    })
  })
