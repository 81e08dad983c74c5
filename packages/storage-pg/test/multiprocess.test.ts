import { fileURLToPath } from 'node:url'
import { createOms } from '@peak-oms/core'
import { runHammer, seedHammerWorld } from '@peak-oms/core/testing'
import { describe, expect, test } from 'vitest'
import { freshPgStorage, pgAvailable } from './pg-test-db'

/** More with PEAK_OMS_HAMMER_WORKERS / PEAK_OMS_HAMMER_OPS (e.g. 8 × 2,500 for a 20,000-operation run). */
const WORKERS = Number(process.env.PEAK_OMS_HAMMER_WORKERS ?? 5)
const OPS_PER_WORKER = Number(process.env.PEAK_OMS_HAMMER_OPS ?? 200)
const TIMEOUT_MS = 90_000 + WORKERS * OPS_PER_WORKER * 20

if (await pgAvailable()) {
  describe('pg: multi-process proof', () => {
    test(
      `${WORKERS} processes, each with its own pool, never oversell and leave no drift`,
      async () => {
        const storage = await freshPgStorage({ poolSize: 4 })
        try {
          const world = await seedHammerWorld(createOms({ storage }), { items: 4, stock: 20 })
          const outcome = await runHammer({
            storage,
            workerPath: fileURLToPath(new URL('./multiprocess-worker.ts', import.meta.url)),
            target: storage.schema,
            world,
            workers: WORKERS,
            opsPerWorker: OPS_PER_WORKER,
            lanes: 2,
            seed: 20260522,
            timeoutMs: TIMEOUT_MS,
          })
          console.info(
            '[peak-oms] pg multi-process figures',
            JSON.stringify({ ...outcome.figures, samples: outcome.samples }),
          )
          expect(outcome.problems).toEqual([])
        } finally {
          await storage.dropSchema()
          await storage.close()
        }
      },
      TIMEOUT_MS + 30_000,
    )
  })
} else {
  describe('pg: multi-process proof', () => {
    test.skip('PostgreSQL is not reachable (see the notice above)', () => {})
  })
}
