import { mkdirSync, rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createSqliteStorage } from '@peak-oms/storage-sqlite'
import { runSplitDeliveryScenario } from './split-delivery-scenario'

// A fresh SQLite file for every run, beside the kiosk demo's.
const file = resolve(
  process.env.PEAK_OMS_DEMO_DB ??
    join(dirname(fileURLToPath(import.meta.url)), '../.peak-oms/split-delivery-demo.db'),
)
mkdirSync(dirname(file), { recursive: true })
for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true })

const storage = createSqliteStorage({ filename: file })
const migration = await storage.migrateToLatest()
if (migration.error) throw migration.error
console.log(`Peak OMS split delivery demo — embedded SQLite at ${file}\n`)
const result = await runSplitDeliveryScenario(storage, (line) => console.log(`• ${line}`))
console.log(`\n${result.order.number}: ${result.statuses.join(' → ')}`)
console.log('\nStock movements of the order (item, warehouse, delta, reason)')
for (const [item, at, delta, reason] of result.movements)
  console.log(`  ${item.padEnd(8)} ${at.padEnd(6)} ${String(delta).padStart(3)}  ${reason}`)
console.log('\nFinal levels (item, warehouse, on hand, reserved)')
for (const [item, at, onHand, reserved] of result.levels)
  console.log(
    `  ${item.padEnd(8)} ${at.padEnd(6)} ${String(onHand).padStart(3)} ${String(reserved).padStart(3)}`,
  )
console.log(`\nreconcile: ${result.drifts} drift(s)`)
