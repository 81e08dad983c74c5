import { isPosError, type PosError } from '@peak-oms/core'
import type { PosFault } from '@peak-oms/core/testing/vitest'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { startTreezHarness, type TreezHarness } from './treez-harness'

async function rejection(promise: Promise<unknown>): Promise<PosError> {
  try {
    await promise
  } catch (error) {
    if (isPosError(error)) return error
    throw error
  }
  throw new Error('expected a rejection')
}

describe('treez: faults', () => {
  let h: TreezHarness
  beforeEach(async () => {
    h = await startTreezHarness()
  })
  afterEach(async () => {
    await h.close()
  })

  const transient: Array<[string, PosFault]> = [
    ['429 without Retry-After', { kind: 'rate_limit' }],
    ['500', { kind: 'server_error', status: 500 }],
    ['502', { kind: 'server_error', status: 502 }],
    ['503', { kind: 'server_error', status: 503 }],
    ['504', { kind: 'server_error', status: 504 }],
    ['a connection reset', { kind: 'reset' }],
    ['a slow response', { kind: 'timeout' }],
  ]
  for (const [label, fault] of transient) {
    test(`a product pull recovers from ${label} twice, and stays down as POS_UNAVAILABLE after retries`, async () => {
      h.inject('pullProducts', fault, 2)
      const page = await h.adapter.pullProducts({ pageSize: 10 })
      expect(page.items).toHaveLength(5)
      expect(h.fake.requestCount('pullProducts')).toBe(3)

      h.inject('getOrderStatus', fault, 100)
      // Every request from here on is faulted, so a short timeout cannot cut off a healthy answer.
      const error = await rejection(h.newAdapter({ timeoutMs: 100 }).getOrderStatus('any'))
      expect(error.code).toBe('POS_UNAVAILABLE')
      expect(error.retryable).toBe(true)
      expect(h.fake.requestCount('getOrderStatus')).toBe(4) // 1 + retries (3)
    })
  }

  test('429 without Retry-After backs off briefly with jitter (minTimeout, not seconds)', async () => {
    h.inject('pullInventory', { kind: 'rate_limit' }, 2)
    await h.adapter.pullInventory({ pageSize: 10 })
    const warnings = h.logger.lines
      .filter((l) => l.includes('"level":"warn"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(warnings).toHaveLength(2)
    // No Retry-After, so no wait of its own: only the configured backoff (10 to 40 ms) between tries.
    for (const warning of warnings) {
      expect(warning).toMatchObject({ status: 429, willRetry: true })
      expect(warning.retryAfterMs).toBeUndefined()
    }
  })

  test('429 with Retry-After waits at least that long', async () => {
    h.inject('pullInventory', { kind: 'rate_limit', retryAfterSeconds: 1 })
    const started = performance.now()
    await h.adapter.pullInventory({ pageSize: 10 })
    // A lower bound only (a busy machine just takes longer); the margin covers Node timers measuring
    // from the event loop's cached time, which can run a little behind performance.now().
    expect(performance.now() - started).toBeGreaterThanOrEqual(900)
    expect(h.logger.lines.some((l) => l.includes('"retryAfterMs":1000'))).toBe(true)
    expect(h.fake.requestCount('pullInventory')).toBe(2)
  })

  test('a Retry-After beyond maxRetryAfterMs fails at once with retryAfterMs for the sync engine', async () => {
    h.inject('pullInventory', { kind: 'rate_limit', retryAfterSeconds: 60 })
    const error = await rejection(h.adapter.pullInventory({ pageSize: 10 }))
    expect(error.code).toBe('POS_UNAVAILABLE')
    expect(error.retryAfterMs).toBe(60_000)
    expect(h.fake.requestCount('pullInventory')).toBe(1)
  })

  test('Retry-After as an HTTP date is honoured too', async () => {
    h.fake.respondOnce('pullInventory', {
      status: 429,
      body: {},
      headers: { 'retry-after': new Date(h.clock.now().getTime() + 120_000).toUTCString() },
    })
    const error = await rejection(h.adapter.pullInventory({ pageSize: 10 }))
    // Read against the adapter's clock, which is the harness clock.
    expect(error.retryAfterMs).toBe(120_000)
  })

  test('a 5xx outside 500/502/503/504 is POS_UNAVAILABLE but not retried in the call', async () => {
    h.fake.respondOnce('pullInventory', { status: 501, body: 'Not Implemented' })
    const error = await rejection(h.adapter.pullInventory())
    expect([error.code, error.status]).toEqual(['POS_UNAVAILABLE', 501])
    expect(h.fake.requestCount('pullInventory')).toBe(1)
  })

  test('a 4xx is POS_REJECTED and never retried', async () => {
    h.fake.respondOnce('pullProducts', {
      status: 400,
      body: { resultCode: 'FAIL', resultReason: 'INVALID_DATE_FORMAT', resultDetail: 'bad date', data: null },
    })
    const error = await rejection(h.adapter.pullProducts())
    expect([error.code, error.status, error.details.vendorCode]).toEqual([
      'POS_REJECTED',
      400,
      'INVALID_DATE_FORMAT',
    ])
    expect(h.fake.requestCount('pullProducts')).toBe(1)
  })

  test('a slow response that never comes ends in POS_UNAVAILABLE naming the timeout', async () => {
    h.inject('pullInventory', { kind: 'timeout' }, 100)
    // Every request is faulted (the fake stalls far longer), so a short timeout is safe here.
    const error = await rejection(h.newAdapter({ timeoutMs: 100 }).pullInventory())
    expect(error.code).toBe('POS_UNAVAILABLE')
    expect(error.message).toContain('no response within 100 ms')
    expect(h.fake.requestCount('pullInventory')).toBe(4) // 1 + retries (3), then it stops
  })

  test('malformed JSON is POS_INVALID_RESPONSE at once', async () => {
    h.inject('pullInventory', { kind: 'malformed_json' })
    const error = await rejection(h.adapter.pullInventory())
    expect(error.code).toBe('POS_INVALID_RESPONSE')
    expect(error.details.fields).toEqual(['(body)'])
    expect(error.message).toMatch(/^treez pullInventory \(GET \/peak-test-store\/stock\/getStock\): /)
    expect(h.fake.requestCount('pullInventory')).toBe(1)
  })

  test('wrong types name the field: product price, ticket status, feed, PUT envelope', async () => {
    h.inject('pullProducts', { kind: 'wrong_types' })
    const products = await rejection(h.adapter.pullProducts({ pageSize: 10 }))
    expect(products.details.fields).toEqual(['data.product_list.0.pricing.price_sell'])
    expect(products.message).toContain('data.product_list.0.pricing.price_sell')

    const ref = await h.adapter.pushOrder(h.order('ORD-20261122-0401'))
    h.inject('getOrderStatus', { kind: 'wrong_types' })
    const status = await rejection(h.adapter.getOrderStatus(ref.externalId))
    expect(status.details.fields).toEqual(['ticketList.0.order_status'])

    h.inject('findOrder', { kind: 'wrong_types' })
    const feed = await rejection(h.newAdapter().findOrder('ORD-20261122-0401'))
    expect(feed.details.fields).toEqual(['ticketList.0.order_status'])

    h.inject('updateOrder', { kind: 'wrong_types' })
    const update = await rejection(h.adapter.updateOrder(ref.externalId, h.order('ORD-20261122-0401')))
    expect(update.details.fields).toEqual(['resultCode'])
    for (const e of [products, status, feed, update]) expect(e.code).toBe('POS_INVALID_RESPONSE')
  })
})

describe('treez: a create whose outcome is unknown is never repeated blindly', () => {
  let h: TreezHarness
  beforeEach(async () => {
    h = await startTreezHarness()
  })
  afterEach(async () => {
    await h.close()
  })

  const cases: Array<[string, PosFault, { posts: number; feedReads: number }]> = [
    // Committed, then the answer is lost or late: found in the feed, never posted again.
    ['the response is lost after the commit', { kind: 'lost_response' }, { posts: 1, feedReads: 2 }],
    ['the response comes after the timeout', { kind: 'timeout' }, { posts: 1, feedReads: 2 }],
    // Not committed, outcome unknown to the adapter: feed read, nothing found, posted again.
    ['the connection is reset before the commit', { kind: 'reset' }, { posts: 2, feedReads: 2 }],
    ['a 500', { kind: 'server_error', status: 500 }, { posts: 2, feedReads: 2 }],
    // A 429 was not carried out: retried without a read-back.
    ['a 429', { kind: 'rate_limit' }, { posts: 2, feedReads: 1 }],
  ]
  for (const [label, fault, expected] of cases) {
    test(`when ${label}, exactly one ticket exists`, async () => {
      h.inject('pushOrder', fault)
      const ref = await h.adapter.pushOrder(h.order('ORD-20261122-0501'))
      expect(h.orderCount()).toBe(1)
      expect(ref.externalId).toBe(h.fake.tickets()[0]?.ticket_id)
      expect(h.fake.requestCount('pushOrder')).toBe(expected.posts)
      expect(h.fake.requestCount('findOrder')).toBe(expected.feedReads)
    })
  }

  test('a create that keeps timing out after committing still leaves one ticket', async () => {
    h.inject('pushOrder', { kind: 'timeout' }, 100)
    await h.adapter.pushOrder(h.order('ORD-20261122-0502'))
    expect(h.orderCount()).toBe(1)
    expect(h.fake.requestCount('pushOrder')).toBe(1)
  })

  test('a committed create with an unreadable answer fails, and the next push finds the ticket', async () => {
    h.inject('pushOrder', { kind: 'wrong_types' })
    const error = await rejection(h.adapter.pushOrder(h.order('ORD-20261122-0503')))
    expect(error.code).toBe('POS_INVALID_RESPONSE')
    expect(error.details.fields).toEqual(['data.ticket_id'])
    const ref = await h.adapter.pushOrder(h.order('ORD-20261122-0503'))
    expect(ref.externalId).toBe(h.fake.tickets()[0]?.ticket_id)
    expect(h.orderCount()).toBe(1)
    expect(h.fake.requestCount('pushOrder')).toBe(1)
  })

  test('Treez down for good: POS_UNAVAILABLE and no ticket; the retry later creates exactly one', async () => {
    h.inject('pushOrder', { kind: 'server_error', status: 503 }, 4)
    const error = await rejection(h.adapter.pushOrder(h.order('ORD-20261122-0504')))
    expect(error.code).toBe('POS_UNAVAILABLE')
    expect(h.orderCount()).toBe(0)
    await h.adapter.pushOrder(h.order('ORD-20261122-0504'))
    expect(h.orderCount()).toBe(1)
  })

  test('a refused create (unknown product) is one POST and POS_REJECTED with the Treez reason', async () => {
    const order = h.order('ORD-20261122-0505')
    const [first] = order.lines
    if (!first) throw new Error('no line')
    const error = await rejection(
      h.adapter.pushOrder({
        ...order,
        lines: [{ ...first, externalProductId: 'ffffffff-ffff-4fff-8fff-ffffffffffff' }],
      }),
    )
    expect([error.code, error.status, error.details.vendorCode]).toEqual([
      'POS_REJECTED',
      400,
      'PRODUCT_NOT_FOUND',
    ])
    expect(h.fake.requestCount('pushOrder')).toBe(1)
    expect(h.orderCount()).toBe(0)
  })
})

describe('treez: nothing secret leaks', () => {
  test('errors and logs of every failing path hold no key, ids, token or customer detail', async () => {
    const h = await startTreezHarness()
    try {
      const errors: unknown[] = []
      const attempt = async (promise: Promise<unknown>) => {
        try {
          await promise
        } catch (error) {
          errors.push(error)
        }
      }
      h.inject('pullProducts', { kind: 'malformed_json' })
      await attempt(h.adapter.pullProducts())
      h.inject('pullInventory', { kind: 'server_error', status: 503 }, 10)
      await attempt(h.adapter.pullInventory())
      h.inject('pushOrder', { kind: 'lost_response' })
      await attempt(h.adapter.pushOrder(h.order('ORD-20261122-0601')))
      await attempt(h.adapter.pushOrder(h.invalidOrder('ORD-20261122-0602')))
      h.fake.respondOnce('pushOrder', {
        status: 404,
        body: {
          resultCode: 'FAIL',
          resultReason: 'CUSTOMER_DOESNT_EXIST',
          resultDetail: `Customer Jane Roe 555-0100`,
          data: null,
        },
      })
      await attempt(h.adapter.pushOrder(h.order('ORD-20261122-0603')))
      await attempt(h.adapter.getOrderStatus('nope'))
      await attempt(h.newAdapter({ now: () => new Date(0) }).pullProducts())
      expect(errors.length).toBeGreaterThanOrEqual(6)

      const tokens = h.fake.requests.map((r) => r.authorization ?? '').filter(Boolean)
      const signatures = tokens.map((t) => t.split('.')[1] ?? '').filter(Boolean)
      const forbidden = [...h.secrets, ...tokens, ...signatures, 'Bearer', 'page_size=', 'pagesize=']
      for (const error of errors) {
        expect(isPosError(error)).toBe(true)
        const e = error as PosError
        expect(e.cause).toBeUndefined()
        const text = `${e.message}\n${e.stack ?? ''}\n${JSON.stringify(e)}`
        for (const secret of forbidden) expect(text).not.toContain(secret)
      }
      expect(h.logger.lines.length).toBeGreaterThan(5)
      for (const line of h.logger.lines) for (const secret of forbidden) expect(line).not.toContain(secret)
    } finally {
      await h.close()
    }
  })
})
