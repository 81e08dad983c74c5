import { cpus, totalmem } from 'node:os'
import { performance } from 'node:perf_hooks'
import { type Actor, createOms, type Oms } from '@peak-oms/core'
import pg from 'pg'
import { type Backend, openPg, openSqlite } from './backends'
import { BULK_ROWS, benchInventory, COUNT_LINES } from './inventory-ops'
import { type LoadResult, runLoad } from './load'
import { benchScale } from './scale'
import { benchSyncDrain } from './sync-drain'

const PG_URL = process.env.PEAK_OMS_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const SPREAD_ITEMS = 1000
const STOCK = 1_000_000_000
const OPS = {
  1: Number(process.env.BENCH_OPS_1 ?? 1500),
  16: Number(process.env.BENCH_OPS_16 ?? 4000),
} as const
const EXPIRE_HOLDS = Number(process.env.BENCH_EXPIRE_HOLDS ?? 100_000)
const actor: Actor = { id: 'bench', roles: ['system_admin'] }

const fmt = (r: LoadResult) =>
  `${r.perSecond.toFixed(0).padStart(6)} orders/s  p50 ${r.p50.toFixed(2).padStart(6)} ms  p99 ${r.p99.toFixed(2).padStart(7)} ms${r.errors ? `  errors ${r.errors} (${r.firstError})` : ''}`

async function seed(oms: Oms, store: string, location: string): Promise<string[]> {
  await oms.inventory.defineLocation({
    actor,
    location: { id: location, storeId: store, name: 'Floor', kind: 'sales_floor' },
  })
  const items = ['hot-0', ...Array.from({ length: SPREAD_ITEMS }, (_, i) => `item-${i}`)]
  for (const id of items) {
    await oms.inventory.defineItem({ actor, item: { id, sku: id.toUpperCase(), name: id, unit: 'each' } })
    await oms.inventory.receive({ actor, itemId: id, locationId: location, quantity: STOCK })
  }
  return items
}

async function benchBackend(backend: Backend, lines: string[]) {
  const oms = createOms({ storage: backend.storage })
  const store = 'bench-store'
  const location = 'bench-floor'
  const t0 = performance.now()
  await seed(oms, store, location)
  console.log(`  seeded ${SPREAD_ITEMS + 1} items in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  const create = (itemId: string) =>
    oms.orders.create({
      actor,
      channel: 'kiosk',
      flow: 'pickup',
      storeId: store,
      locationId: location,
      currency: 'USD',
      lines: [{ itemId, quantity: 1, unitPriceMinor: 1000 }],
    })
  const pickItem = (hot: boolean) => (hot ? 'hot-0' : `item-${Math.floor(Math.random() * SPREAD_ITEMS)}`)
  // warm up both paths (JIT, pool, statement caches)
  await runLoad(4, 200, async () => void (await create(pickItem(false))))
  await runLoad(4, 200, async () => void (await backend.baseline.reserve(pickItem(false), location, 1)))

  for (const hot of [false, true]) {
    for (const clients of [1, 16] as const) {
      const lib = await runLoad(clients, OPS[clients], async () => void (await create(pickItem(hot))))
      const base = await runLoad(clients, OPS[clients], async () => {
        if (!(await backend.baseline.reserve(pickItem(hot), location, 1))) throw new Error('baseline refused')
      })
      const label = `${hot ? 'hot item ' : 'spread   '} ${String(clients).padStart(2)} client(s)`
      const ratio = (lib.perSecond / base.perSecond) * 100
      const row = [
        `  ${label}  library  ${fmt(lib)}`,
        `  ${label}  baseline ${fmt(base)}`,
        `  ${label}  library ÷ baseline = ${ratio.toFixed(0)} %`,
      ]
      for (const r of row) console.log(r)
      lines.push(
        `| ${backend.name} | ${hot ? 'hot (1 item)' : `spread (${SPREAD_ITEMS} items)`} | ${clients} | ${lib.perSecond.toFixed(0)} | ${lib.p50.toFixed(2)} | ${lib.p99.toFixed(2)} | ${base.perSecond.toFixed(0)} | ${base.p50.toFixed(2)} | ${base.p99.toFixed(2)} | ${ratio.toFixed(0)} % | ${lib.errors} |`,
      )
    }
  }
}

/** 100,000 due holds on as many payment_pending orders, cloned from one real order with set-based SQL. */
async function benchExpiry(backend: Backend, lines: string[]) {
  const oms = createOms({ storage: backend.storage })
  const store = 'expiry-store'
  const location = 'expiry-floor'
  await oms.inventory.defineLocation({
    actor,
    location: { id: location, storeId: store, name: 'Floor', kind: 'sales_floor' },
  })
  await oms.inventory.defineItem({ actor, item: { id: 'exp-item', sku: 'EXP', name: 'exp', unit: 'each' } })
  await oms.inventory.receive({ actor, itemId: 'exp-item', locationId: location, quantity: STOCK })
  const template = await oms.orders.create({
    actor,
    channel: 'kiosk',
    flow: 'pickup',
    storeId: store,
    locationId: location,
    currency: 'USD',
    lines: [{ itemId: 'exp-item', quantity: 1, unitPriceMinor: 1000 }],
  })
  const n = EXPIRE_HOLDS - 1
  const t = backend.table
  const past =
    backend.dialect === 'pg'
      ? `now() - interval '1 minute'`
      : `(CAST(strftime('%s','now') AS INTEGER) - 60) * 1000`
  const series =
    backend.dialect === 'pg'
      ? `generate_series(1, ${n}) AS g(n)`
      : `(WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ${n}) SELECT n FROM g) AS g`
  const pad = backend.dialect === 'pg' ? `lpad(g.n::text, 7, '0')` : `printf('%07d', g.n)`
  const cat = (a: string, b: string) => `${a} || ${b}`
  const p = (i: number) => (backend.dialect === 'pg' ? `$${i}` : '?')
  const t0 = performance.now()
  await backend.baseline.exec(
    `INSERT INTO ${t('oms_orders')} (id, number, channel, flow, store_id, location_id, customer_id, status, payment_status, total_minor, currency, packed_quantity, version, idempotency_key, doc, created_at, updated_at)
     SELECT ${cat("'bulk-'", 'g.n')}, ${cat("'ORD-20200101-'", pad)}, o.channel, o.flow, o.store_id, o.location_id, o.customer_id, o.status, o.payment_status, o.total_minor, o.currency, o.packed_quantity, o.version, NULL, o.doc, o.created_at, o.updated_at
     FROM ${t('oms_orders')} o, ${series} WHERE o.id = ${p(1)}`,
    [template.id],
  )
  await backend.baseline.exec(
    `INSERT INTO ${t('oms_reservations')} (id, item_id, location_id, order_id, order_line_id, quantity_reserved, quantity_fulfilled, quantity_released, status, expires_at, reserved_at, released_at, fulfilled_at, notes, created_at, updated_at)
     SELECT ${cat("'bulk-hold-'", 'g.n')}, r.item_id, r.location_id, ${cat("'bulk-'", 'g.n')}, r.order_line_id, 1, 0, 0, 'active', ${past}, r.reserved_at, NULL, NULL, NULL, r.created_at, r.updated_at
     FROM ${t('oms_reservations')} r, ${series} WHERE r.order_id = ${p(1)}`,
    [template.id],
  )
  await backend.baseline.exec(
    `UPDATE ${t('oms_reservations')} SET expires_at = ${past} WHERE order_id = ${p(1)}`,
    [template.id],
  )
  await backend.baseline.exec(
    `UPDATE ${t('oms_levels')} SET reserved = reserved + ${n} WHERE item_id = 'exp-item'`,
  )
  console.log(`  seeded ${EXPIRE_HOLDS} due holds in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  const t1 = performance.now()
  let reported = 0
  const result = await oms.reservations.expireDue({}, (p) => {
    if (p.expiredHolds - reported >= 20_000) {
      reported = p.expiredHolds
      console.log(`    … ${p.expiredHolds} holds expired, ${((performance.now() - t1) / 1000).toFixed(1)} s`)
    }
  })
  const seconds = (performance.now() - t1) / 1000
  const level = await oms.inventory.level({ actor, itemId: 'exp-item', locationId: location })
  console.log(
    `  expireDue: ${result.expiredHolds} holds expired, ${result.ordersMoved} orders cancelled in ${seconds.toFixed(2)} s (reserved now ${level.reserved})`,
  )
  lines.push(
    `| ${backend.name} | ${result.expiredHolds} | ${result.ordersMoved} | ${seconds.toFixed(2)} s | ${level.reserved} |`,
  )
}

async function pgReachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 })
  try {
    await c.connect()
    return true
  } catch {
    return false
  } finally {
    await c.end().catch(() => {})
  }
}

const only = process.env.BENCH_ONLY
const skipOrders = process.env.BENCH_SKIP_ORDERS === '1'
const skipExpiry = process.env.BENCH_SKIP_EXPIRY === '1'
/** Orders seeded for the search and dashboard figures: 20,000 by default, 1,000,000 for the recorded run. */
const scaleOrders = Number(process.env.BENCH_SCALE_ORDERS ?? 20_000)
const scale = { figures: [] as string[], throughput: [] as string[], plans: [] as string[] }
const skipInventory = process.env.BENCH_SKIP_INVENTORY === '1'
const orderLines: string[] = []
const expiryLines: string[] = []
const inventoryLines: string[] = []
const syncLines: string[] = []
const skipSync = process.env.BENCH_SKIP_SYNC === '1'
console.log(
  `Peak OMS bench — ${new Date().toISOString()} — ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}\n`,
)
const backends: Array<() => Promise<Backend>> = []
if (!only || only === 'sqlite') backends.push(openSqlite)
if (!only || only === 'pg') {
  if (await pgReachable()) backends.push(() => openPg(PG_URL, 16))
  else console.log(`PostgreSQL at ${PG_URL} is not reachable: skipping it\n`)
}
for (const open of backends) {
  const backend = await open()
  console.log(`${backend.name}: order creation with reservation`)
  if (!skipOrders) await benchBackend(backend, orderLines)
  await backend.close()
  if (!skipExpiry) {
    const fresh = await open()
    console.log(`${fresh.name}: expireDue over ${EXPIRE_HOLDS} holds`)
    await benchExpiry(fresh, expiryLines)
    await fresh.close()
  }
  if (!skipSync) {
    const forSync = await open()
    console.log(`${forSync.name}: POS sync drain`)
    await benchSyncDrain(forSync, syncLines)
    await forSync.close()
  }
  if (scaleOrders > 0) {
    // BENCH_SCALE_REUSE_SQLITE / BENCH_SCALE_REUSE_PG: measure a database kept by an earlier run (no seeding)
    const reuse =
      (backend.dialect === 'sqlite'
        ? process.env.BENCH_SCALE_REUSE_SQLITE
        : process.env.BENCH_SCALE_REUSE_PG) || undefined
    const big = reuse
      ? backend.dialect === 'sqlite'
        ? await openSqlite(reuse)
        : await openPg(PG_URL, 16, reuse)
      : await open()
    console.log(
      `${big.name}: ${scaleOrders.toLocaleString('en-US')} orders — searches, dashboard, creation with and without the search indexes`,
    )
    await benchScale(big, PG_URL, scaleOrders, scale, reuse !== undefined)
    // BENCH_SCALE_KEEP=1 leaves the seeded database in place (for looking at plans by hand)
    if (process.env.BENCH_SCALE_KEEP === '1') console.log(`  kept: ${big.file ?? big.table('oms_orders')}`)
    else await big.close()
  }
  if (!skipInventory) {
    const fresh = await open()
    console.log(`${fresh.name}: bulk update of ${BULK_ROWS} rows, count of ${COUNT_LINES} lines`)
    await benchInventory(fresh, inventoryLines)
    await fresh.close()
  }
  console.log()
}
console.log('Markdown rows for BENCHMARKS.md:\n')
console.log(
  '| backend | case | clients | library orders/s | p50 ms | p99 ms | baseline orders/s | p50 ms | p99 ms | library ÷ baseline | errors |',
)
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |')
for (const l of orderLines) console.log(l)
console.log('\n| backend | holds expired | orders cancelled | time | reserved after |')
console.log('| --- | --- | --- | --- | --- |')
for (const l of expiryLines) console.log(l)

console.log(
  '\n| backend | clients | orders/s without, by block | median | with, by block | median | change of the medians | median of the paired changes (each pair) | p50 ms (median) |',
)
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |')
for (const l of scale.throughput) console.log(l)
console.log('\n| backend | query | p50 ms | p95 ms | within target |')
console.log('| --- | --- | --- | --- | --- |')
for (const l of scale.figures) console.log(l)
if (scale.plans.length) {
  const file = process.env.BENCH_PLANS_FILE
  if (file) {
    const { writeFileSync } = await import('node:fs')
    writeFileSync(file, scale.plans.join('\n'))
    console.log(`\nplans written to ${file}`)
  } else console.log(`\n${scale.plans.join('\n')}`)
}
console.log('\n| backend | operation | size | time | rate | |')
console.log('| --- | --- | --- | --- | --- | --- |')
for (const l of inventoryLines) console.log(l)
console.log('\n| backend | workers | jobs | succeeded | time | jobs/s | tickets |')
console.log('| --- | --- | --- | --- | --- | --- | --- |')
for (const l of syncLines) console.log(l)
if (process.env.BENCH_SCALE_KEEP === '1') process.exit(0)
