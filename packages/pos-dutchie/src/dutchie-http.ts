import {
  abortableSleep,
  invalidPosResponse,
  isPosError,
  type Logger,
  PosError,
  type PosOperation,
  parseJsonBody,
  parsePosResponse,
  parseRetryAfter as retryAfterOrNull,
  SlidingWindowLimiter,
} from '@peak-oms/core'
import axios, { type AxiosInstance, type AxiosResponse, isAxiosError } from 'axios'
import pRetry from 'p-retry'
import type { z } from 'zod'
import { DUTCHIE_CONSUMER_KEY_HEADER, dutchieAuthorization } from './dutchie-auth'
import type { ResolvedDutchieConfig } from './dutchie-config'
import { badRequestSchema } from './dutchie-schemas'

/** The adapter's `vendor` name, used in every `PosError` and log line. */
export const DUTCHIE_VENDOR = 'dutchie'

/** Statuses retried in-call. Other 4xx/5xx are permanent. */
const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504])

/** Turns `Retry-After` (delta seconds or an HTTP date) into milliseconds; undefined when absent or bad. */
export const parseRetryAfter = (value: unknown, nowMs?: number): number | undefined =>
  retryAfterOrNull(value, nowMs) ?? undefined

/** What a call was: copied into `PosError` (never the query string, headers or body). */
export interface DutchieCallContext {
  operation: PosOperation
  method: 'GET' | 'POST'
  /** Path only, without the query string: this is what errors and logs show. */
  path: string
}

/** A `POS_INVALID_RESPONSE` for a Dutchie call, naming the first bad field (see core's `invalidPosResponse`). */
export const invalidResponse = (ctx: DutchieCallContext, fields: readonly string[], why?: string): PosError =>
  invalidPosResponse({ vendor: DUTCHIE_VENDOR, ...ctx }, fields, why)

/** Property names of a submit `BadRequestResponse`; the free-text message is never copied (it may echo PII). */
const badRequestProperties = (raw: unknown): string[] => {
  const json = parseJsonBody(raw)
  if (!json.ok) return []
  const body = badRequestSchema.safeParse(json.value)
  if (!body.success) return []
  return (body.data.propertyErrors ?? [])
    .map((error) => error.propertyName)
    .filter((name): name is string => typeof name === 'string' && /^[\w.[\]]{1,80}$/.test(name))
}

/**
 * Translates anything an axios call throws into a `PosError`, copying only the status, method, path and
 * vendor code. The `AxiosError` (whose config holds the Authorization header) is never kept as `cause`.
 */
export function toPosError(error: unknown, ctx: DutchieCallContext): unknown {
  if (isPosError(error)) return error
  if (!isAxiosError(error)) return error
  const init = { vendor: DUTCHIE_VENDOR, ...ctx }
  const response = error.response
  if (!response) {
    const code = typeof error.code === 'string' ? error.code : 'NETWORK'
    const timedOut = code === 'ECONNABORTED' || code === 'ETIMEDOUT'
    return new PosError(
      'POS_UNAVAILABLE',
      timedOut ? 'no response within the timeout' : `network error (${code.replace(/[^\w]/g, '')})`,
      { ...init, vendorCode: timedOut ? 'TIMEOUT' : code },
    )
  }
  const status = response.status
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(response.headers?.['retry-after'])
    return new PosError(
      'POS_UNAVAILABLE',
      `rate limited (HTTP 429${retryAfterMs === undefined ? '' : `, retry after ${retryAfterMs} ms`})`,
      { ...init, status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) },
    )
  }
  if (RETRYABLE_STATUS.has(status)) {
    return new PosError('POS_UNAVAILABLE', `HTTP ${status}`, { ...init, status })
  }
  if (status === 401) {
    return new PosError('POS_REJECTED', 'HTTP 401: invalid or missing API key', {
      ...init,
      status,
      vendorCode: 'UNAUTHORIZED',
    })
  }
  if (status === 403) {
    return new PosError('POS_REJECTED', 'HTTP 403: the API key lacks the role this endpoint needs', {
      ...init,
      status,
      vendorCode: 'FORBIDDEN',
    })
  }
  if (status === 404) {
    return new PosError('POS_REJECTED', 'HTTP 404: not found', { ...init, status, vendorCode: 'NOT_FOUND' })
  }
  if (status === 400) {
    const properties = badRequestProperties(response.data)
    return new PosError(
      'POS_REJECTED',
      `HTTP 400: bad request${properties.length > 0 ? ` (${properties.join(', ')})` : ''}`,
      { ...init, status, vendorCode: 'BAD_REQUEST' },
    )
  }
  return new PosError('POS_REJECTED', `HTTP ${status}`, { ...init, status })
}

/** One Dutchie request: what to send and the schema its 200 body must match. */
export interface DutchieRequest<S extends z.ZodType | null> extends DutchieCallContext {
  query?: Record<string, string | number | boolean | undefined>
  body?: unknown
  /** Sends the `ConsumerKey` header (submit only). */
  consumerKey?: string
  /** The 200 body's schema, or null when the endpoint answers without a body. */
  schema: S
  signal?: AbortSignal
}

type Parsed<S extends z.ZodType | null> = S extends z.ZodType ? z.output<S> : undefined

/**
 * The Dutchie HTTP client: Basic auth, per-request timeout, client-side rate limit, p-retry on transient
 * failures (honouring `Retry-After`), zod validation of every body, and `PosError` translation.
 */
export class DutchieHttp {
  private readonly http: AxiosInstance
  private readonly limiter: SlidingWindowLimiter

  constructor(
    private readonly config: ResolvedDutchieConfig,
    private readonly logger: Logger,
  ) {
    this.http = axios.create({
      baseURL: config.baseUrl,
      timeout: config.timeoutMs,
      headers: {
        Authorization: dutchieAuthorization(config.locationKey, config.integratorKey),
        Accept: 'application/json',
      },
      // Parse JSON ourselves so a malformed body is reported, not silently passed on as a string.
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      maxRedirects: 0,
    })
    this.limiter = new SlidingWindowLimiter(config.rateLimit.requests, config.rateLimit.windowMs)
  }

  /** One attempt: waits for the rate limiter, sends, validates. Throws `PosError`. */
  async attempt<S extends z.ZodType | null>(request: DutchieRequest<S>): Promise<Parsed<S>> {
    const ctx: DutchieCallContext = {
      operation: request.operation,
      method: request.method,
      path: request.path,
    }
    await this.limiter.acquire(request.signal)
    const started = performance.now()
    let response: AxiosResponse<unknown>
    try {
      response = await this.http.request<unknown>({
        method: request.method,
        url: request.path,
        params: request.query,
        data: request.body,
        headers: {
          ...(request.body === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...(request.consumerKey ? { [DUTCHIE_CONSUMER_KEY_HEADER]: request.consumerKey } : {}),
        },
        signal: request.signal,
      })
    } catch (error) {
      const translated = toPosError(error, ctx)
      this.logger.debug(
        {
          vendor: DUTCHIE_VENDOR,
          ...ctx,
          status: isPosError(translated) ? translated.status : undefined,
          code: isPosError(translated) ? translated.code : 'UNKNOWN',
          ms: Math.round(performance.now() - started),
        },
        'dutchie request failed',
      )
      throw translated
    }
    this.logger.debug(
      {
        vendor: DUTCHIE_VENDOR,
        ...ctx,
        status: response.status,
        ms: Math.round(performance.now() - started),
      },
      'dutchie request',
    )
    if (request.schema === null) return undefined as Parsed<S>
    const json = parseJsonBody(response.data)
    if (!json.ok) throw invalidResponse(ctx, ['(body)'], 'the body is not valid JSON')
    return parsePosResponse(request.schema, json.value, { vendor: DUTCHIE_VENDOR, ...ctx }) as Parsed<S>
  }

  /**
   * Runs `fn` with p-retry: `POS_UNAVAILABLE` failures are retried with exponential backoff and jitter,
   * after waiting out a 429's `Retry-After` (capped at `maxRetryAfterMs`); anything else fails at once.
   */
  retrying<T>(
    operation: PosOperation,
    fn: (attemptNumber: number) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    const { retries, minTimeout, maxTimeout, maxRetryAfterMs } = this.config.retry
    return pRetry(fn, {
      retries,
      minTimeout,
      maxTimeout: Math.max(minTimeout, maxTimeout),
      factor: 2,
      randomize: true,
      signal,
      shouldRetry: ({ error }) => isPosError(error) && error.code === 'POS_UNAVAILABLE',
      onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
        if (!isPosError(error) || error.code !== 'POS_UNAVAILABLE') return
        this.logger.warn(
          {
            vendor: DUTCHIE_VENDOR,
            operation,
            status: error.status,
            attempt: attemptNumber,
            retriesLeft,
            retryAfterMs: error.retryAfterMs,
          },
          retriesLeft > 0 ? 'dutchie call failed; retrying' : 'dutchie call failed; giving up',
        )
        if (retriesLeft > 0 && error.retryAfterMs !== undefined) {
          await abortableSleep(Math.min(error.retryAfterMs, maxRetryAfterMs), signal)
        }
      },
    })
  }

  /** {@link attempt} with {@link retrying}: for idempotent calls (every Dutchie call but submit without a ConsumerKey). */
  call<S extends z.ZodType | null>(request: DutchieRequest<S>): Promise<Parsed<S>> {
    return this.retrying(request.operation, () => this.attempt(request), request.signal)
  }
}
