import type { MovementReason, StockBucket } from '../domain/enums'
import type { ActingActor, HistoryEntry, InventoryLevel, Movement } from '../domain/schemas'
import { availableOf } from '../domain/schemas'
import { ConflictError, InsufficientStockError } from '../errors/oms-error'
import type { LevelDeltas, NewOutboxEvent, StorageTx } from '../ports/storage'
import { historyEntry, type OmsContext, outboxEvent } from '../services/oms-context'
import { expireRow } from './holds'
import { lowStockCrossing } from './low-stock'

/** One change to record: a movement of `delta` in `bucket`, plus (for a sale) the hold it consumes. */
export interface LedgerEntry {
  itemId: string
  locationId: string
  bucket: StockBucket
  delta: number
  reason: MovementReason
  /** Change to `reserved` made in the same write (a sale consumes its hold: `-quantity`). */
  reservedDelta?: number
  /** Compare-and-swap on on-hand (set-quantity). */
  expectOnHand?: number
  /**
   * Only apply when this much is available before the write: the same conditional write as a hold, so a
   * debit (a transfer shipping) never takes stock that is held, set aside or missing.
   */
  requireAvailable?: number
  /** Told how an on-hand entry was split across packages (an untagged debit consuming tagged stock). */
  onSplit?: (parts: ReadonlyArray<{ packageId: string | null; delta: number }>) => void
  packageId?: string | null
  reference?: Movement['reference']
  note?: string | null
}

/** Which bucket an adjustment with this reason moves (on-hand when not listed). */
export const REASON_BUCKET: Partial<Record<MovementReason, StockBucket>> = {
  damage: 'damaged',
  damage_release: 'damaged',
  quarantine: 'quarantine',
  quarantine_release: 'quarantine',
}

const BUCKET_FIELD: Record<StockBucket, keyof LevelDeltas> = {
  on_hand: 'onHand',
  damaged: 'damaged',
  quarantine: 'quarantine',
  incoming: 'incoming',
}

export const levelRowKey = (itemId: string, locationId: string) => `${itemId}\u0000${locationId}`
/** Canonical row order (item, then location): every writer touches rows in this order, so none deadlock. */
export const byRow = <T extends { itemId: string; locationId: string }>(a: T, b: T) =>
  a.itemId < b.itemId
    ? -1
    : a.itemId > b.itemId
      ? 1
      : a.locationId < b.locationId
        ? -1
        : a.locationId > b.locationId
          ? 1
          : 0

/** A set-quantity whose expected on-hand is stale. */
export const onHandConflict = (itemId: string, locationId: string, expected: number, actual: number) =>
  new ConflictError(
    `item ${itemId} at ${locationId}: on-hand is ${actual}, not the expected ${expected}; read it again and retry`,
    { itemId, locationId, expected, actual },
  )

/** A level's stock below what is reserved or set aside: recorded, never hidden. */
export const isShortage = (l: InventoryLevel) => l.onHand < l.reserved + l.damaged + l.quarantine

/** Movements listed in one audit row at most. */
const AUDITED_MOVEMENTS = 100

/** Rows a caller collects to append once for many ledger writes (bulk updates). */
export interface LedgerSink {
  movements: Movement[]
  history: HistoryEntry[]
  outbox: NewOutboxEvent[]
}

/** The movements of one entry: split across packages when an untagged debit consumes tagged stock. */
async function packageMovements(
  tx: StorageTx,
  now: Date,
  e: LedgerEntry,
): Promise<Array<{ packageId: string | null; delta: number }>> {
  if (e.bucket !== 'on_hand') return [{ packageId: e.packageId ?? null, delta: e.delta }]
  if (e.packageId) {
    const pkg = await tx.inventory.applyPackageDelta(e.itemId, e.locationId, e.packageId, e.delta, now)
    if (!pkg) return []
    return [{ packageId: e.packageId, delta: e.delta }]
  }
  if (e.delta > 0) return [{ packageId: null, delta: e.delta }]
  // An untagged debit consumes packages first, oldest arrival first; what is left comes from untagged
  // stock. The level row is written (and so locked) before any of its packages, by every writer.
  const parts: Array<{ packageId: string | null; delta: number }> = []
  let left = -e.delta
  while (left > 0) {
    const packages = await tx.inventory.listPackages({ itemId: e.itemId, locationId: e.locationId })
    if (packages.length === 0) break
    for (const p of packages) {
      if (left === 0) break
      const take = Math.min(left, p.onHand)
      if (!(await tx.inventory.applyPackageDelta(e.itemId, e.locationId, p.packageId, -take, now))) continue
      parts.push({ packageId: p.packageId, delta: -take })
      left -= take
    }
  }
  if (left > 0) parts.push({ packageId: null, delta: -left })
  return parts
}

/**
 * The one code path that changes stock figures: each entry is a ledger movement and the matching
 * projection write, in the same transaction. Rows are written in canonical order. Throws (writing nothing
 * the caller keeps) when a write's condition fails: on-hand below zero, a package without that much
 * stock, or a compare-and-swap mismatch. Per-package stock moves with on-hand: a named package is
 * debited or credited, and an untagged debit consumes packages oldest first. A write that takes a level
 * to or below its reorder point emits `inventory.low_stock`. With `sink`, the new rows are collected
 * there for the caller to append instead of being appended here.
 */
export async function recordMovements(
  ctx: OmsContext,
  tx: StorageTx,
  now: Date,
  actor: ActingActor,
  entries: readonly LedgerEntry[],
  audit: {
    orderId?: string | null
    /** The store the change happens in (the audit row's scope). */
    storeId: string | null
    action: Parameters<typeof historyEntry>[3]['action']
    description: string
  } | null,
  sink?: LedgerSink,
): Promise<InventoryLevel[]> {
  const levels: InventoryLevel[] = []
  const movements: Movement[] = []
  const events: NewOutboxEvent[] = []
  for (const e of [...entries].sort(byRow)) {
    const deltas: LevelDeltas = { [BUCKET_FIELD[e.bucket]]: e.delta }
    if (e.reservedDelta) deltas.reserved = e.reservedDelta
    const before = e.expectOnHand === undefined ? null : e.expectOnHand
    const write = () =>
      tx.inventory.applyDeltas(e.itemId, e.locationId, deltas, {
        now,
        ...(before === null ? {} : { expectOnHand: before }),
        ...(e.requireAvailable === undefined ? {} : { requireAvailable: e.requireAvailable }),
      })
    let level = await write()
    // As for a hold: expired holds count only when they stand in the way, and are released then.
    if (!level && e.requireAvailable !== undefined && (await expireRow(tx, now, e.itemId, e.locationId)) > 0)
      level = await write()
    if (!level) {
      const current = await tx.inventory.getLevel(e.itemId, e.locationId)
      if (e.expectOnHand !== undefined && (current?.onHand ?? 0) !== e.expectOnHand) {
        throw onHandConflict(e.itemId, e.locationId, e.expectOnHand, current?.onHand ?? 0)
      }
      throw new InsufficientStockError(
        e.itemId,
        e.locationId,
        Math.abs(e.delta),
        !current
          ? 0
          : e.requireAvailable !== undefined
            ? availableOf(current)
            : current[BUCKET_FIELD[e.bucket] as 'onHand'],
      )
    }
    const parts = await packageMovements(tx, now, e)
    e.onSplit?.(parts)
    if (parts.length === 0) {
      // The named package has less than that: undo this entry's level write (same transaction, row
      // still ours) so a caller that keeps going (a bulk update) keeps nothing of it.
      const undo = Object.fromEntries(Object.entries(deltas).map(([k, v]) => [k, -v])) as LevelDeltas
      await tx.inventory.applyDeltas(e.itemId, e.locationId, undo, { now })
      const pkg = (await tx.inventory.listPackages({ packageId: e.packageId as string })).find(
        (p) => p.itemId === e.itemId && p.locationId === e.locationId,
      )
      throw new InsufficientStockError([
        {
          itemId: e.itemId,
          locationId: e.locationId,
          sku: null,
          requested: Math.abs(e.delta),
          available: pkg?.onHand ?? 0,
          packageId: e.packageId as string,
        },
      ])
    }
    levels.push(level)
    const low = lowStockCrossing(ctx, now, level, deltas)
    if (low) events.push(low)
    for (const part of parts) {
      movements.push({
        id: ctx.ids(),
        itemId: e.itemId,
        locationId: e.locationId,
        bucket: e.bucket,
        delta: part.delta,
        reason: e.reason,
        packageId: part.packageId,
        actorId: actor.id,
        reference: e.reference ?? null,
        note: e.note ?? null,
        createdAt: now,
      })
    }
  }

  events.unshift(
    ...levels.map((l) =>
      outboxEvent(ctx, now, 'inventory.changed', `inventory:${l.itemId}@${l.locationId}`, {
        itemId: l.itemId,
        locationId: l.locationId,
        onHand: l.onHand,
        reserved: l.reserved,
        available: availableOf(l),
      }),
    ),
  )
  const history = audit
    ? [
        historyEntry(ctx, actor, now, {
          entityType: 'inventory',
          entityId: movements[0]?.id ?? ctx.ids(),
          orderId: audit.orderId ?? null,
          storeId: audit.storeId,
          action: audit.action,
          description: audit.description,
          additionalData: {
            // A large write (a count approval, thousands of lines) keeps its audit row small: the ledger
            // has every movement, found by reference.
            movementCount: movements.length,
            movements: movements.slice(0, AUDITED_MOVEMENTS).map((m) => ({
              id: m.id,
              itemId: m.itemId,
              locationId: m.locationId,
              bucket: m.bucket,
              delta: m.delta,
              reason: m.reason,
              ...(m.packageId ? { packageId: m.packageId } : {}),
            })),
          },
        }),
      ]
    : []
  for (const l of levels.filter(isShortage)) {
    const deficit = l.reserved + l.damaged + l.quarantine - l.onHand
    events.push(
      outboxEvent(ctx, now, 'inventory.shortage', `inventory:${l.itemId}@${l.locationId}`, {
        itemId: l.itemId,
        locationId: l.locationId,
        onHand: l.onHand,
        reserved: l.reserved,
        deficit,
      }),
    )
    history.push(
      historyEntry(ctx, actor, now, {
        entityType: 'inventory',
        entityId: `${l.itemId}@${l.locationId}`,
        storeId: (await ctx.catalog.location(tx, l.locationId))?.storeId ?? null,
        action: 'inventory_shortage',
        description: `shortage of ${deficit} at ${l.locationId} for item ${l.itemId}: on-hand ${l.onHand} is below reserved ${l.reserved}`,
        additionalData: { itemId: l.itemId, locationId: l.locationId, deficit },
      }),
    )
  }
  if (sink) {
    sink.movements.push(...movements)
    sink.history.push(...history)
    sink.outbox.push(...events)
  } else await tx.append({ movements, history, outbox: events })
  return levels
}
