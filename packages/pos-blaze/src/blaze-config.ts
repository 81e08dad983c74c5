import { type Clock, type Logger, silentLogger, systemClock, ValidationError, zodPath } from '@peak-oms/core'
import { z } from 'zod'

/** The BLAZE Partner API base URL. */
export const BLAZE_DEFAULT_BASE_URL = 'https://api.partners.blaze.me/api/v1/partner'

/** Retry options for transient failures (network errors, timeouts, 429, 500/502/503/504). */
export interface BlazeRetryOptions {
  /**
   * Retries after the first attempt.
   * @default 3
   */
  retries?: number
  /**
   * Backoff before the first retry, in ms; later retries multiply it by `factor`, with jitter.
   * @default 500
   */
  minTimeout?: number
  /**
   * Upper bound of one backoff, in ms.
   * @default 10000
   */
  maxTimeout?: number
  /**
   * Exponential backoff factor.
   * @default 2
   */
  factor?: number
  /**
   * Upper bound for a wait a 429 `Retry-After` asks for, in ms; a longer ask fails with `POS_UNAVAILABLE`
   * (carrying `retryAfterMs`) so the sync engine can reschedule instead of holding the call open.
   * @default 30000
   */
  maxRetryAfterMs?: number
}

/** The client-side rate limit: at most `requests` requests in any sliding window of `windowMs`. */
export interface BlazeRateLimitOptions {
  /**
   * Requests allowed per window.
   * @default 10
   */
  requests?: number
  /**
   * Window length in ms.
   * @default 1000
   */
  windowMs?: number
}

/** Configuration of `createBlazeAdapter`. Only `partnerKey` and `developerKey` are required. */
export interface BlazeConfig {
  /**
   * Partner API base URL, without a trailing slash.
   * @default 'https://api.partners.blaze.me/api/v1/partner'
   */
  baseUrl?: string
  /** The Partner Key, sent as `x-api-key` (or `partner_key`, see `partnerKeyHeader`). */
  partnerKey: string
  /** The Developer Key of the shop, sent raw as `Authorization` (no scheme). */
  developerKey: string
  /**
   * Header the Partner Key travels in. Older BLAZE clients send `partner_key`.
   * @default 'x-api-key'
   */
  partnerKeyHeader?: 'x-api-key' | 'partner_key'
  /**
   * The consumer user id (`cuid`) whose cart receives orders that carry no `externalCustomerId`, and
   * under which `findOrder` and status calls look carts up. Without it, every order must carry
   * `externalCustomerId` and lookups only know the carts this process pushed.
   * @default undefined
   */
  cuid?: string
  /**
   * Per-request timeout in ms.
   * @default 10000
   */
  timeoutMs?: number
  /** Retry options for transient failures. */
  retry?: BlazeRetryOptions
  /** Client-side rate limit, or `false` to disable it. */
  rateLimit?: BlazeRateLimitOptions | false
  /**
   * Records per product page when the caller gives no `pageSize`; pages are clamped to 1..100.
   * @default 100
   */
  pageSize?: number
  /**
   * Maps BLAZE `inventoryId`s to the location ids reported as `externalLocationId`. When set, only these
   * inventories are reported, and a product with no quantity there is reported as 0. When unset, every
   * inventory a product has a quantity in is reported under its own `inventoryId`.
   * @default undefined
   */
  locations?: Record<string, string>
  /**
   * Which product field stock levels come from: `quantities` (on hand per inventory) or
   * `sellableQuantities` (sellable per inventory).
   * @default 'quantities'
   */
  quantitySource?: 'quantities' | 'sellableQuantities'
  /**
   * ISO 4217 currency of the shop's prices.
   * @default 'USD'
   */
  currency?: string
  /**
   * Cart history records per request when looking an order up by our order number.
   * @default 100
   */
  historyPageSize?: number
  /**
   * How many history pages (newest first) a lookup by order number reads before it gives up.
   * @default 10
   */
  maxHistoryPages?: number
  /**
   * Structured logger; gets ids, codes, counts and timings only.
   * @default silentLogger
   */
  logger?: Logger
  /**
   * Where "now" comes from (the end of incremental pulls).
   * @default systemClock
   */
  clock?: Clock
}

/** `BlazeConfig` with every default filled in. */
export interface ResolvedBlazeConfig {
  baseUrl: string
  partnerKey: string
  developerKey: string
  partnerKeyHeader: 'x-api-key' | 'partner_key'
  cuid: string | undefined
  timeoutMs: number
  retry: Required<BlazeRetryOptions>
  rateLimit: Required<BlazeRateLimitOptions> | false
  pageSize: number
  locations: Record<string, string> | undefined
  quantitySource: 'quantities' | 'sellableQuantities'
  currency: string
  historyPageSize: number
  maxHistoryPages: number
  logger: Logger
  clock: Clock
}

const isLogger = (value: unknown): value is Logger =>
  typeof value === 'object' &&
  value !== null &&
  ['debug', 'info', 'warn', 'error'].every(
    (level) => typeof (value as Record<string, unknown>)[level] === 'function',
  )

const isClock = (value: unknown): value is Clock =>
  typeof value === 'object' && value !== null && typeof (value as Clock).now === 'function'

const positiveInt = z.number().int().positive()
const nonNegativeInt = z.number().int().nonnegative()

const configSchema = z.object({
  baseUrl: z
    .url({ protocol: /^https?$/ })
    .transform((url) => url.replace(/\/+$/, ''))
    .default(BLAZE_DEFAULT_BASE_URL),
  partnerKey: z.string().trim().min(1, 'is required'),
  developerKey: z.string().trim().min(1, 'is required'),
  partnerKeyHeader: z.enum(['x-api-key', 'partner_key']).default('x-api-key'),
  cuid: z.string().trim().min(1).optional(),
  timeoutMs: positiveInt.default(10_000),
  retry: z
    .object({
      retries: nonNegativeInt.max(20).default(3),
      minTimeout: nonNegativeInt.default(500),
      maxTimeout: nonNegativeInt.default(10_000),
      factor: z.number().min(1).default(2),
      maxRetryAfterMs: nonNegativeInt.default(30_000),
    })
    .default({ retries: 3, minTimeout: 500, maxTimeout: 10_000, factor: 2, maxRetryAfterMs: 30_000 }),
  rateLimit: z
    .union([
      z.literal(false),
      z.object({ requests: positiveInt.default(10), windowMs: positiveInt.default(1000) }),
    ])
    .default({ requests: 10, windowMs: 1000 }),
  pageSize: positiveInt.max(100).default(100),
  locations: z.record(z.string().min(1), z.string().min(1)).optional(),
  quantitySource: z.enum(['quantities', 'sellableQuantities']).default('sellableQuantities'),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code')
    .default('USD'),
  historyPageSize: positiveInt.max(100).default(100),
  maxHistoryPages: positiveInt.default(10),
  logger: z.custom<Logger>(isLogger, 'must have debug, info, warn and error functions').default(silentLogger),
  clock: z.custom<Clock>(isClock, 'must have a now() function').default(systemClock),
})

/**
 * Validates a `BlazeConfig` and fills in the defaults. Throws core's `ValidationError` listing every bad
 * field (never its value: the keys are secret).
 */
export function resolveBlazeConfig(config: BlazeConfig): ResolvedBlazeConfig {
  const parsed = configSchema.safeParse(config ?? {})
  if (!parsed.success) {
    throw new ValidationError(
      'BLAZE adapter config',
      parsed.error.issues.map((issue) => ({ path: zodPath(issue.path), message: issue.message })),
    )
  }
  const { cuid, locations, ...rest } = parsed.data
  return { ...rest, cuid, locations }
}
