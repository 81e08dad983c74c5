import { describe, expect, test, vi } from 'vitest'
import { z } from 'zod'
import { isPosError, PosError } from '../errors/pos-error'
import {
  abortableSleep,
  invalidPosResponse,
  parseJsonBody,
  parsePosResponse,
  parseRetryAfter,
  SlidingWindowLimiter,
  zodIssuePaths,
  zodPath,
} from './pos-http-helpers'

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms))
/** A limiter on a hand-moved clock that already holds `limit` starts at time 0. */
async function fullLimiter(limit: number, windowMs: number) {
  const clock = { now: 0 }
  const limiter = new SlidingWindowLimiter(limit, windowMs, () => clock.now)
  for (let i = 0; i < limit; i += 1) await limiter.acquire()
  return { clock, limiter }
}

/** Tracks whether `promise` has resolved yet. */
function watch(promise: Promise<void>): { done: boolean; promise: Promise<void> } {
  const watched = { done: false, promise }
  watched.promise = promise.then(() => {
    watched.done = true
  })
  return watched
}

const INIT = { vendor: 'acme', operation: 'pullInventory', method: 'GET', path: '/stock' } as const

describe('SlidingWindowLimiter', () => {
  test('lets `limit` starts through, blocks the next until the window frees (injected clock)', async () => {
    const { clock, limiter } = await fullLimiter(2, 50)
    const third = watch(limiter.acquire())
    await tick(80)
    expect(third.done).toBe(false)
    clock.now = 50
    await third.promise
    expect(third.done).toBe(true)
  })

  test('spaces real starts out over a short window and serves waiters in order', async () => {
    const limiter = new SlidingWindowLimiter(2, 60)
    const started = performance.now()
    const order: number[] = []
    const at: number[] = []
    await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        limiter.acquire().then(() => {
          order.push(i)
          at.push(performance.now() - started)
        }),
      ),
    )
    expect(order).toEqual([0, 1, 2, 3, 4])
    expect(at[2]).toBeGreaterThanOrEqual(59)
    expect(at[4]).toBeGreaterThanOrEqual(119)
  })

  test('an aborted waiter rejects at once, even queued behind another, and takes no slot', async () => {
    const { clock, limiter } = await fullLimiter(2, 50)
    const first = watch(limiter.acquire())
    const controller = new AbortController()
    const second = limiter.acquire(controller.signal)
    controller.abort(new Error('stop'))
    await expect(second).rejects.toThrow('stop')
    expect(first.done).toBe(false)
    clock.now = 50
    await first.promise
    // Two slots freed: `first` took one and the aborted waiter none, so the next start needs no wait.
    await limiter.acquire()
  })

  test('an already aborted signal rejects without waiting', async () => {
    const limiter = new SlidingWindowLimiter(1, 10_000)
    const controller = new AbortController()
    controller.abort(new Error('gone'))
    await expect(limiter.acquire(controller.signal)).rejects.toThrow('gone')
    await limiter.acquire()
  })

  test('refuses a limit below one', () => {
    expect(() => new SlidingWindowLimiter(0, 1000)).toThrow(RangeError)
  })
})

describe('abortableSleep', () => {
  test('resolves after the delay, and at once for zero or less', async () => {
    // Fake timers: a real clock would make this a timing assertion that a busy machine can break.
    vi.useFakeTimers()
    try {
      let done = false
      const sleeping = abortableSleep(30).then(() => {
        done = true
      })
      await vi.advanceTimersByTimeAsync(29)
      expect(done).toBe(false)
      await vi.advanceTimersByTimeAsync(1)
      await sleeping
      expect(done).toBe(true)
    } finally {
      vi.useRealTimers()
    }
    await abortableSleep(0)
    await abortableSleep(-5)
  })

  test('rejects with the reason when the signal aborts', async () => {
    const controller = new AbortController()
    const sleeping = abortableSleep(10_000, controller.signal)
    controller.abort(new Error('cancelled'))
    await expect(sleeping).rejects.toThrow('cancelled')
  })

  test('rejects at once when the signal has already aborted', async () => {
    const controller = new AbortController()
    controller.abort(new Error('before'))
    await expect(abortableSleep(10_000, controller.signal)).rejects.toThrow('before')
    await expect(abortableSleep(0, controller.signal)).rejects.toThrow('before')
  })
})

describe('parseRetryAfter', () => {
  test('reads delay seconds, including a fraction', () => {
    expect(parseRetryAfter('3')).toBe(3000)
    expect(parseRetryAfter(' 120 ')).toBe(120_000)
    expect(parseRetryAfter('0.5')).toBe(500)
    expect(parseRetryAfter('0')).toBe(0)
  })

  test('reads an HTTP date relative to now, never negative', () => {
    const now = Date.parse('2026-11-22T10:00:00Z')
    expect(parseRetryAfter('Sun, 22 Nov 2026 10:00:05 GMT', now)).toBe(5000)
    expect(parseRetryAfter(new Date(1_000).toUTCString(), 4_000)).toBe(0)
  })

  test('is null for absent or garbage values', () => {
    expect(parseRetryAfter(undefined)).toBeNull()
    expect(parseRetryAfter('')).toBeNull()
    expect(parseRetryAfter('   ')).toBeNull()
    expect(parseRetryAfter('soon')).toBeNull()
    expect(parseRetryAfter(['3'])).toBeNull()
    expect(parseRetryAfter(3)).toBeNull()
  })
})

describe('parseJsonBody', () => {
  test('parses JSON text, passes non-strings through, reads blank as undefined', () => {
    expect(parseJsonBody('{"a":[1]}')).toEqual({ ok: true, value: { a: [1] } })
    expect(parseJsonBody({ a: 1 })).toEqual({ ok: true, value: { a: 1 } })
    expect(parseJsonBody('  ')).toEqual({ ok: true, value: undefined })
  })

  test('is not ok for malformed text', () => {
    expect(parseJsonBody('{"a":')).toEqual({ ok: false })
    expect(parseJsonBody('<html>')).toEqual({ ok: false })
  })
})

describe('zod issue paths', () => {
  const schema = z.object({
    values: z.array(z.object({ quantities: z.array(z.object({ quantity: z.number() })) })),
    name: z.string(),
  })

  test('dotted paths through nested arrays, distinct, in order', () => {
    const result = schema.safeParse({
      values: [{ quantities: [{ quantity: 1 }] }, { quantities: [{ quantity: 'x' }, { quantity: null }] }],
      name: 7,
    })
    expect(result.success).toBe(false)
    if (result.success) return
    expect(zodIssuePaths(result.error)).toEqual([
      'values.1.quantities.0.quantity',
      'values.1.quantities.1.quantity',
      'name',
    ])
  })

  test('an issue about the value itself is (root); a repeated path is listed once', () => {
    const root = z.array(z.number()).safeParse('nope')
    if (root.success) throw new Error('expected a failure')
    expect(zodIssuePaths(root.error)).toEqual(['(root)'])
    const twice = z.string().min(5).regex(/^\d+$/).safeParse('ab')
    if (twice.success) throw new Error('expected a failure')
    expect(twice.error.issues.length).toBe(2)
    expect(zodIssuePaths(twice.error)).toEqual(['(root)'])
  })

  test('zodPath joins segments and stringifies numbers', () => {
    expect(zodPath(['retry', 'retries'])).toBe('retry.retries')
    expect(zodPath(['a', 0, 'b'])).toBe('a.0.b')
    expect(zodPath([])).toBe('')
  })
})

describe('invalidPosResponse and parsePosResponse', () => {
  test('names the first field, counts the rest, and keeps the request context', () => {
    const error = invalidPosResponse({ ...INIT, status: 200 }, ['a.0', 'b', 'a.0'], 'expected number')
    expect(error).toBeInstanceOf(PosError)
    expect(error.code).toBe('POS_INVALID_RESPONSE')
    expect(error.vendor).toBe('acme')
    expect(error.status).toBe(200)
    expect(error.details.fields).toEqual(['a.0', 'b'])
    expect(error.message).toBe(
      'acme pullInventory (GET /stock): response does not match the contract at a.0: expected number (and 1 more field(s))',
    )
  })

  test('no fields read as (body); at most 50 are kept', () => {
    expect(invalidPosResponse(INIT, []).details.fields).toEqual(['(body)'])
    const many = Array.from({ length: 80 }, (_, i) => `rows.${i}.qty`)
    expect(invalidPosResponse(INIT, many).details.fields).toHaveLength(50)
  })

  test('parsePosResponse returns the parsed value or throws listing every bad path', () => {
    const schema = z.object({ items: z.array(z.object({ id: z.string() })) })
    expect(parsePosResponse(schema, { items: [{ id: 'a' }] }, INIT)).toEqual({ items: [{ id: 'a' }] })
    let thrown: unknown
    try {
      parsePosResponse(schema, { items: [{ id: 1 }, { id: 'b' }, {}] }, INIT)
    } catch (error) {
      thrown = error
    }
    expect(isPosError(thrown)).toBe(true)
    if (!isPosError(thrown)) return
    expect(thrown.code).toBe('POS_INVALID_RESPONSE')
    expect(thrown.details.fields).toEqual(['items.0.id', 'items.2.id'])
    expect(thrown.message).toContain('at items.0.id')
  })
})
