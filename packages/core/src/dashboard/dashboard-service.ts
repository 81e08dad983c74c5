import { z } from 'zod'
import { instantSchema } from '../domain/commands'
import { DELIVERY_ORDER_STATUSES } from '../domain/enums'
import { parseInput } from '../domain/parse-input'
import { actorSchema, idSchema } from '../domain/schemas'
import { ForbiddenError, ValidationError } from '../errors/oms-error'
import type { DashboardFigures } from '../ports/storage'
import type { OmsContext } from '../services/oms-context'

/** Statuses of orders whose goods were handed over (delivered, picked up, completed). */
export const FULFILLED_STATUSES = ['delivered', 'picked_up', 'completed'] as const
/** Statuses of orders handed over and then sent into the return flow (the delivery flow's, from the request on). */
export const RETURN_STATUSES: readonly string[] = DELIVERY_ORDER_STATUSES.slice(
  DELIVERY_ORDER_STATUSES.indexOf('return_requested'),
)
/** Statuses of paid orders still waiting to be handed over: the fulfillment backlog. */
export const BACKLOG_STATUSES = [
  'confirmed',
  'processing',
  'packed',
  'ready_for_pickup',
  'shipped',
  'in_transit',
  'out_for_delivery',
] as const

/** What a host reports about its point-of-sale connections (e.g. from its POS sync jobs). */
export interface PosHealth {
  vendor: string
  /** The store the connection serves; absent: every store. */
  storeId?: string
  healthy: boolean
  detail?: string
}

/** Asked by `dashboard.summary` for the POS alerts; a host (or the POS sync) supplies it. */
export type PosHealthProvider = () => Promise<readonly PosHealth[]>

const HOUR = 3_600_000
const MAX_WINDOW_DAYS = 31

export const dashboardSummaryInputSchema = z.strictObject({
  actor: actorSchema,
  /** Start of the window (inclusive). @default 24 hours before `to` */
  from: instantSchema.optional(),
  /** End of the window (exclusive). @default now */
  to: instantSchema.optional(),
  /** Narrows to these stores (each must be in the actor's reach). @default every store the actor reaches */
  storeIds: z.array(idSchema).max(1000).optional(),
  thresholds: z
    .strictObject({
      /** Alert when more than this share of the window's orders was cancelled. @default 0.1 */
      cancellationRate: z.number().min(0).max(1).default(0.1),
      /** Rates are alerted on only over at least this many orders. @default 20 */
      minOrders: z.number().int().min(1).max(1_000_000).default(20),
    })
    .default({ cancellationRate: 0.1, minOrders: 20 }),
})
export type DashboardSummaryInput = z.input<typeof dashboardSummaryInputSchema>

export type DashboardAlert =
  | { kind: 'high_cancellation_rate'; message: string; value: number; threshold: number }
  | {
      kind: 'low_stock'
      message: string
      rows: number
      /** The lowest few, each with its available quantity and reorder point. */
      lowest: DashboardFigures['lowStock']['lowest']
    }
  | { kind: 'pos_down'; message: string; vendor: string; storeId: string | null; detail: string | null }

/** The monitoring figures of one window. Rates are shares between 0 and 1, null when nothing to divide. */
export interface DashboardSummary {
  from: Date
  to: Date
  /** The stores counted; null: every store. */
  storeIds: string[] | null
  /** Orders created in the window. */
  orders: number
  /** Orders created in the window, by the status they are in now. */
  ordersByStatus: Record<string, number>
  /** Orders created per UTC hour of the window (every hour listed, zeros included). */
  ordersPerHour: Array<{ hour: Date; orders: number }>
  /** Average order value of the window's orders that were not cancelled, per currency (minor units). */
  averageOrderValue: Array<{ currency: string; orders: number; averageMinor: number }>
  /** Of the window's orders that reached an end, the share handed over (returns included). */
  fulfillmentRate: number | null
  /** Share of the window's orders that are cancelled. */
  cancellationRate: number | null
  /** Of the window's orders handed over, the share in the return flow (by order status). */
  returnRate: number | null
  /** Share of the holds taken in the window that expired. */
  reservationExpirationRate: number | null
  /**
   * Stock-out incidents: how many items at a location were found short in the window — on-hand below
   * what holds promised (an `inventory_shortage`, recorded by counts, adjustments and POS pulls). Each
   * item at a location counts once per window, however often its shortage was recorded.
   */
  stockOutIncidents: number
  /** Orders (whenever created) paid and waiting to be handed over, by status. */
  fulfillmentBacklog: { orders: number; byStatus: Record<string, number> }
  alerts: DashboardAlert[]
}

const rate = (part: number, whole: number) => (whole > 0 ? part / whole : null)
const sumOf = (record: Record<string, number>, keys: readonly string[]) =>
  keys.reduce((sum, k) => sum + (record[k] ?? 0), 0)

/** Monitoring: order, fulfillment and stock figures of a time window, with alerts. */
export class DashboardService {
  readonly #ctx: OmsContext
  readonly #posHealth: PosHealthProvider | undefined

  constructor(ctx: OmsContext, posHealth?: PosHealthProvider) {
    this.#ctx = ctx
    this.#posHealth = posHealth
  }

  /**
   * Counts by status, orders per hour, average order value, fulfillment, cancellation, return and hold
   * expiration rates, stock-out incidents and the fulfillment backlog of a window (at most 31 days; the
   * last 24 hours by default) over some stores or every store the actor reaches, plus alerts: a high
   * cancellation rate, low stock, and a POS reported down by the `posHealth` provider given to
   * `createOms`. Every figure is an aggregate query in the database; no order is loaded to count it.
   * Needs `dashboard.view`; a store out of reach is FORBIDDEN.
   */
  async summary(input: DashboardSummaryInput): Promise<DashboardSummary> {
    const cmd = parseInput(dashboardSummaryInputSchema, input, 'dashboard')
    const ctx = this.#ctx
    const reach = ctx.access.reach(cmd.actor, 'dashboard.view')
    if (!reach || (!reach.all && reach.storeIds.length === 0 && reach.customerId !== null))
      throw new ForbiddenError('view the dashboard', { permission: 'dashboard.view' })
    if (cmd.storeIds && !reach.all) {
      const outside = cmd.storeIds.filter((s) => !reach.storeIds.includes(s))
      if (outside.length)
        throw new ForbiddenError(`view the dashboard of store ${outside[0]}`, {
          permission: 'dashboard.view',
        })
    }
    const storeIds = cmd.storeIds ? [...new Set(cmd.storeIds)] : reach.all ? null : [...reach.storeIds]
    const to = cmd.to ?? ctx.clock.now()
    const from = cmd.from ?? new Date(to.getTime() - 24 * HOUR)
    if (from >= to) throw new ValidationError('dashboard', [{ path: 'from', message: 'must be before to' }])
    if (to.getTime() - from.getTime() > MAX_WINDOW_DAYS * 24 * HOUR)
      throw new ValidationError('dashboard', [
        { path: 'from', message: `the window may span at most ${MAX_WINDOW_DAYS} days` },
      ])
    const { thresholds } = cmd
    const figures = await ctx.storage.transaction(
      (tx) =>
        tx.dashboard.figures({
          ...(storeIds ? { storeIds } : {}),
          from,
          to,
          backlogStatuses: BACKLOG_STATUSES,
          lowStockSample: 20,
        }),
      { readOnly: true, isolation: 'snapshot' },
    )
    const byStatus: Record<string, number> = {}
    const perHour = new Map<number, number>()
    const amounts = new Map<string, { orders: number; totalMinor: number }>()
    let orders = 0
    for (const g of figures.groups) {
      orders += g.orders
      byStatus[g.status] = (byStatus[g.status] ?? 0) + g.orders
      perHour.set(g.hourStart, (perHour.get(g.hourStart) ?? 0) + g.orders)
      if (g.status === 'cancelled') continue
      const a = amounts.get(g.currency) ?? { orders: 0, totalMinor: 0 }
      a.orders += g.orders
      a.totalMinor += g.totalMinor
      amounts.set(g.currency, a)
    }
    const hours: DashboardSummary['ordersPerHour'] = []
    for (let h = Math.floor(from.getTime() / HOUR) * HOUR; h < to.getTime(); h += HOUR)
      hours.push({ hour: new Date(h), orders: perHour.get(h) ?? 0 })
    const fulfilled = sumOf(byStatus, FULFILLED_STATUSES)
    const returned = sumOf(byStatus, RETURN_STATUSES)
    const cancelled = byStatus.cancelled ?? 0
    const backlogOrders = Object.values(figures.backlog).reduce((a, b) => a + b, 0)
    const summary: DashboardSummary = {
      from,
      to,
      storeIds,
      orders,
      ordersByStatus: byStatus,
      ordersPerHour: hours,
      averageOrderValue: [...amounts.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([currency, a]) => ({
          currency,
          orders: a.orders,
          averageMinor: Math.round(a.totalMinor / a.orders),
        })),
      fulfillmentRate: rate(fulfilled + returned, fulfilled + returned + cancelled),
      cancellationRate: rate(cancelled, orders),
      returnRate: rate(returned, fulfilled + returned),
      reservationExpirationRate: rate(figures.holds.expired, figures.holds.taken),
      stockOutIncidents: figures.shortages,
      fulfillmentBacklog: { orders: backlogOrders, byStatus: figures.backlog },
      alerts: [],
    }
    if (
      summary.cancellationRate !== null &&
      orders >= thresholds.minOrders &&
      summary.cancellationRate > thresholds.cancellationRate
    )
      summary.alerts.push({
        kind: 'high_cancellation_rate',
        message: `${cancelled} of ${orders} orders cancelled (${(summary.cancellationRate * 100).toFixed(1)} %)`,
        value: summary.cancellationRate,
        threshold: thresholds.cancellationRate,
      })
    if (figures.lowStock.rows > 0)
      summary.alerts.push({
        kind: 'low_stock',
        message: `${figures.lowStock.rows} item(s) at a location at or below their reorder point`,
        rows: figures.lowStock.rows,
        // available as inventory reports it: never below zero (a shortage is reported as such)
        lowest: figures.lowStock.lowest.map((l) => ({ ...l, available: Math.max(0, l.available) })),
      })
    for (const pos of (await this.#posHealth?.()) ?? []) {
      if (pos.healthy) continue
      if (pos.storeId !== undefined && storeIds !== null && !storeIds.includes(pos.storeId)) continue
      summary.alerts.push({
        kind: 'pos_down',
        message: `${pos.vendor}${pos.storeId ? ` (store ${pos.storeId})` : ''} is down${pos.detail ? `: ${pos.detail}` : ''}`,
        vendor: pos.vendor,
        storeId: pos.storeId ?? null,
        detail: pos.detail ?? null,
      })
    }
    return summary
  }
}
