import { fileURLToPath } from 'node:url'
import { runSyncHammer } from '@peak-oms/core/testing'
import { describe, expect, test } from 'vitest'
import { freshPgStorage, pgAvailable } from './pg-test-db'

if (await pgAvailable()) {
  describe('pg: sync engine across processes', () => {
    test('workers killed in the middle of a push: every order ends with exactly one ticket, no job runs twice at once', async () => {
      const storage = await freshPgStorage({ poolSize: 2 })
      try {
        const outcome = await runSyncHammer({
          storage,
          workerPath: fileURLToPath(new URL('./sync-multiprocess-worker.ts', import.meta.url)),
          target: storage.schema,
          workers: 3,
          orders: 40,
          kills: 3,
          timeoutMs: 90_000,
        })
        console.info('[peak-oms] pg sync multi-process figures', JSON.stringify(outcome.figures))
        expect(outcome.problems).toEqual([])
        expect(outcome.figures.kills).toBe(3)
      } finally {
        await storage.dropSchema()
        await storage.close()
      }
    }, 120_000)
  })
} else {
  describe('pg: sync engine across processes', () => {
    test('needs PostgreSQL (PEAK_OMS_PG_URL)', () => {
      throw new Error('PostgreSQL is not reachable')
    })
  })
}
