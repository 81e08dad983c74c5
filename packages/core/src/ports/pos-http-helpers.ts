import type { z } from 'zod'
import { PosError, type PosErrorInit } from '../errors/pos-error'

/** Most field paths one `POS_INVALID_RESPONSE` lists: a whole page of bad rows must not bloat the error. */
const MAX_FIELDS = 50

/**
 * Waits `ms` milliseconds (at once when `ms` is not positive). Rejects with the signal's reason as soon as
 * `signal` aborts, and at once when it already has.
 */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason)
      return
    }
    if (!(ms > 0)) {
      resolve()
      return
    }
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** Settles like `promise`, but rejects with the signal's reason as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}

/**
 * A client-side rolling-window rate limiter: at most `limit` request starts in any `windowMs`, in-process
 * and shared by every call that holds it. Waiters are served in order; `now` (ms, monotonic by default) can
 * be injected so a window is exact in tests.
 */
export class SlidingWindowLimiter {
  readonly #limit: number
  readonly #windowMs: number
  readonly #now: () => number
  readonly #starts: number[] = []
  #tail: Promise<void> = Promise.resolve()

  constructor(limit: number, windowMs: number, now: () => number = () => performance.now()) {
    if (!(limit >= 1) || !(windowMs >= 0)) {
      throw new RangeError('SlidingWindowLimiter needs limit >= 1 and windowMs >= 0')
    }
    this.#limit = limit
    this.#windowMs = windowMs
    this.#now = now
  }

  /**
   * Resolves when a request may start, and counts that start. Rejects with the signal's reason as soon as
   * `signal` aborts (also while queued behind other waiters); an aborted waiter takes no slot.
   */
  acquire(signal?: AbortSignal): Promise<void> {
    const turn = this.#tail.then(() => this.#take(signal))
    this.#tail = turn.catch(() => undefined)
    return signal ? untilAborted(turn, signal) : turn
  }

  async #take(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted()
      const now = this.#now()
      while (this.#starts.length > 0 && (this.#starts[0] ?? 0) <= now - this.#windowMs) this.#starts.shift()
      if (this.#starts.length < this.#limit) {
        this.#starts.push(now)
        return
      }
      const waitMs = (this.#starts[0] ?? now) + this.#windowMs - now
      await abortableSleep(Math.max(1, Math.ceil(waitMs)), signal)
    }
  }
}

/**
 * Reads an HTTP `Retry-After` value (delay seconds such as `120` or `0.5`, or an HTTP date) as milliseconds
 * from `nowMs`, never negative. Null when the value is absent or unreadable.
 */
export function parseRetryAfter(value: unknown, nowMs: number = Date.now()): number | null {
  if (typeof value !== 'string' || value.trim() === '') return null
  const trimmed = value.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000)
  const at = Date.parse(trimmed)
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs)
}

/**
 * Parses a raw (text) response body as JSON. A non-string passes through as is and blank text reads as
 * `undefined`; malformed text is `{ ok: false }` rather than an exception.
 */
export function parseJsonBody(raw: unknown): { ok: true; value: unknown } | { ok: false } {
  if (typeof raw !== 'string') return { ok: true, value: raw }
  if (raw.trim() === '') return { ok: true, value: undefined }
  try {
    return { ok: true, value: JSON.parse(raw) as unknown }
  } catch {
    return { ok: false }
  }
}

/** The dotted form of a zod issue path, e.g. `data.product_list.0.price`; the root is `''`. */
export const zodPath = (path: readonly PropertyKey[]): string => path.map(String).join('.')

/**
 * The distinct dotted paths of a zod error's issues, in order of first appearance, with `(root)` for an
 * issue about the value itself. Array indexes appear as segments (`values.1.quantities.0.quantity`).
 */
export function zodIssuePaths(error: z.ZodError): string[] {
  return [...new Set(error.issues.map((issue) => zodPath(issue.path) || '(root)'))]
}

/**
 * A `POS_INVALID_RESPONSE` naming the fields (dotted paths) of a vendor body that broke its contract; the
 * message names the first, with `why` when given. No fields reads as `(body)`; at most 50 are kept.
 */
export function invalidPosResponse(init: PosErrorInit, fields: readonly string[], why?: string): PosError {
  const unique = [...new Set(fields.length > 0 ? fields : ['(body)'])]
  const first = unique[0] ?? '(body)'
  const more = unique.length > 1 ? ` (and ${unique.length - 1} more field(s))` : ''
  return new PosError(
    'POS_INVALID_RESPONSE',
    `response does not match the contract at ${first}${why ? `: ${why}` : ''}${more}`,
    { ...init, fields: unique.slice(0, MAX_FIELDS) },
  )
}

/**
 * Validates a parsed vendor body with `schema` and returns the parsed value, or throws
 * {@link invalidPosResponse} listing every bad field path with the first issue's message.
 */
export function parsePosResponse<S extends z.ZodType>(
  schema: S,
  body: unknown,
  init: PosErrorInit,
): z.output<S> {
  const parsed = schema.safeParse(body)
  if (parsed.success) return parsed.data
  throw invalidPosResponse(init, zodIssuePaths(parsed.error), parsed.error.issues[0]?.message)
}
