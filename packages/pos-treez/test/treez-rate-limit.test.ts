import { SlidingWindowLimiter as SlidingWindowRateLimiter } from '@peak-oms/core'
import { afterEach, describe, expect, test } from 'vitest'
import { createTreezToken } from '../src/index'
import {
  CERTIFICATE_ID,
  DISPENSARY,
  ORGANIZATION_ID,
  startTreezHarness,
  type TreezHarness,
  testKeys,
} from './treez-harness'

describe('treez: rate limits', () => {
  let h: TreezHarness | undefined
  afterEach(async () => {
    await h?.close()
    h = undefined
  })

  test('the sliding window lets N starts through per window and holds the next until one ages out', async () => {
    const limiter = new SlidingWindowRateLimiter(3, 200)
    const started = performance.now()
    const at: number[] = []
    await Promise.all(
      Array.from({ length: 7 }, async () => {
        await limiter.acquire()
        at.push(performance.now() - started)
      }),
    )
    at.sort((a, b) => a - b)
    expect(at.slice(0, 3).every((t) => t < 190)).toBe(true)
    // The 4th start waits for the 1st to age out, the 7th for the 4th.
    expect(at[3]).toBeGreaterThanOrEqual(199)
    expect(at[6]).toBeGreaterThanOrEqual(399)
  })

  test('an aborted wait rejects', async () => {
    const limiter = new SlidingWindowRateLimiter(1, 10_000)
    await limiter.acquire()
    const controller = new AbortController()
    const waiting = limiter.acquire(controller.signal)
    controller.abort()
    await expect(waiting).rejects.toBeDefined()
  })

  test('the fake allows 30 requests per rolling window, then answers 429 without Retry-After', async () => {
    let clock = Date.now()
    h = await startTreezHarness({
      fake: { now: () => new Date(clock), rateLimit: { requests: 30, windowMs: 1000 } },
    })
    const url = `${h.fake.baseUrl}/${DISPENSARY}/stock/getStock?page=1&page_size=1`
    const call = () =>
      fetch(url, {
        headers: {
          Authorization: createTreezToken({
            privateKey: testKeys().privateKey,
            certificateId: CERTIFICATE_ID,
            organizationId: ORGANIZATION_ID,
            url,
            now: new Date(clock),
          }),
        },
      })
    const statuses: number[] = []
    for (let i = 0; i < 30; i += 1) statuses.push((await call()).status)
    expect(statuses.every((s) => s === 200)).toBe(true)
    clock += 999
    const limited = await call()
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBeNull()
    expect(await limited.json()).toMatchObject({ resultCode: 'FAIL' })
    clock += 1
    expect((await call()).status).toBe(200)
  })

  test('the client-side limit spaces requests so the fake never has to say 429', async () => {
    // The client window is wider than the fake's: its clock starts before the request reaches the fake.
    h = await startTreezHarness({
      fake: { rateLimit: { requests: 3, windowMs: 300 } },
      adapter: { rateLimit: { requests: 3, windowMs: 450 } },
    })
    const started = performance.now()
    for (let i = 0; i < 5; i += 1) await h.adapter.pullInventory({ pageSize: 10 })
    expect(performance.now() - started).toBeGreaterThanOrEqual(445)
    expect(h.fake.requests.every((r) => r.status === 200)).toBe(true)
  })

  test('without a client-side limit the adapter rides out the fake’s 429s with backoff', async () => {
    h = await startTreezHarness({
      fake: { rateLimit: { requests: 3, windowMs: 150 } },
      adapter: {
        rateLimit: { requests: 1000, windowMs: 1000 },
        retry: { retries: 6, minTimeout: 40, maxTimeout: 200 },
      },
    })
    for (let i = 0; i < 6; i += 1) await h.adapter.pullInventory({ pageSize: 10 })
    const statuses = h.fake.requests.map((r) => r.status)
    expect(statuses).toContain(429)
    expect(statuses.filter((s) => s === 200)).toHaveLength(6)
  })
})
