import { performance } from 'node:perf_hooks'
import { type Actor, createOms } from '@peak-oms/core'
import type { Backend } from './backends'

const actor: Actor = { id: 'bench', roles: ['system_admin'] }
export const BULK_ROWS = Number(process.env.BENCH_BULK_ROWS ?? 10_000)
export const COUNT_LINES = Number(process.env.BENCH_COUNT_LINES ?? 5_000)

/**
 * Inventory operations: a bulk update of `BULK_ROWS` receive rows (each a new level), the same number of
 * adjust / set rows on those levels, and the approval of a count of `COUNT_LINES` lines that each differ
 * from what was expected (so every line writes a correction).
 */
export async function benchInventory(backend: Backend, lines: string[]): Promise<void> {
  const oms = createOms({ storage: backend.storage })
  const location = 'inv-floor'
  await oms.inventory.defineLocation({
    actor,
    location: { id: location, storeId: 'inv-store', name: 'Floor', kind: 'sales_floor' },
  })
  const n = Math.max(BULK_ROWS, COUNT_LINES)
  const t = backend.table
  const series =
    backend.dialect === 'pg'
      ? `generate_series(0, ${n - 1}) AS g(n)`
      : `(WITH RECURSIVE g(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM g WHERE n < ${n - 1}) SELECT n FROM g) AS g`
  const id = backend.dialect === 'pg' ? `'inv-' || g.n::text` : `'inv-' || g.n`
  await backend.baseline.exec(
    `INSERT INTO ${t('oms_items')} (id, sku, name, category, unit, cannabis, external_ids)
     SELECT ${id}, ${id}, ${id}, NULL, 'each', NULL, '{}' FROM ${series}`,
  )
  const itemId = (i: number) => `inv-${i}`

  const receive = Array.from({ length: BULK_ROWS }, (_, i) => ({
    op: 'receive' as const,
    itemId: itemId(i),
    locationId: location,
    quantity: 100,
  }))
  const t0 = performance.now()
  const received = await oms.inventory.bulkUpdate({ actor, rows: receive })
  const receiveS = (performance.now() - t0) / 1000
  const mixed = Array.from({ length: BULK_ROWS }, (_, i) =>
    i % 2
      ? {
          op: 'adjust' as const,
          itemId: itemId(i),
          locationId: location,
          delta: -3,
          reason: 'adjust_damage' as const,
        }
      : { op: 'set' as const, itemId: itemId(i), locationId: location, expected: 100, quantity: 90 },
  )
  const t1 = performance.now()
  const adjusted = await oms.inventory.bulkUpdate({ actor, rows: mixed })
  const mixedS = (performance.now() - t1) / 1000
  for (const [label, r, s] of [
    ['receive (new levels)', received, receiveS],
    ['adjust / set', adjusted, mixedS],
  ] as const) {
    console.log(
      `  bulk ${label}: ${r.applied} applied, ${r.failed} refused in ${s.toFixed(2)} s = ${(r.rows.length / s).toFixed(0)} rows/s`,
    )
    lines.push(
      `| ${backend.name} | bulk update, ${label} | ${r.rows.length} rows | ${s.toFixed(2)} s | ${(r.rows.length / s).toFixed(0)} rows/s | ${r.failed} refused |`,
    )
  }

  const count = await oms.counts.open({ actor, locationId: location })
  const t2 = performance.now()
  await oms.counts.record({
    actor,
    countId: count.id,
    lines: Array.from({ length: COUNT_LINES }, (_, i) => ({ itemId: itemId(i), quantity: 80 + (i % 20) })),
  })
  const recordS = (performance.now() - t2) / 1000
  const t3 = performance.now()
  await oms.counts.approve({ actor, countId: count.id })
  const approveS = (performance.now() - t3) / 1000
  const report = await oms.counts.report({ actor, countId: count.id })
  console.log(
    `  count of ${COUNT_LINES} lines: recorded in ${recordS.toFixed(2)} s, approved (${report.discrepancies} corrections) in ${approveS.toFixed(2)} s = ${(COUNT_LINES / approveS).toFixed(0)} lines/s`,
  )
  lines.push(
    `| ${backend.name} | count: record ${COUNT_LINES} lines | ${COUNT_LINES} lines | ${recordS.toFixed(2)} s | ${(COUNT_LINES / recordS).toFixed(0)} lines/s | |`,
    `| ${backend.name} | count: approve (${report.discrepancies} corrections) | ${COUNT_LINES} lines | ${approveS.toFixed(2)} s | ${(COUNT_LINES / approveS).toFixed(0)} lines/s | |`,
  )
}
