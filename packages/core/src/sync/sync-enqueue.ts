import type { Order } from '../domain/schemas'
import type { StorageTx } from '../ports/storage'
import type { OmsContext } from '../services/oms-context'
import type { NewSyncJob, SyncJobKind } from './sync-job'

/** The order jobs: what a change to an order asks of each POS it goes to. */
export type OrderSyncKind = Extract<SyncJobKind, 'push_order' | 'update_order' | 'cancel_order'>

/** The POS connections an order goes to: its store is theirs and its channel is pushed. */
export function connectionsFor(
  ctx: Pick<OmsContext, 'sync'>,
  order: Pick<Order, 'storeId' | 'channel'>,
): string[] {
  const out: string[] = []
  for (const c of ctx.sync.connections.values()) {
    if (c.storeIds !== null && !c.storeIds.includes(order.storeId)) continue
    if (!c.pushChannels.includes(order.channel)) continue
    out.push(c.pos)
  }
  return out
}

/**
 * Queues the POS work a change to an order asks for, inside the caller's transaction, so the job exists
 * if and only if the change commits: `push_order` when an order is created (or an operator re-pushes it),
 * `update_order` when its lines change, `cancel_order` when it is cancelled. One job per POS the order
 * goes to (see `SyncConnection.storeIds` / `pushChannels`); nothing when no POS is configured. A job that
 * would repeat a pending one of the same kind is coalesced into it; jobs of one order run in the order
 * they were queued. A cancel whose push never started drops that push instead (the POS never saw it).
 *
 * For services beyond the built-in ones (order edits call it with `update_order`).
 *
 * @example
 * ```ts
 * await ctx.storage.transaction(async (tx) => {
 *   // … write the edited order …
 *   await enqueueOrderSync(ctx, tx, edited, 'update_order', now)
 * })
 * ```
 */
export async function enqueueOrderSync(
  ctx: Pick<OmsContext, 'sync' | 'ids'>,
  tx: StorageTx,
  order: Pick<Order, 'id' | 'storeId' | 'channel'>,
  kind: OrderSyncKind,
  now: Date,
  options: { pos?: readonly string[] } = {},
): Promise<void> {
  const targets = connectionsFor(ctx, order).filter((pos) => !options.pos || options.pos.includes(pos))
  if (targets.length === 0) return
  const jobs: NewSyncJob[] = []
  const open =
    kind === 'cancel_order'
      ? await tx.syncJobs.list({ entityId: order.id, statuses: ['pending'], kind: 'push_order' })
      : []
  for (const pos of targets) {
    const unstarted = open.find((j) => j.pos === pos && j.attempts === 0)
    if (unstarted) {
      // Never claimed, so never sent: the POS has not seen the order, and nothing needs cancelling there.
      const skipped = await tx.syncJobs.update(unstarted.id, ['pending'], {
        status: 'skipped',
        note: 'the order was cancelled before it was pushed',
        updatedAt: now,
        finishedAt: now,
      })
      if (skipped) continue
    }
    jobs.push({ id: ctx.ids(), pos, kind, entityId: order.id, storeId: order.storeId, createdAt: now })
  }
  await tx.syncJobs.enqueue(jobs)
}

/** Queues a pull of `kind` for one POS (the entity is what it pulls), coalesced with a pending one. */
export async function enqueuePull(
  ctx: Pick<OmsContext, 'ids'>,
  tx: StorageTx,
  pos: string,
  kind: Exclude<SyncJobKind, OrderSyncKind>,
  now: Date,
): Promise<void> {
  await tx.syncJobs.enqueue([
    { id: ctx.ids(), pos, kind, entityId: PULL_ENTITY[kind], storeId: null, createdAt: now },
  ])
}

/** What each pull is about: pulls of the same thing run one after another. */
export const PULL_ENTITY: Record<Exclude<SyncJobKind, OrderSyncKind>, string> = {
  pull_products: 'products',
  pull_inventory_full: 'inventory',
  pull_inventory_incremental: 'inventory',
  pull_sales: 'sales',
  pull_order_status: 'order-status',
}
