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
      const key = src.slice(0, 60)
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
for (let i = 0; i < 100; i++) {
  await oms.inventory.defineItem({ actor, item: { id: `i${i}`, sku: `I${i}`, name: 'x', unit: 'each' } })
  await oms.inventory.receive({ actor, itemId: `i${i}`, locationId: 'l', quantity: 1e9 })
}
times.clear()
const t0 = performance.now()
for (let i = 0; i < 3000; i++) await oms.orders.create({ actor, channel: 'kiosk', flow: 'pickup', storeId: 's', locationId: 'l', currency: 'USD', lines: [{ itemId: `i${i % 100}`, quantity: 1, unitPriceMinor: 1000 }] })
const total = performance.now() - t0
console.log('orders/s', (3000 / (total / 1000)).toFixed(0), 'total ms', total.toFixed(0))
let sum = 0
for (const [k, v] of [...times].sort((a, b) => b[1].ms - a[1].ms)) { sum += v.ms; console.log(v.ms.toFixed(0).padStart(6), String(v.n).padStart(6), (1000 * v.ms / v.n).toFixed(1).padStart(7) + 'µs', k) }
console.log('in sqlite', sum.toFixed(0), 'ms')
