import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { createOms } from '../../create-oms'
import type { CallerActor, Order } from '../../domain/schemas'
import type { CustomerNotification } from '../../ports/notifier'
import type { PaymentOperation, Payments } from '../../ports/payments'
import type { Storage } from '../../ports/storage'
import { FakePayments } from '../fake-payments'
import { actors, createWorld, RETURN_TO_QUALITY_CHECK, type World } from '../fixtures'
import type { Suite } from './suite'
import { codeOf, expectInvariants, rejectionOf, useStorage } from './use-storage'

const m = actors.manager

/**
 * The storage as a payment test sees it: counts open transactions (the provider checks it is never called
 * inside one) and can be made to fail every transaction (a process that died).
 */
function watched(storage: Storage) {
  const state = { open: 0, down: false }
  const wrapped = new Proxy(storage, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property)
      if (property === 'transaction' && typeof value === 'function') {
        return async (...args: unknown[]) => {
          if (state.down) throw new Error('the process died')
          state.open += 1
          try {
            return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args)
          } finally {
            state.open -= 1
          }
        }
      }
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return { storage: wrapped, state }
}

interface PayWorld extends World {
  provider: FakePayments
  /** Provider calls made while a storage transaction was open (must stay empty). */
  insideTransaction: string[]
  state: { open: number; down: boolean }
  notes: CustomerNotification[]
}

async function payWorld(
  storage: Storage,
  stock: Record<string, number> = { flower: 20, vape: 20 },
  policies: { paymentAttempts?: number } = {},
): Promise<PayWorld> {
  const { storage: wrapped, state } = watched(storage)
  const notes: CustomerNotification[] = []
  const insideTransaction: string[] = []
  // the provider is built before the world, on the world's clock (set below)
  let provider: FakePayments | null = null
  const lazy = {
    capture: (r: Parameters<FakePayments['capture']>[0]) => (provider as FakePayments).capture(r),
    void: (r: Parameters<FakePayments['void']>[0]) => (provider as FakePayments).void(r),
    refund: (r: Parameters<FakePayments['refund']>[0]) => (provider as FakePayments).refund(r),
  }
  const w = await createWorld(wrapped, stock, {
    payments: lazy,
    policies,
    notifier: { notify: async (n) => void notes.push(n) },
  })
  provider = new FakePayments({ clock: w.clock })
  provider.onCall = (r) => {
    if (state.open > 0) insideTransaction.push(`${r.operation} ${r.idempotencyKey}`)
  }
  return { ...w, provider, insideTransaction, state, notes }
}

/** A paid (authorised) pickup order: 2 flower at 1,500 less 100 discount plus 80 tax, 1 vape at 4,000 plus 320 tax. */
async function authorised(
  w: World,
  flow: 'pickup' | 'delivery' = 'pickup',
  customerId?: string,
): Promise<Order> {
  const order = await w.oms.orders.create({
    actor: m,
    channel: flow === 'pickup' ? 'kiosk' : 'ecommerce',
    flow,
    storeId: w.storeId,
    currency: 'USD',
    ...(customerId ? { customerId } : {}),
    shippingMinor: flow === 'delivery' ? 500 : 0,
    lines: [
      {
        itemId: w.items.flower as string,
        quantity: 2,
        unitPriceMinor: 1500,
        discountMinor: 100,
        taxMinor: 80,
      },
      { itemId: w.items.vape as string, quantity: 1, unitPriceMinor: 4000, taxMinor: 320 },
    ],
  })
  return w.oms.orders.confirmPayment({ actor: actors.payments, orderId: order.id })
}

const send = (w: World, order: Order, type: string, data?: Record<string, unknown>, actor: CallerActor = m) =>
  w.oms.orders.send({ actor, orderId: order.id, type, ...(data ? { data } : {}) })

/** Picks up a pickup order (the hand-over that sells its holds). */
async function handOver(w: World, order: Order): Promise<Order> {
  await send(w, order, 'order.start_processing')
  await send(w, order, 'order.ready')
  return send(w, order, 'order.pick_up')
}

/** Through the detailed return process up to the quality check. */
async function returned(w: World, order: Order): Promise<void> {
  for (const type of RETURN_TO_QUALITY_CHECK) await send(w, order, type)
}

const ops = (w: World, order: Order) => w.oms.payments.listByOrder({ actor: m, orderId: order.id })
const paymentOf = async (w: World, order: Order) =>
  (await w.oms.orders.get({ actor: m, orderId: order.id })).paymentStatus
const lineId = (w: World, order: Order, name: string) =>
  order.lines.find((l) => l.itemId === w.items[name])?.id as string

/** Moves the clock past any retry delay of the relay (at most 5 minutes) and its leases. */
const later = (w: World) => w.clock.advance(10 * 60_000)

const brief = (o: PaymentOperation) => ({
  kind: o.kind,
  status: o.status,
  amountMinor: o.amountMinor,
  attempts: o.attempts,
  code: o.lastError?.code ?? null,
})

export const paymentsSuite: Suite = (target, options) =>
  describe('payments', () => {
    const storage = useStorage(target)

    test('a webhook authorises; the hand-over captures the total after commit, once', async () => {
      const w = await payWorld(storage())
      const order = await authorised(w)
      expect(order.paymentStatus).toBe('authorized')
      expect(order.totals.totalMinor).toBe(2 * 1500 - 100 + 80 + 4000 + 320)
      const picked = await handOver(w, order)
      expect(picked.status).toBe('picked_up')
      // recorded with the hand-over, not yet called
      expect((await ops(w, order)).map(brief)).toEqual([
        { kind: 'capture', status: 'pending', amountMinor: 7300, attempts: 0, code: null },
      ])
      expect(w.provider.calls).toEqual([])
      await w.oms.events.drain()
      const [capture] = await ops(w, order)
      expect(capture).toMatchObject({
        status: 'succeeded',
        attempts: 1,
        idempotencyKey: `${order.id}:capture:1`,
        providerReference: w.provider.moved[0]?.reference,
      })
      expect(await paymentOf(w, order)).toBe('paid')
      expect(w.provider.netOf(order.id)).toBe(7300)
      // draining again changes nothing
      await w.oms.events.drain()
      expect(w.provider.calls).toHaveLength(1)
      expect(await w.oms.payments.get({ actor: m, paymentId: capture?.id as string })).toEqual(capture)
      expect(w.insideTransaction).toEqual([])
      await expectInvariants(w)
    })

    test('a delivery order is captured when it ships; cancelling an authorised order voids it', async () => {
      const w = await payWorld(storage())
      const order = await authorised(w, 'delivery')
      for (const type of ['order.start_processing', 'order.pack', 'order.ship']) await send(w, order, type)
      const cancelled = await authorised(w)
      await w.oms.orders.cancel({ actor: m, orderId: cancelled.id })
      await w.oms.events.drain()
      expect((await ops(w, order)).map(brief)).toEqual([
        { kind: 'capture', status: 'succeeded', amountMinor: 7800, attempts: 1, code: null },
      ])
      expect((await ops(w, cancelled)).map(brief)).toEqual([
        { kind: 'void', status: 'succeeded', amountMinor: 7300, attempts: 1, code: null },
      ])
      expect(await paymentOf(w, order)).toBe('paid')
      expect(await paymentOf(w, cancelled)).toBe('voided')
      expect(w.provider.netOf(cancelled.id)).toBe(0)
      expect(w.insideTransaction).toEqual([])
      await expectInvariants(w)
    })

    test('a short pick captures only what was handed over, and a full refund pays back no more', async () => {
      const w = await payWorld(storage())
      const order = await authorised(w)
      const [f, ...more] = await w.oms.fulfillments.create({ actor: m, orderId: order.id })
      expect(more).toEqual([])
      const fulfillmentId = f?.id as string
      // one of the two flower jars is missing; the vape is found
      for (const [name, quantity] of [
        ['flower', 1],
        ['vape', 1],
      ] as const)
        await w.oms.fulfillments.scan({
          actor: m,
          fulfillmentId,
          code: (w.items[name] as string).toUpperCase(),
          quantity,
        })
      await w.oms.fulfillments.completePicking({ actor: m, fulfillmentId, shortPick: true })
      await w.oms.fulfillments.pack({ actor: m, fulfillmentId, boxSize: 'S', weightGrams: 300 })
      await w.oms.fulfillments.handOver({ actor: m, fulfillmentId })
      await w.oms.events.drain()
      // 7,300 less half of the flower line (3,000 − 100 + 80 = 2,980): 5,810
      expect((await ops(w, order)).map(brief)).toEqual([
        { kind: 'capture', status: 'succeeded', amountMinor: 5810, attempts: 1, code: null },
      ])
      await returned(w, order)
      await send(w, order, 'refund.approve')
      await send(w, order, 'refund.process')
      await w.oms.events.drain()
      expect((await ops(w, order)).map(brief)).toEqual([
        { kind: 'capture', status: 'succeeded', amountMinor: 5810, attempts: 1, code: null },
        { kind: 'refund', status: 'succeeded', amountMinor: 5810, attempts: 1, code: null },
      ])
      expect(w.provider.netOf(order.id)).toBe(0)
      expect(w.insideTransaction).toEqual([])
      await expectInvariants(w)
    })

    test('an approved return refunds its lines: share of each line total, discounts and tax included', async () => {
      const w = await payWorld(storage())
      const order = await authorised(w)
      await handOver(w, order)
      await returned(w, order)
      await send(w, order, 'refund.approve', {
        lines: [{ orderLineId: lineId(w, order, 'flower'), quantity: 1, outcome: 'restock' }],
      })
      const refunded = await send(w, order, 'refund.process')
      expect(refunded).toMatchObject({ status: 'refunded', paymentStatus: 'authorized' })
      await w.oms.events.drain()
      // one flower of two: half of 3,000 − 100 + 80
      expect((await ops(w, order)).map(brief)).toEqual([
        { kind: 'capture', status: 'succeeded', amountMinor: 7300, attempts: 1, code: null },
        { kind: 'refund', status: 'succeeded', amountMinor: 1490, attempts: 1, code: null },
      ])
      const [, refund] = await ops(w, order)
      expect(refund?.lines).toEqual([
        { orderLineId: lineId(w, order, 'flower'), quantity: 1, amountMinor: 1490 },
      ])
      expect(await paymentOf(w, order)).toBe('partially_refunded')
      expect(w.provider.netOf(order.id)).toBe(7300 - 1490)
      const requested = await w.storage.transaction((tx) => tx.outbox.list({ aggregateId: order.id }))
      expect(requested.find((e) => e.type === 'payment.refund_requested')?.payload).toMatchObject({
        amountMinor: 1490,
        paymentId: refund?.id,
      })
      expect(w.insideTransaction).toEqual([])
      await expectInvariants(w)
    })

    test('without lines the refund pays back everything captured, and a refund names only sold lines', async () => {
      const w = await payWorld(storage())
      const order = await authorised(w)
      await handOver(w, order)
      await send(w, order, 'return.request')
      await send(w, order, 'return.approve')
      const tooMany = await rejectionOf(
        send(w, order, 'refund.process', { lines: [{ orderLineId: lineId(w, order, 'vape'), quantity: 2 }] }),
      )
      expect(tooMany).toMatchObject({ code: 'VALIDATION' })
      expect(JSON.stringify(tooMany)).toContain('data.lines.0.quantity')
      expect(await ops(w, order)).toHaveLength(1)
      await send(w, order, 'refund.process')
      await w.oms.events.drain()
      expect((await ops(w, order)).map((o) => [o.kind, o.status, o.amountMinor])).toEqual([
        ['capture', 'succeeded', 7300],
        ['refund', 'succeeded', 7300],
      ])
      expect(await paymentOf(w, order)).toBe('refunded')
      expect(w.provider.netOf(order.id)).toBe(0)
      await expectInvariants(w)
    })

    test('a refund that fails twice is retried with its attempts and error visible, then succeeds; the customer hears once', async () => {
      const w = await payWorld(storage())
      const order = await authorised(w, 'pickup', 'cust-7')
      await handOver(w, order)
      await w.oms.events.drain()
      await returned(w, order)
      await send(w, order, 'refund.approve', {
        lines: [{ orderLineId: lineId(w, order, 'vape'), quantity: 1, outcome: 'damaged' }],
      })
      await send(w, order, 'refund.process')
      w.provider.failNext(2, { kind: 'unavailable' })
      await w.oms.events.drain()
      const refund = async () => (await ops(w, order))[1] as PaymentOperation
      expect(brief(await refund())).toEqual({
        kind: 'refund',
        status: 'failed',
        amountMinor: 4320,
        attempts: 1,
        code: 'PAYMENT_UNAVAILABLE',
      })
      expect((await refund()).lastError?.message).toContain('unavailable')
      later(w)
      await w.oms.events.drain()
      expect(brief(await refund())).toMatchObject({ status: 'failed', attempts: 2 })
      later(w)
      await w.oms.events.drain()
      expect(brief(await refund())).toMatchObject({ status: 'succeeded', attempts: 3 })
      expect(await paymentOf(w, order)).toBe('partially_refunded')
      expect(w.provider.calls.filter((c) => c.operation === 'refund').map((c) => c.result)).toEqual([
        'unavailable',
        'unavailable',
        'moved',
      ])
      later(w)
      await w.oms.events.drain()
      expect(
        w.notes.filter((n) => n.kind === 'order_lifecycle' && n.template === 'order_refunded'),
      ).toHaveLength(1)
      expect(w.insideTransaction).toEqual([])
      await expectInvariants(w)
    })

    test('a declined capture is dead and audited; an operator retries it with the same key', async () => {
      const w = await payWorld(storage())
      const order = await authorised(w)
      await handOver(w, order)
      w.provider.failNext(1, { kind: 'decline', code: 'expired_authorization' })
      await w.oms.events.drain()
      const [dead] = await ops(w, order)
      expect(brief(dead as PaymentOperation)).toEqual({
        kind: 'capture',
        status: 'dead',
        amountMinor: 7300,
        attempts: 1,
        code: 'expired_authorization',
      })
      expect(await paymentOf(w, order)).toBe('authorized')
      const trail = await w.oms.history.forOrder({ actor: m, orderId: order.id })
      expect(
        trail.some((h) => h.action === 'payment_failed' && h.additionalData.paymentId === dead?.id),
      ).toBe(true)
      // nothing happens on its own any more
      later(w)
      await w.oms.events.drain()
      expect(w.provider.calls).toHaveLength(1)
      expect(
        await codeOf(w.oms.payments.retry({ actor: actors.warehouse, paymentId: dead?.id as string })),
      ).toBe('FORBIDDEN')
      const retried = await w.oms.payments.retry({
        actor: m,
        paymentId: dead?.id as string,
        idempotencyKey: 'r1',
      })
      expect(retried).toMatchObject({ status: 'pending', attempts: 0, idempotencyKey: dead?.idempotencyKey })
      // the same call again answers the same, and does not queue another attempt
      expect(
        await w.oms.payments.retry({ actor: m, paymentId: dead?.id as string, idempotencyKey: 'r1' }),
      ).toEqual(retried)
      await w.oms.events.drain()
      expect(brief((await ops(w, order))[0] as PaymentOperation)).toMatchObject({
        status: 'succeeded',
        attempts: 1,
      })
      expect(await paymentOf(w, order)).toBe('paid')
      expect(w.provider.calls.map((c) => [c.idempotencyKey, c.result])).toEqual([
        [dead?.idempotencyKey, 'decline'],
        [dead?.idempotencyKey, 'moved'],
      ])
      expect(await codeOf(w.oms.payments.retry({ actor: m, paymentId: dead?.id as string }))).toBe('CONFLICT')
      expect(w.insideTransaction).toEqual([])
      await expectInvariants(w)
    })

    test('an operation out of attempts is dead, never silently dropped', async () => {
      const w = await payWorld(storage(), undefined, { paymentAttempts: 2 })
      const order = await authorised(w)
      await handOver(w, order)
      w.provider.failNext(5, { kind: 'unavailable' })
      await w.oms.events.drain()
      later(w)
      await w.oms.events.drain()
      later(w)
      await w.oms.events.drain()
      expect(brief((await ops(w, order))[0] as PaymentOperation)).toEqual({
        kind: 'capture',
        status: 'dead',
        amountMinor: 7300,
        attempts: 2,
        code: 'PAYMENT_UNAVAILABLE',
      })
      expect(w.provider.calls).toHaveLength(2)
      expect(w.provider.moved).toEqual([])
      expect(await w.storage.transaction((tx) => tx.outbox.list({ delivered: false }))).toEqual([])
      await expectInvariants(w)
    })

    test('a lost answer is repeated with the same key: the provider replays, money moves once', async () => {
      const w = await payWorld(storage())
      const order = await authorised(w)
      await handOver(w, order)
      w.provider.failNext(1, { kind: 'timeout' })
      await w.oms.events.drain()
      expect(brief((await ops(w, order))[0] as PaymentOperation)).toMatchObject({
        status: 'failed',
        code: 'PAYMENT_UNAVAILABLE',
      })
      later(w)
      await w.oms.events.drain()
      const [capture] = await ops(w, order)
      expect(capture).toMatchObject({
        status: 'succeeded',
        attempts: 2,
        providerReference: w.provider.moved[0]?.reference,
      })
      expect(w.provider.calls.map((c) => c.result)).toEqual(['timeout', 'replayed'])
      expect(new Set(w.provider.calls.map((c) => c.idempotencyKey)).size).toBe(1)
      expect(w.provider.moved).toHaveLength(1)
      await expectInvariants(w)
    })

    test('a relay that dies between the provider call and recording it: the next one sends the same key', async () => {
      const w = await payWorld(storage())
      const order = await authorised(w)
      await handOver(w, order)
      // the process dies right after the provider moved the money, before anything is written
      w.provider.onCall = () => {
        w.state.down = true
      }
      await rejectionOf(w.oms.events.drain())
      expect(w.provider.moved).toHaveLength(1)
      w.state.down = false
      w.provider.onCall = null
      expect(brief((await ops(w, order))[0] as PaymentOperation)).toMatchObject({
        status: 'pending',
        attempts: 1,
      })
      // another instance takes over once the dead relay's lease ends
      const other = createOms({ storage: w.storage, clock: w.clock, payments: w.provider })
      w.clock.advance(31_000)
      await other.events.drain()
      expect(brief((await ops(w, order))[0] as PaymentOperation)).toMatchObject({
        status: 'succeeded',
        attempts: 2,
      })
      expect(w.provider.calls.map((c) => [c.idempotencyKey, c.result])).toEqual([
        [`${order.id}:capture:1`, 'moved'],
        [`${order.id}:capture:1`, 'replayed'],
      ])
      expect(w.provider.moved).toHaveLength(1)
      expect(await paymentOf(w, order)).toBe('paid')
      await expectInvariants(w)
    })

    test('two relays on one operation (the first one slow past its lease): one capture at the provider', async () => {
      const w = await payWorld(storage())
      const order = await authorised(w)
      await handOver(w, order)
      let entered: () => void = () => {}
      const inside = new Promise<void>((resolve) => {
        entered = resolve
      })
      let release: () => void = () => {}
      const gate = new Promise<void>((resolve) => {
        release = resolve
      })
      const slow: Payments = {
        capture: async (r) => {
          entered()
          await gate
          return w.provider.capture(r)
        },
        void: (r) => w.provider.void(r),
        refund: (r) => w.provider.refund(r),
      }
      const first = createOms({ storage: w.storage, clock: w.clock, payments: slow })
      const draining = first.events.drain()
      await inside
      // the first relay is inside the provider call; its lease ends and another relay takes the event
      w.clock.advance(31_000)
      await w.oms.events.drain()
      expect(brief((await ops(w, order))[0] as PaymentOperation)).toMatchObject({
        status: 'succeeded',
        attempts: 2,
      })
      release()
      await draining
      const [capture] = await ops(w, order)
      expect(capture).toMatchObject({
        status: 'succeeded',
        attempts: 2,
        providerReference: w.provider.moved[0]?.reference,
      })
      expect(w.provider.calls.map((c) => c.result)).toEqual(['moved', 'replayed'])
      expect(w.provider.moved).toHaveLength(1)
      expect(await paymentOf(w, order)).toBe('paid')
      expect(w.insideTransaction).toEqual([])
      await expectInvariants(w)
    })

    test(`partial refunds never pay back more than was captured (${Math.max(5, Math.round(options.numRuns / 20))} runs)`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            flower: fc.integer({ min: 1, max: 4 }),
            vape: fc.integer({ min: 1, max: 3 }),
            price: fc.integer({ min: 1, max: 10_000 }),
            discount: fc.integer({ min: 0, max: 100 }),
            tax: fc.integer({ min: 0, max: 5_000 }),
            back: fc.record({ flower: fc.nat(4), vape: fc.nat(3) }),
            none: fc.boolean(),
          }),
          async ({ flower, vape, price, discount, tax, back, none }) => {
            const w = await payWorld(storage())
            const created = await w.oms.orders.create({
              actor: m,
              channel: 'kiosk',
              flow: 'pickup',
              storeId: w.storeId,
              currency: 'USD',
              lines: [
                {
                  itemId: w.items.flower as string,
                  quantity: flower,
                  unitPriceMinor: price,
                  discountMinor: Math.min(discount, price * flower),
                  taxMinor: tax,
                },
                { itemId: w.items.vape as string, quantity: vape, unitPriceMinor: price + 1, taxMinor: tax },
              ],
            })
            const order = await w.oms.orders.confirmPayment({ actor: actors.payments, orderId: created.id })
            await handOver(w, order)
            await send(w, order, 'return.request')
            await send(w, order, 'return.approve')
            const lines = (['flower', 'vape'] as const)
              .map((name) => ({
                orderLineId: lineId(w, order, name),
                quantity: Math.min(back[name], name === 'flower' ? flower : vape),
              }))
              .filter((l) => l.quantity > 0)
            await send(w, order, 'refund.process', none ? undefined : { lines })
            await w.oms.events.drain()
            const all = await ops(w, order)
            const refunded = all.filter((o) => o.kind === 'refund').reduce((s, o) => s + o.amountMinor, 0)
            const total = order.totals.totalMinor
            expect(all.every((o) => o.status === 'succeeded')).toBe(true)
            expect(refunded).toBeLessThanOrEqual(total)
            expect(w.provider.netOf(order.id)).toBe(total - refunded)
            const expected = none
              ? total
              : lines.reduce((s, l) => {
                  const line = order.lines.find((x) => x.id === l.orderLineId)
                  return s + Math.floor(((line?.totalMinor ?? 0) * l.quantity) / (line?.quantity ?? 1))
                }, 0)
            expect(refunded).toBe(expected)
            if (refunded > 0)
              expect(await paymentOf(w, order)).toBe(refunded === total ? 'refunded' : 'partially_refunded')
            expect(w.insideTransaction).toEqual([])
          },
        ),
        { numRuns: Math.max(5, Math.round(options.numRuns / 20)) },
      )
    }, 120_000)
  })
