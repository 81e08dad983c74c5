import type {
  FulfillmentCycleRow,
  FulfillmentStatisticsFilter,
  FulfillmentStatisticsRows,
} from '@peak-oms/core'
import { type Kysely, type RawBuilder, sql } from 'kysely'
import type { PeakDatabase } from './database'
import type { SqlDialect } from './sql-tx'

type Db = Kysely<PeakDatabase>

const BREAKDOWNS = [
  ['all', null],
  ['store', 'f.store_id'],
  ['assignee', 'f.assigned_to_id'],
] as const

/**
 * The aggregates of `fulfillments.statistics`, each one query grouped in the database: counts and scans of
 * the window's fulfillments, the open backlog, and cycle times (order created → goods left) with
 * nearest-rank percentiles from window functions.
 */
export async function fulfillmentStatistics(
  db: Db,
  dialect: SqlDialect,
  filter: FulfillmentStatisticsFilter,
): Promise<FulfillmentStatisticsRows> {
  const { codec } = dialect
  const stores = filter.storeIds ? (filter.storeIds.length ? [...filter.storeIds] : ['']) : null
  const from = codec.ts(filter.from)
  const to = codec.ts(filter.to)

  let created = db
    .selectFrom('oms_fulfillments')
    .select([
      'store_id',
      'assigned_to_id',
      'status',
      (eb) => eb.fn.countAll<number | string>().as('n'),
      (eb) => eb.fn.sum<number | string>('scans_accepted').as('accepted'),
      (eb) => eb.fn.sum<number | string>('scans_rejected').as('rejected'),
    ])
    .where('created_at', '>=', from)
    .where('created_at', '<', to)
    .groupBy(['store_id', 'assigned_to_id', 'status'])
  if (stores) created = created.where('store_id', 'in', stores)

  let open = db
    .selectFrom('oms_fulfillments')
    .select(['store_id', 'assigned_to_id', 'status', (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('status', 'in', filter.openStatuses.length ? [...filter.openStatuses] : [''])
    .groupBy(['store_id', 'assigned_to_id', 'status'])
  if (stores) open = open.where('store_id', 'in', stores)

  // Milliseconds from the order's creation to the goods leaving (exact: both are millisecond instants).
  const cycleMs: RawBuilder<number | string> =
    dialect.name === 'pg'
      ? sql`(extract(epoch from (f.dispatched_at - o.created_at)) * 1000)::bigint`
      : sql`(f.dispatched_at - o.created_at)`
  const cycle: FulfillmentCycleRow[] = []
  for (const [by, column] of BREAKDOWNS) {
    const key: RawBuilder<string | null> = column === null ? sql`null` : sql.ref(column)
    let ranked = db
      .selectFrom('oms_fulfillments as f')
      .innerJoin('oms_orders as o', 'o.id', 'f.order_id')
      .select((eb) => [
        key.as('k'),
        cycleMs.as('ms'),
        eb.fn
          .agg<number | string>('row_number')
          .over((ob) => (column === null ? ob.orderBy(cycleMs) : ob.partitionBy(column).orderBy(cycleMs)))
          .as('rn'),
        eb.fn
          .countAll<number | string>()
          .over((ob) => (column === null ? ob : ob.partitionBy(column)))
          .as('cnt'),
      ])
      .where('f.dispatched_at', '>=', from)
      .where('f.dispatched_at', '<', to)
    if (stores) ranked = ranked.where('f.store_id', 'in', stores)
    const rows = await db
      .selectFrom(ranked.as('r'))
      .select([
        'r.k',
        (eb) => eb.fn.countAll<number | string>().as('n'),
        (eb) => eb.fn.sum<number | string>('r.ms').as('total'),
        (eb) => eb.fn.max<number | string>('r.ms').as('mx'),
        sql<number | string>`min(case when 2 * r.rn >= r.cnt then r.ms end)`.as('p50'),
        sql<number | string>`min(case when 10 * r.rn >= 9 * r.cnt then r.ms end)`.as('p90'),
      ])
      .groupBy('r.k')
      .execute()
    for (const r of rows)
      cycle.push({
        by,
        key: r.k,
        dispatched: Number(r.n),
        totalMs: Number(r.total),
        maxMs: Number(r.mx),
        p50Ms: Number(r.p50),
        p90Ms: Number(r.p90),
      })
  }

  return {
    created: (await created.execute()).map((r) => ({
      storeId: r.store_id as string,
      assignedToId: r.assigned_to_id,
      status: r.status,
      fulfillments: Number(r.n),
      scansAccepted: Number(r.accepted),
      scansRejected: Number(r.rejected),
    })),
    open: (await open.execute()).map((r) => ({
      storeId: r.store_id as string,
      assignedToId: r.assigned_to_id,
      status: r.status,
      fulfillments: Number(r.n),
    })),
    cycle,
  }
}
