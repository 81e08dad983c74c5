import type { ActingActor, Order, Reservation } from '../domain/schemas'
import { availableOf, remainingOf } from '../domain/schemas'
import {
  InsufficientStockError,
  ReservationExpiredError,
  StaleStateError,
  type StockShortfall,
} from '../errors/oms-error'
import type { ReservationChange, StorageTx } from '../ports/storage'
import type { OmsContext } from '../services/oms-context'
import { lowStockCrossing } from './low-stock'
import { byRow, levelRowKey, recordMovements } from './stock-ledger'

/** A hold still counts: active and not past its expiry. */
export const isLive = (r: Reservation, now: Date) =>
  r.status === 'active' && (r.expiresAt === null || r.expiresAt > now)

export interface HoldRequest {
  orderLineId: string
  itemId: string
  locationId: string
  quantity: number
  /** The line's position in the order as given, named in INSUFFICIENT_STOCK. */
  lineIndex?: number
  /** The item's sku, named in INSUFFICIENT_STOCK. */
  sku?: string | null
}

/** Sums quantities per (item, location) row, in canonical row order. */
function sumPerRow<T extends { itemId: string; locationId: string }>(
  rows: readonly T[],
  qty: (row: T) => number,
) {
  const sums = new Map<string, { itemId: string; locationId: string; quantity: number }>()
  for (const row of rows) {
    const key = levelRowKey(row.itemId, row.locationId)
    const sum = sums.get(key) ?? { itemId: row.itemId, locationId: row.locationId, quantity: 0 }
    sum.quantity += qty(row)
    sums.set(key, sum)
  }
  return [...sums.values()].filter((s) => s.quantity !== 0).sort(byRow)
}

/**
 * Expires the due holds of one row (lazy expiry) and gives their stock back. Returns how much it freed.
 * Their orders are moved on by the sweeper.
 */
export async function expireRow(
  tx: StorageTx,
  now: Date,
  itemId: string,
  locationId: string,
): Promise<number> {
  const expired = await tx.reservations.expireDue(now, Number.MAX_SAFE_INTEGER, { itemId, locationId })
  await giveBack(tx, now, expired)
  return expired.reduce((sum, r) => sum + remainingOf(r), 0)
}

/**
 * Takes `quantity` (default: all that remains) out of each active hold into `field`, each hold changed
 * only if it is still as read (compare-and-swap; a miss is a `StaleStateError`, so the command runs again
 * on fresh state). Returns the holds changed and how much was taken per row.
 */
async function takeFromHolds(
  tx: StorageTx,
  holds: ReadonlyArray<{ hold: Reservation; quantity?: number }>,
  field: 'quantityReleased' | 'quantityFulfilled',
  finish: (done: boolean) => ReservationChange['patch'],
): Promise<{ changed: Reservation[]; perRow: FreedRows }> {
  const changes = holds
    .filter(({ hold }) => hold.status === 'active' && remainingOf(hold) > 0)
    .map(({ hold, quantity }) => {
      const q = Math.min(quantity ?? remainingOf(hold), remainingOf(hold))
      return {
        id: hold.id,
        expected: hold,
        patch: { [field]: hold[field] + q, ...finish(q === remainingOf(hold)) },
      }
    })
  if (changes.length === 0) return { changed: [], perRow: [] }
  const changed = await tx.reservations.update(changes)
  // A hold changed since it was read (an expiry on another instance): never carry on with part of the
  // work done; the command runs again on what is there now.
  if (changed.length !== changes.length)
    throw new StaleStateError('a hold', { reservationIds: changes.map((c) => c.id) })
  const before = new Map(holds.map(({ hold }) => [hold.id, hold]))
  return { changed, perRow: sumPerRow(changed, (r) => r[field] - (before.get(r.id)?.[field] ?? r[field])) }
}

/** Quantities freed per (item, location) row, to give back in one pass. */
export type FreedRows = Array<{ itemId: string; locationId: string; quantity: number }>

/** Gives the remaining quantity of holds just expired (as returned by `expireDue`) back, per row. */
export async function giveBack(tx: StorageTx, now: Date, expired: readonly Reservation[]): Promise<void> {
  await giveBackRows(tx, now, sumPerRow(expired, remainingOf))
}

/**
 * Lowers `reserved` by what was freed, each row once, in canonical row order. Writers lock holds before
 * levels, and levels in this order, so no two transactions wait on each other in a cycle.
 */
export async function giveBackRows(tx: StorageTx, now: Date, rows: FreedRows): Promise<void> {
  for (const row of sumPerRow(rows, (r) => r.quantity)) {
    await tx.inventory.applyDeltas(row.itemId, row.locationId, { reserved: -row.quantity }, { now })
  }
}

/**
 * Takes holds for an order: one conditional write per (item, location), lines for the same item summed,
 * rows in canonical order, all or nothing (a shortfall throws `INSUFFICIENT_STOCK` and the transaction
 * rolls back). Expired holds on a row are released only when they stand in the way. Returns the hold rows
 * for the caller to insert (with the order, in one `tx.append`).
 */
export async function takeHolds(
  ctx: OmsContext,
  tx: StorageTx,
  now: Date,
  order: Pick<Order, 'id'>,
  requests: readonly HoldRequest[],
  expiresAt: Date | null,
): Promise<Reservation[]> {
  const shortfalls: StockShortfall[] = []
  for (const row of sumPerRow(requests, (r) => r.quantity)) {
    const reserve = () =>
      tx.inventory.applyDeltas(
        row.itemId,
        row.locationId,
        { reserved: row.quantity },
        { requireAvailable: row.quantity, now },
      )
    let level = await reserve()
    if (!level && (await expireRow(tx, now, row.itemId, row.locationId)) > 0) level = await reserve()
    if (level) {
      const low = lowStockCrossing(ctx, now, level, { reserved: row.quantity })
      if (low) await tx.outbox.append([low])
      continue
    }
    // The transaction rolls back; the remaining rows are still tried so the error names every short one.
    const current = await tx.inventory.getLevel(row.itemId, row.locationId)
    const asking = requests.filter((r) => r.itemId === row.itemId && r.locationId === row.locationId)
    const lineIndexes = asking.flatMap((r) => (r.lineIndex === undefined ? [] : [r.lineIndex]))
    shortfalls.push({
      itemId: row.itemId,
      locationId: row.locationId,
      sku: asking.find((r) => r.sku)?.sku ?? null,
      requested: row.quantity,
      available: current ? availableOf(current) : 0,
      ...(lineIndexes.length ? { lineIndexes } : {}),
    })
  }
  const [first, ...rest] = shortfalls.sort((a, b) => (a.lineIndexes?.[0] ?? 0) - (b.lineIndexes?.[0] ?? 0))
  if (first) throw new InsufficientStockError([first, ...rest])
  const holds: Reservation[] = requests.map((r) => ({
    id: ctx.ids(),
    itemId: r.itemId,
    locationId: r.locationId,
    orderId: order.id,
    orderLineId: r.orderLineId,
    quantityReserved: r.quantity,
    quantityFulfilled: 0,
    quantityReleased: 0,
    status: 'active',
    expiresAt,
    reservedAt: now,
    releasedAt: null,
    fulfilledAt: null,
    notes: null,
    createdAt: now,
    updatedAt: now,
  }))
  return holds
}

/**
 * Releases `quantity` (default: all that remains) of each hold, giving exactly that back to available.
 * Each hold is changed only if it is still as read (compare-and-swap), so nothing is released twice.
 * Returns the holds as changed.
 */
export async function releaseHolds(
  tx: StorageTx,
  now: Date,
  holds: ReadonlyArray<{ hold: Reservation; quantity?: number }>,
  finalStatus: 'released' | 'expired' = 'released',
  /** Collect the freed quantities instead of writing the levels (the caller writes all levels at once). */
  freedInto?: FreedRows,
): Promise<Reservation[]> {
  const { changed, perRow: freed } = await takeFromHolds(tx, holds, 'quantityReleased', (done) => ({
    ...(done ? { status: finalStatus, releasedAt: now } : {}),
    updatedAt: now,
  }))
  if (freedInto) freedInto.push(...freed)
  else await giveBackRows(tx, now, freed)
  return changed
}

/**
 * Consumes holds as a sale: on-hand and reserved go down together through the ledger, the hold records
 * what was fulfilled, and a partial commit keeps the remainder held. Only live holds can be committed.
 */
export async function commitHolds(
  ctx: OmsContext,
  tx: StorageTx,
  now: Date,
  actor: ActingActor,
  order: Pick<Order, 'id' | 'storeId'>,
  holds: ReadonlyArray<{ hold: Reservation; quantity?: number }>,
  /** The package the units come out of (a sale naming one); null: packages oldest first. */
  packageId: string | null = null,
): Promise<Reservation[]> {
  const orderId = order.id
  const stale = holds
    .filter(({ hold }) => hold.status === 'active' && !isLive(hold, now))
    .map(({ hold }) => hold.id)
  if (stale.length) throw new ReservationExpiredError(orderId, stale)
  const { changed, perRow: sold } = await takeFromHolds(tx, holds, 'quantityFulfilled', (done) => ({
    ...(done ? { status: 'committed' as const } : {}),
    fulfilledAt: now,
    updatedAt: now,
  }))
  if (changed.length === 0) return []
  await recordMovements(
    ctx,
    tx,
    now,
    actor,
    sold.map((row) => ({
      itemId: row.itemId,
      locationId: row.locationId,
      bucket: 'on_hand' as const,
      delta: -row.quantity,
      reservedDelta: -row.quantity,
      reason: 'sale' as const,
      packageId,
      reference: { kind: 'order' as const, id: orderId },
    })),
    {
      orderId,
      storeId: order.storeId,
      action: 'inventory_committed',
      description: `sold ${sold.reduce((s, r) => s + r.quantity, 0)} unit(s) from holds`,
    },
  )
  return changed
}
