import { performance } from 'node:perf_hooks'
import {
  type Actor,
  createOms,
  type Oms,
  type OrderSearchFilter,
  type OrderSearchPage,
  type SearchOrdersInput,
  searchTermsOf,
} from '@peak-oms/core'
import { createSqlTx, type PeakDatabase, pgCodec, type SqlDialect, sqliteCodec } from '@peak-oms/storage-sql'
import BetterSqlite3 from 'better-sqlite3'
import { type CompiledQuery, Kysely, PostgresDialect, SqliteDialect } from 'kysely'
import pg from 'pg'
import type { Backend } from './backends'
import { runLoad } from './load'

/**
 * Orders at scale: `n` orders seeded with set-based SQL (one INSERT … SELECT per table over a number
 * series, with deterministic pseudo-random distributions: the same data on both databases), then order
 * creation throughput without and with the search indexes, p50/p95 of the listed searches and of the
 * dashboard, and the plans the database chose for them.
 */

const admin: Actor = { id: 'bench-admin', roles: ['system_admin'] }
const STORES = 20
const STRAINS = [
  'Blue Dream',
  'OG Kush',
  'Sour Diesel',
  'Girl Scout Cookies',
  'Granddaddy Purple',
  'Gorilla Glue',
  'Jack Herer',
  'Pineapple Express',
  'Wedding Cake',
  'Gelato',
  'Zkittlez',
  'Northern Lights',
  'Green Crack',
  'Durban Poison',
  'White Widow',
  'Trainwreck',
  'Purple Haze',
  'Super Lemon Haze',
  'Bubba Kush',
  'Maui Wowie',
  'Strawberry Cough',
  'Chemdawg',
  'Headband',
  'Tangie',
  'Mimosa',
]
const FORMS = [
  'Flower 3.5g',
  'Flower 7g',
  'Flower 14g',
  'Pre-Roll 1g',
  'Pre-Roll 5pk',
  'Vape Cart 0.5g',
  'Vape Cart 1g',
  'Live Resin 1g',
  'Shatter 1g',
  'Wax 1g',
  'Gummies 100mg',
  'Chocolate 100mg',
  'Tincture 30ml',
  'Capsules 10ct',
  'Topical 2oz',
  'Disposable 0.3g',
  'Rosin 1g',
  'Budder 1g',
  'Crumble 1g',
  'Infused Pre-Roll',
]
const ITEMS = STRAINS.length * FORMS.length
const DAY = 86_400_000
const SPAN_DAYS = 180
const store = (i: number) => `store-${String(i).padStart(2, '0')}`
const location = (i: number) => `loc-${String(i).padStart(2, '0')}`
const itemId = (i: number) => `bench-item-${String(i).padStart(3, '0')}`
const itemSku = (i: number) => `PK-${String(i).padStart(4, '0')}`
const itemName = (i: number) => `${STRAINS[Math.floor(i / FORMS.length)]} ${FORMS[i % FORMS.length]}`
const itemPrice = (i: number) => 1500 + ((i * 37) % 50) * 100
/**
 * About 1 % of the (item, store) rows run low (every row is watched with a reorder point of 10): the
 * dashboard's low-stock alert has something to say.
 */
const isLow = (i: number, s: number) => (i * 7 + s) % 97 === 0
/** An item with stock at store `s`, near index `i`. */
const stocked = (i: number, s: number) => {
  let k = i % ITEMS
  while (isLow(k, s)) k = (k + 1) % ITEMS
  return k
}

/**
 * The indexes migrations 0005 and 0007 add or widen (name, table, columns with the partial index's
 * condition, and what the index was before 0005 where it replaced one): the creation throughput is
 * measured with the set before and after.
 */
const SEARCH_INDEXES: ReadonlyArray<readonly [string, string, string, string | null]> = [
  ['oms_orders_updated', 'oms_orders', '(updated_at, id)', null],
  ['oms_orders_total', 'oms_orders', '(total_minor, id)', null],
  [
    'oms_orders_assignee',
    'oms_orders',
    '(assignee_id, status, created_at, id) WHERE assignee_id IS NOT NULL',
    null,
  ],
  ['oms_orders_created', 'oms_orders', '(created_at, status, currency, total_minor, id)', '(created_at)'],
  [
    'oms_orders_store_created',
    'oms_orders',
    '(store_id, created_at, status, currency, total_minor, id)',
    '(store_id, created_at)',
  ],
  // replaces `(status, store_id, created_at)`: one status index serves both a store's and every store's pages
  [
    'oms_orders_status_created',
    'oms_orders',
    '(status, created_at, id, store_id)',
    '(status, store_id, created_at)',
  ],
  ['oms_orders_noted', 'oms_orders', '(created_at, id, store_id) WHERE note_count > 0', null],
  [
    'oms_orders_sync_failed',
    'oms_orders',
    "(created_at, id, store_id) WHERE pos_sync_state = 'failed'",
    null,
  ],
  ['oms_reservations_created', 'oms_reservations', '(created_at, id, location_id, status)', null],
  [
    'oms_history_action',
    'oms_history',
    "(action, seq) WHERE action NOT IN ('created', 'inventory_reserved')",
    null,
  ],
  ['oms_history_actor', 'oms_history', '(actor_id, seq)', null],
]

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((sorted.length * p) / 100) - 1)] ?? 0

/** A deterministic pseudo-random integer in [0, k) per row n (the same on both databases). */
const pick = (salt: number, k: number) => {
  const primes = [
    2654435761, 2246822519, 3266489917, 668265263, 374761393, 1103515245, 1664525, 22695477, 134775813,
  ]
  const mod = [1000003, 999983, 999979, 999961, 999959, 999953, 999931, 999917, 999907][salt] as number
  return `(((g.n * ${primes[salt]}) % ${mod}) * ${k} / ${mod})`
}

interface Sql {
  exec(text: string): Promise<void>
  all<T>(text: string): Promise<T[]>
  explain(query: CompiledQuery): Promise<string>
  close(): Promise<void>
}

async function sqlFor(
  backend: Backend,
  url: string,
): Promise<{ sql: Sql; explainDb: Kysely<PeakDatabase>; dialect: SqlDialect; captured: CompiledQuery[] }> {
  const captured: CompiledQuery[] = []
  if (backend.dialect === 'pg') {
    const schema = backend.table('x').split('.')[0]?.replaceAll('"', '') as string
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    await client.query(`SET search_path TO "${schema}"`)
    await client.query(`SET maintenance_work_mem = '512MB'`)
    await client.query('SET synchronous_commit = off')
    const pool = new pg.Pool({ connectionString: url, max: 1 })
    const explainDb = new Kysely<PeakDatabase>({
      dialect: new PostgresDialect({ pool }),
      log: (e) => void captured.push(e.query),
    }).withSchema(schema)
    return {
      explainDb,
      captured,
      dialect: {
        name: 'pg',
        codec: pgCodec,
        types: { json: 'json', timestamp: 'timestamptz' },
        schema,
        skipLocked: true,
        writableCtes: true,
        nextSequence: async () => 0,
      },
      sql: {
        exec: async (text) => void (await client.query(text)),
        all: async <T>(text: string) => (await client.query(text)).rows as T[],
        async explain(q) {
          const r = await client.query(`EXPLAIN ${q.sql}`, q.parameters as unknown[])
          return r.rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n')
        },
        async close() {
          await client.end()
        },
      },
    }
  }
  const file = backend.file as string
  const db = new BetterSqlite3(file)
  db.pragma('journal_mode = WAL')
  db.pragma('busy_timeout = 10000')
  db.pragma('cache_size = -262144')
  const explainDb = new Kysely<PeakDatabase>({
    dialect: new SqliteDialect({ database: new BetterSqlite3(file) }),
    log: (e) => void captured.push(e.query),
  })
  return {
    explainDb,
    captured,
    dialect: {
      name: 'sqlite',
      codec: sqliteCodec,
      types: { json: 'text', timestamp: 'integer' },
      skipLocked: false,
      writableCtes: false,
      nextSequence: async () => 0,
    },
    sql: {
      exec: async (text) => void db.exec(text),
      all: async <T>(text: string) => db.prepare(text).all() as T[],
      async explain(q) {
        const rows = db.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...(q.parameters as unknown[])) as Array<{
          detail: string
          id: number
          parent: number
        }>
        const depth = new Map<number, number>([[0, 0]])
        return rows
          .map((r) => {
            const d = (depth.get(r.parent) ?? 0) + 1
            depth.set(r.id, d)
            return `${'  '.repeat(d - 1)}${r.detail}`
          })
          .join('\n')
      },
      async close() {
        db.close()
      },
    },
  }
}

/** Seeds the catalog, 20 stores with a location each, stock, and `n` orders with their holds, terms, notes. */
async function seed(backend: Backend, sql: Sql, n: number, now: number): Promise<void> {
  const pgsql = backend.dialect === 'pg'
  const ts = (ms: string) => (pgsql ? `to_timestamp((${ms}) / 1000.0)` : `(${ms})`)
  const json = (text: string) => (pgsql ? `CAST(${text} AS json)` : text)
  const series = pgsql
    ? `generate_series(1::bigint, ${n}::bigint) AS g(n)`
    : `(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ${n}) SELECT n FROM s) AS g`
  const pad = (expr: string, width: number) =>
    pgsql ? `lpad((${expr})::text, ${width}, '0')` : `printf('%0${width}d', ${expr})`
  const q = (s: string) => `'${s.replaceAll("'", "''")}'`
  // the catalog and stock, row by row (small), in one statement each
  const items = Array.from({ length: ITEMS }, (_, i) => i)
  await sql.exec(
    `INSERT INTO oms_items (id, sku, name, category, unit, cannabis, external_ids) VALUES ${items
      .map(
        (i) => `(${q(itemId(i))}, ${q(itemSku(i))}, ${q(itemName(i))}, NULL, 'each', NULL, ${json("'{}'")})`,
      )
      .join(', ')}`,
  )
  await sql.exec(
    `INSERT INTO oms_locations (id, store_id, name, kind, external_ids) VALUES ${Array.from(
      { length: STORES },
      (_, s) => `(${q(location(s))}, ${q(store(s))}, 'Floor', 'sales_floor', ${json("'{}'")})`,
    ).join(', ')}`,
  )
  const levelRows: string[] = []
  for (let s = 0; s < STORES; s++)
    for (const i of items) {
      // about 1 % of the rows run low
      const onHand = isLow(i, s) ? (i + s) % 3 : 1_000_000_000
      levelRows.push(
        `(${q(itemId(i))}, ${q(location(s))}, ${onHand}, 0, 0, 0, 0, 0, 10, 1, ${ts(String(now))})`,
      )
    }
  for (let k = 0; k < levelRows.length; k += 2000)
    await sql.exec(
      `INSERT INTO oms_levels (item_id, location_id, on_hand, reserved, damaged, quarantine, incoming, safety_stock, reorder_point, version, updated_at) VALUES ${levelRows.slice(k, k + 2000).join(', ')}`,
    )
  // a staging table of per-order draws: store (skewed), channel, age, status, lines, customer, assignee…
  await sql.exec('DROP TABLE IF EXISTS bench_seed')
  await sql.exec(
    `CREATE ${pgsql ? 'UNLOGGED ' : ''}TABLE bench_seed AS SELECT g.n AS n,
       (${pick(0, 100)} * ${pick(1, 100)}) / 500 AS st,
       ${pick(2, 100)} AS ch,
       ${pick(3, 100)} AS stat,
       1 + ${pick(4, 100)} / 60 AS nl,
       ${pick(5, ITEMS)} AS i1,
       ${pick(6, ITEMS)} AS i2,
       ${pick(7, 100)} AS misc,
       ${pick(8, 200000)} AS cust,
       ${now - SPAN_DAYS * DAY} + (g.n * ${SPAN_DAYS * DAY} / ${n}) AS created,
       (${pick(1, 7)} + 1) * ${pick(6, 3600000)} / 7 AS upd
     FROM ${series}`,
  )
  await sql.exec('DROP TABLE IF EXISTS bench_items')
  await sql.exec(
    'CREATE TABLE bench_items (idx integer primary key, id text, sku text, name text, price integer)',
  )
  await sql.exec(
    `INSERT INTO bench_items VALUES ${items.map((i) => `(${i}, ${q(itemId(i))}, ${q(itemSku(i))}, ${q(itemName(i))}, ${itemPrice(i)})`).join(', ')}`,
  )
  await sql.exec('DROP TABLE IF EXISTS bench_item_terms')
  await sql.exec('CREATE TABLE bench_item_terms (idx integer, term text)')
  const itemTerms = items.flatMap((i) =>
    searchTermsOf({
      number: '',
      customerId: null,
      lines: [
        {
          id: 'x',
          itemId: itemId(i),
          sku: itemSku(i),
          name: itemName(i),
          quantity: 1,
          unitPriceMinor: 0,
          discountMinor: 0,
          taxMinor: 0,
          totalMinor: 0,
        },
      ],
      externalIds: {},
    }).map((t) => `(${i}, ${q(t)})`),
  )
  await sql.exec(`INSERT INTO bench_item_terms VALUES ${itemTerms.join(', ')}`)

  // age: the last day of the span holds the open orders; older ones ended (mostly handed over)
  const recent = `s.created > ${now - DAY}`
  const delivery = `s.ch >= 60`
  const status = `CASE WHEN ${recent} THEN (CASE WHEN s.stat < 25 THEN 'payment_pending' WHEN s.stat < 50 THEN 'confirmed' WHEN s.stat < 65 THEN 'processing' WHEN s.stat < 75 THEN (CASE WHEN ${delivery} THEN 'packed' ELSE 'ready_for_pickup' END) WHEN s.stat < 93 THEN (CASE WHEN ${delivery} THEN 'delivered' ELSE 'picked_up' END) ELSE 'cancelled' END)
    ELSE (CASE WHEN s.stat < 84 THEN (CASE WHEN ${delivery} THEN 'delivered' ELSE 'picked_up' END) WHEN s.stat < 86 THEN 'completed' WHEN s.stat < 93 THEN 'cancelled' WHEN s.stat < 96 THEN (CASE WHEN ${delivery} THEN 'refunded' ELSE 'picked_up' END) WHEN s.stat < 98 THEN (CASE WHEN ${delivery} THEN 'return_requested' ELSE 'completed' END) ELSE 'confirmed' END) END`
  const channel = `CASE WHEN s.ch < 40 THEN 'kiosk' WHEN s.ch < 60 THEN 'pos' WHEN s.ch < 95 THEN 'ecommerce' ELSE 'wholesale' END`
  const number = `'ORD-' || ${pad('s.n', 8)} || '-' || ${pad('s.n', 7)}`
  const total = `(i1.price + CASE WHEN s.nl > 1 THEN i2.price ELSE 0 END)`
  const line = (k: number, it: string) =>
    `'{"id":"l' || s.n || '-${k}","itemId":"' || ${it}.id || '","sku":"' || ${it}.sku || '","name":"' || ${it}.name || '","quantity":1,"unitPriceMinor":' || ${it}.price || ',"discountMinor":0,"taxMinor":0,"totalMinor":' || ${it}.price || '}'`
  const synced = `s.misc < 80`
  const doc = `'{"lines":[' || ${line(1, 'i1')} || CASE WHEN s.nl > 1 THEN ',' || ${line(2, 'i2')} ELSE '' END || '],"totals":{"subtotalMinor":' || ${total} || ',"discountMinor":0,"taxMinor":0,"shippingMinor":0,"totalMinor":' || ${total} || ',"currency":"USD"},"externalIds":' || CASE WHEN ${synced} THEN '{"treez":"TZ-' || s.n || '"}' ELSE '{}' END || ',"attributes":{},"cancellationReason":null}'`
  const t0 = performance.now()
  await sql.exec('DROP TABLE IF EXISTS bench_seed_status')
  await sql.exec(
    `CREATE ${pgsql ? 'UNLOGGED ' : ''}TABLE bench_seed_status AS SELECT s.*, ${status} AS status FROM bench_seed s`,
  )
  await sql.exec('DROP TABLE bench_seed')
  await sql.exec('ALTER TABLE bench_seed_status RENAME TO bench_seed')
  await sql.exec(
    `INSERT INTO oms_orders (id, number, channel, flow, store_id, location_id, customer_id, status, payment_status, total_minor, currency, packed_quantity, assignee_id, pos_sync_state, version, idempotency_key, doc, created_at, updated_at)
     SELECT 'o-' || s.n, ${number}, ${channel}, CASE WHEN ${delivery} THEN 'delivery' ELSE 'pickup' END,
       'store-' || ${pad('s.st', 2)}, 'loc-' || ${pad('s.st', 2)},
       CASE WHEN s.misc % 10 = 0 THEN NULL ELSE 'cust-' || s.cust END,
       s.status,
       CASE WHEN s.status IN ('payment_pending', 'cancelled') THEN 'unpaid' WHEN s.status = 'refunded' THEN 'refunded' ELSE 'paid' END,
       ${total}, 'USD', 0,
       CASE WHEN s.status IN ('confirmed', 'processing', 'packed', 'ready_for_pickup') AND s.misc < 60 THEN 'staff-' || (s.cust % 40) ELSE NULL END,
       CASE WHEN ${synced} THEN 'synced' WHEN s.misc < 81 THEN 'failed' WHEN s.misc < 85 THEN 'pending' ELSE NULL END,
       2, NULL, ${json(doc)}, ${ts('s.created')}, ${ts('s.created + s.upd')}
     FROM bench_seed s
     JOIN bench_items i1 ON i1.idx = s.i1
     JOIN bench_items i2 ON i2.idx = s.i2`,
  )
  console.log(`    orders: ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  const t1 = performance.now()
  // the search terms, exactly as the library writes them: number, customer, items' terms, external id
  const sst = `'store-' || ${pad('s.st', 2)}`
  await sql.exec(
    `INSERT ${pgsql ? '' : 'OR IGNORE '}INTO oms_order_terms (term, order_id, store_id, created_at)
     SELECT term, order_id, store_id, created_at FROM (
       SELECT lower(number) AS term, id AS order_id, store_id, created_at FROM oms_orders WHERE id LIKE 'o-%'
       UNION ALL SELECT lower(customer_id), id, store_id, created_at FROM oms_orders WHERE customer_id IS NOT NULL AND id LIKE 'o-%'
       UNION ALL SELECT t.term, 'o-' || s.n, ${sst}, ${ts('s.created')} FROM bench_seed s JOIN bench_item_terms t ON t.idx = s.i1
       UNION ALL SELECT t.term, 'o-' || s.n, ${sst}, ${ts('s.created')} FROM bench_seed s JOIN bench_item_terms t ON t.idx = s.i2 WHERE s.nl > 1
       UNION ALL SELECT 'tz-' || s.n, 'o-' || s.n, ${sst}, ${ts('s.created')} FROM bench_seed s WHERE s.misc < 80
     ) x ORDER BY term, created_at, order_id ${pgsql ? 'ON CONFLICT DO NOTHING' : ''}`,
  )
  console.log(`    search terms: ${((performance.now() - t1) / 1000).toFixed(1)} s`)
  const t2 = performance.now()
  // one hold per order, in the state its order implies
  await sql.exec(
    `INSERT INTO oms_reservations (id, item_id, location_id, order_id, order_line_id, quantity_reserved, quantity_fulfilled, quantity_released, status, expires_at, reserved_at, released_at, fulfilled_at, notes, created_at, updated_at)
     SELECT 'h-' || s.n, i1.id, o.location_id, o.id, 'l' || s.n || '-1', 1,
       CASE WHEN o.status IN ('picked_up', 'delivered', 'completed', 'refunded', 'return_requested') THEN 1 ELSE 0 END,
       CASE WHEN o.status = 'cancelled' THEN 1 ELSE 0 END,
       CASE WHEN o.status IN ('picked_up', 'delivered', 'completed', 'refunded', 'return_requested') THEN 'committed'
            WHEN o.status = 'cancelled' AND s.misc < 50 THEN 'expired' WHEN o.status = 'cancelled' THEN 'released' ELSE 'active' END,
       CASE WHEN o.status = 'payment_pending' THEN ${ts(`${now} + 900000`)} ELSE NULL END,
       o.created_at, NULL, NULL, NULL, o.created_at, o.updated_at
     FROM bench_seed s JOIN bench_items i1 ON i1.idx = s.i1 JOIN oms_orders o ON o.id = 'o-' || s.n`,
  )
  console.log(`    holds: ${((performance.now() - t2) / 1000).toFixed(1)} s`)
  // the levels hold what the active holds hold
  await sql.exec(
    `UPDATE oms_levels SET reserved = (SELECT count(*) FROM oms_reservations r WHERE r.item_id = oms_levels.item_id AND r.location_id = oms_levels.location_id AND r.status = 'active')`,
  )
  await sql.exec(`UPDATE oms_levels SET on_hand = on_hand + reserved WHERE on_hand < 1000`)
  // notes on 3 % of the orders, fulfillments on 5 %, a shortage a day
  await sql.exec(
    `INSERT INTO oms_notes (id, order_id, text, is_internal, notify_customer, notified_at, author_id, created_at, updated_at)
     SELECT 'n-' || s.n, 'o-' || s.n, 'called the customer', ${pgsql ? 'true' : '1'}, ${pgsql ? 'false' : '0'}, NULL, 'staff-1', ${ts('s.created + 60000')}, ${ts('s.created + 60000')}
     FROM bench_seed s WHERE s.cust % 100 < 3`,
  )
  // the orders count their notes, as the library's note writes keep them
  await sql.exec(
    `UPDATE oms_orders SET note_count = 1 WHERE id IN (SELECT order_id FROM oms_notes WHERE id LIKE 'n-%')`,
  )
  await sql.exec(
    `INSERT INTO oms_fulfillments (id, number, order_id, location_id, status, assigned_to_id, version, doc, created_at, updated_at)
     SELECT 'f-' || s.n, 'FUL-' || ${pad('s.n', 8)} || '-' || ${pad('s.n', 7)}, o.id, o.location_id,
       CASE WHEN o.status IN ('delivered', 'picked_up', 'completed') THEN 'fulfilled' WHEN o.status = 'packed' THEN 'ready_to_ship' WHEN o.status = 'processing' THEN 'picking' ELSE 'pending' END,
       o.assignee_id, 1, ${json("'{}'")}, o.created_at, o.updated_at
     FROM bench_seed s JOIN oms_orders o ON o.id = 'o-' || s.n WHERE s.cust % 100 >= 50 AND s.cust % 100 < 55`,
  )
  await sql.exec(
    `INSERT INTO oms_history (id, entity_type, entity_id, order_id, store_id, action, old_status, new_status, description, actor_id, ip, user_agent, additional_data, created_at)
     SELECT 'hs-' || s.n, 'inventory', 'bench-item-001', NULL, 'store-' || ${pad('s.st', 2)}, 'inventory_shortage', NULL, NULL, 'count found less', 'staff-1', NULL, NULL, ${json("'{}'")}, ${ts('s.created')}
     FROM bench_seed s WHERE s.n % ${Math.max(1, Math.floor(n / SPAN_DAYS))} = 0`,
  )
  await sql.exec(pgsql ? 'VACUUM ANALYZE' : 'ANALYZE')
}

interface Case {
  name: string
  input: (i: number) => SearchOrdersInput
  /** The storage-level search it makes, for EXPLAIN (the same SQL the service runs). */
  port?: (i: number) => { filter: OrderSearchFilter; page: OrderSearchPage; count?: boolean }
}

/** Times `run` `times` times (after warm-ups); p50 and p95 in ms. */
async function timeIt(times: number, run: (i: number) => Promise<unknown>) {
  for (let i = 0; i < 3; i++) await run(i + 1000)
  const ms: number[] = []
  for (let i = 0; i < times; i++) {
    const t0 = performance.now()
    await run(i)
    ms.push(performance.now() - t0)
  }
  ms.sort((a, b) => a - b)
  return { p50: percentile(ms, 50), p95: percentile(ms, 95) }
}

async function creationThroughput(oms: Oms, ops: number, clients: number) {
  const r = await runLoad(clients, ops, async (i) => {
    const s = i % STORES
    await oms.orders.create({
      actor: admin,
      channel: 'kiosk',
      flow: 'pickup',
      storeId: store(s),
      locationId: location(s),
      customerId: `cust-new-${i % 5000}`,
      currency: 'USD',
      lines: [
        { itemId: itemId(stocked(i * 7, s)), quantity: 1, unitPriceMinor: 2500 },
        { itemId: itemId(stocked(i * 13 + 1, s)), quantity: 1, unitPriceMinor: 3000 },
      ],
    })
  })
  if (r.errors) throw new Error(`order creation failed: ${r.firstError}`)
  return r
}

export async function benchScale(
  backend: Backend,
  url: string,
  n: number,
  out: { figures: string[]; throughput: string[]; plans: string[] },
  seeded = false,
): Promise<void> {
  const now = Date.now()
  const { sql, explainDb, dialect, captured } = await sqlFor(backend, url)
  const t0 = performance.now()
  if (!seeded) await seed(backend, sql, n, now)
  console.log(`  seeded ${n} orders (set-based) in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  /** After bulk writes: SQLite folds the WAL back into the database (else every read walks a huge WAL). */
  const settle = async () => {
    if (backend.dialect === 'sqlite') await sql.exec('PRAGMA wal_checkpoint(TRUNCATE)')
    else await sql.exec('CHECKPOINT')
  }
  await settle()
  const oms = createOms({ storage: backend.storage })
  await creationThroughput(oms, 200, 4) // warm up

  // Creation throughput without the search indexes and with them, in this run, in blocks ordered
  // without, with, with, without, without, with, … (BENCH_SCALE_ROUNDS blocks of each): a slow drift of
  // the machine's load hits both sides alike, and each block is compared with its neighbour of the other
  // side (paired), so a neighbour's burst during one block moves one pair, not the median.
  const ops = Number(process.env.BENCH_SCALE_CREATE_OPS ?? 1000)
  const roundsOfEach = Number(process.env.BENCH_SCALE_ROUNDS ?? 4)
  const blocks = Array.from({ length: 2 * roundsOfEach }, (_, k) => (k % 4 === 1 || k % 4 === 2) as boolean)
  const rounds: Array<{ block: number; indexes: boolean; clients: number; perSecond: number; p50: number }> =
    []
  let current: boolean | null = null
  const setIndexes = async (indexes: boolean) => {
    if (current === indexes) return
    // BENCH_SCALE_TOGGLE=name,name: only these are toggled (the others stay as they are with the
    // search indexes), to see what each one costs
    const only = process.env.BENCH_SCALE_TOGGLE?.split(',')
    for (const [name, table, columns, before] of SEARCH_INDEXES) {
      const toggled = !only || only.includes(name)
      if (!toggled && current !== null) continue
      await sql.exec(`DROP INDEX IF EXISTS ${name}`)
      const wanted = indexes || !toggled ? columns : before
      if (wanted) await sql.exec(`CREATE INDEX ${name} ON ${table} ${wanted}`)
    }
    current = indexes
  }
  if (ops > 0) {
    for (const [block, indexes] of blocks.entries()) {
      await setIndexes(indexes)
      await settle()
      for (const clients of [1, 16]) {
        const r = await creationThroughput(oms, ops, clients)
        rounds.push({ block, indexes, clients, perSecond: r.perSecond, p50: r.p50 })
        console.log(
          `  block ${block + 1}, ${indexes ? 'with   ' : 'without'} the search indexes, ${String(clients).padStart(2)} client(s): ${r.perSecond.toFixed(0)} orders/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms`,
        )
      }
    }
    const median = (xs: number[]) => {
      const s = [...xs].sort((x, y) => x - y)
      const m = Math.floor(s.length / 2)
      return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
    }
    for (const clients of [1, 16]) {
      const of = (indexes: boolean) => rounds.filter((r) => r.indexes === indexes && r.clients === clients)
      const without = of(false)
      const withIdx = of(true)
      // pairs: blocks 1–2, 3–4, …: one without and one with, next to each other
      const paired = without.map((w) => {
        const partner = withIdx.find(
          (x) => Math.floor(x.block / 2) === Math.floor(w.block / 2),
        ) as (typeof rounds)[0]
        return (partner.perSecond - w.perSecond) / w.perSecond
      })
      const rates = (rs: typeof rounds) => rs.map((r) => r.perSecond.toFixed(0)).join(' / ')
      const a = median(without.map((r) => r.perSecond))
      const b = median(withIdx.map((r) => r.perSecond))
      out.throughput.push(
        `| ${backend.name} | ${clients} | ${rates(without)} | ${a.toFixed(0)} | ${rates(withIdx)} | ${b.toFixed(0)} | ${(((b - a) / a) * 100).toFixed(1)} % | ${(median(paired) * 100).toFixed(1)} % (${paired.map((p) => `${(p * 100).toFixed(0)}`).join(', ')}) | ${median(without.map((r) => r.p50)).toFixed(2)} → ${median(withIdx.map((r) => r.p50)).toFixed(2)} |`,
      )
    }
  }
  await setIndexes(true)
  // PostgreSQL: what autovacuum keeps on a live database — statistics, and the visibility map that lets an
  // index-only scan skip the table (a freshly bulk-loaded table has none, so every index entry costs a
  // table read until its first vacuum)
  await sql.exec(backend.dialect === 'pg' ? 'VACUUM ANALYZE' : 'ANALYZE')
  await settle()

  // the listed searches
  const scoped = (s: number): Actor => ({ id: `sm-${s}`, roles: ['store_manager'], storeIds: [store(s)] })
  const customer = (c: number): Actor => ({ id: `c-${c}`, roles: ['customer'], customerId: `cust-${c}` })
  const numberOf = (i: number) => {
    const k = 1 + ((i * 7919) % n)
    return `ORD-${String(k).padStart(8, '0')}-${String(k).padStart(7, '0')}`
  }
  const desc = { field: 'created', direction: 'desc' } as const
  const st = (i: number) => store(i % 8)
  const week = new Date(now - 7 * DAY)
  const reachOf = (s: number) => ({ storeIds: [store(s)], customerId: null })
  const cases: Case[] = [
    {
      name: 'newest first, every store',
      input: () => ({ actor: admin, limit: 50 }),
      port: () => ({ filter: {}, page: { sort: desc, limit: 51 } }),
    },
    {
      name: 'one store (store-scoped caller), newest first',
      input: (i) => ({ actor: scoped(i % 8), limit: 50 }),
      port: (i) => ({ filter: { reach: reachOf(i % 8) }, page: { sort: desc, limit: 51 } }),
    },
    {
      name: 'one store, status confirmed, newest first',
      input: (i) => ({ actor: admin, storeIds: [st(i)], statuses: ['confirmed'], limit: 50 }),
      port: (i) => ({
        filter: { storeIds: [st(i)], statuses: ['confirmed'] },
        page: { sort: desc, limit: 51 },
      }),
    },
    {
      name: 'backlog statuses, every store, newest first, with total',
      input: () => ({ actor: admin, statuses: ['confirmed', 'processing'], limit: 50, includeTotal: true }),
      port: () => ({
        filter: { statuses: ['confirmed', 'processing'] },
        page: { sort: desc, limit: 51 },
        count: true,
      }),
    },
    {
      name: 'text: an order number',
      input: (i) => ({ actor: admin, text: numberOf(i), limit: 50 }),
      port: (i) => ({ filter: { words: [numberOf(i).toLowerCase()] }, page: { sort: desc, limit: 51 } }),
    },
    {
      name: 'text: a sku, one store',
      input: (i) => ({ actor: admin, text: itemSku((i * 17) % ITEMS), storeIds: [st(i)], limit: 50 }),
      port: (i) => ({
        filter: { words: [itemSku((i * 17) % ITEMS).toLowerCase()], storeIds: [st(i)] },
        page: { sort: desc, limit: 51 },
      }),
    },
    {
      name: 'text: two words of an item name, one store',
      input: (i) => ({
        actor: admin,
        text: `${STRAINS[i % STRAINS.length]?.split(' ')[0]} vape`,
        storeIds: [st(i)],
        limit: 50,
      }),
      port: (i) => ({
        filter: {
          words: [(STRAINS[i % STRAINS.length] as string).split(' ')[0]?.toLowerCase() as string, 'vape'],
          storeIds: [st(i)],
        },
        page: { sort: desc, limit: 51 },
      }),
    },
    {
      name: 'text: a customer reference',
      input: (i) => ({ actor: admin, text: `cust-${(i * 4177) % 200000}`, limit: 50 }),
      port: (i) => ({ filter: { words: [`cust-${(i * 4177) % 200000}`] }, page: { sort: desc, limit: 51 } }),
    },
    {
      name: 'text: an external POS id',
      input: (i) => ({ actor: admin, text: `TZ-${1 + ((i * 104729) % n)}`, limit: 50 }),
      port: (i) => ({ filter: { words: [`tz-${1 + ((i * 104729) % n)}`] }, page: { sort: desc, limit: 51 } }),
    },
    {
      name: "a customer's own orders (customer caller)",
      input: (i) => ({ actor: customer((i * 4177) % 200000), limit: 50 }),
      port: (i) => ({
        filter: { reach: { storeIds: [], customerId: `cust-${(i * 4177) % 200000}` } },
        page: { sort: desc, limit: 51 },
      }),
    },
    {
      name: 'one store, last 7 days, by total descending',
      input: (i) => ({
        actor: admin,
        storeIds: [st(i)],
        createdFrom: week,
        sort: { field: 'total', direction: 'desc' },
        limit: 50,
      }),
      port: (i) => ({
        filter: { storeIds: [st(i)], createdFrom: week },
        page: { sort: { field: 'total', direction: 'desc' }, limit: 51 },
      }),
    },
    {
      name: 'total between 60.00 and 61.00, by total',
      input: () => ({
        actor: admin,
        totalMin: 6000,
        totalMax: 6100,
        sort: { field: 'total', direction: 'asc' },
        limit: 50,
      }),
      port: () => ({
        filter: { totalMin: 6000, totalMax: 6100 },
        page: { sort: { field: 'total', direction: 'asc' }, limit: 51 },
      }),
    },
    {
      name: 'assignee, open statuses',
      input: (i) => ({
        actor: admin,
        assigneeId: `staff-${i % 40}`,
        statuses: ['confirmed', 'processing', 'ready_for_pickup'],
        limit: 50,
      }),
      port: (i) => ({
        filter: { assigneeId: `staff-${i % 40}`, statuses: ['confirmed', 'processing', 'ready_for_pickup'] },
        page: { sort: desc, limit: 51 },
      }),
    },
    {
      name: 'POS sync failed, newest first',
      input: () => ({ actor: admin, posSyncStates: ['failed'], limit: 50 }),
      port: () => ({ filter: { posSyncStates: ['failed'] }, page: { sort: desc, limit: 51 } }),
    },
    {
      name: 'has notes, one store, newest first',
      input: (i) => ({ actor: admin, hasNotes: true, storeIds: [st(i)], limit: 50 }),
      port: (i) => ({ filter: { hasNotes: true, storeIds: [st(i)] }, page: { sort: desc, limit: 51 } }),
    },
    {
      name: 'fulfillment picking, newest first',
      input: () => ({ actor: admin, fulfillmentStatuses: ['picking'], limit: 50 }),
      port: () => ({ filter: { fulfillmentStatuses: ['picking'] }, page: { sort: desc, limit: 51 } }),
    },
    {
      name: 'updated in the last day, most recently updated first',
      input: () => ({
        actor: admin,
        updatedFrom: new Date(now - DAY),
        sort: { field: 'updated', direction: 'desc' },
        limit: 50,
      }),
      port: () => ({
        filter: { updatedFrom: new Date(now - DAY) },
        page: { sort: { field: 'updated', direction: 'desc' }, limit: 51 },
      }),
    },
    {
      name: 'by number ascending',
      input: () => ({ actor: admin, sort: { field: 'number', direction: 'asc' }, limit: 50 }),
      port: () => ({ filter: {}, page: { sort: { field: 'number', direction: 'asc' }, limit: 51 } }),
    },
  ]
  const times = Number(process.env.BENCH_SCALE_RUNS ?? 40)
  for (const c of cases) {
    const r = await timeIt(times, (i) => oms.orders.search(c.input(i)))
    const ok = r.p95 <= 20
    console.log(
      `  ${c.name.padEnd(58)} p50 ${r.p50.toFixed(2).padStart(7)} ms  p95 ${r.p95.toFixed(2).padStart(7)} ms${ok ? '' : '  (over 20 ms)'}`,
    )
    out.figures.push(
      `| ${backend.name} | search: ${c.name} | ${r.p50.toFixed(2)} | ${r.p95.toFixed(2)} | ${ok ? 'yes' : '**no**'} |`,
    )
  }
  // a deep page: the fifth page of one store, following cursors
  {
    const r = await timeIt(times, async (i) => {
      let cursor: string | undefined
      for (let p = 0; p < 5; p++) {
        const page = await oms.orders.search({
          actor: scoped(i % 8),
          limit: 50,
          ...(cursor ? { cursor } : {}),
        })
        cursor = page.nextCursor ?? undefined
      }
    })
    console.log(
      `  ${'five pages by cursor, one store (all five)'.padEnd(58)} p50 ${r.p50.toFixed(2).padStart(7)} ms  p95 ${r.p95.toFixed(2).padStart(7)} ms`,
    )
    out.figures.push(
      `| ${backend.name} | search: five consecutive pages by cursor, one store (the five together) | ${r.p50.toFixed(2)} | ${r.p95.toFixed(2)} | ${r.p95 <= 100 ? 'yes (≤ 20 ms a page)' : '**no**'} |`,
    )
  }
  {
    const r = await timeIt(times, (i) => oms.orders.getByNumber({ actor: admin, number: numberOf(i) }))
    console.log(
      `  ${'getByNumber'.padEnd(58)} p50 ${r.p50.toFixed(2).padStart(7)} ms  p95 ${r.p95.toFixed(2).padStart(7)} ms`,
    )
    out.figures.push(
      `| ${backend.name} | orders.getByNumber | ${r.p50.toFixed(2)} | ${r.p95.toFixed(2)} | ${r.p95 <= 20 ? 'yes' : '**no**'} |`,
    )
  }
  const dashboards: Array<[string, (i: number) => Parameters<Oms['dashboard']['summary']>[0]]> = [
    ['dashboard: last 24 h, every store', () => ({ actor: admin, to: new Date(now) })],
    ['dashboard: last 24 h, one store', (i) => ({ actor: admin, to: new Date(now), storeIds: [st(i)] })],
    [
      'dashboard: last 7 days, every store',
      () => ({ actor: admin, from: new Date(now - 7 * DAY), to: new Date(now) }),
    ],
    [
      'dashboard: last 30 days, one store',
      (i) => ({ actor: admin, from: new Date(now - 30 * DAY), to: new Date(now), storeIds: [st(i)] }),
    ],
  ]
  for (const [name, input] of dashboards) {
    const r = await timeIt(Math.min(times, 20), (i) => oms.dashboard.summary(input(i)))
    const ok = r.p95 <= 200
    console.log(
      `  ${name.padEnd(58)} p50 ${r.p50.toFixed(2).padStart(7)} ms  p95 ${r.p95.toFixed(2).padStart(7)} ms${ok ? '' : '  (over 200 ms)'}`,
    )
    out.figures.push(
      `| ${backend.name} | ${name} | ${r.p50.toFixed(2)} | ${r.p95.toFixed(2)} | ${ok ? 'yes' : '**no**'} |`,
    )
  }
  const sample = await oms.dashboard.summary({ actor: admin, to: new Date(now) })
  console.log(
    `  (24 h: ${sample.orders} orders, cancellation ${((sample.cancellationRate ?? 0) * 100).toFixed(1)} %, backlog ${sample.fulfillmentBacklog.orders}, alerts ${sample.alerts.map((a) => a.kind).join(', ')})`,
  )

  // the plans of the same statements (compiled by the same storage code, parameters included)
  if (process.env.BENCH_SCALE_PLANS !== '0') {
    out.plans.push(`### ${backend.name}, ${n.toLocaleString('en-US')} orders\n`)
    for (const c of cases) {
      if (!c.port) continue
      const { filter, page, count } = c.port(7)
      captured.length = 0
      await explainDb.transaction().execute(async (trx) => {
        const tx = createSqlTx(trx, dialect)
        await tx.orders.search(filter, page)
        if (count) await tx.orders.count(filter)
      })
      for (const q of captured.filter((x) => /^\s*select/i.test(x.sql)))
        out.plans.push(`**${c.name}**\n\n\`\`\`\n${await sql.explain(q)}\n\`\`\`\n`)
    }
    captured.length = 0
    await explainDb.transaction().execute(async (trx) => {
      await createSqlTx(trx, dialect).dashboard.figures({
        storeIds: [store(7)],
        from: new Date(now - 30 * DAY),
        to: new Date(now),
        backlogStatuses: ['confirmed', 'processing', 'packed', 'ready_for_pickup'],
        lowStockSample: 20,
      })
    })
    for (const q of captured.filter((x) => /^\s*select/i.test(x.sql)))
      out.plans.push(
        `**dashboard (30 days, one store): ${q.sql.slice(0, 60).replaceAll('\n', ' ')}…**\n\n\`\`\`\n${await sql.explain(q)}\n\`\`\`\n`,
      )
  }
  await sql.exec('DROP TABLE IF EXISTS bench_seed')
  await sql.exec('DROP TABLE IF EXISTS bench_items')
  await sql.exec('DROP TABLE IF EXISTS bench_item_terms')
  await sql.close()
  await explainDb.destroy()
}
