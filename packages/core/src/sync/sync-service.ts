import type { PosHealth } from '../dashboard/dashboard-service'
import {
  type ListSyncJobsInput,
  listSyncJobsInputSchema,
  type RePushOrderInput,
  type RequestPullInput,
  rePushOrderInputSchema,
  requestPullInputSchema,
  type SkipSyncJobInput,
  type SyncHealthInput,
  type SyncJobCommandInput,
  skipSyncJobInputSchema,
  syncHealthInputSchema,
  syncJobCommandInputSchema,
} from '../domain/commands'
import { parseInput } from '../domain/parse-input'
import type { ActingActor } from '../domain/schemas'
import { ConflictError, NotFoundError, ValidationError } from '../errors/oms-error'
import type { StorageTx } from '../ports/storage'
import { historyEntry, type OmsContext, orderHistoryEntry, runCommand } from '../services/oms-context'
import { connectionsFor, enqueueOrderSync, enqueuePull } from './sync-enqueue'
import type { SyncJob, SyncJobStatus } from './sync-job'
import { SyncWorker } from './sync-worker'

/** How one POS is doing, from its jobs. */
export interface SyncPosHealth {
  pos: string
  /**
   * `down`: the latest thing that happened is a transient failure (the POS unreachable or throttling) and
   * work is waiting for it. `degraded`: it answers, but jobs are dead-lettered, retrying, or waiting longer
   * than `staleAfterMs`. `up`: none of that.
   */
  state: 'up' | 'degraded' | 'down'
  lastSuccessAt: Date | null
  /** The latest failed attempt of a job that will be retried. */
  lastFailureAt: Date | null
  /** Jobs pending or running. */
  queueDepth: number
  dead: number
  /** Age of the oldest pending or running job, in milliseconds (null when none). */
  oldestJobAgeMs: number | null
}

/** A job older than this makes its POS `degraded`. */
const STALE_AFTER_MS = 5 * 60_000

/**
 * `oms.sync`: the POS sync engine. The worker loop (`runOnce`, `drain`, `start`, `stop`) takes no actor;
 * the operator's methods (list, retry, skip, re-push, pull, health) need `sync.manage` over every store.
 */
export class SyncService extends SyncWorker {
  /** Jobs by status, POS, kind or entity (an order id), oldest first. */
  async listJobs(input: ListSyncJobsInput): Promise<SyncJob[]> {
    const { actor, ...filter } = parseInput(listSyncJobsInputSchema, input, 'sync job list')
    this.ctx.access.requireGlobal(actor, 'sync.manage', 'list sync jobs')
    return this.ctx.storage.transaction(
      (tx) =>
        tx.syncJobs.list({
          limit: filter.limit,
          offset: filter.offset,
          ...(filter.statuses ? { statuses: filter.statuses } : {}),
          ...(filter.pos ? { pos: filter.pos } : {}),
          ...(filter.kind ? { kind: filter.kind } : {}),
          ...(filter.entityId ? { entityId: filter.entityId } : {}),
        }),
      { readOnly: true },
    )
  }

  /** Puts a dead job back in the queue, due now, with its attempts kept. Audited. */
  async retryJob(input: SyncJobCommandInput): Promise<SyncJob> {
    const cmd = parseInput(syncJobCommandInputSchema, input, 'sync job retry')
    return this.#operate(
      cmd.actor,
      cmd.jobId,
      ['dead'],
      'pending',
      cmd.reason ?? 'retried by an operator',
      'retry',
    )
  }

  /**
   * Gives up on a dead or pending job, with a reason (kept on the job and audited). Later jobs of the same
   * entity then run.
   */
  async skipJob(input: SkipSyncJobInput): Promise<SyncJob> {
    const cmd = parseInput(skipSyncJobInputSchema, input, 'sync job skip')
    return this.#operate(cmd.actor, cmd.jobId, ['dead', 'pending'], 'skipped', cmd.reason, 'skip')
  }

  /**
   * Queues a push of the order to its POSs again (or to `pos`). The push is idempotent: a POS that has the
   * ticket answers with it, one that lost it gets it again.
   */
  async rePushOrder(input: RePushOrderInput): Promise<SyncJob[]> {
    const cmd = parseInput(rePushOrderInputSchema, input, 'order re-push')
    const { ctx } = this
    ctx.access.requireGlobal(cmd.actor, 'sync.manage', 're-push an order')
    return runCommand(
      ctx,
      'sync.rePush',
      cmd,
      async (tx, now) => {
        const order = await tx.orders.get(cmd.orderId)
        if (!order) throw new NotFoundError('order', cmd.orderId)
        const routes = connectionsFor(ctx, order)
        const unknown = (cmd.pos ?? []).filter((p) => !routes.includes(p))
        if (unknown.length)
          throw new ValidationError('order re-push', [
            { path: 'pos', message: `order ${order.id} does not go to ${unknown.join(', ')}` },
          ])
        await enqueueOrderSync(ctx, tx, order, 'push_order', now, cmd.pos ? { pos: cmd.pos } : {})
        await tx.history.appendMany([
          orderHistoryEntry(ctx, cmd.actor, now, order, {
            action: 'pos_synced',
            description: `re-push to ${(cmd.pos ?? routes).join(', ') || 'no POS'} requested`,
          }),
        ])
        return tx.syncJobs.list({ entityId: order.id, kind: 'push_order', statuses: ['pending'] })
      },
      async () => undefined,
    )
  }

  /** Queues a pull (e.g. a full inventory pull) from every POS or from `pos`; coalesced with a pending one. */
  async requestPull(input: RequestPullInput): Promise<SyncJob[]> {
    const cmd = parseInput(requestPullInputSchema, input, 'sync pull')
    const { ctx } = this
    ctx.access.requireGlobal(cmd.actor, 'sync.manage', 'request a POS pull')
    const targets = cmd.pos ?? [...ctx.sync.connections.keys()]
    const unknown = targets.filter((p) => !ctx.sync.connections.has(p))
    if (unknown.length)
      throw new ValidationError('sync pull', [
        { path: 'pos', message: `no POS connection named ${unknown.join(', ')}` },
      ])
    return ctx.storage.transaction(async (tx) => {
      const now = ctx.clock.now()
      for (const pos of targets) await enqueuePull(ctx, tx, pos, cmd.kind, now)
      const pending = await tx.syncJobs.list({ kind: cmd.kind, statuses: ['pending'] })
      return pending.filter((j) => targets.includes(j.pos))
    })
  }

  /** Per POS: up, degraded or down; last success and failure; queue depth; dead jobs; oldest job age. */
  async health(input: SyncHealthInput): Promise<SyncPosHealth[]> {
    const { actor } = parseInput(syncHealthInputSchema, input, 'sync health')
    const { ctx } = this
    ctx.access.requireGlobal(actor, 'sync.manage', 'read POS health')
    return posHealthOf(ctx)
  }

  async #operate(
    actor: ActingActor,
    jobId: string,
    from: readonly SyncJobStatus[],
    to: 'pending' | 'skipped',
    reason: string,
    verb: string,
  ): Promise<SyncJob> {
    const { ctx } = this
    ctx.access.requireGlobal(actor, 'sync.manage', `${verb} a sync job`)
    return ctx.storage.transaction(async (tx) => {
      const now = ctx.clock.now()
      const job = await tx.syncJobs.get(jobId)
      if (!job) throw new NotFoundError('sync job', jobId)
      const written = await tx.syncJobs.update(jobId, from, {
        status: to,
        note: reason,
        updatedAt: now,
        // a retried job gets a fresh set of attempts: one more transient failure must not kill it again
        ...(to === 'pending' ? { attempts: 0, nextAttemptAt: now, finishedAt: null } : { finishedAt: now }),
      })
      if (!written)
        throw new ConflictError(
          `sync job ${jobId} is ${job.status}: only a ${from.join(' or ')} job can be ${verb === 'skip' ? 'skipped' : 'retried'}`,
          {
            jobId,
            status: job.status,
          },
        )
      await auditJob(ctx, tx, actor, now, written, `${verb} of ${job.kind} at ${job.pos}: ${reason}`)
      return written
    })
  }
}

async function auditJob(
  ctx: OmsContext,
  tx: StorageTx,
  actor: ActingActor,
  now: Date,
  job: SyncJob,
  description: string,
): Promise<void> {
  const order = job.kind.endsWith('_order') ? await tx.orders.get(job.entityId) : null
  await tx.history.appendMany([
    historyEntry(ctx, actor, now, {
      entityType: order ? 'order' : 'inventory',
      entityId: job.entityId,
      orderId: order?.id ?? null,
      storeId: order?.storeId ?? job.storeId,
      action: 'pos_synced',
      description,
      additionalData: { jobId: job.id, pos: job.pos, kind: job.kind, status: job.status },
    }),
  ])
}

/** Per POS connection (and any POS that still has jobs): its state from the job table. */
export async function posHealthOf(ctx: OmsContext): Promise<SyncPosHealth[]> {
  const rows = await ctx.storage.transaction((tx) => tx.syncJobs.summary(), { readOnly: true })
  const now = ctx.clock.now().getTime()
  const names = [...new Set([...ctx.sync.connections.keys(), ...rows.map((r) => r.pos)])].sort()
  return names.map((pos): SyncPosHealth => {
    const of = (status: SyncJobStatus) => rows.find((r) => r.pos === pos && r.status === status)
    const pending = of('pending')
    const running = of('running')
    const dead = of('dead')?.count ?? 0
    const lastSuccessAt = of('succeeded')?.latestFinishedAt ?? null
    const lastFailureAt = pending?.latestFailedAt ?? null
    const oldest = [pending?.oldestCreatedAt, running?.oldestCreatedAt]
      .filter((d): d is Date => d instanceof Date)
      .sort((a, b) => a.getTime() - b.getTime())[0]
    const queueDepth = (pending?.count ?? 0) + (running?.count ?? 0)
    const oldestJobAgeMs = oldest ? Math.max(0, now - oldest.getTime()) : null
    const failing = lastFailureAt !== null && (lastSuccessAt === null || lastFailureAt >= lastSuccessAt)
    const state =
      failing && queueDepth > 0
        ? 'down'
        : dead > 0 || lastFailureAt !== null || (oldestJobAgeMs ?? 0) > STALE_AFTER_MS
          ? 'degraded'
          : 'up'
    return { pos, state, lastSuccessAt, lastFailureAt, queueDepth, dead, oldestJobAgeMs }
  })
}

/**
 * The dashboard's POS health from the sync engine: one entry per connection and store it serves (one
 * without a store when it serves every store); `down` is unhealthy.
 */
export function syncPosHealthProvider(ctx: OmsContext): () => Promise<PosHealth[]> {
  return async () =>
    (await posHealthOf(ctx)).flatMap((h) => {
      const detail = `${h.state}: ${h.queueDepth} job(s) queued, ${h.dead} dead`
      const stores = ctx.sync.connections.get(h.pos)?.storeIds ?? null
      const base = { vendor: h.pos, healthy: h.state !== 'down', detail }
      return stores === null ? [base] : stores.map((storeId) => ({ ...base, storeId }))
    })
}
