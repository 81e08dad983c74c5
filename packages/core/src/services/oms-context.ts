import { createHash, randomUUID } from 'node:crypto'
import type { AccessPolicy } from '../access/access-policy'
import type { CatalogCache } from '../catalog/catalog-cache'
import type { Channel } from '../domain/enums'
import type { ActingActor, HistoryEntry, Order } from '../domain/schemas'
import { ConflictError, IdempotencyMismatchError, StaleStateError } from '../errors/oms-error'
import type { AllocationStrategy } from '../fulfillment/allocation'
import type { FulfillmentMachine } from '../fulfillment/fulfillment-machine'
import type { OrderMachine } from '../order/order-machine'
import type { Clock } from '../ports/clock'
import type { Logger } from '../ports/logger'
import type { Payments } from '../ports/payments'
import type { NewOutboxEvent, Storage, StorageTx } from '../ports/storage'
import type { SyncSettings } from '../sync/sync-config'

/** Tunable rules. Every field has a default. */
export interface OmsPolicies {
  /** How long a checkout holds stock, in seconds. @default 900 (15 minutes) */
  holdSeconds: number
  /** Per-channel hold time, overriding `holdSeconds`. @default {} */
  holdSecondsByChannel: Partial<Record<Channel, number>>
  /** How long holds last once an order is confirmed; null means until fulfilled or released. @default null */
  confirmedHoldSeconds: number | null
  /** Holds the sweeper expires per transaction. @default 500 */
  expiryBatchSize: number
  /**
   * How long an instance reuses items and locations it read (0: never). Another instance's change to an
   * item's name or a location's store is seen after at most this long. @default 30
   */
  catalogCacheSeconds: number
  /**
   * The longest an expiring hold may be kept, counted from when it was taken: `reservations.extend` never
   * moves an expiry past `reservedAt + maxHoldSeconds`. @default 86400 (24 hours)
   */
  maxHoldSeconds: number
  /**
   * Create the fulfillments of an order (one per location it holds stock at) when it is confirmed, in the
   * same transaction. Otherwise staff create them with `fulfillments.create`. @default false
   */
  autoCreateFulfillments: boolean
  /**
   * Split an order that names no location over several locations (the default allocation strategy) when
   * its store's default location cannot hold it all. Passing `createOms({ allocation })` turns it on with
   * that strategy. @default false
   */
  allocateAcrossLocations: boolean
  /**
   * Calls the payment provider makes for one operation (capture, void, refund) before it is left `dead` for
   * an operator (`payments.retry`); the relay waits longer after each failure. @default 5
   */
  paymentAttempts: number
}

export const DEFAULT_POLICIES: OmsPolicies = {
  holdSeconds: 900,
  holdSecondsByChannel: {},
  confirmedHoldSeconds: null,
  expiryBatchSize: 500,
  catalogCacheSeconds: 30,
  maxHoldSeconds: 86_400,
  autoCreateFulfillments: false,
  allocateAcrossLocations: false,
  paymentAttempts: 5,
}

/** What every service shares. */
export interface OmsContext {
  storage: Storage
  clock: Clock
  ids: () => string
  logger: Logger
  policies: OmsPolicies
  orderMachines: Record<'delivery' | 'pickup', OrderMachine>
  fulfillmentMachine: FulfillmentMachine
  /**
   * Where an order without an explicit location is held when its store's default location is short; null:
   * always at the default location (refused when it is short).
   */
  allocation: AllocationStrategy | null
  access: AccessPolicy
  catalog: CatalogCache
  /** The POS connections and the sync engine's settings (no connections: nothing is queued). */
  sync: SyncSettings
  /** The payment provider: with one, hand-over captures, cancels void and refunds pay back through it. */
  payments: Payments | null
}

export const defaultIds = (): string => randomUUID()

/** JSON with dates kept as dates, for stored idempotent results. */
export const serialize = (value: unknown): string =>
  JSON.stringify(value, function replacer(this: Record<string, unknown>, key, v) {
    const raw = this[key]
    return raw instanceof Date ? { $date: raw.toISOString() } : v
  })

export const deserialize = <T>(text: string): T =>
  JSON.parse(text, (_key, v) =>
    v && typeof v === 'object' && typeof v.$date === 'string' && Object.keys(v).length === 1
      ? new Date(v.$date)
      : v,
  ) as T

const canonical = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(canonical)
  if (value instanceof Date) return value.toISOString()
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    )
  }
  return value
}

/**
 * A stable hash of a command's payload and of who sends it: key order does not matter; the idempotency key
 * itself and the actor's ip and user agent are left out, while the actor's id, roles, stores and customer
 * are in, so the same key from the same id in another role or scope is a different command.
 */
export function hashCommand(command: Record<string, unknown>): string {
  const { idempotencyKey: _key, actor, ...rest } = command
  const a = actor as ActingActor | undefined
  const who = a
    ? {
        id: a.id,
        roles: [...a.roles].sort(),
        storeIds: a.storeIds ? [...a.storeIds].sort() : null,
        customerId: a.customerId ?? null,
      }
    : null
  return createHash('sha256')
    .update(JSON.stringify(canonical({ ...rest, actor: who })))
    .digest('hex')
}

/** How often a command runs again on fresh state after losing a compare-and-swap before it gives up. */
const STALE_RETRIES = 8

/**
 * Runs `attempt` (one storage transaction) again when it lost a compare-and-swap (`StaleStateError`):
 * everything the failed run wrote was rolled back, so the next run starts from what is committed now.
 * After `STALE_RETRIES` runs it fails with a plain `CONFLICT` naming what kept changing.
 */
export async function retryOnStale<T>(attempt: () => Promise<T>): Promise<T> {
  for (let run = 1; ; run++) {
    try {
      return await attempt()
    } catch (error) {
      if (!(error instanceof StaleStateError)) throw error
      if (run >= STALE_RETRIES)
        throw new ConflictError(`${error.message}, ${run} times in a row; try again`, error.details)
    }
  }
}

/**
 * Runs a mutating command in one transaction. With an idempotency key, keys are per caller (the actor's
 * id): the same key and payload from the same actor return the first result — after `recheck` has checked
 * that the actor may still see it — and write nothing; the same key with another payload, or from the
 * same id in another role, store scope or customer, is IDEMPOTENCY_MISMATCH. A command that throws
 * writes nothing, its key included, so it may be retried with the same key. A command that lost a
 * compare-and-swap runs again on fresh state (see `retryOnStale`).
 */
export function runCommand<T>(
  ctx: OmsContext,
  scope: string,
  command: { actor: ActingActor; idempotencyKey?: string | undefined } & Record<string, unknown>,
  fn: (tx: StorageTx, now: Date) => Promise<T>,
  recheck: (tx: StorageTx, result: T) => Promise<void>,
): Promise<T> {
  const key = command.idempotencyKey
  return retryOnStale(() =>
    ctx.storage.transaction(async (tx) => {
      const now = ctx.clock.now()
      const ownKey = key === undefined ? undefined : `${command.actor.id}\u001f${key}`
      if (ownKey !== undefined) {
        const hash = hashCommand(command)
        const existing = await tx.idempotency.claim(scope, ownKey, hash, now)
        if (existing) {
          if (existing.requestHash !== hash) throw new IdempotencyMismatchError(key as string)
          if (existing.result === null)
            throw new ConflictError(`the command with idempotency key ${key} is still running`)
          const result = deserialize<T>(existing.result)
          await recheck(tx, result)
          return result
        }
      }
      const result = await fn(tx, now)
      if (ownKey !== undefined) await tx.idempotency.complete(scope, ownKey, serialize(result))
      return result
    }),
  )
}

/** Builds an audit row from the actor of the command. */
export function historyEntry(
  ctx: OmsContext,
  actor: ActingActor,
  now: Date,
  entry: Pick<HistoryEntry, 'entityType' | 'entityId' | 'action' | 'description' | 'storeId'> &
    Partial<Pick<HistoryEntry, 'orderId' | 'oldStatus' | 'newStatus' | 'additionalData'>>,
): HistoryEntry {
  return {
    id: ctx.ids(),
    orderId: null,
    oldStatus: null,
    newStatus: null,
    additionalData: {},
    ...entry,
    actorId: actor.id,
    ip: actor.ip ?? null,
    userAgent: actor.userAgent ?? null,
    createdAt: now,
  }
}

/** A history row about an order: its entity, order and store filled in from the order. */
export const orderHistoryEntry = (
  ctx: OmsContext,
  actor: ActingActor,
  now: Date,
  order: Pick<Order, 'id' | 'storeId'>,
  entry: Pick<HistoryEntry, 'action' | 'description'> &
    Partial<Pick<HistoryEntry, 'oldStatus' | 'newStatus' | 'additionalData'>>,
): HistoryEntry =>
  historyEntry(ctx, actor, now, {
    entityType: 'order',
    entityId: order.id,
    orderId: order.id,
    storeId: order.storeId,
    ...entry,
  })

export function outboxEvent(
  ctx: OmsContext,
  now: Date,
  type: string,
  aggregateId: string,
  payload: Record<string, unknown>,
): NewOutboxEvent {
  return { id: ctx.ids(), type, aggregateId, payload, createdAt: now }
}

/** The actor the library uses for its own work (sweeper, relay). */
export const SYSTEM_ACTOR: ActingActor = { id: 'system', roles: ['system'] }
