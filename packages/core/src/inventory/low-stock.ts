import { availableOf, type InventoryLevel } from '../domain/schemas'
import type { LevelDeltas, NewOutboxEvent } from '../ports/storage'
import { type OmsContext, outboxEvent } from '../services/oms-context'

/** The level as it was before `deltas` were applied to it. */
const before = (l: InventoryLevel, d: LevelDeltas): InventoryLevel => ({
  ...l,
  onHand: l.onHand - (d.onHand ?? 0),
  reserved: l.reserved - (d.reserved ?? 0),
  damaged: l.damaged - (d.damaged ?? 0),
  quarantine: l.quarantine - (d.quarantine ?? 0),
})

/** Whether a level is low: watched, and available at or below its reorder point. */
export const isLow = (l: InventoryLevel) => l.reorderPoint !== null && availableOf(l) <= l.reorderPoint

/**
 * The `inventory.low_stock` event when one write took a level from above its reorder point to at or below
 * it, else null. Decided from the written row alone (its figures after the write, minus the write's own
 * deltas), so it fires once per crossing however many writers race, and never on a write that stays low.
 */
export function lowStockCrossing(
  ctx: OmsContext,
  now: Date,
  level: InventoryLevel,
  deltas: LevelDeltas,
): NewOutboxEvent | null {
  if (level.reorderPoint === null || !isLow(level) || isLow(before(level, deltas))) return null
  return lowStockEvent(ctx, now, level)
}

/** `inventory.low_stock` for a level at or below its reorder point. */
export function lowStockEvent(ctx: OmsContext, now: Date, level: InventoryLevel): NewOutboxEvent {
  return outboxEvent(ctx, now, 'inventory.low_stock', `inventory:${level.itemId}@${level.locationId}`, {
    itemId: level.itemId,
    locationId: level.locationId,
    available: availableOf(level),
    reorderPoint: level.reorderPoint,
    onHand: level.onHand,
    reserved: level.reserved,
  })
}
