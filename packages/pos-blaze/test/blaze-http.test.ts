import { isPosError, parseRetryAfter, SlidingWindowLimiter } from '@peak-oms/core'
import { createFakeClock } from '@peak-oms/core/testing'
import { afterEach, describe, expect, test, vi } from 'vitest'
import { type BlazeHarness, runningClock, startBlazeHarness } from './blaze-harness'

describe('blaze: http client', () => {
  let h: BlazeHarness | undefined
  afterEach(async () => {
    await h?.close()
    h = undefined
  })

  test('the limiter lets at most N starts into any window, in order', async () => {
    // On a hand-moved clock: while it stands still nothing ages out, however long the test really takes.
    let now = 0
    const limiter = new SlidingWindowLimiter(3, 100, () => now)
    const order: number[] = []
    const starts = Array.from({ length: 7 }, (_, i) =>
      limiter.acquire().then(() => {
        order.push(i)
      }),
    )
    const pause = () => new Promise((resolve) => setTimeout(resolve, 150))
    await Promise.all(starts.slice(0, 3))
    await pause()
    expect(order).toEqual([0, 1, 2])
    now = 99
    await pause()
    expect(order).toEqual([0, 1, 2])
    now = 100
    await Promise.all(starts.slice(3, 6))
    await pause()
    expect(order).toEqual([0, 1, 2, 3, 4, 5])
    now = 200
    await starts[6]
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6])
  })

  test('the adapter paces its requests to the configured rate limit', async () => {
    // The fake stamps arrivals on a clock that runs with performance.now(), as the limiter does.
    h = await startBlazeHarness({
      clock: runningClock(),
      adapter: { rateLimit: { requests: 2, windowMs: 150 } },
    })
    const t0 = h.clock.now().getTime()
    const pages: Promise<unknown>[] = []
    for (let i = 0; i < 5; i += 1) pages.push(h.adapter.pullProducts({ pageSize: 1 }))
    await Promise.all(pages)
    // A request arrives no earlier than it starts, so these bounds hold whatever the network jitter.
    const arrivals = h.fake.requests.map((r) => r.at - t0)
    expect(arrivals.filter((at) => at < 149).length).toBeLessThanOrEqual(2)
    expect(arrivals.filter((at) => at < 299).length).toBeLessThanOrEqual(4)
    expect(Math.max(...arrivals)).toBeGreaterThanOrEqual(299)
  })

  test('a server-side 429 from too fast a client is absorbed by retries', async () => {
    // The clock stands still until the test moves it, so which requests the fake refuses does not
    // depend on how fast the machine answers.
    const clock = createFakeClock()
    h = await startBlazeHarness({
      clock,
      fake: { rateLimit: { requests: 2, windowMs: 200 } },
      // At least 2 s of backoff before the retries run out: far longer than the test needs.
      adapter: { rateLimit: false, retry: { retries: 5, minTimeout: 400, maxTimeout: 1000 } },
    })
    const pulls = Promise.all([1, 2, 3].map(() => h?.adapter.pullProducts({ pageSize: 1 })))
    const refused = () => h?.logger.lines.filter((l) => l.includes('"status":429')).length ?? 0
    await vi.waitFor(() => expect(refused()).toBeGreaterThanOrEqual(1), { timeout: 2000 })
    clock.advance(200)
    const results = await pulls
    expect(results.every((r) => r?.items.length === 1)).toBe(true)
    expect(h.fake.requests.length).toBeGreaterThan(3)
  })

  test('Retry-After is read as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000)
    expect(parseRetryAfter('0.5')).toBe(500)
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000)
    expect(parseRetryAfter(new Date(1_000).toUTCString(), 4_000)).toBe(0)
    expect(parseRetryAfter(undefined)).toBeNull()
    expect(parseRetryAfter('soon')).toBeNull()
  })

  test('an aborted pull stops without retrying', async () => {
    h = await startBlazeHarness()
    h.inject('pullProducts', { kind: 'timeout' })
    const controller = new AbortController()
    const pending = h.adapter.pullProducts({ signal: controller.signal }).catch((e: unknown) => e)
    // abort once the request is at the (stalled) fake, however long the machine took to get it there
    const fake = h.fake
    while (fake.requestCount('pullProducts') === 0) await new Promise((r) => setTimeout(r, 5))
    controller.abort()
    const error = await pending
    expect(error).toBeInstanceOf(Error)
    expect(h.fake.requestCount('pullProducts')).toBe(1)
    if (isPosError(error)) expect(error.code).toBe('POS_UNAVAILABLE')
  })
})
