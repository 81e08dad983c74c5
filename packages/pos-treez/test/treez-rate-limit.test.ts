import { SlidingWindowLimiter as SlidingWindowRateLimiter } from '@peak-oms/core'
import { createFakeClock } from '@peak-oms/core/testing'
import { afterEach, describe, expect, test, vi } from 'vitest'
import { createTreezToken } from '../src/index'
import {
  CERTIFICATE_ID,
  DISPENSARY,
  ORGANIZATION_ID,
  runningClock,
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
    // On a hand-moved clock: while it stands still nothing ages out, however long the test really takes.
    let now = 0
    const limiter = new SlidingWindowRateLimiter(3, 100, () => now)
    const started: number[] = []
    const starts = Array.from({ length: 7 }, (_, i) =>
      limiter.acquire().then(() => {
        started.push(i)
      }),
    )
    await Promise.all(starts.slice(0, 3))
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(started).toEqual([0, 1, 2])
    now = 99
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(started).toEqual([0, 1, 2])
    // The 4th start waits for the 1st to age out, the 7th for the 4th.
    now = 100
    await Promise.all(starts.slice(3, 6))
    expect(started).toEqual([0, 1, 2, 3, 4, 5])
    now = 200
    await starts[6]
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6])
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
    const clock = createFakeClock()
    h = await startTreezHarness({ clock, fake: { rateLimit: { requests: 30, windowMs: 1000 } } })
    const url = `${h.fake.baseUrl}/${DISPENSARY}/stock/getStock?page=1&page_size=1`
    const call = () =>
      fetch(url, {
        headers: {
          Authorization: createTreezToken({
            privateKey: testKeys().privateKey,
            certificateId: CERTIFICATE_ID,
            organizationId: ORGANIZATION_ID,
            url,
            now: clock.now(),
          }),
        },
      })
    const statuses: number[] = []
    for (let i = 0; i < 30; i += 1) statuses.push((await call()).status)
    expect(statuses.every((s) => s === 200)).toBe(true)
    clock.advance(999)
    const limited = await call()
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBeNull()
    expect(await limited.json()).toMatchObject({ resultCode: 'FAIL' })
    clock.advance(1)
    expect((await call()).status).toBe(200)
  })

  test('the client-side limit spaces requests so the fake never has to say 429', async () => {
    // The fake's window runs on real time here. The client's window is ten times wider, so however late
    // a request reaches the fake (up to the adapter's timeout), no four arrive within the fake's window.
    h = await startTreezHarness({
      clock: runningClock(),
      fake: { rateLimit: { requests: 3, windowMs: 100 } },
      adapter: { rateLimit: { requests: 3, windowMs: 1000 } },
    })
    const started = performance.now()
    for (let i = 0; i < 5; i += 1) await h.adapter.pullInventory({ pageSize: 10 })
    // The limiter re-reads performance.now() before letting a start through, so this bound is exact.
    expect(performance.now() - started).toBeGreaterThanOrEqual(1000)
    expect(h.fake.requests.map((r) => r.status)).toEqual([200, 200, 200, 200, 200])
  })

  test('without a client-side limit the adapter rides out the fake’s 429s with backoff', async () => {
    // The clock stands still until the test moves it, so which requests the fake refuses does not
    // depend on how fast the machine answers.
    const clock = createFakeClock()
    h = await startTreezHarness({
      clock,
      fake: { rateLimit: { requests: 3, windowMs: 1000 } },
      adapter: {
        rateLimit: { requests: 1000, windowMs: 1000 },
        // At least 4.4 s of backoff before the retries run out: far longer than the test needs.
        retry: { retries: 6, minTimeout: 200, maxTimeout: 1000 },
      },
    })
    const pulls = Array.from({ length: 6 }, () => h?.adapter.pullInventory({ pageSize: 10 }))
    const refused = () => h?.fake.requests.filter((r) => r.status === 429).length ?? 0
    await vi.waitFor(() => expect(refused()).toBeGreaterThanOrEqual(3), { timeout: 4000 })
    expect(h.fake.requests.filter((r) => r.status === 200)).toHaveLength(3)
    clock.advance(1000)
    await Promise.all(pulls)
    const statuses = h.fake.requests.map((r) => r.status)
    expect(statuses).toContain(429)
    expect(statuses.filter((s) => s === 200)).toHaveLength(6)
  })
})
