import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createOms } from '@peak-oms/core'
import { runHammer, seedHammerWorld } from '@peak-oms/core/testing'
import { describe, expect, test } from 'vitest'
import { createSqliteStorage } from '../src/index'

/** More with PEAK_OMS_HAMMER_WORKERS / PEAK_OMS_HAMMER_OPS (e.g. 8 × 2,500 for a 20,000-operation run). */
const WORKERS = Number(process.env.PEAK_OMS_HAMMER_WORKERS ?? 5)
const OPS_PER_WORKER = Number(process.env.PEAK_OMS_HAMMER_OPS ?? 200)
const TIMEOUT_MS = 90_000 + WORKERS * OPS_PER_WORKER * 20

describe('sqlite: multi-process proof', () => {
  test(`${WORKERS} processes on one database file never oversell and leave no drift`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'peak-oms-sqlite-mp-'))
    const filename = join(dir, 'hammer.db')
    const storage = createSqliteStorage({ filename })
    try {
      const { error } = await storage.migrateToLatest()
      if (error) throw error
      const world = await seedHammerWorld(createOms({ storage }), { items: 4, stock: 20 })
      const outcome = await runHammer({
        storage,
        workerPath: fileURLToPath(new URL('./multiprocess-worker.ts', import.meta.url)),
        target: filename,
        world,
        workers: WORKERS,
        opsPerWorker: OPS_PER_WORKER,
        lanes: 1,
        seed: 20260522,
        timeoutMs: TIMEOUT_MS,
      })
      console.info(
        '[peak-oms] sqlite multi-process figures',
        JSON.stringify({ ...outcome.figures, samples: outcome.samples }),
      )
      expect(outcome.problems).toEqual([])
    } finally {
      await storage.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
