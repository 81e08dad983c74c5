import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runSyncHammer } from '@peak-oms/core/testing'
import { describe, expect, test } from 'vitest'
import { createSqliteStorage } from '../src/index'

describe('sqlite: sync engine across processes', () => {
  test('workers killed in the middle of a push: every order ends with exactly one ticket, no job runs twice at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'peak-oms-sqlite-sync-'))
    const filename = join(dir, 'sync.db')
    const storage = createSqliteStorage({ filename })
    try {
      const { error } = await storage.migrateToLatest()
      if (error) throw error
      const outcome = await runSyncHammer({
        storage,
        workerPath: fileURLToPath(new URL('./sync-multiprocess-worker.ts', import.meta.url)),
        target: filename,
        workers: 3,
        orders: 40,
        kills: 3,
        timeoutMs: 90_000,
      })
      console.info('[peak-oms] sqlite sync multi-process figures', JSON.stringify(outcome.figures))
      expect(outcome.problems).toEqual([])
      expect(outcome.figures.kills).toBe(3)
    } finally {
      await storage.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
