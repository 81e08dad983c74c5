import { z } from 'zod'
import { CHANNELS, type Channel } from '../domain/enums'
import type { Order } from '../domain/schemas'
import { ConfigurationError } from '../errors/configuration-error'
import type { PosAdapter } from '../ports/pos-adapter'

/** One POS the engine talks to. */
export interface SyncConnection {
  /**
   * The connection's name (`treez`, `dutchie`, `blaze`, …): jobs name it, and it is the key under which
   * the POS's ids are kept in `externalIds` of orders, items and locations.
   */
  pos: string
  adapter: PosAdapter
  /** Stores whose orders go to this POS. @default every store */
  storeIds?: readonly string[]
  /** Channels whose orders are pushed. @default every channel but `pos` (those are already at the POS) */
  pushChannels?: readonly Channel[]
  /**
   * The POS's customer id for an order, where the POS needs one (Dutchie pre-orders, BLAZE carts).
   * @default `order.attributes.posCustomerIds[pos]` when it is a string, else null
   */
  externalCustomerId?: (order: Order) => string | null
}

export interface SyncOptions {
  connections: readonly SyncConnection[]
  /** How long a claimed job is a worker's before another may take it (the worker died). @default 60000 */
  leaseMs?: number
  /** Jobs claimed per pass. @default 20 */
  batchSize?: number
  /** First retry delay after a transient failure; doubles per attempt, with jitter. @default 2000 */
  retryBaseMs?: number
  /** The longest retry delay (a `Retry-After` may ask for more, up to this too). @default 600000 */
  retryMaxMs?: number
  /** Attempts before a job that keeps failing transiently goes to dead letter. @default 25 */
  maxAttempts?: number
  /** The jitter source, in [0, 1). @default Math.random */
  random?: () => number
}

export interface SyncSettings {
  connections: ReadonlyMap<
    string,
    Required<Omit<SyncConnection, 'storeIds'>> & { storeIds: readonly string[] | null }
  >
  leaseMs: number
  batchSize: number
  retryBaseMs: number
  retryMaxMs: number
  maxAttempts: number
  random: () => number
}

const posName = z
  .string()
  .regex(
    /^[a-z][a-z0-9_-]{0,31}$/,
    'must be 1–32 lower-case letters, digits, "-" or "_", starting with a letter',
  )

const optionsSchema = z.strictObject({
  connections: z
    .array(
      z.strictObject({
        pos: posName,
        adapter: z.custom<PosAdapter>(
          (v) => typeof v === 'object' && v !== null && typeof (v as PosAdapter).pushOrder === 'function',
          'must be a PosAdapter',
        ),
        storeIds: z.array(z.string().min(1)).optional(),
        pushChannels: z.array(z.enum(CHANNELS)).optional(),
        externalCustomerId: z
          .custom<(order: Order) => string | null>((v) => typeof v === 'function', 'must be a function')
          .optional(),
      }),
    )
    .max(32),
  leaseMs: z.number().int().min(1000).max(3_600_000).optional(),
  batchSize: z.number().int().min(1).max(1000).optional(),
  retryBaseMs: z.number().int().min(1).max(3_600_000).optional(),
  retryMaxMs: z.number().int().min(1).max(86_400_000).optional(),
  maxAttempts: z.number().int().min(1).max(1000).optional(),
  random: z.custom<() => number>((v) => typeof v === 'function', 'must be a function').optional(),
})

const defaultCustomerId = (pos: string) => (order: Order) => {
  const ids = order.attributes.posCustomerIds
  if (typeof ids !== 'object' || ids === null) return null
  const id = (ids as Record<string, unknown>)[pos]
  return typeof id === 'string' && id.length > 0 ? id : null
}

/** Validates the sync options (CONFIGURATION naming the field) and fills the defaults. */
export function resolveSyncOptions(input: SyncOptions | undefined): SyncSettings {
  const parsed = optionsSchema.safeParse(input ?? { connections: [] })
  if (!parsed.success) {
    throw new ConfigurationError(
      'sync',
      parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    )
  }
  const o = parsed.data
  const connections = new Map<
    string,
    SyncSettings['connections'] extends ReadonlyMap<string, infer V> ? V : never
  >()
  for (const [i, c] of o.connections.entries()) {
    if (connections.has(c.pos))
      throw new ConfigurationError('sync', [
        { path: `connections.${i}.pos`, message: `${c.pos} is named twice` },
      ])
    connections.set(c.pos, {
      pos: c.pos,
      adapter: c.adapter,
      storeIds: c.storeIds ?? null,
      pushChannels: c.pushChannels ?? CHANNELS.filter((ch) => ch !== 'pos'),
      externalCustomerId: c.externalCustomerId ?? defaultCustomerId(c.pos),
    })
  }
  return {
    connections,
    leaseMs: o.leaseMs ?? 60_000,
    batchSize: o.batchSize ?? 20,
    retryBaseMs: o.retryBaseMs ?? 2000,
    retryMaxMs: o.retryMaxMs ?? 600_000,
    maxAttempts: o.maxAttempts ?? 25,
    random: o.random ?? Math.random,
  }
}
