import { z } from 'zod'
import { instantSchema } from '../domain/commands'
import { parseInput } from '../domain/parse-input'
import { actorSchema, idSchema } from '../domain/schemas'
import { ForbiddenError, ValidationError } from '../errors/oms-error'
import type { FulfillmentCycleRow, FulfillmentStatisticsRows } from '../ports/storage'
import type { OmsContext } from '../services/oms-context'
import { OPEN_STATUSES } from './fulfillment-records'

const HOUR = 3_600_000
const MAX_WINDOW_DAYS = 366

export const fulfillmentStatisticsInputSchema = z.strictObject({
  actor: actorSchema,
  /** Start of the window (inclusive). @default 24 hours before `to` */
  from: instantSchema.optional(),
  /** End of the window (exclusive). @default now */
  to: instantSchema.optional(),
  /** Narrows to these stores (each must be in the actor's reach). @default every store the actor reaches */
  storeIds: z.array(idSchema).max(1000).optional(),
})
export type FulfillmentStatisticsInput = z.input<typeof fulfillmentStatisticsInputSchema>

/** The figures of one group of fulfillments. Rates are shares between 0 and 1, null when nothing to divide. */
export interface FulfillmentFigures {
  /** Fulfillments created in the window. */
  fulfillments: number
  /** Fulfillments created in the window, by the status they are in now. */
  byStatus: Record<string, number>
  /**
   * Order created → goods left (shipped, or handed over at the counter), over the fulfillments whose goods
   * left in the window. Percentiles are nearest-rank; every figure is null when none left.
   */
  cycleTime: {
    dispatched: number
    averageMs: number | null
    p50Ms: number | null
    p90Ms: number | null
    maxMs: number | null
  }
  /** Scans of the window's fulfillments: accepted, refused (wrong item, over-scan), and their shares. */
  scans: { accepted: number; rejected: number; rejectionRate: number | null; accuracy: number | null }
  /** Fulfillments open now (pending, picking, packing, ready to ship), whenever created, by status. */
  backlog: { open: number; byStatus: Record<string, number> }
}

export interface FulfillmentStatistics {
  from: Date
  to: Date
  /** The stores counted; null: every store. */
  storeIds: string[] | null
  overall: FulfillmentFigures
  /** Per store, by store id. */
  byStore: Array<{ storeId: string } & FulfillmentFigures>
  /** Per assigned staff member (null: nobody assigned), by id, unassigned last. */
  byAssignee: Array<{ assignedToId: string | null } & FulfillmentFigures>
}

const empty = (): FulfillmentFigures => ({
  fulfillments: 0,
  byStatus: {},
  cycleTime: { dispatched: 0, averageMs: null, p50Ms: null, p90Ms: null, maxMs: null },
  scans: { accepted: 0, rejected: 0, rejectionRate: null, accuracy: null },
  backlog: { open: 0, byStatus: {} },
})

const add = (record: Record<string, number>, key: string, n: number) => {
  record[key] = (record[key] ?? 0) + n
}

/** Sums the database's rows of one group into its figures (no fulfillment is read here). */
function figuresOf(
  created: FulfillmentStatisticsRows['created'],
  open: FulfillmentStatisticsRows['open'],
  cycle: FulfillmentCycleRow | undefined,
): FulfillmentFigures {
  const f = empty()
  for (const r of created) {
    f.fulfillments += r.fulfillments
    add(f.byStatus, r.status, r.fulfillments)
    f.scans.accepted += r.scansAccepted
    f.scans.rejected += r.scansRejected
  }
  const scans = f.scans.accepted + f.scans.rejected
  if (scans > 0) {
    f.scans.rejectionRate = f.scans.rejected / scans
    f.scans.accuracy = f.scans.accepted / scans
  }
  for (const r of open) {
    f.backlog.open += r.fulfillments
    add(f.backlog.byStatus, r.status, r.fulfillments)
  }
  if (cycle && cycle.dispatched > 0)
    f.cycleTime = {
      dispatched: cycle.dispatched,
      averageMs: Math.round(cycle.totalMs / cycle.dispatched),
      p50Ms: cycle.p50Ms,
      p90Ms: cycle.p90Ms,
      maxMs: cycle.maxMs,
    }
  return f
}

const byId = (a: string | null, b: string | null) =>
  a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1

/**
 * Fulfillment statistics of a window: counts by status, cycle time, picking accuracy and the open
 * backlog, overall, per store and per assignee. Needs `fulfillment.manage`; store-scoped staff see their
 * stores only (a store out of reach is FORBIDDEN), a customer nothing.
 */
export async function fulfillmentStatistics(
  ctx: OmsContext,
  input: FulfillmentStatisticsInput,
): Promise<FulfillmentStatistics> {
  const cmd = parseInput(fulfillmentStatisticsInputSchema, input, 'fulfillment statistics')
  const reach = ctx.access.reach(cmd.actor, 'fulfillment.manage')
  // Statistics are about stores: a reach that is only a customer's own orders sees none.
  if (!reach || (!reach.all && reach.storeIds.length === 0 && reach.customerId !== null))
    throw new ForbiddenError('view fulfillment statistics', { permission: 'fulfillment.manage' })
  if (cmd.storeIds && !reach.all) {
    const outside = cmd.storeIds.filter((s) => !reach.storeIds.includes(s))
    if (outside.length)
      throw new ForbiddenError(`view fulfillment statistics of store ${outside[0]}`, {
        permission: 'fulfillment.manage',
      })
  }
  const storeIds = cmd.storeIds ? [...new Set(cmd.storeIds)] : reach.all ? null : [...reach.storeIds]
  const to = cmd.to ?? ctx.clock.now()
  const from = cmd.from ?? new Date(to.getTime() - 24 * HOUR)
  if (from >= to)
    throw new ValidationError('fulfillment statistics', [{ path: 'from', message: 'must be before to' }])
  if (to.getTime() - from.getTime() > MAX_WINDOW_DAYS * 24 * HOUR)
    throw new ValidationError('fulfillment statistics', [
      { path: 'from', message: `the window may span at most ${MAX_WINDOW_DAYS} days` },
    ])
  const rows = await ctx.storage.transaction(
    (tx) =>
      tx.fulfillments.statistics({
        ...(storeIds ? { storeIds } : {}),
        from,
        to,
        openStatuses: OPEN_STATUSES,
      }),
    { readOnly: true, isolation: 'snapshot' },
  )
  const cycleOf = (by: FulfillmentCycleRow['by'], key: string | null) =>
    rows.cycle.find((c) => c.by === by && c.key === key)
  const keys = <K extends 'storeId' | 'assignedToId'>(k: K) =>
    [...new Set([...rows.created, ...rows.open].map((r) => r[k]))].concat(
      rows.cycle
        .filter((c) => c.by === (k === 'storeId' ? 'store' : 'assignee'))
        .map((c) => c.key as (typeof rows.created)[number][K]),
    )
  return {
    from,
    to,
    storeIds,
    overall: figuresOf(rows.created, rows.open, cycleOf('all', null)),
    byStore: [...new Set(keys('storeId'))].sort(byId).map((storeId) => ({
      storeId,
      ...figuresOf(
        rows.created.filter((r) => r.storeId === storeId),
        rows.open.filter((r) => r.storeId === storeId),
        cycleOf('store', storeId),
      ),
    })),
    byAssignee: [...new Set(keys('assignedToId'))].sort(byId).map((assignedToId) => ({
      assignedToId,
      ...figuresOf(
        rows.created.filter((r) => r.assignedToId === assignedToId),
        rows.open.filter((r) => r.assignedToId === assignedToId),
        cycleOf('assignee', assignedToId),
      ),
    })),
  }
}
