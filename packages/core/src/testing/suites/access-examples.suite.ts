import { describe, expect, test } from 'vitest'
import { createOms } from '../../create-oms'
import type { CallerActor } from '../../domain/schemas'
import { actors, createWorld, placeOrder, uid, type World } from '../fixtures'
import { snapshotStorage } from '../invariants'
import type { Suite } from './suite'
import { expectInvariants, rejectionOf, useStorage } from './use-storage'

/** A second store with its own sales floor and stock, beside the world's own store. */
async function secondStore(w: World, stock = 10): Promise<{ storeId: string; floorId: string }> {
  const storeId = uid('store-2')
  const floorId = uid('floor-2')
  await w.oms.inventory.defineLocation({
    actor: actors.manager,
    location: { id: floorId, storeId, name: 'Floor 2', kind: 'sales_floor' },
  })
  await w.oms.inventory.receive({
    actor: actors.manager,
    itemId: w.items.flower as string,
    locationId: floorId,
    quantity: stock,
  })
  return { storeId, floorId }
}

const manager = (storeIds: string[]): CallerActor => ({ id: uid('sm'), roles: ['store_manager'], storeIds })

/** The cases reported against access and input validation, each as its own test. */
export const accessExamplesSuite: Suite = (target) =>
  describe('access and input: the reported cases', () => {
    const storage = useStorage(target)

    test('a store-scoped manager cannot take over another store’s location, nor set its stock', async () => {
      const w = await createWorld(storage(), { flower: 10 })
      const two = await secondStore(w)
      const own = manager([w.storeId])
      const before = await snapshotStorage(w.storage)
      const moved = await rejectionOf(
        w.oms.inventory.defineLocation({
          actor: own,
          location: { id: two.floorId, storeId: w.storeId, name: 'Mine now', kind: 'sales_floor' },
        }),
      )
      expect(moved.code).toBe('FORBIDDEN')
      const zeroed = await rejectionOf(
        w.oms.inventory.set({
          actor: own,
          itemId: w.items.flower as string,
          locationId: two.floorId,
          expected: 10,
          quantity: 0,
        }),
      )
      expect(zeroed.code).toBe('FORBIDDEN')
      expect(await snapshotStorage(w.storage)).toBe(before)
      // store-2 still sells
      const sale = await w.oms.orders.create({
        actor: actors.manager,
        channel: 'pos',
        flow: 'pickup',
        storeId: two.storeId,
        currency: 'USD',
        lines: [{ itemId: w.items.flower as string, quantity: 10, unitPriceMinor: 100 }],
      })
      expect(sale.status).toBe('payment_pending')
    })

    test('store-scoped staff cannot run global operations (items, repair, the sweeper)', async () => {
      const w = await createWorld(storage(), { flower: 1 })
      const own = manager([w.storeId])
      const before = await snapshotStorage(w.storage)
      const attempts = [
        () =>
          w.oms.inventory.defineItem({
            actor: own,
            item: { id: uid('i'), sku: 'X', name: 'X', unit: 'each' },
          }),
        () => w.oms.inventory.reconcileProjections({ actor: own, repair: true }),
        () => w.oms.inventory.reconcileProjections({ actor: own }),
        () => w.oms.reservations.expireDue({ actor: own }),
      ]
      for (const attempt of attempts) expect((await rejectionOf(attempt())).code).toBe('FORBIDDEN')
      expect(await snapshotStorage(w.storage)).toBe(before)
    })

    test('scoped reads stay in scope: movements and history of other stores are not returned; no stores means none', async () => {
      const w = await createWorld(storage(), { flower: 5 })
      const two = await secondStore(w)
      await placeOrder(w, { flower: 1 }, { actor: { id: 'kiosk', roles: ['order_manager'], ip: '10.1.1.1' } })
      const own = manager([w.storeId])
      const movements = await w.oms.inventory.movements({ actor: own, itemId: w.items.flower as string })
      expect(movements.length).toBeGreaterThan(0)
      expect(movements.every((m) => m.locationId !== two.floorId)).toBe(true)
      const history = await w.oms.history.list({
        actor: { ...own, roles: ['customer_service'] },
        limit: 1000,
      })
      expect(history.every((h) => h.storeId === w.storeId)).toBe(true)
      const nowhere = manager([])
      expect(await w.oms.inventory.movements({ actor: nowhere })).toEqual([])
      expect(await w.oms.history.list({ actor: nowhere })).toEqual([])
      expect(await w.oms.orders.list({ actor: nowhere })).toEqual([])
      expect(await w.oms.inventory.levels({ actor: nowhere })).toEqual([])
    })

    test('mixed roles: a customer who is also staff gets the customer’s reach for what only the customer role grants', async () => {
      const w = await createWorld(storage(), { flower: 5 })
      const me = uid('me')
      const someone = uid('someone')
      const mixed: CallerActor = {
        id: uid('mixed'),
        roles: ['customer', 'warehouse_staff'],
        storeIds: [w.storeId],
        customerId: me,
      }
      const theirs = await placeOrder(w, { flower: 1 }, { customerId: someone })
      expect((await rejectionOf(w.oms.orders.cancel({ actor: mixed, orderId: theirs.id }))).code).toBe(
        'FORBIDDEN',
      )
      expect(
        (await rejectionOf(placeOrder(w, { flower: 1 }, { actor: mixed, customerId: someone }))).code,
      ).toBe('FORBIDDEN')
      // what the staff role grants still reaches the store: the warehouse may view it
      expect((await w.oms.orders.get({ actor: mixed, orderId: theirs.id })).id).toBe(theirs.id)
      const mine = await placeOrder(w, { flower: 1 }, { actor: mixed })
      expect(mine.customerId).toBe(me)
      expect((await w.oms.orders.cancel({ actor: mixed, orderId: mine.id })).status).toBe('cancelled')
    })

    test('a customer cannot turn a bagged order into a no-show', async () => {
      const w = await createWorld(storage(), { flower: 5 })
      const alice = actors.customer(uid('alice'))
      const order = await placeOrder(w, { flower: 1 }, { actor: alice })
      await w.oms.orders.confirmPayment({ actor: actors.payments, orderId: order.id })
      await w.oms.orders.send({ actor: actors.manager, orderId: order.id, type: 'order.start_processing' })
      await w.oms.orders.send({ actor: actors.manager, orderId: order.id, type: 'order.ready' })
      const refused = await rejectionOf(
        w.oms.orders.send({ actor: alice, orderId: order.id, type: 'order.no_show' }),
      )
      expect(refused.code).toBe('FORBIDDEN')
      expect((await w.oms.orders.get({ actor: alice, orderId: order.id })).status).toBe('ready_for_pickup')
      expect(await w.oms.orders.allowedEvents({ actor: alice, orderId: order.id })).toEqual([])
    })

    test('an idempotent replay from the same id in another role, store scope or customer never gets the stored result', async () => {
      const w = await createWorld(storage(), { flower: 5 })
      const order = await placeOrder(w, { flower: 1 })
      const author: CallerActor = { id: 'shared-id', roles: ['order_manager'] }
      const note = await w.oms.notes.add({
        actor: author,
        orderId: order.id,
        text: 'internal: customer was rude',
        idempotencyKey: 'k-1',
      })
      expect(note.isInternal).toBe(true)
      for (const other of [
        { id: 'shared-id', roles: ['customer_service'] },
        { id: 'shared-id', roles: ['order_manager'], storeIds: [uid('elsewhere')] },
        { id: 'shared-id', roles: ['customer'], customerId: order.customerId ?? 'c' },
      ] satisfies CallerActor[]) {
        const replay = await rejectionOf(
          w.oms.notes.add({
            actor: other,
            orderId: order.id,
            text: 'internal: customer was rude',
            idempotencyKey: 'k-1',
          }),
        )
        expect(['IDEMPOTENCY_MISMATCH', 'FORBIDDEN']).toContain(replay.code)
        expect(JSON.stringify(replay)).not.toContain('rude')
      }
      // the same caller replays and gets the first result
      const again = await w.oms.notes.add({
        actor: author,
        orderId: order.id,
        text: 'internal: customer was rude',
        idempotencyKey: 'k-1',
      })
      expect(again.id).toBe(note.id)
    })

    test('idempotency keys are per caller: one customer cannot squat a key another will use', async () => {
      const w = await createWorld(storage(), { flower: 5 })
      const alice = actors.customer(uid('alice'))
      const bob = actors.customer(uid('bob'))
      const squat = await placeOrder(w, { flower: 1 }, { actor: bob, idempotencyKey: 'cart-1' })
      const real = await placeOrder(w, { flower: 1 }, { actor: alice, idempotencyKey: 'cart-1' })
      expect(real.id).not.toBe(squat.id)
      expect(real.customerId).toBe(alice.customerId)
    })

    test('a replay re-checks access: the stored result is not returned once the caller may no longer see it', async () => {
      const w = await createWorld(storage(), { flower: 5 })
      const order = await placeOrder(w, { flower: 1 })
      const clerk: CallerActor = { id: 'clerk', roles: ['store_manager'], storeIds: [w.storeId] }
      const cmd = { actor: clerk, orderId: order.id, idempotencyKey: 'cancel-1', reason: 'x' }
      await w.oms.orders.cancel(cmd)
      // the host takes the cancel permission away from store managers; the same call is replayed
      const restricted = createOms({
        storage: w.storage,
        clock: w.clock,
        roles: { store_manager: ['order.view'] },
      })
      const replay = await rejectionOf(restricted.orders.cancel(cmd))
      expect(replay.code).toBe('FORBIDDEN')
    })

    test('missing and out-of-reach targets answer alike, naming only what was asked for', async () => {
      const w = await createWorld(storage(), { flower: 5 })
      const two = await secondStore(w)
      const theirs = await w.oms.orders.create({
        actor: actors.manager,
        channel: 'pos',
        flow: 'pickup',
        storeId: two.storeId,
        currency: 'USD',
        lines: [{ itemId: w.items.flower as string, quantity: 2, unitPriceMinor: 100 }],
      })
      const note = await w.oms.notes.add({ actor: actors.manager, orderId: theirs.id, text: 'n' })
      const [hold] = await w.oms.reservations.listByOrder({ actor: actors.manager, orderId: theirs.id })
      const own = manager([w.storeId])
      // thunks, run one after the other: a promise created early could reject before anyone awaits it
      const same = async (
        a: () => Promise<unknown>,
        b: () => Promise<unknown>,
        realId: string,
        missingId: string,
      ) => {
        const x = await rejectionOf(a())
        const y = await rejectionOf(b())
        expect(x.code).toBe('FORBIDDEN')
        expect(y.code).toBe('FORBIDDEN')
        expect(x.message.replace(realId, 'ID')).toBe(y.message.replace(missingId, 'ID'))
        expect(JSON.stringify(x)).not.toContain(theirs.id)
        expect(JSON.stringify(x)).not.toContain(two.storeId)
      }
      await same(
        () => w.oms.notes.update({ actor: own, noteId: note.id, text: 'x' }),
        () => w.oms.notes.update({ actor: own, noteId: 'no-note', text: 'x' }),
        note.id,
        'no-note',
      )
      await same(
        () => w.oms.notes.delete({ actor: own, noteId: note.id }),
        () => w.oms.notes.delete({ actor: own, noteId: 'no-note' }),
        note.id,
        'no-note',
      )
      await same(
        () => w.oms.reservations.release({ actor: own, reservationId: hold?.id as string, quantity: 1 }),
        () => w.oms.reservations.release({ actor: own, reservationId: 'no-hold', quantity: 1 }),
        hold?.id as string,
        'no-hold',
      )
      await same(
        () => w.oms.reservations.commit({ actor: own, reservationId: hold?.id as string }),
        () => w.oms.reservations.commit({ actor: own, reservationId: 'no-hold' }),
        hold?.id as string,
        'no-hold',
      )
      await same(
        () =>
          w.oms.inventory.receive({
            actor: own,
            itemId: w.items.flower as string,
            locationId: two.floorId,
            quantity: 1,
          }),
        () =>
          w.oms.inventory.receive({
            actor: own,
            itemId: w.items.flower as string,
            locationId: 'no-floor',
            quantity: 1,
          }),
        two.floorId,
        'no-floor',
      )
      // creating an order at another store's location says nothing about that location's store
      const create = await rejectionOf(
        w.oms.orders.create({
          actor: own,
          channel: 'pos',
          flow: 'pickup',
          storeId: w.storeId,
          locationId: two.floorId,
          currency: 'USD',
          lines: [{ itemId: w.items.flower as string, quantity: 1, unitPriceMinor: 100 }],
        }),
      )
      expect(create.code).toBe('VALIDATION')
      expect(create.message).not.toContain(two.storeId)
    })

    test('read and filter parameters are parsed: bad pages, ids, dates and filters are VALIDATION on every storage', async () => {
      const w = await createWorld(storage(), { flower: 5 })
      const order = await placeOrder(w, { flower: 1 })
      const bad: Array<[string, () => Promise<unknown>]> = [
        ['limit', () => w.oms.orders.list({ actor: actors.manager, limit: 'abc' as unknown as number })],
        ['limit', () => w.oms.orders.list({ actor: actors.manager, limit: -1 })],
        ['limit', () => w.oms.orders.list({ actor: actors.manager, limit: 1_000_000 })],
        ['offset', () => w.oms.orders.list({ actor: actors.manager, offset: 1.5 })],
        [
          'statuses',
          () => w.oms.orders.list({ actor: actors.manager, statuses: 'confirmed' as unknown as string[] }),
        ],
        [
          'createdFrom',
          () => w.oms.orders.list({ actor: actors.manager, createdFrom: 'yesterday' as unknown as Date }),
        ],
        [
          'orderId',
          () => w.oms.orders.get({ actor: actors.manager, orderId: { $ne: 1 } as unknown as string }),
        ],
        [
          'repair',
          () =>
            w.oms.inventory.reconcileProjections({
              actor: actors.manager,
              repair: 'yes' as unknown as boolean,
            }),
        ],
        ['limit', () => w.oms.inventory.movements({ actor: actors.manager, limit: 0 })],
        [
          'idempotencyKey',
          () => w.oms.notes.delete({ actor: actors.manager, noteId: 'n', idempotencyKey: '' }),
        ],
        ['shape', () => w.oms.orders.get({ actor: actors.manager, orderId: order.id, extra: 1 } as never)],
      ]
      for (const [field, call] of bad) {
        const error = await rejectionOf(call())
        expect({ field, code: error.code }).toEqual({ field, code: 'VALIDATION' })
      }
      // dates as ISO strings work
      const since = await w.oms.orders.list({ actor: actors.manager, createdFrom: '2000-01-01T00:00:00Z' })
      expect(since.map((o) => o.id)).toEqual([order.id])
    })

    test('amounts stay exact: totals above 2^53 are VALIDATION, not stored', async () => {
      const w = await createWorld(storage(), { flower: 5000 })
      const error = await rejectionOf(
        w.oms.orders.create({
          actor: actors.manager,
          channel: 'pos',
          flow: 'pickup',
          storeId: w.storeId,
          currency: 'USD',
          lines: [
            { itemId: w.items.flower as string, quantity: 1000, unitPriceMinor: Number.MAX_SAFE_INTEGER },
          ],
        }),
      )
      expect(error.code).toBe('VALIDATION')
      expect(error.message).toContain('lines.0.unitPriceMinor')
      expect(await w.oms.orders.list({ actor: actors.manager })).toEqual([])
    })

    test('free-form JSON is plain, bounded JSON on every storage: BigInt, cycles, functions and huge values are refused', async () => {
      const w = await createWorld(storage(), { flower: 5 })
      const cyclic: Record<string, unknown> = {}
      cyclic.self = cyclic
      let deep: Record<string, unknown> = {}
      for (let i = 0; i < 20; i++) deep = { deep }
      const values: Array<[string, unknown]> = [
        ['bigint', { n: BigInt(1) }],
        ['cycle', cyclic],
        ['function', { f: () => 1 }],
        ['date', { d: new Date() }],
        ['huge', { s: 'x'.repeat(20_000) }],
        ['deep', deep],
        ['not finite', { n: Number.POSITIVE_INFINITY }],
      ]
      const before = await snapshotStorage(w.storage)
      for (const [what, attributes] of values) {
        const error = await rejectionOf(
          w.oms.orders.create({
            actor: actors.manager,
            channel: 'pos',
            flow: 'pickup',
            storeId: w.storeId,
            currency: 'USD',
            lines: [{ itemId: w.items.flower as string, quantity: 1, unitPriceMinor: 100 }],
            attributes: attributes as Record<string, unknown>,
          }),
        )
        expect({ what, code: error.code }).toEqual({ what, code: 'VALIDATION' })
      }
      expect(await snapshotStorage(w.storage)).toBe(before)
      // plain JSON round-trips identically
      const attributes = { idChecked: true, tags: ['a', 1, null], nested: { n: -1.5 } }
      const stored = await w.oms.orders.create({
        actor: actors.manager,
        channel: 'pos',
        flow: 'pickup',
        storeId: w.storeId,
        currency: 'USD',
        lines: [{ itemId: w.items.flower as string, quantity: 1, unitPriceMinor: 100 }],
        attributes,
      })
      expect((await w.oms.orders.get({ actor: actors.manager, orderId: stored.id })).attributes).toEqual(
        attributes,
      )
      await expectInvariants(w)
    })

    test('a very long event type is refused without being echoed back', async () => {
      const w = await createWorld(storage(), { flower: 5 })
      const order = await placeOrder(w, { flower: 1 })
      const type = `order.${'x'.repeat(10_000)}`
      const error = await rejectionOf(w.oms.orders.send({ actor: actors.manager, orderId: order.id, type }))
      expect(error.code).toBe('VALIDATION')
      expect(error.message.length).toBeLessThan(500)
    })

    test('callers cannot claim the library’s own system role', async () => {
      const w = await createWorld(storage(), { flower: 5 })
      const error = await rejectionOf(
        w.oms.reservations.expireDue({ actor: { id: 'x', roles: ['system' as never] } }),
      )
      expect(error.code).toBe('VALIDATION')
      expect(error.message).toContain('actor.roles.0')
    })
  })
