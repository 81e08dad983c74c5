import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runStorageConformance } from '@peak-oms/core/testing/vitest'
import { afterAll } from 'vitest'
import { createSqliteStorage } from '../src/index'

const dir = mkdtempSync(join(tmpdir(), 'peak-oms-sqlite-'))
let n = 0
afterAll(() => rmSync(dir, { recursive: true, force: true }))

runStorageConformance({
  name: 'sqlite',
  async createStorage() {
    const storage = createSqliteStorage({ filename: join(dir, `conformance-${n++}.db`) })
    const { error } = await storage.migrateToLatest()
    if (error) throw error
    return storage
  },
})
