import { ORDER_STATUSES } from '../domain/enums'
import type { Item, Order } from '../domain/schemas'
import { isOmsError, ValidationError } from '../errors/oms-error'
import { type LedgerEntry, recordMovements } from '../inventory/stock-ledger'
import { applyOrderEvent, orderContextOf } from '../order/order-service'
import {
  type PosAdapter,
  type PosOrderStatus,
  type PosProduct,
  type PosSale,
  pullAllPages,
} from '../ports/pos-adapter'
import { historyEntry, type OmsContext, retryOnStale, SYSTEM_ACTOR } from '../services/oms-context'
import type { SyncJob } from './sync-job'
import { externalKeys, orderContextFor, recordSynced } from './sync-worker'

/** Stock rows written per transaction during an inventory pull. */
const PULL_CHUNK = 200

/**
 * Pulls the POS's stock (every page, outside any transaction) and makes it our on-hand: for each product
 * and location we know at this POS (`externalIds[pos]` on the item and the location), the difference
 * between the POS's quantity and our on-hand lands as a `pos_sync` movement. Holds are left as they are;
 * where they now exceed on-hand the row is a recorded shortage (`inventory.shortage`). Products or
 * locations we do not map are counted and left out. An incremental pull asks only for what changed since
 * the previous successful inventory pull, where the adapter can.
 *
 * Orders of ours completed at the POS are moved first (`applyPosStatus`), so their holds become our sale
 * before the stock is compared and the sale is not counted twice. A ticket completed between that status
 * read and the stock read is still seen twice until the next pull corrects it (a `pos_sync` movement back).
 */
export async function pullInventory(ctx: OmsContext, job: SyncJob, adapter: PosAdapter): Promise<string> {
  const since =
    job.kind === 'pull_inventory_incremental' && adapter.capabilities.incrementalInventory
      ? await lastSuccess(ctx, job, ['pull_inventory_full', 'pull_inventory_incremental'])
      : undefined
  // Orders the POS completed at the counter become our sales first: their stock then left both sides, and
  // the pull below finds no difference for them instead of counting the sale a second time.
  // Counter sales likewise, where the POS has a sales feed.
  const statuses = await applyPosStatus(ctx, job, adapter)
  const counter = adapter.pullSales ? `; ${await pullSales(ctx, job, adapter)}` : ''
  // The POS's answer first, whole: a pull that fails half-way changes nothing.
  const levels = new Map<
    string,
    { externalProductId: string; externalLocationId: string; quantity: number }
  >()
  for await (const page of pullAllPages((o) => adapter.pullInventory(o), since ? { since } : {})) {
    for (const l of page) {
      const key = `${l.externalProductId}\u0000${l.externalLocationId}`
      const prior = levels.get(key)
      levels.set(key, { ...l, quantity: (prior?.quantity ?? 0) + l.quantity })
    }
  }
  const rows = [...levels.values()]
  let changed = 0
  let unmapped = 0
  for (let i = 0; i < rows.length; i += PULL_CHUNK) {
    const chunk = rows.slice(i, i + PULL_CHUNK)
    const result = await retryOnStale(() =>
      ctx.storage.transaction(async (tx) => {
        const now = ctx.clock.now()
        const locations = new Map<string, { id: string; storeId: string }>()
        for (const l of await tx.locations.list()) {
          const ext = l.externalIds[job.pos]
          if (ext) locations.set(ext, l)
        }
        const items = new Map<string, string>()
        for (const item of await tx.items.findByExternalIds(job.pos, [
          ...new Set(chunk.map((r) => r.externalProductId)),
        ]))
          items.set(item.externalIds[job.pos] as string, item.id)
        const byStore = new Map<string, LedgerEntry[]>()
        let missing = 0
        for (const r of chunk) {
          const itemId = items.get(r.externalProductId)
          const location = locations.get(r.externalLocationId)
          if (!itemId || !location) {
            missing += 1
            continue
          }
          const level = await tx.inventory.lockLevel(itemId, location.id)
          const onHand = level?.onHand ?? 0
          const delta = r.quantity - onHand
          if (delta === 0) continue
          const entries = byStore.get(location.storeId) ?? []
          entries.push({
            itemId,
            locationId: location.id,
            bucket: 'on_hand',
            delta,
            reason: 'pos_sync',
            expectOnHand: onHand,
            reference: { kind: 'pos_document', id: job.id },
            note: `${job.pos} reports ${r.quantity}`,
          })
          byStore.set(location.storeId, entries)
        }
        let written = 0
        for (const [storeId, entries] of byStore) {
          await recordMovements(ctx, tx, now, SYSTEM_ACTOR, entries, {
            storeId,
            action: 'pos_synced',
            description: `${job.pos} inventory pull: ${entries.length} row(s) set to the POS's on-hand`,
          })
          written += entries.length
        }
        return { written, missing }
      }),
    )
    changed += result.written
    unmapped += result.missing
  }
  return `${statuses}${counter}; ${rows.length} stock row(s) read, ${changed} changed, ${unmapped} not mapped${since ? ` (since ${since.toISOString()})` : ''}`
}

/**
 * Pulls the POS's products (every page first, outside any transaction; only the changes since the previous
 * successful product pull where the adapter can) and refreshes the name, category and SKU of the items
 * mapped to them (`externalIds[pos]`). Products we do not map are counted and left alone: a pull never
 * creates catalogue items, whose ids and units are the host's to choose.
 */
export async function pullProducts(ctx: OmsContext, job: SyncJob, adapter: PosAdapter): Promise<string> {
  const since = adapter.capabilities.incrementalProducts
    ? await lastSuccess(ctx, job, ['pull_products'])
    : undefined
  const products = new Map<string, PosProduct>()
  for await (const page of pullAllPages((o) => adapter.pullProducts(o), since ? { since } : {}))
    for (const p of page) products.set(p.externalId, p)
  const all = [...products.values()]
  let changed = 0
  let unmapped = 0
  for (let i = 0; i < all.length; i += PULL_CHUNK) {
    const chunk = all.slice(i, i + PULL_CHUNK)
    const result = await ctx.storage.transaction(async (tx) => {
      const items = await tx.items.findByExternalIds(
        job.pos,
        chunk.map((p) => p.externalId),
      )
      const byExternal = new Map(items.map((item) => [item.externalIds[job.pos] as string, item]))
      const updated: Item[] = []
      for (const p of chunk) {
        const item = byExternal.get(p.externalId)
        if (!item) continue
        const next: Item = {
          ...item,
          name: p.name.slice(0, 300) || item.name,
          category: p.category?.slice(0, 128) ?? item.category,
          sku: p.sku?.slice(0, 128) || item.sku,
        }
        if (next.name !== item.name || next.category !== item.category || next.sku !== item.sku)
          updated.push(next)
      }
      for (const item of updated) await tx.items.upsert(item)
      if (updated.length) {
        await tx.history.appendMany([
          historyEntry(ctx, SYSTEM_ACTOR, ctx.clock.now(), {
            entityType: 'inventory',
            entityId: job.id,
            storeId: null,
            action: 'pos_synced',
            description: `${job.pos} product pull: ${updated.length} item(s) renamed or recategorised`,
            additionalData: { jobId: job.id, pos: job.pos, itemIds: updated.map((u) => u.id) },
          }),
        ])
      }
      return { updated, missing: chunk.length - byExternal.size }
    })
    for (const item of result.updated) ctx.catalog.forget('item', item.id)
    changed += result.updated.length
    unmapped += result.missing
  }
  return `${all.length} product(s) read, ${changed} item(s) updated, ${unmapped} not mapped${since ? ` (since ${since.toISOString()})` : ''}`
}

/**
 * Pulls the POS's sales (only those since the previous sales pull, where the adapter can) and records the
 * counter sales as facts: a `sale` movement per line on the mapped item and location, referenced by the
 * POS's sale id (`pos_document` `<pos>:<sale id>`), so a sale pulled twice is recorded once. A sale that
 * is a ticket we pushed (its order number is one of our orders) is left out: that order's own pickup is
 * the sale. A sale of more than we have on hand records what there is, and says so in the note.
 */
export async function pullSales(ctx: OmsContext, job: SyncJob, adapter: PosAdapter): Promise<string> {
  const pull = adapter.pullSales?.bind(adapter)
  if (!pull) {
    throw new ValidationError('sync job', [
      { path: 'pos', message: `the ${job.pos} adapter has no sales feed (pullSales)` },
    ])
  }
  // The first sales pull starts where our stock was first aligned with the POS (its first inventory pull),
  // or at this job: older sales are already in the stock we started from, and recording them would take
  // them off a second time.
  const since =
    (await lastSuccess(ctx, job, ['pull_sales'])) ??
    (await lastSuccess(ctx, job, ['pull_inventory_full', 'pull_inventory_incremental'], 'oldest')) ??
    job.createdAt
  const sales: PosSale[] = []
  for await (const page of pullAllPages(pull, { since })) sales.push(...page)
  let recorded = 0
  let ours = 0
  let short = 0
  for (const sale of sales) {
    const outcome = await retryOnStale(() =>
      ctx.storage.transaction(async (tx) => {
        if (sale.orderNumber && (await tx.orders.getByNumber(sale.orderNumber))) return 'ours' as const
        const reference = { kind: 'pos_document' as const, id: `${job.pos}:${sale.externalId}`.slice(0, 128) }
        if ((await tx.inventory.listMovements({ referenceId: reference.id, limit: 1 })).length)
          return 'known' as const
        const locations = new Map<string, { id: string; storeId: string }>()
        for (const l of await tx.locations.list())
          if (l.externalIds[job.pos]) locations.set(l.externalIds[job.pos] as string, l)
        const items = new Map(
          (
            await tx.items.findByExternalIds(
              job.pos,
              sale.lines.map((l) => l.externalProductId),
            )
          ).map((i) => [i.externalIds[job.pos] as string, i.id]),
        )
        const byStore = new Map<string, LedgerEntry[]>()
        let clipped = 0
        for (const line of sale.lines) {
          const itemId = items.get(line.externalProductId)
          const location = locations.get(line.externalLocationId)
          if (!itemId || !location) continue
          const onHand = (await tx.inventory.lockLevel(itemId, location.id))?.onHand ?? 0
          const quantity = Math.min(line.quantity, onHand)
          clipped += line.quantity - quantity
          if (quantity <= 0) continue
          byStore.set(location.storeId, [
            ...(byStore.get(location.storeId) ?? []),
            {
              itemId,
              locationId: location.id,
              bucket: 'on_hand',
              delta: -quantity,
              reason: 'sale',
              expectOnHand: onHand,
              reference,
              note: `${job.pos} counter sale ${sale.externalId}`,
            },
          ])
        }
        for (const [storeId, entries] of byStore)
          await recordMovements(ctx, tx, ctx.clock.now(), SYSTEM_ACTOR, entries, {
            storeId,
            action: 'pos_synced',
            description: `${job.pos} counter sale ${sale.externalId}: ${entries.length} line(s)`,
          })
        return clipped > 0 ? ('short' as const) : ('recorded' as const)
      }),
    )
    if (outcome === 'ours') ours += 1
    if (outcome === 'recorded' || outcome === 'short') recorded += 1
    if (outcome === 'short') short += 1
  }
  return `${sales.length} sale(s) read, ${recorded} recorded, ${ours} of our own orders left out${short ? `, ${short} sold more than we had on hand` : ''}`
}

/**
 * When the latest (or, with `'oldest'`, the first) successful job of these kinds at this POS was created
 * (what changed since is pulled).
 */
async function lastSuccess(
  ctx: OmsContext,
  job: SyncJob,
  kinds: readonly SyncJob['kind'][],
  which: 'latest' | 'oldest' = 'latest',
): Promise<Date | undefined> {
  return ctx.storage.transaction(
    async (tx) => {
      const latest: Date[] = []
      for (const kind of kinds) {
        const [last] = await tx.syncJobs.list({
          pos: job.pos,
          kind,
          statuses: ['succeeded'],
          newestFirst: which === 'latest',
          limit: 1,
        })
        if (last) latest.push(last.createdAt)
      }
      const sign = which === 'latest' ? -1 : 1
      return latest.sort((a, b) => sign * (a.getTime() - b.getTime()))[0]
    },
    { readOnly: true },
  )
}

/** Our events that take an order towards what the POS says, tried in this order at each step. */
const TOWARDS: Partial<Record<PosOrderStatus, { events: readonly string[]; reason: string }>> = {
  completed: {
    events: [
      'payment.succeeded',
      'order.start_processing',
      'order.ready',
      'order.pick_up',
      'order.pack',
      'order.ship',
      'order.deliver',
      'order.complete',
    ],
    reason: 'completed at the POS',
  },
  cancelled: { events: ['order.cancel', 'order.no_show'], reason: 'cancelled at the POS' },
  rejected: { events: ['order.cancel', 'order.no_show'], reason: 'rejected by the POS' },
}

/** Statuses whose orders may still change at the POS: every built-in one but the ends of the road. */
const OPEN_STATUSES = ORDER_STATUSES.filter((st) => !['completed', 'cancelled', 'refunded'].includes(st))

/**
 * Reads the POS status of our open orders that are on this POS and moves each order through its machine
 * to match: completed at the counter walks the order to `completed` (committing its holds as the sale),
 * cancelled or rejected there cancels it here. Each step is an ordinary order event by the system actor,
 * audited like any other; a step the machine refuses stops that order where it is.
 */
export async function applyPosStatus(ctx: OmsContext, job: SyncJob, adapter: PosAdapter): Promise<string> {
  const orders = await ctx.storage.transaction(
    async (tx) =>
      (await tx.orders.list({ statuses: OPEN_STATUSES, limit: 1000 })).filter((o) => o.externalIds[job.pos]),
    { readOnly: true },
  )
  let moved = 0
  for (const order of orders) {
    const ref = await adapter.getOrderStatus(
      order.externalIds[job.pos] as string,
      orderContextFor(order, job.pos),
    )
    const plan = TOWARDS[ref.status]
    if (!plan) continue
    const steps = await retryOnStale(() =>
      ctx.storage.transaction(async (tx) => {
        const now = ctx.clock.now()
        let current = (await tx.orders.lock(order.id)) as Order
        let taken = 0
        for (let step = 0; step < plan.events.length + 2; step++) {
          const holds = await tx.reservations.listByOrder(current.id)
          const allowed = ctx.orderMachines[current.flow].allowedEvents(
            current.status,
            await orderContextOf(ctx, tx, current, holds),
          )
          const next = plan.events.find((e) => allowed.includes(e))
          if (!next) break
          try {
            current = await applyOrderEvent(ctx, tx, now, SYSTEM_ACTOR, order.id, {
              type: next,
              reason: plan.reason,
            })
          } catch (error) {
            if (isOmsError(error) && error.code === 'INVALID_TRANSITION') break
            throw error
          }
          taken += 1
        }
        if (taken > 0) {
          await recordSynced(
            ctx,
            tx,
            now,
            current,
            job,
            `${job.pos} says ${ref.raw}: order is now ${current.status}`,
            {
              externalId: ref.externalId,
              posStatus: ref.status,
              [externalKeys(job.pos).id]: ref.externalId,
            },
          )
        }
        return taken
      }),
    )
    if (steps > 0) moved += 1
  }
  return `${orders.length} order(s) checked, ${moved} moved`
}
