import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMemoryStorage, type Storage } from '@peak-oms/core'
import { createSqliteStorage } from '@peak-oms/storage-sqlite'
import { afterAll } from 'vitest'

/**
 * The storages a scenario runs on: memory, and a migrated SQLite file in a temporary folder of its own
 * (removed after the file's tests).
 */
export function scenarioStorages(name: string): Array<[string, () => Promise<Storage>]> {
  const dir = mkdtempSync(join(tmpdir(), `peak-oms-${name}-`))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  return [
    ['memory', async () => createMemoryStorage()],
    [
      'sqlite file',
      async () => {
        const storage = createSqliteStorage({ filename: join(dir, `${name}.db`) })
        const { error } = await storage.migrateToLatest()
        if (error) throw error
        return storage
      },
    ],
  ]
}
