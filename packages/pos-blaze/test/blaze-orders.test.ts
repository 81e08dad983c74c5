import { isPosError, ValidationError } from '@peak-oms/core'
import { createFakeClock } from '@peak-oms/core/testing'
import { afterEach, describe, expect, test } from 'vitest'
import { createBlazeAdapter } from '../src/index'
import { DEFAULT_CONSUMER, type FakeConsumer, type JsonObject } from '../src/testing/fake-blaze-server'
import {
  BLUE_DREAM,
  type BlazeHarness,
  GUMMIES,
  harnessOrder,
  OG_KUSH,
  startBlazeHarness,
} from './blaze-harness'

const SECOND_CONSUMER: FakeConsumer = {
  id: '65f39f00e4b0a1b2c3d4ee99',
  firstName: 'Teodor',
  lastName: 'Vasquez-Hidden',
  email: 'teodor.v@example.net',
  primaryPhone: '+1 555 010 8181',
}

const cartOf = (h: BlazeHarness, id: string): JsonObject => {
  const cart = h.fake.carts.get(id)
  if (!cart) throw new Error(`no cart ${id}`)
  return cart
}
const itemsOf = (cart: JsonObject) =>
  ((cart.cart as JsonObject).items as JsonObject[]).map((i) => [i.productId, i.quantity])

describe('blaze: orders', () => {
  let h: BlazeHarness
  afterEach(async () => {
    await h.close()
  })

  test('push fills the active cart, prepares and submits it once, writing our number', async () => {
    h = await startBlazeHarness()
    const ref = await h.adapter.pushOrder({ ...harnessOrder('ORD-20261122-0101'), notes: 'ring the bell' })
    expect(ref).toEqual({
      externalId: expect.stringMatching(/^[0-9a-f]{24}$/),
      externalNumber: '10452',
      status: 'submitted',
      raw: 'Placed',
      externalCustomerId: DEFAULT_CONSUMER.id,
    })
    const cart = cartOf(h, ref.externalId)
    expect(cart).toMatchObject({
      cartStatus: 'Placed',
      externalId: 'ORD-20261122-0101',
      memo: 'Peak OMS ORD-20261122-0101: ring the bell',
      pickupType: 'Pickup',
    })
    expect(itemsOf(cart)).toEqual([
      [BLUE_DREAM, 2],
      [GUMMIES, 1],
    ])
    expect(h.fake.requests.map((r) => `${r.method} ${r.path.replace(/[0-9a-f]{24}/, ':id')}`)).toEqual([
      'GET /store/cart/active',
      'GET /store/cart/history',
      'POST /store/cart/prepare',
      'POST /store/cart/submitCart/:id',
    ])
    expect(h.fake.requests.every((r) => r.query.get('cuid') === DEFAULT_CONSUMER.id)).toBe(true)
  })

  test('a delivery order carries its address to the cart', async () => {
    h = await startBlazeHarness()
    const ref = await h.adapter.pushOrder({
      ...harnessOrder('ORD-20261122-0111'),
      fulfillment: 'delivery',
      deliveryAddress: {
        line1: '100 Example St',
        line2: 'Apt 4',
        city: 'Los Angeles',
        region: 'CA',
        postalCode: '90012',
        country: 'US',
      },
    })
    expect(cartOf(h, ref.externalId)).toMatchObject({
      pickupType: 'Delivery',
      deliveryAddress: {
        address: '100 Example St, Apt 4',
        city: 'Los Angeles',
        state: 'CA',
        zipCode: '90012',
        country: 'US',
      },
    })
  })

  test('the POS total differing from ours is logged as a warning with amounts only', async () => {
    h = await startBlazeHarness()
    await h.adapter.pushOrder(harnessOrder('ORD-20261122-0102'))
    const warning = h.logger.lines.find((l) => l.includes('priced the cart differently'))
    // 90.00 + 9 % tax = 98.10 on the POS against our 90.00.
    expect(JSON.parse(warning ?? '{}')).toMatchObject({ posTotalMinor: 9810, totalMinor: 9000 })
  })

  test('externalCustomerId selects the consumer cart; status and find work for it afterwards', async () => {
    h = await startBlazeHarness({ fake: { consumers: [DEFAULT_CONSUMER, SECOND_CONSUMER] } })
    const ref = await h.adapter.pushOrder({
      ...harnessOrder('ORD-20261122-0103'),
      externalCustomerId: SECOND_CONSUMER.id,
    })
    expect(cartOf(h, ref.externalId).consumerId).toBe(SECOND_CONSUMER.id)
    expect((await h.adapter.getOrderStatus(ref.externalId)).externalId).toBe(ref.externalId)
    expect((await h.adapter.findOrder('ORD-20261122-0103'))?.externalId).toBe(ref.externalId)
  })

  test('after a restart (a new adapter), the customer kept with the ref is enough to read, find and cancel', async () => {
    h = await startBlazeHarness({ fake: { consumers: [DEFAULT_CONSUMER, SECOND_CONSUMER] } })
    const ref = await h.adapter.pushOrder({
      ...harnessOrder('ORD-20261122-0107'),
      externalCustomerId: SECOND_CONSUMER.id,
    })
    expect(ref.externalCustomerId).toBe(SECOND_CONSUMER.id)
    // A fresh instance remembers nothing: without the context it asks the wrong consumer.
    const restarted = createBlazeAdapter({
      baseUrl: h.fake.baseUrl,
      partnerKey: h.fake.partnerKey,
      developerKey: h.fake.developerKey,
      cuid: DEFAULT_CONSUMER.id,
      clock: h.clock ?? createFakeClock(),
      retry: { retries: 0 },
    })
    expect(await restarted.findOrder('ORD-20261122-0107')).toBeNull()
    const context = { externalCustomerId: ref.externalCustomerId ?? null }
    expect((await restarted.findOrder('ORD-20261122-0107', context))?.externalId).toBe(ref.externalId)
    expect((await restarted.getOrderStatus(ref.externalId, context)).status).toBe('submitted')
    expect((await restarted.cancelOrder(ref.externalId, 'changed mind', context)).status).toBe('cancelled')
  })

  test('a cart with a transaction at the counter is not cancelled: POS_REJECTED saying to void it at the POS', async () => {
    h = await startBlazeHarness()
    const ref = await h.adapter.pushOrder(harnessOrder('ORD-20261122-0108'))
    h.fake.patchCart(ref.externalId, { transactionId: '65f39f00e4b0a1b2c3d4ff01' })
    const error = await h.adapter.cancelOrder(ref.externalId, 'changed mind').catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'POS_REJECTED', details: { vendorCode: 'HAS_TRANSACTION' } })
    expect((error as Error).message).toContain('void it at the POS')
    expect(h.fake.requests.some((r) => r.method === 'DELETE')).toBe(false)
  })

  test('without a configured cuid an order needs externalCustomerId', async () => {
    h = await startBlazeHarness({ adapter: { cuid: undefined } })
    await expect(h.adapter.pushOrder(harnessOrder('ORD-20261122-0104'))).rejects.toBeInstanceOf(
      ValidationError,
    )
    expect(h.fake.requests).toHaveLength(0)
    await expect(h.adapter.findOrder('ORD-20261122-0104')).rejects.toMatchObject({ code: 'POS_REJECTED' })
  })

  test('a bad order (fractional each, no lines) is a ValidationError before any request', async () => {
    h = await startBlazeHarness()
    const order = harnessOrder('ORD-20261122-0105')
    const fractional = { ...order, lines: order.lines.map((l) => ({ ...l, quantity: 1.5 })) }
    const error = await h.adapter.pushOrder(fractional).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).issues.map((i) => i.path)).toEqual([
      'lines.0.quantity',
      'lines.1.quantity',
    ])
    await expect(h.adapter.pushOrder({ ...order, lines: [] })).rejects.toBeInstanceOf(ValidationError)
    expect(h.fake.requests).toHaveLength(0)
  })

  test('an unknown product is refused at prepare: POS_REJECTED with no submit', async () => {
    h = await startBlazeHarness()
    const order = harnessOrder('ORD-20261122-0106')
    const bad = { ...order, lines: [{ ...order.lines[0], externalProductId: '000000000000000000000000' }] }
    const error = await h.adapter.pushOrder(bad as typeof order).catch((e: unknown) => e)
    expect(isPosError(error) && error.code).toBe('POS_REJECTED')
    expect(isPosError(error) && error.status).toBe(400)
    expect((error as Error).message).toContain('Product not found')
    expect(h.fake.requestCount('pushOrder')).toBe(0)
    expect(h.fake.requestCount('prepareCart')).toBe(1)
    expect(h.fake.orderCount()).toBe(0)
  })

  test('a weighed line goes to BLAZE in grams once the product is known from a pull', async () => {
    h = await startBlazeHarness()
    await h.adapter.pullProducts({ pageSize: 100 })
    const order = harnessOrder('ORD-20261122-0107')
    const ref = await h.adapter.pushOrder({
      ...order,
      lines: [
        {
          lineId: 'w',
          externalProductId: OG_KUSH,
          externalLocationId: null,
          quantity: 3500,
          unitPriceMinor: 950,
        },
      ],
      totalMinor: 3325,
    })
    expect(itemsOf(cartOf(h, ref.externalId))).toEqual([[OG_KUSH, 3.5]])
  })

  test('an abandoned open cart of the same order is reused, not duplicated', async () => {
    h = await startBlazeHarness()
    // The first push is refused at submit and leaves its open cart behind.
    const tooMany = harnessOrder('ORD-20261122-0108')
    await expect(
      h.adapter.pushOrder({ ...tooMany, lines: tooMany.lines.map((l) => ({ ...l, quantity: 999 })) }),
    ).rejects.toMatchObject({ code: 'POS_REJECTED' })
    const ref = await h.adapter.pushOrder(harnessOrder('ORD-20261122-0108'))
    expect(h.fake.carts.size).toBe(1)
    expect(h.fake.orderCount()).toBe(1)
    expect(ref.status).toBe('submitted')
  })

  test('concurrent pushes for one consumer are serialised and each gets its own cart', async () => {
    h = await startBlazeHarness()
    const numbers = ['ORD-20261122-0110', 'ORD-20261122-0111', 'ORD-20261122-0112']
    const refs = await Promise.all(numbers.map((n) => h.adapter.pushOrder(harnessOrder(n))))
    expect(new Set(refs.map((r) => r.externalId)).size).toBe(3)
    expect(h.fake.orderCount()).toBe(3)
    expect(refs.map((r) => cartOf(h, r.externalId).externalId)).toEqual(numbers)
  })

  test('findOrder pages through the history, newest first', async () => {
    h = await startBlazeHarness({ adapter: { historyPageSize: 2 } })
    const first = await h.adapter.pushOrder(harnessOrder('ORD-20261122-0120'))
    for (let i = 1; i <= 4; i += 1) await h.adapter.pushOrder(harnessOrder(`ORD-20261122-012${i}`))
    h.fake.requests.length = 0
    expect((await h.adapter.findOrder('ORD-20261122-0120'))?.externalId).toBe(first.externalId)
    expect(h.fake.requests.map((r) => r.query.get('start'))).toEqual(['0', '2', '4'])
    expect(await h.adapter.findOrder('ORD-20261122-0199')).toBeNull()
  })

  test('findOrder stops at maxHistoryPages and says so in the log', async () => {
    h = await startBlazeHarness({ adapter: { historyPageSize: 1, maxHistoryPages: 2 } })
    for (let i = 0; i < 3; i += 1) await h.adapter.pushOrder(harnessOrder(`ORD-20261122-013${i}`))
    expect(await h.adapter.findOrder('ORD-20261122-0130')).toBeNull()
    expect(h.logger.lines.some((l) => l.includes('maxHistoryPages'))).toBe(true)
  })

  test.each([
    [{ cartStatus: 'Accepted', accepted: true }, 'accepted'],
    [{ cartStatus: 'Accepted', packaged: true }, 'ready'],
    [{ cartStatus: 'Accepted', packaged: true, onTheWay: true }, 'out_for_delivery'],
    [{ cartStatus: 'Completed', completed: true }, 'completed'],
    [{ cartStatus: 'Declined' }, 'rejected'],
    [{ cartStatus: 'CanceledByDispensary' }, 'cancelled'],
  ] as const)('status reads %o as %s', async (patch, expected) => {
    h = await startBlazeHarness()
    const ref = await h.adapter.pushOrder(harnessOrder('ORD-20261122-0140'))
    h.fake.patchCart(ref.externalId, { ...patch })
    const status = await h.adapter.getOrderStatus(ref.externalId)
    expect(status).toMatchObject({ externalId: ref.externalId, status: expected, raw: patch.cartStatus })
  })

  test('update replaces the items and memo of a placed cart', async () => {
    h = await startBlazeHarness()
    const order = harnessOrder('ORD-20261122-0150')
    const ref = await h.adapter.pushOrder(order)
    const updated = await h.adapter.updateOrder(ref.externalId, {
      ...order,
      lines: [{ ...order.lines[1], quantity: 3 } as (typeof order.lines)[number]],
      notes: 'no bag',
    })
    expect(updated).toMatchObject({ externalId: ref.externalId, status: 'submitted' })
    const cart = cartOf(h, ref.externalId)
    expect(itemsOf(cart)).toEqual([[GUMMIES, 3]])
    expect(cart.memo).toBe('Peak OMS ORD-20261122-0150: no bag')
    expect(h.fake.orderCount()).toBe(1)
  })

  test('update refuses a cart of another order, and BLAZE refuses a packaged one', async () => {
    h = await startBlazeHarness()
    const ref = await h.adapter.pushOrder(harnessOrder('ORD-20261122-0151'))
    await expect(
      h.adapter.updateOrder(ref.externalId, harnessOrder('ORD-20261122-0152')),
    ).rejects.toMatchObject({
      code: 'POS_REJECTED',
    })
    expect(h.fake.requestCount('updateOrder')).toBe(0)
    h.fake.patchCart(ref.externalId, { cartStatus: 'Accepted', packaged: true })
    const error = await h.adapter
      .updateOrder(ref.externalId, harnessOrder('ORD-20261122-0151'))
      .catch((e: unknown) => e)
    expect(isPosError(error) && error.code).toBe('POS_REJECTED')
    expect(h.fake.requestCount('updateOrder')).toBe(1)
  })

  test('cancel cancels once; again returns the cancelled ref without a second DELETE', async () => {
    h = await startBlazeHarness()
    const ref = await h.adapter.pushOrder(harnessOrder('ORD-20261122-0160'))
    expect(await h.adapter.cancelOrder(ref.externalId, 'changed mind')).toMatchObject({
      status: 'cancelled',
      raw: 'CanceledByConsumer',
    })
    expect(await h.adapter.cancelOrder(ref.externalId, 'changed mind')).toMatchObject({ status: 'cancelled' })
    expect(h.fake.requestCount('cancelOrder')).toBe(1)
  })

  test('a cancel whose response was lost is confirmed by reading the cart back', async () => {
    h = await startBlazeHarness()
    const ref = await h.adapter.pushOrder(harnessOrder('ORD-20261122-0161'))
    h.fake.inject('cancelOrder', { kind: 'lost_response' })
    expect(await h.adapter.cancelOrder(ref.externalId, 'x')).toMatchObject({ status: 'cancelled' })
    // The retried DELETE is refused as already cancelled; the read-back settles it.
    expect(h.fake.requestCount('cancelOrder')).toBe(2)
  })

  test('a completed order cannot be cancelled', async () => {
    h = await startBlazeHarness()
    const ref = await h.adapter.pushOrder(harnessOrder('ORD-20261122-0162'))
    h.fake.patchCart(ref.externalId, { cartStatus: 'Completed', completed: true })
    await expect(h.adapter.cancelOrder(ref.externalId, 'x')).rejects.toMatchObject({ code: 'POS_REJECTED' })
    expect(h.fake.requestCount('cancelOrder')).toBe(0)
  })

  test('an unknown or foreign cart is POS_REJECTED', async () => {
    h = await startBlazeHarness({ fake: { consumers: [DEFAULT_CONSUMER, SECOND_CONSUMER] } })
    const other = await h.adapter.pushOrder({
      ...harnessOrder('ORD-20261122-0170'),
      externalCustomerId: SECOND_CONSUMER.id,
    })
    await expect(h.adapter.getOrderStatus('65f3a9d1e4b0a1b2c3d4ffff')).rejects.toMatchObject({
      code: 'POS_REJECTED',
      status: 404,
    })
    // A fresh adapter does not know the cart's consumer, asks as the configured one, and is refused.
    const { createBlazeAdapter } = await import('../src/index')
    const fresh = createBlazeAdapter({
      baseUrl: h.fake.baseUrl,
      partnerKey: h.fake.partnerKey,
      developerKey: h.fake.developerKey,
      cuid: DEFAULT_CONSUMER.id,
    })
    await expect(fresh.getOrderStatus(other.externalId)).rejects.toMatchObject({
      code: 'POS_REJECTED',
      status: 404,
    })
  })
})
