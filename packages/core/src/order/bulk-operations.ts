import type { z } from 'zod'
import type { Permission } from '../access/access-policy'
import type { assignOrderInputSchema } from '../domain/commands'
import type { ActingActor, Order } from '../domain/schemas'
import type { OmsErrorCode } from '../errors/error-codes'
import { isOmsError, StaleStateError } from '../errors/oms-error'
import type { StorageTx } from '../ports/storage'
import { type OmsContext, orderHistoryEntry, outboxEvent, runCommand } from '../services/oms-context'
import { loadOrder } from './order-service'

/** What happened to one order of a bulk call. */
export type OrderBulkItemResult =
  | { orderId: string; ok: true; status: string; version: number }
  | { orderId: string; ok: false; code: OmsErrorCode; message: string }

/** A bulk call's answer: one result per order, in the order given. */
export interface OrderBulkResult {
  results: OrderBulkItemResult[]
  applied: number
  refused: number
}

/** Reported after each order of a bulk call. */
export interface OrderBulkProgress {
  done: number
  total: number
  applied: number
  refused: number
}

/** The idempotency key of one order of a keyed bulk call. */
const itemKey = (key: string | undefined, orderId: string) =>
  key === undefined ? undefined : `${key}\u001e${orderId}`

/**
 * Runs `apply` for each order in its own transaction (one order's refusal never undoes another's change),
 * collecting a typed result per order. With an idempotency key the whole call is claimed first (the same
 * key with another payload is IDEMPOTENCY_MISMATCH, up front) and each order runs under a key of its own
 * derived from it, so a repeated call answers every order as the first call did and changes nothing again
 * — also after a call that stopped half-way (the rest is then applied). A failure of the storage itself
 * stops the call with that error.
 */
export async function runBulk(
  ctx: OmsContext,
  scope: string,
  cmd: { actor: ActingActor; idempotencyKey?: string | undefined; orderIds: string[] } & Record<
    string,
    unknown
  >,
  apply: (orderId: string, key: string | undefined) => Promise<Order>,
  onProgress?: (progress: OrderBulkProgress) => void,
): Promise<OrderBulkResult> {
  if (cmd.idempotencyKey !== undefined)
    await runCommand(
      ctx,
      scope,
      cmd,
      async () => true,
      async () => {},
    )
  const results: OrderBulkItemResult[] = []
  const progress: OrderBulkProgress = { done: 0, total: cmd.orderIds.length, applied: 0, refused: 0 }
  for (const orderId of cmd.orderIds) {
    try {
      const order = await apply(orderId, itemKey(cmd.idempotencyKey, orderId))
      results.push({ orderId, ok: true, status: order.status, version: order.version })
      progress.applied += 1
    } catch (error) {
      if (!isOmsError(error) || error.code.startsWith('STORAGE_')) throw error
      results.push({ orderId, ok: false, code: error.code, message: error.message })
      progress.refused += 1
    }
    progress.done += 1
    onProgress?.({ ...progress })
  }
  return { results, applied: progress.applied, refused: progress.refused }
}

export const ASSIGN_PERMISSION: Permission = 'fulfillment.manage'

/** Sets (or clears) an order's assignee in the caller's transaction: one audit row and one event. */
export async function assignOrder(
  ctx: OmsContext,
  tx: StorageTx,
  now: Date,
  cmd: Pick<z.output<typeof assignOrderInputSchema>, 'actor' | 'orderId' | 'assigneeId'>,
): Promise<Order> {
  const order = await loadOrder(ctx, tx, cmd.actor, cmd.orderId, ASSIGN_PERMISSION, { lock: true })
  if (order.assigneeId === cmd.assigneeId) return order
  const next: Order = { ...order, assigneeId: cmd.assigneeId, version: order.version + 1, updatedAt: now }
  if (!(await tx.orders.update(next, order.version)))
    throw new StaleStateError(`order ${order.id}`, { orderId: order.id })
  await tx.append({
    history: [
      orderHistoryEntry(ctx, cmd.actor, now, order, {
        action: 'assigned',
        oldStatus: order.status,
        newStatus: order.status,
        description: cmd.assigneeId === null ? 'assignment taken away' : `assigned to ${cmd.assigneeId}`,
        additionalData: { from: order.assigneeId, to: cmd.assigneeId },
      }),
    ],
    outbox: [
      outboxEvent(ctx, now, 'order.assigned', order.id, {
        orderId: order.id,
        number: order.number,
        from: order.assigneeId,
        to: cmd.assigneeId,
      }),
    ],
  })
  return next
}
