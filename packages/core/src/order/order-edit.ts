import type { z } from 'zod'
import type { editOrderInputSchema } from '../domain/commands'
import { type Order, type OrderLine, type Reservation, remainingOf } from '../domain/schemas'
import {
  InvalidTransitionError,
  ReservationExpiredError,
  StaleStateError,
  ValidationError,
} from '../errors/oms-error'
import {
  type FreedRows,
  giveBackRows,
  type HoldRequest,
  isLive,
  releaseHolds,
  takeHolds,
} from '../inventory/holds'
import type { StorageTx } from '../ports/storage'
import { type OmsContext, orderHistoryEntry, outboxEvent } from '../services/oms-context'
import { enqueueOrderSync } from '../sync/sync-enqueue'
import { loadOrder, safeLineAmounts, toOrderLine } from './order-service'

/** Statuses in which an order's lines may still change: nothing is being picked or handed over yet. */
export const EDITABLE_STATUSES: readonly string[] = ['pending', 'payment_pending', 'confirmed']

/**
 * Changes an order's lines inside the caller's transaction. The order is claimed first; its holds change
 * by the difference only: more of a line takes a new hold for the extra units (the same conditional write
 * as at creation, all or nothing: INSUFFICIENT_STOCK writes nothing), fewer releases that many from the
 * line's live holds, a removed line releases what its holds hold, a new line takes a hold. Holds already
 * released, committed or expired are never touched again. Totals are recomputed; one `edited` audit row
 * keeps the lines and totals before and after, and an `order.edited` event (what a POS sync turns into an
 * update of the ticket) goes to the outbox.
 */
export async function editOrder(
  ctx: OmsContext,
  tx: StorageTx,
  now: Date,
  cmd: z.output<typeof editOrderInputSchema>,
): Promise<Order> {
  const order = await loadOrder(ctx, tx, cmd.actor, cmd.orderId, 'order.edit', { lock: true })
  const machine = ctx.orderMachines[order.flow]
  if (!EDITABLE_STATUSES.includes(order.status))
    throw new InvalidTransitionError(machine.id, order.status, 'order.edit', {
      hint: 'an order can be edited only until it starts processing',
    })
  const holds = await tx.reservations.listByOrder(order.id)
  const stale = holds.filter((h) => h.status === 'expired' || (h.status === 'active' && !isLive(h, now)))
  if (stale.length)
    throw new ReservationExpiredError(
      order.id,
      stale.map((h) => h.id),
    )
  const lineById = new Map(order.lines.map((l) => [l.id, l]))
  const issues = cmd.set.flatMap((s, i) =>
    lineById.has(s.lineId)
      ? []
      : [{ path: `set.${i}.lineId`, message: `is not a line of order ${order.id}` }],
  )
  if (issues.length) throw new ValidationError('order edit', issues)

  const newQuantity = new Map(cmd.set.map((s) => [s.lineId, s.quantity]))
  const kept: OrderLine[] = order.lines.flatMap((l) => {
    const q = newQuantity.get(l.id) ?? l.quantity
    return q === 0 ? [] : [{ ...l, quantity: q }]
  })
  const itemIds = [...new Set(cmd.add.map((l) => l.itemId))]
  const items = new Map((await ctx.catalog.items(tx, itemIds)).map((i) => [i.id, i]))
  const unknown = cmd.add.flatMap((l, i) =>
    items.has(l.itemId) ? [] : [{ path: `add.${i}.itemId`, message: `item ${l.itemId} does not exist` }],
  )
  if (unknown.length) throw new ValidationError('order edit', unknown)
  // totals are priced below, with the kept lines
  const added: OrderLine[] = cmd.add.map((l) => toOrderLine(ctx, l, items.get(l.itemId), 0))
  if (added.some((l) => lineById.has(l.id)))
    throw new ValidationError('order edit', [
      { path: 'add', message: 'a new line reuses an existing line id' },
    ])
  const lines = [...kept, ...added]
  if (lines.length === 0)
    throw new ValidationError('order edit', [
      { path: 'set', message: 'would leave the order without lines: cancel it instead' },
    ])
  const amounts = safeLineAmounts({ lines, shippingMinor: order.totals.shippingMinor }, 'order edit')
  const priced = lines.map((l, i) => ({ ...l, totalMinor: amounts.lines[i] as number }))

  // The holds, by the difference per line: new holds for more, releases for less.
  const active = holds.filter((h) => h.status === 'active' && remainingOf(h) > 0)
  const requests: HoldRequest[] = []
  const releases: Array<{ hold: Reservation; quantity: number }> = []
  for (const [index, line] of [...order.lines, ...added].entries()) {
    const before = lineById.has(line.id) ? (lineById.get(line.id) as OrderLine).quantity : 0
    const after = priced.find((l) => l.id === line.id)?.quantity ?? 0
    const delta = after - before
    if (delta > 0)
      requests.push({
        orderLineId: line.id,
        itemId: line.itemId,
        locationId: order.locationId,
        quantity: delta,
        lineIndex: index,
        sku: line.sku,
      })
    if (delta < 0) {
      let left = -delta
      const own = active
        .filter((h) => h.orderLineId === line.id)
        .sort((a, b) => remainingOf(b) - remainingOf(a) || (a.id < b.id ? -1 : 1))
      for (const hold of own) {
        if (left === 0) break
        const q = Math.min(left, remainingOf(hold))
        releases.push({ hold, quantity: q })
        left -= q
      }
    }
  }
  const expiresAt = active.reduce<Date | null>(
    (latest, h) => (h.expiresAt === null ? latest : !latest || h.expiresAt > latest ? h.expiresAt : latest),
    null,
  )
  const holdExpiry =
    active.length > 0 && active.every((h) => h.expiresAt === null)
      ? null
      : (expiresAt ??
        new Date(
          now.getTime() +
            (ctx.policies.holdSecondsByChannel[order.channel] ?? ctx.policies.holdSeconds) * 1000,
        ))
  const newHolds = requests.length ? await takeHolds(ctx, tx, now, order, requests, holdExpiry) : []
  const freed: FreedRows = []
  if (releases.length) await releaseHolds(tx, now, releases, 'released', freed)
  await giveBackRows(tx, now, freed)

  const next: Order = {
    ...order,
    lines: priced,
    totals: {
      ...order.totals,
      subtotalMinor: amounts.subtotal,
      discountMinor: amounts.discount,
      taxMinor: amounts.tax,
      totalMinor: amounts.total,
    },
    version: order.version + 1,
    updatedAt: now,
  }
  if (!(await tx.orders.update(next, order.version)))
    throw new StaleStateError(`order ${order.id}`, { orderId: order.id })
  const snapshot = (o: Order) => ({
    lines: o.lines.map((l) => ({
      id: l.id,
      itemId: l.itemId,
      quantity: l.quantity,
      totalMinor: l.totalMinor,
    })),
    totalMinor: o.totals.totalMinor,
  })
  await tx.append({
    reservations: newHolds,
    history: [
      orderHistoryEntry(ctx, cmd.actor, now, order, {
        action: 'edited',
        oldStatus: order.status,
        newStatus: order.status,
        description: `lines edited${cmd.reason ? ` (${cmd.reason})` : ''}: total ${order.totals.totalMinor} → ${next.totals.totalMinor}`,
        additionalData: {
          before: snapshot(order),
          after: snapshot(next),
          heldReservationIds: newHolds.map((h) => h.id),
          released: releases.map((r) => ({ reservationId: r.hold.id, quantity: r.quantity })),
        },
      }),
    ],
    outbox: [
      outboxEvent(ctx, now, 'order.edited', order.id, {
        orderId: order.id,
        number: order.number,
        status: order.status,
        totalBeforeMinor: order.totals.totalMinor,
        totalMinor: next.totals.totalMinor,
        currency: order.totals.currency,
      }),
    ],
  })
  // The POSs that have (or will get) the order hear of the new lines, after its push.
  await enqueueOrderSync(ctx, tx, next, 'update_order', now)
  return next
}
