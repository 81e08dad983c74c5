import { z } from 'zod'
import { parseInput } from '../domain/parse-input'
import type { Order } from '../domain/schemas'
import { isOmsError, NotFoundError, StaleStateError, ValidationError } from '../errors/oms-error'
import { isPosError } from '../errors/pos-error'
import type { PosAdapter, PosOrderContext, PosOrderInput, PosOrderRef } from '../ports/pos-adapter'
import type { StorageTx } from '../ports/storage'
import { type OmsContext, orderHistoryEntry, retryOnStale, SYSTEM_ACTOR } from '../services/oms-context'
import { applyPosStatus, pullInventory, pullProducts, pullSales } from './pos-truth'
import { enqueuePull } from './sync-enqueue'
import type { SyncJob, SyncJobError, SyncJobOutcome } from './sync-job'

/** What one pass of `runOnce` did. */
export interface SyncRunResult {
  /** Jobs claimed by this pass. */
  claimed: number
  succeeded: number
  /** Transient failures, queued again with backoff. */
  retried: number
  /** Permanent failures (or too many attempts): now dead letter. */
  dead: number
  /** Jobs whose lease this worker lost before it could record the outcome (another worker took them). */
  lost: number
}

/** Progress of a drain, after each pass. */
export interface SyncDrainProgress extends SyncRunResult {
  passes: number
  /** Jobs still pending or running (due or not) after the pass. */
  remaining: number
}

const runOptionsSchema = z.strictObject({
  /** Only jobs of these POS connections. */
  pos: z.array(z.string().min(1).max(32)).min(1).max(32).optional(),
  batchSize: z.number().int().min(1).max(1000).optional(),
})
const drainOptionsSchema = runOptionsSchema.extend({
  onProgress: z
    .custom<(progress: SyncDrainProgress) => void>((v) => typeof v === 'function', 'must be a function')
    .optional(),
  maxPasses: z.number().int().min(1).max(1_000_000).optional(),
})
const pullsSchema = z.partialRecord(
  z.enum([
    'pull_products',
    'pull_inventory_full',
    'pull_inventory_incremental',
    'pull_sales',
    'pull_order_status',
  ]),
  z
    .number()
    .int()
    .min(1000)
    .max(7 * 86_400_000),
)
const startOptionsSchema = runOptionsSchema.extend({
  intervalMs: z.number().int().min(10).max(86_400_000).optional(),
  pulls: pullsSchema.optional(),
})

/** How often to queue each pull, in milliseconds (see `SyncWorker.queueDuePulls`). */
export type SyncPullSchedule = z.input<typeof pullsSchema>

/** The external id keys kept on an order for one POS. */
export const externalKeys = (pos: string) => ({
  id: pos,
  number: `${pos}.number`,
  customer: `${pos}.customer`,
})

/** What the POS calls after a push need to know about the order (see `PosOrderContext`). */
export function orderContextFor(order: Order, pos: string): PosOrderContext {
  const customer = order.externalIds[externalKeys(pos).customer]
  return customer ? { externalCustomerId: customer } : {}
}

/**
 * The sync worker: claims due jobs under a lease, calls the POS outside every transaction, and records the
 * outcome. Any number of workers, in any number of processes, may run over one storage; a job is leased to
 * one at a time, and a job whose worker died is taken again once its lease ends. Takes no actor: it is the
 * host's background process, like `events`.
 */
export class SyncWorker {
  protected readonly ctx: OmsContext
  readonly #owner: string
  #timer: ReturnType<typeof setTimeout> | null = null
  #running: Promise<unknown> | null = null
  #stopped = false
  readonly #lastPulls = new Map<string, number>()

  constructor(ctx: OmsContext, owner?: string) {
    this.ctx = ctx
    this.#owner = owner ?? `sync-${ctx.ids()}`
  }

  /** This worker's lease owner id (in `SyncJob.leaseOwner` while it runs a job). */
  get workerId(): string {
    return this.#owner
  }

  /** One pass: claims up to `batchSize` due jobs and runs them one after another. */
  async runOnce(input: { pos?: string[]; batchSize?: number } = {}): Promise<SyncRunResult> {
    const options = parseInput(runOptionsSchema, input, 'sync run options')
    const { ctx } = this
    const result: SyncRunResult = { claimed: 0, succeeded: 0, retried: 0, dead: 0, lost: 0 }
    const pos = options.pos ?? [...ctx.sync.connections.keys()]
    if (pos.length === 0) return result
    const jobs = await ctx.storage.transaction((tx) =>
      tx.syncJobs.claim({
        owner: this.#owner,
        limit: options.batchSize ?? ctx.sync.batchSize,
        leaseMs: ctx.sync.leaseMs,
        now: ctx.clock.now(),
        pos,
      }),
    )
    result.claimed = jobs.length
    for (const job of jobs) {
      const outcome = await this.#run(job)
      // A push, update or cancel records its success with the POS's ids, in one transaction.
      const kept =
        outcome.finished ??
        (await ctx.storage.transaction((tx) =>
          tx.syncJobs.finish(job.id, this.#owner, outcome, ctx.clock.now()),
        ))
      if (kept && outcome.status === 'dead' && job.kind.endsWith('_order')) await this.#markFailed(job)
      if (!kept) {
        result.lost += 1
        ctx.logger.warn(
          { jobId: job.id, pos: job.pos, kind: job.kind },
          'sync: lease lost before the outcome was recorded',
        )
      } else if (outcome.status === 'succeeded') result.succeeded += 1
      else if (outcome.status === 'pending') result.retried += 1
      else result.dead += 1
    }
    return result
  }

  /**
   * Runs passes until one finds nothing due (jobs waiting for their backoff are left for later), reporting
   * progress after each pass: what a returning POS's backlog drains with.
   */
  async drain(
    input: {
      pos?: string[]
      batchSize?: number
      onProgress?: (progress: SyncDrainProgress) => void
      maxPasses?: number
    } = {},
  ): Promise<SyncDrainProgress> {
    const { onProgress, maxPasses, ...run } = parseInput(drainOptionsSchema, input, 'sync drain options')
    const total: SyncDrainProgress = {
      claimed: 0,
      succeeded: 0,
      retried: 0,
      dead: 0,
      lost: 0,
      passes: 0,
      remaining: 0,
    }
    for (let pass = 0; pass < (maxPasses ?? 100_000); pass++) {
      const r = await this.runOnce(run)
      total.claimed += r.claimed
      total.succeeded += r.succeeded
      total.retried += r.retried
      total.dead += r.dead
      total.lost += r.lost
      total.passes += 1
      // One grouped count, not the jobs themselves.
      const rows = await this.ctx.storage.transaction((tx) => tx.syncJobs.summary(), { readOnly: true })
      total.remaining = rows
        .filter(
          (row) =>
            (row.status === 'pending' || row.status === 'running') && (!run.pos || run.pos.includes(row.pos)),
        )
        .reduce((sum, row) => sum + row.count, 0)
      onProgress?.({ ...total })
      if (r.claimed === 0) break
    }
    return total
  }

  /**
   * Queues each pull of `schedule` for every POS (or `pos`) when this worker last queued it at least its
   * interval ago (by the injected clock). A pending pull of the same kind absorbs the new one, so any
   * number of workers may run the same schedule. Returns how many kinds it queued.
   */
  async queueDuePulls(schedule: SyncPullSchedule, pos?: readonly string[]): Promise<number> {
    const parsed = parseInput(pullsSchema, schedule, 'sync pull schedule')
    const { ctx } = this
    const now = ctx.clock.now()
    const due = Object.entries(parsed).filter(
      ([kind, every]) =>
        now.getTime() - (this.#lastPulls.get(kind) ?? Number.NEGATIVE_INFINITY) >= (every as number),
    )
    if (due.length === 0) return 0
    const targets = [...ctx.sync.connections.keys()].filter((p) => !pos || pos.includes(p))
    await ctx.storage.transaction(async (tx) => {
      for (const [kind] of due)
        for (const p of targets) await enqueuePull(ctx, tx, p, kind as keyof SyncPullSchedule, now)
    })
    for (const [kind] of due) this.#lastPulls.set(kind, now.getTime())
    return due.length
  }

  /**
   * Runs passes in the background every `intervalMs` (default 1000) until `stop()`; with `pulls`, queues
   * those pulls on their schedule first (e.g. `{ pull_inventory_incremental: 60_000, pull_order_status:
   * 30_000 }`).
   */
  start(
    input: { pos?: string[]; batchSize?: number; intervalMs?: number; pulls?: SyncPullSchedule } = {},
  ): void {
    const { intervalMs, pulls, ...options } = parseInput(startOptionsSchema, input, 'sync worker options')
    if (this.#timer) return
    this.#stopped = false
    const tick = () => {
      this.#running = (pulls ? this.queueDuePulls(pulls, options.pos) : Promise.resolve(0))
        .then(() => this.drain(options))
        .catch((error: unknown) =>
          this.ctx.logger.error({ err: describe(error).message }, 'sync worker pass failed'),
        )
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(tick, intervalMs ?? 1000)
        })
    }
    this.#timer = setTimeout(tick, 0)
  }

  /** Stops the background loop and waits for the pass in progress. */
  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    await this.#running
  }

  async #run(job: SyncJob): Promise<SyncJobOutcome & { finished?: boolean }> {
    const { ctx } = this
    const connection = ctx.sync.connections.get(job.pos)
    try {
      if (!connection)
        throw new ValidationError('sync job', [
          { path: 'pos', message: `no POS connection is named ${job.pos}` },
        ])
      const adapter = connection.adapter
      switch (job.kind) {
        case 'push_order':
          return await this.#push(job, adapter, connection.externalCustomerId)
        case 'update_order':
          return await this.#update(job, adapter, connection.externalCustomerId)
        case 'cancel_order':
          return await this.#cancel(job, adapter)
        case 'pull_inventory_full':
        case 'pull_inventory_incremental':
          return { status: 'succeeded', note: await pullInventory(ctx, job, adapter) }
        case 'pull_order_status':
          return { status: 'succeeded', note: await applyPosStatus(ctx, job, adapter) }
        case 'pull_products':
          return { status: 'succeeded', note: await pullProducts(ctx, job, adapter) }
        case 'pull_sales':
          return { status: 'succeeded', note: await pullSales(ctx, job, adapter) }
        default:
          throw new ValidationError('sync job', [
            { path: 'kind', message: `${job.kind} is not run by this version of the engine` },
          ])
      }
    } catch (error) {
      return this.#failure(job, error)
    }
  }

  #failure(job: SyncJob, error: unknown): SyncJobOutcome {
    const { ctx } = this
    const described = describe(error)
    const transient = isTransient(error)
    ctx.logger.warn(
      {
        jobId: job.id,
        pos: job.pos,
        kind: job.kind,
        attempts: job.attempts,
        code: described.code,
        transient,
      },
      'sync job failed',
    )
    if (!transient || job.attempts >= ctx.sync.maxAttempts) return { status: 'dead', error: described }
    const backoff = Math.min(ctx.sync.retryMaxMs, ctx.sync.retryBaseMs * 2 ** Math.min(job.attempts - 1, 20))
    const jittered = backoff * (0.5 + ctx.sync.random() / 2)
    const retryAfter = isPosError(error) ? (error.retryAfterMs ?? 0) : 0
    const delay = Math.min(ctx.sync.retryMaxMs, Math.max(jittered, retryAfter))
    return {
      status: 'pending',
      nextAttemptAt: new Date(ctx.clock.now().getTime() + Math.round(delay)),
      error: described,
    }
  }

  /** Reads the order and what the POS input needs (items' and location's ids at this POS). */
  async #orderInput(
    job: SyncJob,
    customerIdOf: (order: Order) => string | null,
  ): Promise<{ order: Order; input: PosOrderInput }> {
    const { ctx } = this
    return ctx.storage.transaction(
      async (tx) => {
        const order = await tx.orders.get(job.entityId)
        if (!order) throw new NotFoundError('order', job.entityId)
        const items = new Map(
          (await tx.items.getMany(order.lines.map((l) => l.itemId))).map((i) => [i.id, i]),
        )
        const location = await tx.locations.get(order.locationId)
        const issues = order.lines.flatMap((l, i) =>
          items.get(l.itemId)?.externalIds[job.pos]
            ? []
            : [
                {
                  path: `lines.${i}.itemId`,
                  message: `item ${l.itemId} has no ${job.pos} product id (externalIds.${job.pos})`,
                },
              ],
        )
        if (issues.length) throw new ValidationError(`${job.pos} order`, issues)
        const known = order.externalIds[externalKeys(job.pos).customer]
        const input: PosOrderInput = {
          orderId: order.id,
          orderNumber: order.number,
          // Stable per order and POS, never per attempt: the POS dedupes a replayed create by it.
          idempotencyKey: `${order.id}:${job.pos}`,
          channel: order.channel,
          fulfillment: order.flow === 'delivery' ? 'delivery' : 'pickup',
          externalCustomerId: known ?? customerIdOf(order),
          lines: order.lines.map((l) => {
            const item = items.get(l.itemId)
            return {
              lineId: l.id,
              externalProductId: item?.externalIds[job.pos] as string,
              externalLocationId: location?.externalIds[job.pos] ?? null,
              quantity: l.quantity,
              unitPriceMinor: l.unitPriceMinor,
              ...(item ? { unit: item.unit } : {}),
            }
          }),
          currency: order.totals.currency,
          totalMinor: order.totals.totalMinor,
          notes: null,
        }
        return { order, input }
      },
      { readOnly: true },
    )
  }

  async #push(
    job: SyncJob,
    adapter: PosAdapter,
    customerIdOf: (order: Order) => string | null,
  ): Promise<SyncJobOutcome> {
    const { order, input } = await this.#orderInput(job, customerIdOf)
    if (order.status === 'cancelled' && job.attempts === 1 && !order.externalIds[job.pos]) {
      // Never sent before (first attempt) and already cancelled: the POS has nothing to learn.
      return { status: 'succeeded', note: 'the order was cancelled before it was pushed' }
    }
    const ref = await adapter.pushOrder(input)
    return this.#recordRef(job, ref, input.externalCustomerId, 'pushed', `ticket ${ref.externalId}`)
  }

  async #update(
    job: SyncJob,
    adapter: PosAdapter,
    customerIdOf: (order: Order) => string | null,
  ): Promise<SyncJobOutcome> {
    const { order, input } = await this.#orderInput(job, customerIdOf)
    const externalId = order.externalIds[job.pos]
    if (!externalId) return { status: 'succeeded', note: 'not on the POS: nothing to update' }
    const ref = await adapter.updateOrder(externalId, input, orderContextFor(order, job.pos))
    return this.#recordRef(job, ref, input.externalCustomerId, 'updated', `ticket ${ref.externalId} updated`)
  }

  async #cancel(job: SyncJob, adapter: PosAdapter): Promise<SyncJobOutcome> {
    const { ctx } = this
    const order = await ctx.storage.transaction((tx) => tx.orders.get(job.entityId), { readOnly: true })
    if (!order) throw new NotFoundError('order', job.entityId)
    const context = orderContextFor(order, job.pos)
    const externalId =
      order.externalIds[job.pos] ?? (await adapter.findOrder(order.number, context))?.externalId ?? null
    if (!externalId) return { status: 'succeeded', note: 'not on the POS: nothing to cancel' }
    const ref = await adapter.cancelOrder(externalId, order.cancellationReason ?? 'cancelled', context)
    return this.#recordRef(job, ref, null, 'cancelled', `ticket ${ref.externalId} ${ref.status}`)
  }

  /** A dead order job: the order's `posSyncState` says `failed` (what order search finds them by). */
  async #markFailed(job: SyncJob): Promise<void> {
    const { ctx } = this
    await retryOnStale(() =>
      ctx.storage.transaction(async (tx) => {
        const now = ctx.clock.now()
        const order = await tx.orders.lock(job.entityId)
        if (!order || order.posSyncState === 'failed') return
        const next: Order = { ...order, posSyncState: 'failed', version: order.version + 1, updatedAt: now }
        if (!(await tx.orders.update(next, order.version))) throw new StaleStateError(`order ${order.id}`)
        await recordSynced(
          ctx,
          tx,
          now,
          { ...order, keepsStatus: true },
          job,
          `${job.kind} at ${job.pos} failed for good`,
        )
      }),
    )
  }

  /**
   * Keeps the POS's ids on the order (external id, number, customer) in our database, with an audit row,
   * so a restart or another worker finds them, and records the job's success in the same transaction.
   */
  async #recordRef(
    job: SyncJob,
    ref: PosOrderRef,
    customerId: string | null,
    what: string,
    note: string,
  ): Promise<SyncJobOutcome & { finished: boolean }> {
    const { ctx } = this
    const finished = await retryOnStale(() =>
      ctx.storage.transaction(async (tx) => {
        const now = ctx.clock.now()
        const order = await tx.orders.lock(job.entityId)
        if (!order) throw new NotFoundError('order', job.entityId)
        const keys = externalKeys(job.pos)
        const customer = ref.externalCustomerId ?? customerId
        const externalIds = {
          ...order.externalIds,
          [keys.id]: ref.externalId,
          ...(ref.externalNumber ? { [keys.number]: ref.externalNumber } : {}),
          ...(customer ? { [keys.customer]: customer } : {}),
        }
        // What order search filters by: the order is on the POS as we last told it.
        const posSyncState = 'synced'
        const changed =
          JSON.stringify(externalIds) !== JSON.stringify(order.externalIds) ||
          order.posSyncState !== posSyncState
        if (changed) {
          const next: Order = {
            ...order,
            externalIds,
            posSyncState,
            version: order.version + 1,
            updatedAt: now,
          }
          if (!(await tx.orders.update(next, order.version))) throw new StaleStateError(`order ${order.id}`)
        }
        // A new order version gets its entry in the order's status chain (the status itself is unchanged).
        await recordSynced(
          ctx,
          tx,
          now,
          changed ? { ...order, keepsStatus: true } : order,
          job,
          `${what} at ${job.pos}: ticket ${ref.externalId} (${ref.raw})`,
          {
            externalId: ref.externalId,
            posStatus: ref.status,
          },
        )
        // The ids are kept even when the lease was lost meanwhile: they are the POS's answer either way.
        return tx.syncJobs.finish(job.id, this.#owner, { status: 'succeeded', note }, now)
      }),
    )
    return { status: 'succeeded', note, finished }
  }
}

/**
 * The audit row of a sync step on an order. `keepsStatus`: the step wrote a new version of the order (its
 * external ids), so the row joins the order's status chain, from its status to the same status.
 */
export async function recordSynced(
  ctx: OmsContext,
  tx: StorageTx,
  now: Date,
  order: Pick<Order, 'id' | 'storeId' | 'status'> & { keepsStatus?: boolean },
  job: Pick<SyncJob, 'id' | 'pos' | 'kind'>,
  description: string,
  data: Record<string, unknown> = {},
): Promise<void> {
  await tx.history.appendMany([
    orderHistoryEntry(ctx, SYSTEM_ACTOR, now, order, {
      ...(order.keepsStatus ? { oldStatus: order.status, newStatus: order.status } : {}),
      action: 'pos_synced',
      description,
      additionalData: { jobId: job.id, pos: job.pos, kind: job.kind, ...data },
    }),
  ])
}

const TRANSIENT_CODES = new Set([
  'POS_UNAVAILABLE',
  'STORAGE_UNAVAILABLE',
  'STORAGE_ERROR',
  'CONFLICT',
  'STORAGE_CLOSED',
])

/** Worth another attempt later: the POS or the database was unavailable, or something unexpected broke. */
export function isTransient(error: unknown): boolean {
  if (isOmsError(error)) return TRANSIENT_CODES.has(error.code)
  return true
}

/**
 * The error as a job keeps it: a stable code and a message. Our errors' messages carry no PII or
 * credentials (adapters promise it); anything else is reduced to its class name.
 */
export function describe(error: unknown): SyncJobError {
  if (isOmsError(error)) return { code: error.code, message: error.message.slice(0, 1000) }
  const name = error instanceof Error ? error.name : typeof error
  return { code: 'INTERNAL', message: `unexpected ${name} in the sync engine` }
}
