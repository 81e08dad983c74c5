import { describe, expect, test } from 'vitest'
import type { CustomerNotification } from '../../ports/notifier'
import { actors, createWorld, placeOrder, uid } from '../fixtures'
import { snapshotStorage } from '../invariants'
import type { Suite } from './suite'
import { expectInvariants, rejectionOf, useStorage } from './use-storage'

export const accessAuditNotesSuite: Suite = (target) =>
  describe('access, audit and notes', () => {
    const storage = useStorage(target)

    test('every status change writes exactly one history entry with actor, ip and user agent (I4)', async () => {
      const w = await createWorld(storage(), { flower: 5 })
      const order = await placeOrder(w, { flower: 1 })
      const clerk = {
        id: 'clerk-9',
        roles: ['order_manager' as const],
        ip: '10.0.0.9',
        userAgent: 'kiosk/2.1',
      }
      await w.oms.orders.confirmPayment({ actor: clerk, orderId: order.id })
      await w.oms.orders.send({ actor: clerk, orderId: order.id, type: 'order.start_processing' })
      const history = await w.oms.history.forOrder({ actor: actors.manager, orderId: order.id })
      const changes = history.filter((h) => h.newStatus !== null)
      expect(changes.map((h) => [h.oldStatus, h.newStatus])).toEqual([
        [null, 'pending'],
        ['pending', 'payment_pending'],
        ['payment_pending', 'confirmed'],
        ['confirmed', 'processing'],
      ])
      expect(changes[2]).toMatchObject({
        action: 'payment_received',
        actorId: 'clerk-9',
        ip: '10.0.0.9',
        userAgent: 'kiosk/2.1',
      })
      await expectInvariants(w)
    })

    test('a customer reaches only their own orders, and a miss looks the same as someone else’s order', async () => {
      const w = await createWorld(storage(), { flower: 5 })
      const alice = actors.customer(uid('alice'))
      const bob = actors.customer(uid('bob'))
      const mine = await placeOrder(w, { flower: 1 }, { actor: alice })
      expect(mine.customerId).toBe(alice.customerId)
      const other = await rejectionOf(w.oms.orders.get({ actor: bob, orderId: mine.id }))
      const missing = await rejectionOf(w.oms.orders.get({ actor: bob, orderId: 'no-such-order' }))
      expect(other.code).toBe('FORBIDDEN')
      expect(missing.code).toBe('FORBIDDEN')
      expect(other.message.replace(mine.id, 'X')).toBe(missing.message.replace('no-such-order', 'X'))
      expect(other.message).not.toContain('payment_pending')
      expect(await w.oms.orders.list({ actor: bob })).toEqual([])
      expect((await w.oms.orders.list({ actor: alice })).map((o) => o.id)).toEqual([mine.id])
      expect(
        (
          await rejectionOf(
            placeOrder(w, { flower: 1 }, { actor: alice, customerId: bob.customerId as string }),
          )
        ).code,
      ).toBe('FORBIDDEN')
    })

    test('a forbidden command writes nothing', async () => {
      const w = await createWorld(storage(), { flower: 5 })
      const order = await placeOrder(w, { flower: 1 })
      const before = await snapshotStorage(w.storage)
      const attempts = [
        () => w.oms.orders.cancel({ actor: actors.customer(uid('eve')), orderId: order.id }),
        () => w.oms.orders.confirmPayment({ actor: actors.warehouse, orderId: order.id }),
        () => w.oms.orders.cancel({ actor: actors.storeManager([uid('other-store')]), orderId: order.id }),
        () => w.oms.notes.add({ actor: actors.warehouse, orderId: order.id, text: 'hi' }),
        () =>
          w.oms.inventory.adjust({
            actor: actors.service,
            itemId: w.items.flower as string,
            locationId: w.locationId,
            delta: 5,
            reason: 'receive',
          }),
        () => placeOrder(w, { flower: 1 }, { actor: actors.warehouse }),
        () => placeOrder(w, { flower: 1 }, { actor: actors.storeManager([uid('other-store')]) }),
      ]
      for (const attempt of attempts) expect((await rejectionOf(attempt())).code).toBe('FORBIDDEN')
      expect(await snapshotStorage(w.storage)).toBe(before)
    })

    test('warehouse staff move orders through fulfilment but cannot cancel or take payments', async () => {
      const w = await createWorld(storage(), { flower: 5 })
      const order = await placeOrder(w, { flower: 1 })
      await w.oms.orders.confirmPayment({ actor: actors.payments, orderId: order.id })
      expect(await w.oms.orders.allowedEvents({ actor: actors.warehouse, orderId: order.id })).toEqual([
        'order.start_processing',
      ])
      await w.oms.orders.send({ actor: actors.warehouse, orderId: order.id, type: 'order.start_processing' })
    })

    test('store managers are limited to their stores', async () => {
      const w = await createWorld(storage(), { flower: 5 })
      const order = await placeOrder(w, { flower: 1 })
      const own = actors.storeManager([w.storeId])
      expect((await w.oms.orders.get({ actor: own, orderId: order.id })).id).toBe(order.id)
      expect((await w.oms.orders.list({ actor: own })).map((o) => o.id)).toEqual([order.id])
      expect(await w.oms.orders.list({ actor: actors.storeManager([uid('elsewhere')]) })).toEqual([])
    })

    test('notes: internal vs customer-visible; customers never see internal notes; author or manager edits', async () => {
      const w = await createWorld(storage(), { flower: 5 })
      const alice = actors.customer(uid('alice'))
      const order = await placeOrder(w, { flower: 1 }, { actor: alice })
      const internal = await w.oms.notes.add({
        actor: actors.service,
        orderId: order.id,
        text: 'ID looked odd, checked twice',
      })
      w.clock.advance(1000)
      const visible = await w.oms.notes.add({
        actor: actors.service,
        orderId: order.id,
        text: 'Your order is being prepared',
        isInternal: false,
      })
      expect(internal.isInternal).toBe(true)
      expect((await w.oms.notes.list({ actor: alice, orderId: order.id })).map((n) => n.id)).toEqual([
        visible.id,
      ])
      expect((await w.oms.notes.list({ actor: actors.service, orderId: order.id })).map((n) => n.id)).toEqual(
        [internal.id, visible.id],
      )
      const other = { id: 'cs-2', roles: ['customer_service' as const] }
      expect(
        (await rejectionOf(w.oms.notes.update({ actor: other, noteId: internal.id, text: 'edited' }))).code,
      ).toBe('FORBIDDEN')
      const edited = await w.oms.notes.update({
        actor: actors.service,
        noteId: internal.id,
        text: 'ID verified',
      })
      expect(edited.text).toBe('ID verified')
      await w.oms.notes.delete({ actor: actors.manager, noteId: internal.id })
      expect((await w.oms.notes.list({ actor: actors.manager, orderId: order.id })).map((n) => n.id)).toEqual(
        [visible.id],
      )
      const actions = (await w.oms.history.forOrder({ actor: actors.manager, orderId: order.id })).map(
        (h) => h.action,
      )
      expect(actions).toEqual(expect.arrayContaining(['note_added', 'note_updated', 'note_deleted']))
    })

    test('a note with notify sets notifiedAt through the notification port, after commit, once', async () => {
      const sent: CustomerNotification[] = []
      const w = await createWorld(
        storage(),
        { flower: 5 },
        { notifier: { notify: async (n) => void sent.push(n) } },
      )
      const order = await placeOrder(w, { flower: 1 }, { customerId: 'cust-1' })
      const note = await w.oms.notes.add({
        actor: actors.service,
        orderId: order.id,
        text: 'Ready at 5pm',
        isInternal: false,
        notifyCustomer: true,
      })
      expect(note.notifiedAt).toBeNull()
      expect(sent).toEqual([])
      await w.oms.events.drain()
      await w.oms.events.drain()
      expect(sent).toEqual([
        {
          kind: 'order_note',
          orderId: order.id,
          orderNumber: order.number,
          customerId: 'cust-1',
          noteId: note.id,
          text: 'Ready at 5pm',
        },
      ])
      const [stored] = await w.oms.notes.list({ actor: actors.manager, orderId: order.id })
      expect(stored?.notifiedAt).toEqual(w.clock.now())
      expect(
        (
          await rejectionOf(
            w.oms.notes.add({ actor: actors.service, orderId: order.id, text: 'x', notifyCustomer: true }),
          )
        ).code,
      ).toBe('FORBIDDEN')
    })
  })
