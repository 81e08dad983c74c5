import { createPrivateKey, KeyObject } from 'node:crypto'
import { type FieldIssue, type Logger, silentLogger, ValidationError, zodPath } from '@peak-oms/core'
import { z } from 'zod'

/** Treez `inventory_type` of stock lines. */
export type TreezInventoryType = 'ADULT' | 'MEDICAL'

/** Treez ticket `type`. */
export type TreezTicketType = 'DELIVERY' | 'PICKUP' | 'EXPRESS' | 'POS' | 'DRIVE_THRU' | 'CURBSIDE'

/** Treez ticket `order_source`. */
export type TreezOrderSource = 'ECOMMERCE' | 'IN_STORE' | 'VENDING_MACHINE' | 'KIOSK'

/** Configuration of {@link createTreezAdapter}. Only the credentials and the store slug are required. */
export interface TreezConfig {
  /**
   * RSA private key (PEM string or `KeyObject`) whose certificate is registered with Treez. Treez asks for
   * RSA-4096; any RSA key of at least 2048 bits is accepted.
   */
  privateKey: string | KeyObject
  /** The Certificate ID Treez issued for the key (the token's `iss`). */
  certificateId: string
  /** The organisation GUID (the token's `oid`). */
  organizationId: string
  /** The store slug, the subdomain of `<slug>.treez.io` (e.g. `partnersandbox3`). */
  dispensary: string
  /** @default 'https://api-prod.treez.io/dispensary/v3' */
  baseUrl?: string
  /** Per request, including the wait for the whole response. @default 10000 */
  timeoutMs?: number
  /** In-call retries of transient failures (network, timeout, 429, 500/502/503/504). */
  retry?: {
    /** Retries after the first attempt. @default 3 */
    retries?: number
    /** First backoff delay in ms; doubles per retry, with jitter. @default 500 */
    minTimeout?: number
    /** Longest backoff delay in ms. @default 10000 */
    maxTimeout?: number
    /**
     * A 429 whose `Retry-After` asks for a longer wait than this is not retried in the call; it fails with
     * `POS_UNAVAILABLE` and `retryAfterMs` so the sync engine can wait instead. @default 30000
     */
    maxRetryAfterMs?: number
  }
  /**
   * Client-side limit on requests per rolling window, shared by every call of this adapter. Treez reports a
   * limit of 30 per store; the window is not published. @default { requests: 30, windowMs: 60000 }
   */
  rateLimit?: { requests?: number; windowMs?: number }
  /** Where the adapter logs ids, codes, counts and timings (never tokens, keys or customer details). @default silentLogger */
  logger?: Logger
  /** Which stock counts: Treez `inventory_type` ADULT, MEDICAL or both (ALL, summed per location). @default 'ADULT' */
  inventoryType?: TreezInventoryType | 'ALL'
  /** Location names (`location_name`) whose stock is sellable. Omit to count every location. */
  sellableLocations?: string[]
  /**
   * `location_name` for order lines whose `externalLocationId` is null. Without it such a line is a
   * `ValidationError`.
   */
  defaultLocationName?: string
  /** `inventory_type` sent on order lines. @default 'MEDICAL' when `inventoryType` is MEDICAL, else 'ADULT' */
  orderInventoryType?: TreezInventoryType
  /** Treez `revenue_source`: the integrator's name. Once used, never change it. @default 'Peak OMS' */
  revenueSource?: string
  /** `order_status` a new ticket is created in. @default 'AWAITING_PROCESSING' */
  initialOrderStatus?: 'VERIFICATION_PENDING' | 'AWAITING_PROCESSING'
  /** Ticket `type` per fulfilment. @default { pickup: 'PICKUP', delivery: 'DELIVERY' } */
  ticketTypes?: { pickup?: TreezTicketType; delivery?: TreezTicketType }
  /**
   * `order_source` per channel.
   * @default { kiosk: 'KIOSK', pos: 'IN_STORE', ecommerce: 'ECOMMERCE', wholesale: 'IN_STORE' }
   */
  orderSources?: {
    kiosk?: TreezOrderSource
    pos?: TreezOrderSource
    ecommerce?: TreezOrderSource
    wholesale?: TreezOrderSource
  }
  /**
   * Treez `category_type`s sold by weight. Their quantities are grams (or mg for `MILLIGRAMS` products)
   * and are mapped to whole milligrams (`unit: 'mg'`); every other product counts in `each`. @default []
   */
  weighedCategories?: string[]
  /** ISO 4217 code of the store's prices. @default 'USD' */
  currency?: string
  /** Records per page when the caller gives no `pageSize`. @default 500 */
  pageSize?: number
  /** The largest page Treez accepts (a larger one gets 400 RESPONSE_LIMIT_EXCEEDS). @default 1000 */
  maxPageSize?: number
  /**
   * Incremental pulls ask Treez for changes since `since` minus this, so that clock skew between us and
   * Treez (and its "after", not "at or after") loses no change; a change seen twice is harmless.
   * @default 60000
   */
  incrementalOverlapMs?: number
  /** How far back `findOrder` scans the ticket feed for our order number. @default 1209600000 (14 days) */
  findLookbackMs?: number
  /** Most ticket-feed pages `findOrder` reads before giving up. @default 20 */
  findMaxPages?: number
  /** Time source, for tests. @default () => new Date() */
  now?: () => Date
}

/** The configuration after validation and defaults. */
export interface ResolvedTreezConfig {
  privateKey: KeyObject
  certificateId: string
  organizationId: string
  dispensary: string
  baseUrl: string
  timeoutMs: number
  retry: { retries: number; minTimeout: number; maxTimeout: number; maxRetryAfterMs: number }
  rateLimit: { requests: number; windowMs: number }
  logger: Logger
  inventoryType: TreezInventoryType | 'ALL'
  sellableLocations: ReadonlySet<string> | null
  defaultLocationName: string | null
  orderInventoryType: TreezInventoryType
  revenueSource: string
  initialOrderStatus: 'VERIFICATION_PENDING' | 'AWAITING_PROCESSING'
  ticketTypes: { pickup: TreezTicketType; delivery: TreezTicketType }
  orderSources: {
    kiosk: TreezOrderSource
    pos: TreezOrderSource
    ecommerce: TreezOrderSource
    wholesale: TreezOrderSource
  }
  weighedCategories: ReadonlySet<string>
  currency: string
  pageSize: number
  maxPageSize: number
  incrementalOverlapMs: number
  findLookbackMs: number
  findMaxPages: number
  now: () => Date
}

const ticketType = z.enum(['DELIVERY', 'PICKUP', 'EXPRESS', 'POS', 'DRIVE_THRU', 'CURBSIDE'])
const orderSource = z.enum(['ECOMMERCE', 'IN_STORE', 'VENDING_MACHINE', 'KIOSK'])
const inventoryType = z.enum(['ADULT', 'MEDICAL'])
const positiveInt = z.number().int().positive()
const nonNegativeInt = z.number().int().nonnegative()
const nonEmpty = z.string().trim().min(1)

const isLogger = (value: unknown): value is Logger =>
  typeof value === 'object' &&
  value !== null &&
  ['debug', 'info', 'warn', 'error'].every(
    (level) => typeof (value as Record<string, unknown>)[level] === 'function',
  )

/** Parses the key without ever putting its text into an error message. */
function toRsaPrivateKey(value: unknown): KeyObject | null {
  try {
    const key =
      value instanceof KeyObject ? value : typeof value === 'string' ? createPrivateKey(value) : null
    if (key?.type !== 'private' || key.asymmetricKeyType !== 'rsa') return null
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
    return bits >= 2048 ? key : null
  } catch {
    return null
  }
}

const configSchema = z.object({
  privateKey: z.custom<string | KeyObject>((value) => toRsaPrivateKey(value) !== null, {
    message: 'must be an RSA private key of at least 2048 bits (PEM string or KeyObject)',
  }),
  certificateId: nonEmpty,
  organizationId: nonEmpty,
  dispensary: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, { message: 'must be the store slug (letters, digits, - and _)' }),
  baseUrl: z
    .url({ protocol: /^https?$/ })
    .default('https://api-prod.treez.io/dispensary/v3')
    .transform((url) => url.replace(/\/+$/, '')),
  timeoutMs: positiveInt.default(10_000),
  retry: z
    .object({
      retries: nonNegativeInt.max(10).default(3),
      minTimeout: nonNegativeInt.default(500),
      maxTimeout: nonNegativeInt.default(10_000),
      maxRetryAfterMs: nonNegativeInt.default(30_000),
    })
    .default({ retries: 3, minTimeout: 500, maxTimeout: 10_000, maxRetryAfterMs: 30_000 }),
  rateLimit: z
    .object({ requests: positiveInt.default(30), windowMs: positiveInt.default(60_000) })
    .default({ requests: 30, windowMs: 60_000 }),
  logger: z.custom<Logger>(isLogger, { message: 'must have debug, info, warn and error methods' }).optional(),
  inventoryType: z.enum(['ADULT', 'MEDICAL', 'ALL']).default('ADULT'),
  sellableLocations: z.array(nonEmpty).min(1).optional(),
  defaultLocationName: nonEmpty.optional(),
  orderInventoryType: inventoryType.optional(),
  revenueSource: nonEmpty.default('Peak OMS'),
  initialOrderStatus: z.enum(['VERIFICATION_PENDING', 'AWAITING_PROCESSING']).default('AWAITING_PROCESSING'),
  ticketTypes: z
    .object({ pickup: ticketType.default('PICKUP'), delivery: ticketType.default('DELIVERY') })
    .default({ pickup: 'PICKUP', delivery: 'DELIVERY' }),
  orderSources: z
    .object({
      kiosk: orderSource.default('KIOSK'),
      pos: orderSource.default('IN_STORE'),
      ecommerce: orderSource.default('ECOMMERCE'),
      wholesale: orderSource.default('IN_STORE'),
    })
    .default({ kiosk: 'KIOSK', pos: 'IN_STORE', ecommerce: 'ECOMMERCE', wholesale: 'IN_STORE' }),
  weighedCategories: z.array(nonEmpty).default([]),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, { message: 'must be an ISO 4217 code such as USD' })
    .default('USD'),
  pageSize: positiveInt.default(500),
  maxPageSize: positiveInt.default(1000),
  incrementalOverlapMs: nonNegativeInt.default(60_000),
  findLookbackMs: positiveInt.default(14 * 24 * 3600 * 1000),
  findMaxPages: positiveInt.default(20),
  now: z
    .custom<() => Date>((value) => typeof value === 'function', { message: 'must be a function' })
    .optional(),
})

/**
 * Validates `config` and fills in the defaults. Throws `ValidationError` listing every bad field; the
 * messages never contain the values (the key is a secret).
 */
export function resolveTreezConfig(config: TreezConfig): ResolvedTreezConfig {
  const parsed = configSchema.safeParse(config)
  if (!parsed.success) {
    const issues: FieldIssue[] = parsed.error.issues.map((issue) => ({
      path: zodPath(issue.path),
      message: issue.message,
    }))
    throw new ValidationError('Treez adapter config', issues)
  }
  const c = parsed.data
  if (c.pageSize > c.maxPageSize) {
    throw new ValidationError('Treez adapter config', [
      { path: 'pageSize', message: `must not exceed maxPageSize (${c.maxPageSize})` },
    ])
  }
  const privateKey = toRsaPrivateKey(c.privateKey)
  if (!privateKey)
    throw new ValidationError('Treez adapter config', [{ path: 'privateKey', message: 'invalid' }])
  return {
    ...c,
    privateKey,
    logger: c.logger ?? silentLogger,
    sellableLocations: c.sellableLocations ? new Set(c.sellableLocations) : null,
    defaultLocationName: c.defaultLocationName ?? null,
    orderInventoryType: c.orderInventoryType ?? (c.inventoryType === 'MEDICAL' ? 'MEDICAL' : 'ADULT'),
    weighedCategories: new Set(c.weighedCategories),
    now: c.now ?? (() => new Date()),
  }
}
