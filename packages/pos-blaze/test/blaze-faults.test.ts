import { isPosError, type PosOperation, type PosStockLevel, pullAllPages } from '@peak-oms/core'
import type { PosFault } from '@peak-oms/core/testing/vitest'
import { afterEach, describe, expect, test } from 'vitest'
import { type BlazeHarness, HARNESS_TIMEOUT_MS, harnessOrder, startBlazeHarness } from './blaze-harness'

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a rejection')
}

async function inventory(h: BlazeHarness): Promise<PosStockLevel[]> {
  const out: PosStockLevel[] = []
  for await (const page of pullAllPages((o) => h.adapter.pullInventory(o), { pageSize: 100 }))
    out.push(...page)
  return out
}

describe('blaze: faults', () => {
  let h: BlazeHarness
  afterEach(async () => {
    await h.close()
  })

  const assertClean = (error: Error) => {
    expect((error as { cause?: unknown }).cause).toBeUndefined()
    const text = `${error.message}\n${error.stack}\n${JSON.stringify(error)}\n${h.logger.lines.join('\n')}`
    for (const secret of h.secrets) expect(text).not.toContain(secret)
  }

  const transient: Array<[string, PosFault]> = [
    ['429 without Retry-After', { kind: 'rate_limit' }],
    ['500', { kind: 'server_error', status: 500 }],
    ['502', { kind: 'server_error', status: 502 }],
    ['503', { kind: 'server_error', status: 503 }],
    ['504', { kind: 'server_error', status: 504 }],
    ['a connection reset', { kind: 'reset' }],
    ['a response slower than the timeout', { kind: 'timeout' }],
  ]
  test.each(transient)('%s is retried and the pull completes', async (_label, fault) => {
    h = await startBlazeHarness()
    h.inject('pullInventory', fault, 2)
    expect(await inventory(h)).toHaveLength(h.expected.inventory.length)
    expect(h.requestCount('pullInventory')).toBe(3)
    expect(h.logger.lines.filter((l) => l.includes('retrying'))).toHaveLength(2)
  })

  test('429 with Retry-After waits that long before retrying', async () => {
    h = await startBlazeHarness()
    h.inject('pullProducts', { kind: 'rate_limit', retryAfterSeconds: 1 })
    const started = performance.now()
    await h.adapter.pullProducts({ pageSize: 100 })
    const delays = h.logger.lines
      .filter((l) => l.includes('retrying'))
      .map((l) => (JSON.parse(l) as { delayMs: number }).delayMs)
    expect(delays).toEqual([1000])
    // A lower bound only (a busy machine just takes longer); the margin covers Node timers measuring
    // from the event loop's cached time, which can run a little behind performance.now().
    expect(performance.now() - started).toBeGreaterThanOrEqual(900)
    expect(h.requestCount('pullProducts')).toBe(2)
  })

  test('429 without Retry-After backs off exponentially within min/max timeout', async () => {
    h = await startBlazeHarness({ adapter: { retry: { retries: 3, minTimeout: 60, maxTimeout: 100 } } })
    h.inject('pullProducts', { kind: 'rate_limit' }, 3)
    await h.adapter.pullProducts({ pageSize: 100 })
    const delays = h.logger.lines
      .filter((l) => l.includes('retrying'))
      .map((l) => (JSON.parse(l) as { delayMs: number }).delayMs)
    expect(delays).toHaveLength(3)
    expect(delays[0]).toBeGreaterThanOrEqual(30)
    expect(delays[0]).toBeLessThanOrEqual(60)
    expect(delays[1]).toBeGreaterThanOrEqual(50)
    expect(delays[1]).toBeLessThanOrEqual(100)
    expect(delays[2]).toBeLessThanOrEqual(100)
  })

  test('a Retry-After longer than maxRetryAfterMs fails at once with retryAfterMs for the engine', async () => {
    h = await startBlazeHarness({
      adapter: { retry: { retries: 3, minTimeout: 10, maxTimeout: 40, maxRetryAfterMs: 500 } },
    })
    h.inject('pullProducts', { kind: 'rate_limit', retryAfterSeconds: 120 })
    const error = await rejection(h.adapter.pullProducts())
    expect(isPosError(error) && error.code).toBe('POS_UNAVAILABLE')
    expect(isPosError(error) && error.retryAfterMs).toBe(120_000)
    expect(h.requestCount('pullProducts')).toBe(1)
  })

  test('a POS that stays down ends in POS_UNAVAILABLE after retries, leaking nothing', async () => {
    h = await startBlazeHarness()
    h.inject('pullInventory', { kind: 'server_error', status: 503 }, 100)
    const error = await rejection(h.adapter.pullInventory())
    expect(isPosError(error) && error.code).toBe('POS_UNAVAILABLE')
    expect(isPosError(error) && error.status).toBe(503)
    expect(error.message).toBe(
      'blaze pullInventory (GET /store/inventory/products): server error (503): Something went wrong',
    )
    expect(h.requestCount('pullInventory')).toBe(4)
    assertClean(error)
  })

  test('a timeout that persists is POS_UNAVAILABLE naming the timeout', async () => {
    h = await startBlazeHarness({ adapter: { retry: { retries: 1, minTimeout: 10, maxTimeout: 10 } } })
    h.inject('getOrderStatus', { kind: 'timeout' }, 10)
    const ref = await h.adapter.pushOrder(harnessOrder('ORD-20261122-0201'))
    const error = await rejection(h.adapter.getOrderStatus(ref.externalId))
    expect(isPosError(error) && error.code).toBe('POS_UNAVAILABLE')
    expect(error.message).toContain(`no response within ${HARNESS_TIMEOUT_MS} ms`)
    expect(h.requestCount('getOrderStatus')).toBe(2)
    assertClean(error)
  })

  test.each([
    ['malformed JSON', { kind: 'malformed_json' } as PosFault, '(body)'],
    ['wrong types', { kind: 'wrong_types' } as PosFault, 'values.0.quantities.0.quantity'],
  ])('%s is POS_INVALID_RESPONSE at once, never retried', async (_label, fault, field) => {
    h = await startBlazeHarness()
    h.inject('pullInventory', fault, 10)
    const error = await rejection(h.adapter.pullInventory({ pageSize: 2 }))
    expect(isPosError(error) && error.code).toBe('POS_INVALID_RESPONSE')
    expect((error as unknown as { details: { fields: string[] } }).details.fields[0]).toBe(field)
    expect(error.message).toContain(field)
    expect(error.message).toContain('blaze')
    expect(h.requestCount('pullInventory')).toBe(1)
    assertClean(error)
  })

  test('a wrong cartStatus type on status is POS_INVALID_RESPONSE naming cartStatus', async () => {
    h = await startBlazeHarness()
    const ref = await h.adapter.pushOrder(harnessOrder('ORD-20261122-0202'))
    h.inject('getOrderStatus', { kind: 'wrong_types' })
    const error = await rejection(h.adapter.getOrderStatus(ref.externalId))
    expect(isPosError(error) && error.code).toBe('POS_INVALID_RESPONSE')
    expect((error as unknown as { details: { fields: string[] } }).details.fields).toEqual(['cartStatus'])
    assertClean(error)
  })

  const lostCommits: Array<[string, PosFault]> = [
    ['lost its response', { kind: 'lost_response' }],
    ['timed out', { kind: 'timeout' }],
  ]
  test.each(lostCommits)(
    'a submit that %s after committing is found, not repeated',
    async (_label, fault) => {
      h = await startBlazeHarness()
      h.inject('pushOrder', fault)
      const ref = await h.adapter.pushOrder(harnessOrder('ORD-20261122-0210'))
      expect(h.requestCount('pushOrder')).toBe(1)
      expect(h.orderCount()).toBe(1)
      expect(ref).toMatchObject({ status: 'submitted', externalNumber: '10452' })
      expect(h.logger.lines.some((l) => l.includes('"how":"recovered"'))).toBe(true)
      const again = await h.adapter.pushOrder(harnessOrder('ORD-20261122-0210'))
      expect(again.externalId).toBe(ref.externalId)
      expect(h.requestCount('pushOrder')).toBe(1)
    },
  )

  test('a submit refused with 503 (not committed) is submitted again after a read-back', async () => {
    h = await startBlazeHarness()
    h.inject('pushOrder', { kind: 'server_error', status: 503 })
    const ref = await h.adapter.pushOrder(harnessOrder('ORD-20261122-0211'))
    expect(h.requestCount('pushOrder')).toBe(2)
    expect(h.orderCount()).toBe(1)
    expect(ref.status).toBe('submitted')
    // Initial lookup, then one after the failure: two history reads.
    expect(h.requestCount('findOrder')).toBe(2)
  })

  test('a submit that keeps failing ends in POS_UNAVAILABLE with no order and bounded attempts', async () => {
    h = await startBlazeHarness()
    h.inject('pushOrder', { kind: 'rate_limit' }, 100)
    const error = await rejection(h.adapter.pushOrder(harnessOrder('ORD-20261122-0212')))
    expect(isPosError(error) && error.code).toBe('POS_UNAVAILABLE')
    expect(h.requestCount('pushOrder')).toBe(4)
    expect(h.orderCount()).toBe(0)
    assertClean(error)
  })

  test('a refused submit (400) is POS_REJECTED after one attempt, with the vendor reason and no PII', async () => {
    h = await startBlazeHarness()
    const error = await rejection(h.adapter.pushOrder(h.invalidOrder('ORD-20261122-0213')))
    expect(isPosError(error) && error.code).toBe('POS_REJECTED')
    expect(error.message).toBe(
      'blaze pushOrder (POST /store/cart/submitCart/' +
        `${String((error as unknown as { details: { path: string } }).details.path)
          .split('/')
          .pop()}` +
        '): rejected (400): Not enough inventory for product BD35',
    )
    expect((error as unknown as { details: { vendorCode: string } }).details.vendorCode).toBe(
      'Invalid argument',
    )
    expect(h.requestCount('pushOrder')).toBe(1)
    assertClean(error)
  })

  test('a read-back that fails after an uncertain submit reports POS_UNAVAILABLE, never a duplicate', async () => {
    h = await startBlazeHarness({ adapter: { retry: { retries: 1, minTimeout: 5, maxTimeout: 5 } } })
    h.inject('pushOrder', { kind: 'lost_response' })
    // Once the submit has committed, the POS goes down for the read-backs.
    h.fake.onHandled = (operations) => {
      if (operations.includes('pushOrder'))
        h.fake.inject('activeCart', { kind: 'server_error', status: 503 }, 100)
    }
    const error = await rejection(h.adapter.pushOrder(harnessOrder('ORD-20261122-0214')))
    expect(isPosError(error) && error.code).toBe('POS_UNAVAILABLE')
    expect(h.orderCount()).toBe(1)
    expect(h.requestCount('pushOrder')).toBe(1)
    assertClean(error)
    // When the POS is back, the retried push finds the order instead of placing another.
    h.fake.onHandled = null
    h.fake.clearFaults()
    await h.adapter.pushOrder(harnessOrder('ORD-20261122-0214'))
    expect(h.orderCount()).toBe(1)
    expect(h.requestCount('pushOrder')).toBe(1)
  })

  test.each<PosOperation>(['pullProducts', 'getOrderStatus', 'findOrder', 'cancelOrder'])(
    'a 500 once on %s is retried transparently',
    async (operation) => {
      h = await startBlazeHarness()
      const ref = await h.adapter.pushOrder(harnessOrder('ORD-20261122-0220'))
      h.inject(operation, { kind: 'server_error', status: 500 })
      const run: Record<string, () => Promise<unknown>> = {
        pullProducts: () => h.adapter.pullProducts(),
        getOrderStatus: () => h.adapter.getOrderStatus(ref.externalId),
        findOrder: () => h.adapter.findOrder('ORD-20261122-0220'),
        cancelOrder: () => h.adapter.cancelOrder(ref.externalId, 'x'),
      }
      await expect(run[operation]?.()).resolves.toBeTruthy()
    },
  )
})
