import { z } from 'zod'
import { toFieldIssues } from '../domain/parse-input'
import { idSchema, type Order, positiveQuantitySchema, type Reservation } from '../domain/schemas'
import { ValidationError } from '../errors/oms-error'
import type { PaymentLine, PaymentOperation, PaymentOperationKind } from '../ports/payments'
import type { NewOutboxEvent, StorageTx } from '../ports/storage'
import { type OmsContext, outboxEvent } from '../services/oms-context'

/** The outbox event that has the relay carry out a payment operation. */
export const PAYMENT_OPERATION_EVENT = 'payment.operation_requested'

/**
 * The aggregate of payment events: per order, so an order's operations run one after the other (a refund
 * never overtakes its capture), apart from the order's other events (a failing refund never holds back a
 * notification).
 */
export const paymentAggregate = (orderId: string) => `payments:${orderId}`

const refundLinesSchema = z.array(
  z.object({ orderLineId: idSchema, quantity: positiveQuantitySchema }).loose(),
)

/**
 * What a refund of `returned` pays back per line: each line's share of its own total (which already
 * carries its discount and tax), `floor(lineTotal × quantity / lineQuantity)`, so returning all of a line
 * pays back exactly its total and partial returns never add up to more. Quantities are checked against
 * what was sold of each line (VALIDATION naming `data.lines.<i>.quantity`).
 */
export function refundLines(
  order: Pick<Order, 'lines'>,
  holds: readonly Pick<Reservation, 'orderLineId' | 'quantityFulfilled'>[],
  returned: unknown,
): PaymentLine[] {
  const parsed = refundLinesSchema.safeParse(returned)
  if (!parsed.success)
    throw new ValidationError(
      'refund',
      toFieldIssues(parsed.error).map((i) => ({ ...i, path: `data.lines.${i.path}` })),
    )
  const perLine = new Map<string, number>()
  for (const l of parsed.data) perLine.set(l.orderLineId, (perLine.get(l.orderLineId) ?? 0) + l.quantity)
  const problems: Array<{ path: string; message: string }> = []
  const lines: PaymentLine[] = []
  for (const [orderLineId, quantity] of perLine) {
    const line = order.lines.find((l) => l.id === orderLineId)
    const sold = holds
      .filter((h) => h.orderLineId === orderLineId)
      .reduce((s, h) => s + h.quantityFulfilled, 0)
    if (!line || quantity > Math.min(sold, line.quantity)) {
      const i = parsed.data.findIndex((l) => l.orderLineId === orderLineId)
      problems.push({
        path: `data.lines.${i}.quantity`,
        message: `is more than was sold of line ${orderLineId} (${line ? sold : 0})`,
      })
      continue
    }
    lines.push({
      orderLineId,
      quantity,
      amountMinor: Math.floor((line.totalMinor * quantity) / line.quantity),
    })
  }
  if (problems.length) throw new ValidationError('refund', problems)
  return lines
}

/** What was captured of an order: its captures, or its total when it was paid without one (outside the port). */
export function capturedOf(order: Pick<Order, 'paymentStatus' | 'totals'>, ops: readonly PaymentOperation[]) {
  const captures = ops.filter((o) => o.kind === 'capture')
  if (captures.length) return captures.reduce((s, o) => s + o.amountMinor, 0)
  return order.paymentStatus === 'paid' || order.paymentStatus === 'partially_refunded'
    ? order.totals.totalMinor
    : 0
}

/** Every refund asked for so far, whatever its state (a dead one may still be retried). */
export const refundedOf = (ops: readonly PaymentOperation[]) =>
  ops.filter((o) => o.kind === 'refund').reduce((s, o) => s + o.amountMinor, 0)

async function record(
  ctx: OmsContext,
  tx: StorageTx,
  now: Date,
  order: Order,
  ops: readonly PaymentOperation[],
  kind: PaymentOperationKind,
  amountMinor: number,
  lines: PaymentLine[],
  events: NewOutboxEvent[],
): Promise<PaymentOperation> {
  const sequence = (ops.at(-1)?.sequence ?? 0) + 1
  const op: PaymentOperation = {
    id: ctx.ids(),
    orderId: order.id,
    storeId: order.storeId,
    customerId: order.customerId,
    kind,
    sequence,
    idempotencyKey: `${order.id}:${kind}:${sequence}`,
    status: 'pending',
    amountMinor,
    currency: order.totals.currency,
    lines,
    attempts: 0,
    lastError: null,
    providerReference: null,
    createdAt: now,
    updatedAt: now,
    completedAt: null,
    version: 1,
  }
  await tx.payments.insert([op])
  events.push(
    outboxEvent(ctx, now, PAYMENT_OPERATION_EVENT, paymentAggregate(order.id), {
      orderId: order.id,
      paymentId: op.id,
      kind,
    }),
  )
  return op
}

/**
 * What a hand-over sells for: the order's total less the share of every unit that was not sold (a short
 * pick released it), each line's share computed as a refund of it would be, so a later refund of everything
 * sold never exceeds the capture. With every unit sold, exactly the total.
 */
export function capturableOf(
  order: Pick<Order, 'lines' | 'totals'>,
  holds: readonly Pick<Reservation, 'orderLineId' | 'quantityFulfilled'>[],
): number {
  let unsold = 0
  for (const line of order.lines) {
    const sold = holds.filter((h) => h.orderLineId === line.id).reduce((s, h) => s + h.quantityFulfilled, 0)
    unsold += line.totalMinor - Math.floor((line.totalMinor * Math.min(sold, line.quantity)) / line.quantity)
  }
  return Math.max(0, order.totals.totalMinor - unsold)
}

/**
 * The goods were handed over (shipped, picked up): the authorised payment is captured, once per order, for
 * what was sold (`capturableOf`: the total, less any short-picked units). Runs in the order's transaction,
 * after its holds are committed; the provider is called by the relay after commit.
 */
export async function requestCapture(
  ctx: OmsContext,
  tx: StorageTx,
  now: Date,
  order: Order,
  events: NewOutboxEvent[],
): Promise<void> {
  if (!ctx.payments || order.paymentStatus !== 'authorized') return
  const ops = await tx.payments.listByOrder(order.id)
  if (ops.some((o) => o.kind === 'capture' || o.kind === 'void')) return
  const amount = capturableOf(order, await tx.reservations.listByOrder(order.id))
  await record(ctx, tx, now, order, ops, 'capture', amount, [], events)
}

/**
 * The order's money goes back (`refundPayment`): an authorisation nothing was captured from is voided;
 * otherwise a refund of the returned lines (`returned`, see `refundLines`), or of everything captured and
 * not yet refunded when no lines are given. Never more than is left of what was captured. Returns the
 * recorded operation, or null when there is nothing to pay back.
 */
export async function requestRefund(
  ctx: OmsContext,
  tx: StorageTx,
  now: Date,
  order: Order,
  holds: readonly Reservation[],
  returned: unknown,
  events: NewOutboxEvent[],
): Promise<PaymentOperation | null> {
  const ops = await tx.payments.listByOrder(order.id)
  if (ops.some((o) => o.kind === 'void')) return null
  const captured = capturedOf(order, ops)
  if (captured === 0) {
    if (order.paymentStatus !== 'authorized') return null
    return record(ctx, tx, now, order, ops, 'void', order.totals.totalMinor, [], events)
  }
  const left = captured - refundedOf(ops)
  const lines = returned === undefined ? [] : refundLines(order, holds, returned)
  const wanted = returned === undefined ? left : lines.reduce((s, l) => s + l.amountMinor, 0)
  const amount = Math.min(wanted, left)
  if (amount <= 0) return null
  return record(ctx, tx, now, order, ops, 'refund', amount, lines, events)
}

/**
 * The lines a refund pays back: those of `refund.process` itself (`data.lines`), else those the quality
 * check approved (`refund.approve` with `data.lines`, read from the order's audit trail), else undefined
 * (everything).
 */
export async function returnedLinesOf(
  tx: StorageTx,
  order: Pick<Order, 'id'>,
  data: Readonly<Record<string, unknown>> | undefined,
): Promise<unknown> {
  if (data?.lines !== undefined) return data.lines
  const trail = await tx.history.list({ orderId: order.id })
  // the order's machine approves a refund once, so there is one such entry at most
  const approval = trail.find((h) => h.entityType === 'order' && h.additionalData?.event === 'refund.approve')
  return (approval?.additionalData?.data as { lines?: unknown } | undefined)?.lines
}
