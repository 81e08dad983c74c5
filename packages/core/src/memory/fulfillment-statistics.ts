import { type Fulfillment, fulfillmentDispatchedAt, type Order } from '../domain/schemas'
import type {
  FulfillmentCycleRow,
  FulfillmentStatisticsFilter,
  FulfillmentStatisticsRows,
} from '../ports/storage'

/** Nearest rank: the value at rank ⌈n·percent/100⌉ of the sorted values (integer arithmetic, as in SQL). */
const nearestRank = (sorted: readonly number[], percent: number) =>
  sorted[Math.max(0, Math.ceil((percent * sorted.length) / 100) - 1)] as number

/** What the SQL adapters compute in the database, over the in-memory rows. */
export function fulfillmentStatisticsOf(
  fulfillments: Iterable<Fulfillment>,
  orders: ReadonlyMap<string, Order>,
  filter: FulfillmentStatisticsFilter,
): FulfillmentStatisticsRows {
  const inStores = (storeId: string) => !filter.storeIds || filter.storeIds.includes(storeId)
  const inWindow = (d: Date) => d >= filter.from && d < filter.to
  const created = new Map<string, FulfillmentStatisticsRows['created'][number]>()
  const open = new Map<string, FulfillmentStatisticsRows['open'][number]>()
  const cycles = new Map<string, { by: FulfillmentCycleRow['by']; key: string | null; ms: number[] }>()
  for (const f of fulfillments) {
    if (!inStores(f.storeId)) continue
    const key = `${f.storeId}\u0000${f.assignedToId ?? ''}\u0000${f.status}`
    if (inWindow(f.createdAt)) {
      const row = created.get(key) ?? {
        storeId: f.storeId,
        assignedToId: f.assignedToId,
        status: f.status,
        fulfillments: 0,
        scansAccepted: 0,
        scansRejected: 0,
      }
      row.fulfillments += 1
      row.scansAccepted += f.scansAccepted
      row.scansRejected += f.scansRejected
      created.set(key, row)
    }
    if (filter.openStatuses.includes(f.status)) {
      const row = open.get(key) ?? {
        storeId: f.storeId,
        assignedToId: f.assignedToId,
        status: f.status,
        fulfillments: 0,
      }
      row.fulfillments += 1
      open.set(key, row)
    }
    const dispatched = fulfillmentDispatchedAt(f)
    const order = orders.get(f.orderId)
    if (dispatched && order && inWindow(dispatched)) {
      const ms = dispatched.getTime() - order.createdAt.getTime()
      for (const [by, k] of [
        ['all', null],
        ['store', f.storeId],
        ['assignee', f.assignedToId],
      ] as const) {
        const id = `${by}\u0000${k === null ? '\u0001' : k}`
        const group = cycles.get(id) ?? { by, key: k, ms: [] }
        group.ms.push(ms)
        cycles.set(id, group)
      }
    }
  }
  return {
    created: [...created.values()],
    open: [...open.values()],
    cycle: [...cycles.values()].map(({ by, key, ms }) => {
      const sorted = [...ms].sort((a, b) => a - b)
      return {
        by,
        key,
        dispatched: sorted.length,
        totalMs: sorted.reduce((a, b) => a + b, 0),
        maxMs: sorted[sorted.length - 1] as number,
        p50Ms: nearestRank(sorted, 50),
        p90Ms: nearestRank(sorted, 90),
      }
    }),
  }
}
