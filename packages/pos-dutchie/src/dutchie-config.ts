import { type FieldIssue, type Logger, silentLogger, ValidationError, zodPath } from '@peak-oms/core'
import { z } from 'zod'

/** Retry policy for one Dutchie call (p-retry). */
export interface DutchieRetryOptions {
  /**
   * Retries after the first attempt, for network errors, timeouts, 429 and 500/502/503/504.
   * @default 4
   */
  retries?: number
  /**
   * First backoff delay in milliseconds; it doubles each retry, with jitter.
   * @default 1000
   */
  minTimeout?: number
  /**
   * Longest backoff delay in milliseconds.
   * @default 8000
   */
  maxTimeout?: number
  /**
   * Longest `Retry-After` (from a 429) the adapter waits for before retrying; a longer one is capped.
   * @default 30000
   */
  maxRetryAfterMs?: number
}

/** Client-side rate limit: at most `requests` calls in any sliding window of `windowMs`. */
export interface DutchieRateLimitOptions {
  /**
   * Requests allowed per window, across every endpoint this adapter calls.
   * @default 120
   */
  requests?: number
  /**
   * Window length in milliseconds.
   * @default 60000
   */
  windowMs?: number
}

/** Configuration of {@link createDutchieAdapter}. One Dutchie location API key is one store location. */
export interface DutchieConfig {
  /**
   * Dutchie POS API base URL.
   * @default 'https://api.pos.dutchie.com'
   */
  baseUrl?: string
  /** The location API key: the HTTP Basic username. A secret; it never appears in errors or logs. */
  locationKey: string
  /**
   * The integrator key, sent as the HTTP Basic password. When absent the password is empty.
   * @default undefined
   */
  integratorKey?: string
  /**
   * A GUID sent as the `ConsumerKey` header on `POST /preorder/submit`. Together with the `idempotencyKey`
   * field it makes Dutchie dedupe pre-order submits. Strongly recommended: without it the adapter can only
   * look orders up in the open orders of the last 14 days before (re)submitting.
   * @default undefined
   */
  consumerKey?: string
  /**
   * The `externalLocationId` reported on stock levels in `'location'` mode. When absent it is the
   * `locationId` from `GET /whoami`, fetched once.
   * @default undefined
   */
  externalLocationId?: string
  /**
   * `'location'`: one stock level per product for the key's location (`quantityAvailable`).
   * `'rooms'`: one stock level per product and room (`roomQuantities[]`), the room being the location.
   * @default 'location'
   */
  stockLocations?: 'location' | 'rooms'
  /**
   * In `'rooms'` mode, which room field becomes `externalLocationId`: the room name or its numeric id.
   * @default 'name'
   */
  roomKey?: 'name' | 'id'
  /**
   * In `'rooms'` mode, only these rooms (names or ids, as `roomKey` says) are reported. All when absent.
   * @default undefined
   */
  rooms?: string[]
  /**
   * Which Dutchie price becomes `priceMinor`: `recPrice` or `medPrice`, each falling back to `price`.
   * @default 'recreational'
   */
  pricing?: 'recreational' | 'medical'
  /**
   * ISO 4217 currency of Dutchie prices.
   * @default 'USD'
   */
  currency?: string
  /**
   * Send `isActive=true` on product pulls, so deactivated products are not returned.
   * @default false
   */
  activeOnly?: boolean
  /**
   * How far before `since` an incremental product pull starts, to cover clock skew and late writes.
   * @default 60000
   */
  incrementalOverlapMs?: number
  /**
   * Marker written at the start of the pre-order `notes`, followed by our order number
   * (`Peak OMS ORD-20261122-0001`). `findOrder` matches on it.
   * @default 'Peak OMS'
   */
  notesPrefix?: string
  /**
   * How long the product-unit cache (used to convert weighed order lines from mg to grams) stays fresh
   * before a push of an unknown product reloads the catalog.
   * @default 300000
   */
  productCacheTtlMs?: number
  /**
   * Per-request timeout in milliseconds.
   * @default 15000
   */
  timeoutMs?: number
  /** @default { retries: 4, minTimeout: 1000, maxTimeout: 8000, maxRetryAfterMs: 30000 } */
  retry?: DutchieRetryOptions
  /** @default { requests: 120, windowMs: 60000 } */
  rateLimit?: DutchieRateLimitOptions
  /**
   * Structured logger. Only ids, codes, counts, methods and paths are logged.
   * @default silentLogger
   */
  logger?: Logger
}

const isLogger = (value: unknown): value is Logger =>
  typeof value === 'object' &&
  value !== null &&
  (['debug', 'info', 'warn', 'error'] as const).every(
    (method) => typeof (value as Record<string, unknown>)[method] === 'function',
  )

const positiveInt = z.number().int().positive()
const nonNegativeInt = z.number().int().min(0)

/** The zod schema behind {@link resolveDutchieConfig}; it holds every default. */
export const dutchieConfigSchema = z.object({
  baseUrl: z.url({ protocol: /^https?$/ }).default('https://api.pos.dutchie.com'),
  locationKey: z.string().trim().min(1, 'is required'),
  integratorKey: z.string().trim().min(1).optional(),
  consumerKey: z.guid('must be a GUID').optional(),
  externalLocationId: z.string().trim().min(1).optional(),
  stockLocations: z.enum(['location', 'rooms']).default('location'),
  roomKey: z.enum(['name', 'id']).default('name'),
  rooms: z.array(z.string().min(1)).min(1).optional(),
  pricing: z.enum(['recreational', 'medical']).default('recreational'),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code')
    .default('USD'),
  activeOnly: z.boolean().default(false),
  incrementalOverlapMs: nonNegativeInt.default(60_000),
  notesPrefix: z
    .string()
    .regex(/^[^\s].*[^\s]$|^[^\s]$/, 'must not start or end with whitespace')
    .default('Peak OMS'),
  productCacheTtlMs: nonNegativeInt.default(300_000),
  timeoutMs: positiveInt.default(15_000),
  retry: z
    .object({
      retries: nonNegativeInt.max(20).default(4),
      minTimeout: nonNegativeInt.default(1000),
      maxTimeout: nonNegativeInt.default(8000),
      maxRetryAfterMs: nonNegativeInt.default(30_000),
    })
    .prefault({}),
  rateLimit: z
    .object({
      requests: positiveInt.default(120),
      windowMs: positiveInt.default(60_000),
    })
    .prefault({}),
  logger: z.custom<Logger>(isLogger, 'must have debug, info, warn and error methods').default(silentLogger),
})

/** The configuration with every default applied. */
export type ResolvedDutchieConfig = z.output<typeof dutchieConfigSchema>

/**
 * Validates a {@link DutchieConfig} and applies the defaults. Throws a core `ValidationError` listing every
 * bad field; the values themselves (keys) are never echoed.
 */
export function resolveDutchieConfig(config: DutchieConfig): ResolvedDutchieConfig {
  const parsed = dutchieConfigSchema.safeParse(config)
  if (!parsed.success) {
    const issues: FieldIssue[] = parsed.error.issues.map((issue) => ({
      path: zodPath(issue.path),
      message: issue.message,
    }))
    throw new ValidationError('Dutchie adapter config', issues)
  }
  return { ...parsed.data, baseUrl: parsed.data.baseUrl.replace(/\/+$/, '') }
}
