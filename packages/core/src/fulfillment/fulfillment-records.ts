import type { FulfillmentStatus } from '../domain/enums'
import {
  type ActingActor,
  type Fulfillment,
  type FulfillmentLine,
  type HistoryEntry,
  type Order,
  type Reservation,
  remainingOf,
} from '../domain/schemas'
import { ConflictError, InvalidTransitionError, StaleStateError } from '../errors/oms-error'
import { commitHolds, releaseHolds } from '../inventory/holds'
import type { NewOutboxEvent, StorageTx } from '../ports/storage'
import { historyEntry, type OmsContext, outboxEvent } from '../services/oms-context'

/** Fulfillments still working on their goods: what they plan is set aside from the order's holds. */
export const OPEN_STATUSES: readonly FulfillmentStatus[] = ['pending', 'picking', 'packing', 'ready_to_ship']
/** Packed (or past it): their picked units count as the order's packed quantity. */
export const PACKED_STATUSES: readonly FulfillmentStatus[] = [
  'ready_to_ship',
  'shipped',
  'partially_fulfilled',
  'fulfilled',
]
/** Handed to a carrier or to the customer. */
export const SHIPPED_STATUSES: readonly FulfillmentStatus[] = ['shipped', 'partially_fulfilled', 'fulfilled']
/** In the customer's hands. */
export const DONE_STATUSES: readonly FulfillmentStatus[] = ['partially_fulfilled', 'fulfilled']

/** Order statuses in which goods may be put into (new) fulfillments. */
const FULFILLABLE_ORDER_STATUSES = [
  'confirmed',
  'processing',
  'packed',
  'partially_shipped',
  'ready_for_pickup',
]

const lineKey = (orderLineId: string, locationId: string) => `${orderLineId}\u001f${locationId}`

/** What an open fulfillment line still sets aside from the order's holds (planned, or picked after a short pick). */
const setAside = (f: Fulfillment, line: FulfillmentLine) =>
  OPEN_STATUSES.includes(f.status)
    ? (f.shortPicked ? line.quantityPicked : line.quantity) - line.quantityFulfilled
    : 0

/** The order's held goods that no open fulfillment covers yet, per (order line, location). */
export function uncoveredGoods(
  holds: readonly Reservation[],
  fulfillments: readonly Fulfillment[],
): Array<{ orderLineId: string; itemId: string; locationId: string; quantity: number }> {
  const rows = new Map<
    string,
    { orderLineId: string; itemId: string; locationId: string; quantity: number }
  >()
  for (const h of holds) {
    if (h.status !== 'active' || remainingOf(h) <= 0) continue
    const key = lineKey(h.orderLineId, h.locationId)
    const row = rows.get(key) ?? {
      orderLineId: h.orderLineId,
      itemId: h.itemId,
      locationId: h.locationId,
      quantity: 0,
    }
    row.quantity += remainingOf(h)
    rows.set(key, row)
  }
  for (const f of fulfillments)
    for (const line of f.lines) {
      const row = rows.get(lineKey(line.orderLineId, f.locationId))
      if (row) row.quantity -= setAside(f, line)
    }
  return [...rows.values()].filter((r) => r.quantity > 0)
}

/** The `FUL-YYYYMMDD-NNNN` number from the day's sequence (UTC day): never count + 1. */
async function fulfillmentNumber(tx: StorageTx, now: Date): Promise<string> {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '')
  return `FUL-${day}-${String(await tx.sequences.next(`FUL-${day}`)).padStart(4, '0')}`
}

/**
 * Puts the order's held goods that no open fulfillment covers yet into new fulfillments, one per location
 * (only `locationId`'s when given). The order must have been claimed by this transaction. Throws
 * INVALID_TRANSITION when the order is not in a state to fulfil or nothing is left to put in one.
 */
export async function createFulfillments(
  ctx: OmsContext,
  tx: StorageTx,
  now: Date,
  actor: ActingActor,
  order: Order,
  options: {
    locationId?: string | undefined
    assignedToId?: string | undefined
    /** Create what there is to create, or none, instead of refusing (automatic creation on confirm). */
    quiet?: boolean
  } = {},
): Promise<Fulfillment[]> {
  if (!FULFILLABLE_ORDER_STATUSES.includes(order.status)) {
    throw new InvalidTransitionError(ctx.orderMachines[order.flow].id, order.status, 'fulfillment.create', {
      hint: 'only a confirmed (paid) order that is not yet handed over can be fulfilled',
    })
  }
  const holds = await tx.reservations.listByOrder(order.id)
  const existing = await tx.fulfillments.listByOrder(order.id)
  const goods = uncoveredGoods(holds, existing).filter(
    (g) => options.locationId === undefined || g.locationId === options.locationId,
  )
  if (goods.length === 0) {
    if (options.quiet) return []
    throw new InvalidTransitionError(ctx.orderMachines[order.flow].id, order.status, 'fulfillment.create', {
      hint: options.locationId
        ? `nothing the order holds at location ${options.locationId} is left outside a fulfillment`
        : 'every unit the order holds is already in an open fulfillment',
    })
  }
  const skus = new Map(order.lines.map((l) => [l.id, l.sku]))
  const byLocation = new Map<string, typeof goods>()
  for (const g of goods) byLocation.set(g.locationId, [...(byLocation.get(g.locationId) ?? []), g])
  const created: Fulfillment[] = []
  const history: HistoryEntry[] = []
  const outbox: NewOutboxEvent[] = []
  for (const locationId of [...byLocation.keys()].sort()) {
    const lines = byLocation.get(locationId) ?? []
    const assignedToId = options.assignedToId ?? null
    const f: Fulfillment = {
      ...newFulfillment({
        id: ctx.ids(),
        number: await fulfillmentNumber(tx, now),
        orderId: order.id,
        storeId: order.storeId,
        customerId: order.customerId,
        locationId,
        assignedToId,
        lines: lines.map((g) => ({
          orderLineId: g.orderLineId,
          itemId: g.itemId,
          sku: skus.get(g.orderLineId) ?? null,
          quantity: g.quantity,
          quantityPicked: 0,
          quantityFulfilled: 0,
        })),
        now,
      }),
      assignedAt: assignedToId ? now : null,
    }
    await tx.fulfillments.insert(f)
    created.push(f)
    const units = f.lines.reduce((s, l) => s + l.quantity, 0)
    history.push(
      fulfillmentHistory(ctx, actor, now, f, {
        action: 'fulfillment_created',
        newStatus: f.status,
        description: `fulfillment ${f.number} created: ${units} unit(s) at location ${locationId}`,
        additionalData: { number: f.number, locationId, units },
      }),
    )
    if (assignedToId)
      history.push(
        fulfillmentHistory(ctx, actor, now, f, {
          action: 'assigned',
          description: `fulfillment ${f.number} assigned to ${assignedToId}`,
          additionalData: { assignedToId },
        }),
      )
    outbox.push(
      outboxEvent(ctx, now, 'fulfillment.created', order.id, {
        orderId: order.id,
        fulfillmentId: f.id,
        number: f.number,
        locationId,
        assignedToId,
      }),
    )
  }
  await tx.append({ history, outbox })
  return created
}

/** An audit row about a fulfillment, filed under its order and store. */
export function fulfillmentHistory(
  ctx: OmsContext,
  actor: ActingActor,
  now: Date,
  f: Fulfillment,
  entry: Pick<HistoryEntry, 'action' | 'description'> &
    Partial<Pick<HistoryEntry, 'oldStatus' | 'newStatus' | 'additionalData'>>,
): HistoryEntry {
  return historyEntry(ctx, actor, now, {
    entityType: 'fulfillment',
    entityId: f.id,
    orderId: f.orderId,
    storeId: f.storeId,
    ...entry,
    additionalData: { fulfillmentId: f.id, ...entry.additionalData },
  })
}

/** The active holds of the order for one fulfillment line, with what each still holds. */
function holdsOfLine(holds: readonly Reservation[], f: Fulfillment, line: FulfillmentLine) {
  return holds.filter(
    (h) =>
      h.status === 'active' &&
      h.orderLineId === line.orderLineId &&
      h.locationId === f.locationId &&
      remainingOf(h) > 0,
  )
}

/** Splits `quantity` over holds in order; throws when they hold less than that. */
function takeFrom(f: Fulfillment, holds: readonly Reservation[], quantity: number) {
  const parts: Array<{ hold: Reservation; quantity: number }> = []
  let left = quantity
  for (const hold of holds) {
    if (left === 0) break
    const q = Math.min(left, remainingOf(hold))
    parts.push({ hold, quantity: q })
    left -= q
  }
  if (left > 0) {
    throw new ConflictError(
      `fulfillment ${f.number}: the order's holds at its location no longer cover its goods (${left} unit(s) missing); cancel the fulfillment`,
      { fulfillmentId: f.id, missing: left },
    )
  }
  return parts
}

/** `quantityOf(line)` units of each line, taken from the order's holds of that line at the location. */
async function holdParts(
  tx: StorageTx,
  order: Order,
  f: Fulfillment,
  quantityOf: (line: FulfillmentLine) => number,
) {
  const holds = await tx.reservations.listByOrder(order.id)
  return f.lines.flatMap((line) => {
    const q = quantityOf(line)
    return q > 0 ? takeFrom(f, holdsOfLine(holds, f, line), q) : []
  })
}

/**
 * Sells what the fulfillment picked and has not sold yet, from exactly the order's holds of its lines at
 * its location: on-hand and reserved go down together through the ledger (sale movements). Returns the
 * lines with `quantityFulfilled` updated.
 */
export async function commitFulfillmentLines(
  ctx: OmsContext,
  tx: StorageTx,
  now: Date,
  actor: ActingActor,
  order: Order,
  f: Fulfillment,
): Promise<FulfillmentLine[]> {
  const parts = await holdParts(tx, order, f, (line) => line.quantityPicked - line.quantityFulfilled)
  if (parts.length) await commitHolds(ctx, tx, now, actor, order, parts)
  return f.lines.map((line) => ({ ...line, quantityFulfilled: line.quantityPicked }))
}

/**
 * Releases what a short pick did not find from the order's holds of the fulfillment's lines, back to
 * open stock. Returns how many units were released.
 */
export async function releaseUnpicked(
  ctx: OmsContext,
  tx: StorageTx,
  now: Date,
  actor: ActingActor,
  order: Order,
  f: Fulfillment,
): Promise<number> {
  const parts = await holdParts(tx, order, f, (line) => line.quantity - line.quantityPicked)
  if (parts.length === 0) return 0
  const released = await releaseHolds(tx, now, parts)
  const units = parts.reduce((s, p) => s + p.quantity, 0)
  await tx.history.appendMany([
    historyEntry(ctx, actor, now, {
      entityType: 'reservation',
      entityId: order.id,
      orderId: order.id,
      storeId: order.storeId,
      action: 'inventory_released',
      description: `short pick of fulfillment ${f.number}: released ${units} unit(s) not found`,
      additionalData: { fulfillmentId: f.id, reservationIds: released.map((h) => h.id) },
    }),
  ])
  return units
}

/** Writes a fulfillment with compare-and-swap; a miss runs the command again on fresh state. */
export async function writeFulfillment(tx: StorageTx, next: Fulfillment, expectedVersion: number) {
  if (!(await tx.fulfillments.update(next, expectedVersion)))
    throw new StaleStateError(`fulfillment ${next.id}`, { fulfillmentId: next.id })
}

/**
 * An order was cancelled (its holds are released by the cancel itself): every fulfillment of it that can
 * still be cancelled is, in the same transaction, so no picker keeps working on it.
 */
export async function closeFulfillmentsOfCancelledOrder(
  ctx: OmsContext,
  tx: StorageTx,
  now: Date,
  actor: ActingActor,
  order: Order,
): Promise<void> {
  const history: HistoryEntry[] = []
  const outbox: NewOutboxEvent[] = []
  for (const f of await tx.fulfillments.listByOrder(order.id)) {
    const context = { orderCancelled: true, attributes: order.attributes }
    if (!ctx.fulfillmentMachine.can(f.status, context, { type: 'fulfillment.cancel' })) continue
    const result = ctx.fulfillmentMachine.transition(f.status, context, { type: 'fulfillment.cancel' })
    await writeFulfillment(
      tx,
      {
        ...f,
        status: result.status as FulfillmentStatus,
        cancelledAt: now,
        version: f.version + 1,
        updatedAt: now,
      },
      f.version,
    )
    history.push(
      fulfillmentHistory(ctx, actor, now, f, {
        action: 'cancelled',
        oldStatus: f.status,
        newStatus: result.status,
        description: `fulfillment ${f.number} cancelled with its order`,
      }),
    )
    outbox.push(
      outboxEvent(ctx, now, 'fulfillment.status_changed', order.id, {
        orderId: order.id,
        fulfillmentId: f.id,
        number: f.number,
        from: f.status,
        to: result.status,
        event: 'fulfillment.cancel',
      }),
    )
  }
  if (history.length) await tx.append({ history, outbox })
}

/** A fulfillment as it is created: pending, nothing scanned, packed, shipped or stamped yet. */
export function newFulfillment(
  f: Pick<
    Fulfillment,
    'id' | 'number' | 'orderId' | 'storeId' | 'customerId' | 'locationId' | 'assignedToId' | 'lines'
  > & { now: Date },
): Fulfillment {
  const { now, ...identity } = f
  return {
    ...identity,
    status: 'pending',
    shortPicked: false,
    scansAccepted: 0,
    scansRejected: 0,
    carrier: null,
    boxSize: null,
    weightGrams: null,
    packingMaterials: [],
    pickingNotes: null,
    packingNotes: null,
    trackingNumber: null,
    assignedAt: null,
    pickingStartedAt: null,
    pickingCompletedAt: null,
    packingStartedAt: null,
    packingCompletedAt: null,
    shippedAt: null,
    fulfilledAt: null,
    cancelledAt: null,
    version: 1,
    createdAt: now,
    updatedAt: now,
  }
}
