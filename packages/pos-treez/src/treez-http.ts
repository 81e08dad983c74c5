import {
  abortableSleep,
  invalidPosResponse,
  isPosError,
  PosError,
  type PosErrorInit,
  type PosOperation,
  parseJsonBody,
  parsePosResponse,
  parseRetryAfter,
  SlidingWindowLimiter,
} from '@peak-oms/core'
import axios, { type AxiosInstance, type AxiosResponse, isAxiosError } from 'axios'
import pRetry from 'p-retry'
import type { z } from 'zod'
import { createTreezToken } from './treez-auth'
import type { ResolvedTreezConfig } from './treez-config'

const VENDOR = 'treez'

/** Statuses retried in the call. Other 5xx are `POS_UNAVAILABLE` too, but left to the sync engine. */
const RETRIED_STATUSES = new Set([429, 500, 502, 503, 504])
/** Network failures that happen before the request can reach Treez: a create cannot have been committed. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'])

/** Errors worth retrying within the call. */
const retryInCall = new WeakSet<PosError>()
/** Errors after which Treez may or may not have carried out the request (timeout, reset, 5xx). */
const ambiguous = new WeakSet<PosError>()

/** True when the failed request may still have been carried out by Treez, e.g. a create that timed out. */
export const mayHaveCommitted = (error: unknown): boolean => isPosError(error) && ambiguous.has(error)

/** True when the error is transient and the same call may be retried at once (after backoff). */
export const isRetriedInCall = (error: unknown): boolean => isPosError(error) && retryInCall.has(error)

export interface TreezRequest<T> {
  operation: PosOperation
  method: 'GET' | 'POST' | 'PUT'
  /** Path below the base URL, already URL-encoded, e.g. `/store/ticket/abc`. Errors and logs show only this. */
  path: string
  query?: Record<string, string | number | boolean | undefined>
  body?: unknown
  schema: z.ZodType<T>
  signal?: AbortSignal | undefined
}

/** `resultReason` of a Treez body, if the body has one; never the detail (it may echo input). */
function vendorCodeOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const reason = (body as Record<string, unknown>).resultReason
  return typeof reason === 'string' && /^[A-Z0-9_]{1,64}$/.test(reason) ? reason : undefined
}

/**
 * The Treez HTTP client: signs every request, applies the rate limit and timeout, validates each body
 * with zod, retries transient failures with p-retry and turns every failure into a clean `PosError`.
 */
export class TreezHttp {
  readonly #config: ResolvedTreezConfig
  readonly #axios: AxiosInstance
  readonly #limiter: SlidingWindowLimiter

  constructor(config: ResolvedTreezConfig) {
    this.#config = config
    this.#limiter = new SlidingWindowLimiter(config.rateLimit.requests, config.rateLimit.windowMs)
    this.#axios = axios.create({
      timeout: config.timeoutMs,
      // Raw text: axios would silently hand back a string for a body that is not JSON.
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      maxRedirects: 0,
    })
  }

  /** Sends the request, retrying transient failures. */
  request<T>(req: TreezRequest<T>): Promise<T> {
    return this.retry(req.operation, () => this.send(req), { signal: req.signal })
  }

  /**
   * Runs `attempt` with the configured retries: backoff with jitter, `Retry-After` honoured up to
   * `maxRetryAfterMs`. `attempt` gets its number, so a create can look for its ticket before a retry.
   */
  async retry<T>(
    operation: PosOperation,
    attempt: (attemptNumber: number) => Promise<T>,
    options: { signal?: AbortSignal | undefined } = {},
  ): Promise<T> {
    const { retries, minTimeout, maxTimeout, maxRetryAfterMs } = this.#config.retry
    const { logger } = this.#config
    const { signal } = options
    const retriable = (error: unknown) =>
      isRetriedInCall(error) && !(isPosError(error) && (error.retryAfterMs ?? 0) > maxRetryAfterMs)
    try {
      return await pRetry(attempt, {
        retries,
        minTimeout,
        maxTimeout,
        factor: 2,
        randomize: true,
        ...(signal ? { signal } : {}),
        shouldRetry: ({ error }) => retriable(error),
        onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
          if (!isPosError(error)) return
          const willRetry = retriesLeft > 0 && retriable(error)
          logger.warn(
            {
              vendor: VENDOR,
              operation,
              code: error.code,
              status: error.status,
              vendorCode: error.details.vendorCode,
              attempt: attemptNumber,
              retriesLeft,
              willRetry,
              retryAfterMs: error.retryAfterMs,
            },
            'treez request failed',
          )
          // p-retry adds its own backoff on top, so the wait is at least what Treez asked for.
          if (willRetry && error.retryAfterMs) await abortableSleep(error.retryAfterMs, signal)
        },
      })
    } catch (error) {
      if (!isPosError(error) && signal?.aborted) {
        throw new PosError('POS_UNAVAILABLE', 'request aborted by the caller', { vendor: VENDOR, operation })
      }
      throw error
    }
  }

  /** One attempt, no retry. Throws `PosError` only. */
  async send<T>(req: TreezRequest<T>): Promise<T> {
    const { logger } = this.#config
    const url = this.#url(req)
    const init: PosErrorInit = {
      vendor: VENDOR,
      operation: req.operation,
      method: req.method,
      path: req.path,
    }
    await this.#limiter.acquire(req.signal).catch(() => {
      throw new PosError('POS_UNAVAILABLE', 'request aborted by the caller', init)
    })
    const token = createTreezToken({
      privateKey: this.#config.privateKey,
      certificateId: this.#config.certificateId,
      organizationId: this.#config.organizationId,
      url,
      now: this.#config.now(),
    })
    const deadline = AbortSignal.timeout(this.#config.timeoutMs)
    const signal = req.signal ? AbortSignal.any([req.signal, deadline]) : deadline
    const started = performance.now()
    let response: AxiosResponse<unknown>
    try {
      response = await this.#axios.request<unknown>({
        url,
        method: req.method,
        headers: {
          Authorization: token,
          Accept: 'application/json',
          ...(req.body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        ...(req.body === undefined ? {} : { data: JSON.stringify(req.body) }),
        signal,
      })
    } catch (error) {
      throw this.#networkError(error, init, req.signal)
    }
    const status = response.status
    logger.debug(
      {
        vendor: VENDOR,
        operation: req.operation,
        method: req.method,
        path: req.path,
        status,
        durationMs: Math.round(performance.now() - started),
      },
      'treez request',
    )
    return this.#readResponse(req, response, { ...init, status })
  }

  #url(req: TreezRequest<unknown>): string {
    const query = new URLSearchParams()
    for (const [key, value] of Object.entries(req.query ?? {})) {
      if (value !== undefined) query.set(key, String(value))
    }
    const search = query.toString()
    // Normalised once: the token's `aud` must be byte for byte the URL that is sent.
    return new URL(`${this.#config.baseUrl}${req.path}${search ? `?${search}` : ''}`).href
  }

  #networkError(error: unknown, init: PosErrorInit, callerSignal: AbortSignal | undefined): PosError {
    if (callerSignal?.aborted) return new PosError('POS_UNAVAILABLE', 'request aborted by the caller', init)
    const code = isAxiosError(error) ? error.code : undefined
    const timedOut = code === 'ECONNABORTED' || code === 'ETIMEDOUT' || code === 'ERR_CANCELED'
    const message = timedOut
      ? `no response within ${this.#config.timeoutMs} ms`
      : `network error${code && /^[A-Z_]{2,32}$/.test(code) ? ` (${code})` : ''}`
    const posError = new PosError('POS_UNAVAILABLE', message, init)
    retryInCall.add(posError)
    if (!(code && NOT_SENT_CODES.has(code))) ambiguous.add(posError)
    return posError
  }

  #readResponse<T>(req: TreezRequest<T>, response: AxiosResponse<unknown>, init: PosErrorInit): T {
    const status = response.status
    const json = parseJsonBody(response.data)
    const body = json.ok ? json.value : undefined
    const vendorCode = vendorCodeOf(body)
    const withCode = vendorCode ? { ...init, vendorCode } : init

    if (status === 429) {
      const retryAfterMs = parseRetryAfter(response.headers['retry-after'], this.#config.now().getTime())
      const error = new PosError(
        'POS_UNAVAILABLE',
        `rate limited (429)${retryAfterMs === null ? '' : `, retry after ${retryAfterMs} ms`}`,
        retryAfterMs === null ? withCode : { ...withCode, retryAfterMs },
      )
      retryInCall.add(error)
      throw error
    }
    if (status >= 500) {
      const error = new PosError('POS_UNAVAILABLE', `server error ${status}`, withCode)
      if (RETRIED_STATUSES.has(status)) retryInCall.add(error)
      ambiguous.add(error)
      throw error
    }
    if (status < 200 || status >= 300) {
      throw new PosError(
        'POS_REJECTED',
        `rejected with ${status}${vendorCode ? ` ${vendorCode}` : ''}`,
        withCode,
      )
    }
    if (!json.ok) {
      throw invalidPosResponse(init, ['(body)'], 'the body is not valid JSON')
    }
    if (
      typeof body === 'object' &&
      body !== null &&
      (body as Record<string, unknown>).resultCode === 'FAIL'
    ) {
      // Treez can answer 200 with a FAIL envelope: the resultCode decides, not the status.
      throw new PosError(
        'POS_REJECTED',
        `rejected: resultCode FAIL${vendorCode ? ` ${vendorCode}` : ''}`,
        withCode,
      )
    }
    return parsePosResponse(req.schema, body, init)
  }
}

/** Builds a `PosError` for a failure the adapter detects itself (no HTTP status involved). */
export function treezError(
  code: 'POS_UNAVAILABLE' | 'POS_REJECTED' | 'POS_INVALID_RESPONSE',
  message: string,
  init: Omit<PosErrorInit, 'vendor'>,
): PosError {
  return new PosError(code, message, { vendor: VENDOR, ...init })
}
