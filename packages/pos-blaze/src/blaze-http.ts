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
import axios, { type AxiosInstance, type AxiosResponse } from 'axios'
import pRetry from 'p-retry'
import type { z } from 'zod'
import { blazeAuthHeaders, redactVendorText } from './blaze-auth'
import type { ResolvedBlazeConfig } from './blaze-config'
import { blazeErrorSchema } from './blaze-schemas'

const VENDOR = 'blaze'
const RETRIED_STATUSES = new Set([500, 502, 503, 504])

/** One call to the Partner API. */
export interface BlazeRequest<T> {
  operation: PosOperation
  method: 'GET' | 'POST' | 'DELETE'
  /** Path below the base URL, ids already encoded. Errors and logs show it; the query never. */
  path: string
  query?: Record<string, string | number | undefined>
  body?: unknown
  schema: z.ZodType<T>
  /**
   * Retry transient failures (network, timeout, 429, 5xx). False for calls that must not be repeated
   * blindly, like `submitCart`; the caller reads back instead.
   * @default true
   */
  retry?: boolean
  /** Return null for an empty 2xx body instead of failing validation. */
  allowEmpty?: boolean
  signal?: AbortSignal
}

/** The HTTP client of the adapter: auth headers, rate limit, retries, and every body validated. */
export class BlazeHttp {
  private readonly client: AxiosInstance
  private readonly limiter: SlidingWindowLimiter | null
  private readonly secrets: string[]

  constructor(private readonly config: ResolvedBlazeConfig) {
    this.client = axios.create({
      baseURL: config.baseUrl,
      timeout: config.timeoutMs,
      headers: { Accept: 'application/json', ...blazeAuthHeaders(config) },
      // Bodies are parsed here so that a malformed one is told apart from a network failure.
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      maxRedirects: 0,
    })
    this.limiter = config.rateLimit
      ? new SlidingWindowLimiter(config.rateLimit.requests, config.rateLimit.windowMs)
      : null
    this.secrets = [config.partnerKey, config.developerKey, ...(config.cuid ? [config.cuid] : [])]
  }

  /** Sends the request (retrying transient failures unless `retry` is false) and returns the parsed body. */
  async request<T>(req: BlazeRequest<T>): Promise<T> {
    const { retry: retryOptions, logger } = this.config
    const retries = req.retry === false ? 0 : retryOptions.retries
    return pRetry(() => this.once(req), {
      retries,
      minTimeout: 0,
      maxTimeout: 0,
      signal: req.signal,
      shouldRetry: ({ error }) => isPosError(error) && error.retryable,
      onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
        if (!(isPosError(error) && error.retryable) || retriesLeft <= 0) return
        if (error.retryAfterMs !== undefined && error.retryAfterMs > retryOptions.maxRetryAfterMs) {
          throw error
        }
        const delayMs = error.retryAfterMs ?? this.backoff(attemptNumber)
        logger.warn(
          {
            vendor: VENDOR,
            operation: req.operation,
            method: req.method,
            path: req.path,
            status: error.status,
            attempt: attemptNumber,
            delayMs,
          },
          'blaze request failed, retrying',
        )
        await abortableSleep(delayMs, req.signal)
      },
    })
  }

  /** Exponential backoff with equal jitter: between half and all of `minTimeout * factor^(n-1)`. */
  private backoff(attemptNumber: number): number {
    const { minTimeout, maxTimeout, factor } = this.config.retry
    const base = Math.min(maxTimeout, minTimeout * factor ** (attemptNumber - 1))
    return Math.round(base / 2 + (Math.random() * base) / 2)
  }

  private async once<T>(req: BlazeRequest<T>): Promise<T> {
    await this.limiter?.acquire()
    const started = performance.now()
    let response: AxiosResponse<unknown>
    try {
      response = await this.client.request({
        method: req.method,
        url: req.path,
        params: req.query,
        data: req.body,
        signal: req.signal,
      })
    } catch (error) {
      throw this.networkError(req, error)
    }
    this.config.logger.debug(
      {
        vendor: VENDOR,
        operation: req.operation,
        method: req.method,
        path: req.path,
        status: response.status,
        ms: Math.round(performance.now() - started),
      },
      'blaze response',
    )
    const text = typeof response.data === 'string' ? response.data : ''
    if (response.status >= 200 && response.status < 300) return this.parseBody(req, response.status, text)
    throw this.statusError(req, response.status, text, response.headers['retry-after'])
  }

  private init(req: BlazeRequest<unknown>, extra: Partial<PosErrorInit> = {}): PosErrorInit {
    return { vendor: VENDOR, operation: req.operation, method: req.method, path: req.path, ...extra }
  }

  private parseBody<T>(req: BlazeRequest<T>, status: number, text: string): T {
    if (text.trim() === '' && req.allowEmpty) return null as T
    const json = parseJsonBody(text)
    if (!json.ok || json.value === undefined) {
      throw invalidPosResponse(this.init(req, { status }), ['(body)'], 'the body is not valid JSON')
    }
    return parsePosResponse(req.schema, json.value, this.init(req, { status }))
  }

  private statusError(
    req: BlazeRequest<unknown>,
    status: number,
    text: string,
    retryAfter: unknown,
  ): PosError {
    let vendorCode: string | undefined
    let vendorMessage: string | undefined
    // A non-JSON error body (a proxy's HTML page) carries nothing worth keeping.
    const json = parseJsonBody(text)
    const body = json.ok ? blazeErrorSchema.safeParse(json.value) : null
    if (body?.success) {
      vendorCode = body.data.error ?? undefined
      vendorMessage = body.data.message ?? undefined
    }
    const said = vendorMessage ? `: ${redactVendorText(vendorMessage, this.secrets)}` : ''
    if (status === 429) {
      const retryAfterMs = parseRetryAfter(retryAfter, this.config.clock.now().getTime()) ?? undefined
      return new PosError(
        'POS_UNAVAILABLE',
        `rate limited (429)${said}`,
        this.init(req, { status, vendorCode, retryAfterMs }),
      )
    }
    if (RETRIED_STATUSES.has(status)) {
      return new PosError(
        'POS_UNAVAILABLE',
        `server error (${status})${said}`,
        this.init(req, { status, vendorCode }),
      )
    }
    const what =
      status === 401
        ? 'authentication failed (401): check partnerKey and developerKey'
        : status === 403
          ? 'forbidden (403): the partner key lacks a permission'
          : `rejected (${status})`
    return new PosError('POS_REJECTED', `${what}${said}`, this.init(req, { status, vendorCode }))
  }

  private networkError(req: BlazeRequest<unknown>, error: unknown): PosError {
    const code = axios.isAxiosError(error) ? error.code : undefined
    if (code === 'ERR_CANCELED') {
      return new PosError(
        'POS_UNAVAILABLE',
        'request aborted by the caller',
        this.init(req, { vendorCode: code }),
      )
    }
    const what =
      code === 'ECONNABORTED' || code === 'ETIMEDOUT'
        ? `no response within ${this.config.timeoutMs} ms`
        : `network error (${code ?? 'unknown'})`
    return new PosError('POS_UNAVAILABLE', what, this.init(req, { vendorCode: code }))
  }
}
