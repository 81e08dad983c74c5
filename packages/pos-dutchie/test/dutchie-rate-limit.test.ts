import { SlidingWindowLimiter as DutchieRateLimiter } from '@peak-oms/core'
import { afterEach, describe, expect, test } from 'vitest'
import { parseRetryAfter } from '../src/dutchie-http'
import { type DutchieTestRig, startRig } from './dutchie-harness'

let rig: DutchieTestRig | undefined
afterEach(async () => {
  await rig?.close()
  rig = undefined
})

describe('dutchie: rate limiter', () => {
  test('lets `requests` through per sliding window, in order', async () => {
    const limiter = new DutchieRateLimiter(3, 150)
    const started = performance.now()
    const order: number[] = []
    const at: number[] = []
    await Promise.all(
      Array.from({ length: 7 }, (_, i) =>
        limiter.acquire().then(() => {
          order.push(i)
          at.push(performance.now() - started)
        }),
      ),
    )
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6])
    // Lower bounds only: the limiter re-reads the clock before letting a start through, so they are
    // exact however busy the machine is (that the first three need no wait is the next test's job).
    expect(at[3]).toBeGreaterThanOrEqual(150)
    expect(at[6]).toBeGreaterThanOrEqual(300)
  })

  test('uses the injected clock, so a window is exact', async () => {
    let now = 0
    const limiter = new DutchieRateLimiter(2, 1000, () => now)
    await limiter.acquire()
    await limiter.acquire()
    let third = false
    const pending = limiter.acquire().then(() => {
      third = true
    })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(third).toBe(false)
    now = 1001
    await pending
    expect(third).toBe(true)
  })

  test('an aborted wait rejects and frees the queue', async () => {
    const limiter = new DutchieRateLimiter(1, 10_000)
    await limiter.acquire()
    const controller = new AbortController()
    const waiting = limiter.acquire(controller.signal)
    controller.abort(new Error('stop'))
    await expect(waiting).rejects.toThrow('stop')
  })

  test('the adapter spaces its own requests out', async () => {
    rig = await startRig({ adapter: { rateLimit: { requests: 2, windowMs: 200 } } })
    const started = performance.now()
    for (let i = 0; i < 5; i += 1) await rig.adapter.pullProducts()
    // 5 requests at 2 per 200 ms: the fifth starts after two full windows.
    expect(performance.now() - started).toBeGreaterThanOrEqual(395)
    expect(rig.fake.count('products')).toBe(5)
  })

  test('Retry-After is read as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000)
    expect(parseRetryAfter('0.5')).toBe(500)
    const now = Date.parse('2026-11-22T10:00:00Z')
    expect(parseRetryAfter('Sun, 22 Nov 2026 10:00:05 GMT', now)).toBe(5000)
    expect(parseRetryAfter('soon')).toBeUndefined()
    expect(parseRetryAfter(undefined)).toBeUndefined()
  })
})
