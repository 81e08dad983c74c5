import { mkdirSync, rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createSqliteStorage } from '@peak-oms/storage-sqlite'
import { runKioskScenario } from './kiosk-scenario'

// A fresh SQLite file for every run: no setup, nothing to clean up by hand.
const file = resolve(
  process.env.PEAK_OMS_DEMO_DB ?? join(dirname(fileURLToPath(import.meta.url)), '../.peak-oms/kiosk-demo.db'),
)
mkdirSync(dirname(file), { recursive: true })
for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true })

const storage = createSqliteStorage({ filename: file })
const migration = await storage.migrateToLatest()
if (migration.error) throw migration.error
console.log(`Peak OMS kiosk demo — embedded SQLite at ${file}\n`)
const result = await runKioskScenario(storage, (line) => console.log(`• ${line}`))
console.log('\nTimeline (from the audit history)')
for (const line of result.timeline) console.log(`  ${line}`)
console.log('\nFinal levels')
for (const line of result.levels) console.log(`  ${line}`)
