import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createOms, type Actor } from '@peak-oms/core'
import { createSqliteStorage } from '@peak-oms/storage-sqlite'
import BetterSqlite3 from 'better-sqlite3'
const actor: Actor = { id: 'bench', roles: ['system'] }
const raw = new BetterSqlite3(join(mkdtempSync(join(tmpdir(), 'p-')), 'x.db'))
const times = new Map<string, { n: number; ms: number }>()
const proxied = new Proxy(raw, {
  get(t, p) {
    if (p !== 'prepare') { const v = Reflect.get(t, p); return typeof v === 'function' ? v.bind(t) : v }
    return (src: string) => {
      const st = t.prepare(src)
      const key = src.replace(/\s+/g, ' ').slice(0, 70)
      const wrap = (fn: 'all' | 'run') => (...a: unknown[]) => { const t0 = performance.now(); try { return (st[fn] as (...x: unknown[]) => unknown)(...a) } finally { const e = times.get(key) ?? { n: 0, ms: 0 }; e.n++; e.ms += performance.now() - t0; times.set(key, e) } }
      return new Proxy(st, { get(s, q) { if (q === 'all' || q === 'run') return wrap(q); const v = Reflect.get(s, q); return typeof v === 'function' ? v.bind(s) : v } })
    }
  },
})
const storage = createSqliteStorage({ database: proxied as BetterSqlite3.Database })
await storage.migrateToLatest()
raw.pragma('journal_mode = WAL')
const oms = createOms({ storage })
await oms.inventory.defineLocation({ actor, location: { id: 'l', storeId: 's', name: 'Floor', kind: 'sales_floor' } })
await oms.inventory.defineItem({ actor, item: { id: 'i', sku: 'I', name: 'x', unit: 'each' } })
await oms.inventory.receive({ actor, itemId: 'i', locationId: 'l', quantity: 1e9 })
const tpl = await oms.orders.create({ actor, channel: 'kiosk', flow: 'pickup', storeId: 's', locationId: 'l', currency: 'USD', lines: [{ itemId: 'i', quantity: 1, unitPriceMinor: 1000 }] })
const N = 30000
raw.exec(`INSERT INTO oms_orders SELECT 'bulk-'||g.n, 'ORD-20200101-'||printf('%07d', g.n), channel, flow, store_id, location_id, customer_id, status, payment_status, total_minor, currency, packed_quantity, version, NULL, doc, created_at, updated_at FROM oms_orders o, (WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM g WHERE n < ${N}) SELECT n FROM g) g WHERE o.id = '${tpl.id}'`)
raw.exec(`INSERT INTO oms_reservations SELECT 'bulk-hold-'||g.n, item_id, location_id, 'bulk-'||g.n, order_line_id, 1, 0, 0, 'active', 0, reserved_at, NULL, NULL, NULL, created_at, updated_at FROM oms_reservations r, (WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM g WHERE n < ${N}) SELECT n FROM g) g WHERE r.order_id = '${tpl.id}'`)
raw.exec(`UPDATE oms_levels SET reserved = reserved + ${N}`)
times.clear()
const t0 = performance.now()
const r = await oms.reservations.expireDue()
const total = performance.now() - t0
console.log(r, 'ms', total.toFixed(0))
let sum = 0
for (const [k, v] of [...times].sort((a, b) => b[1].ms - a[1].ms).slice(0, 14)) { sum += v.ms; console.log(v.ms.toFixed(0).padStart(6), String(v.n).padStart(6), (v.ms / v.n).toFixed(2).padStart(8) + 'ms', k) }
console.log('in sqlite (top)', sum.toFixed(0), 'ms')
