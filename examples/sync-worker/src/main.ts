import { mkdirSync, rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createFakeClock } from '@peak-oms/core/testing'
import { createSqliteStorage } from '@peak-oms/storage-sqlite'
import { startFakePoses } from './fake-poses'
import { buildRealAdapter, PosEnvError, parsePosEnv } from './pos-env'
import { runRealPass } from './real-pos'
import { runSyncScenario } from './sync-scenario'

// Which POS: the bundled fakes by default, a real one with PEAK_OMS_POS and its variables (README).
let posEnv: ReturnType<typeof parsePosEnv>
try {
  posEnv = parsePosEnv(process.env)
} catch (error) {
  if (!(error instanceof PosEnvError)) throw error
  console.error(error.message)
  process.exit(1)
}

const file = resolve(
  process.env.PEAK_OMS_DEMO_DB ??
    join(dirname(fileURLToPath(import.meta.url)), '../.peak-oms/sync-worker.db'),
)
mkdirSync(dirname(file), { recursive: true })

if (posEnv.mode === 'real') {
  // A real POS: the database is kept between runs (it holds the job history and the pull cursors).
  const adapter = buildRealAdapter(posEnv)
  const storage = createSqliteStorage({ filename: file })
  const migration = await storage.migrateToLatest()
  if (migration.error) throw migration.error
  console.log(`Peak OMS sync worker — SQLite at ${file}, real ${posEnv.pos}\n`)
  try {
    await runRealPass(storage, posEnv.pos, adapter, (line) => console.log(`• ${line}`))
  } finally {
    await storage.close()
  }
} else {
  // The fakes: a fresh SQLite file for every run.
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true })
  const storage = createSqliteStorage({ filename: file })
  const migration = await storage.migrateToLatest()
  if (migration.error) throw migration.error
  const clock = createFakeClock()
  const fakes = await startFakePoses(clock)
  console.log(`Peak OMS sync worker — SQLite at ${file}, fake Treez, Dutchie and BLAZE on 127.0.0.1\n`)
  try {
    const result = await runSyncScenario(storage, fakes.poses, (line) => console.log(`• ${line}`), clock)
    console.log('')
    for (const line of result.table) console.log(line)
  } finally {
    await storage.close()
    await fakes.close()
  }
}
