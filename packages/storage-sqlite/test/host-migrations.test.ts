import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { afterAll } from 'vitest'
import { describeHostMigrations } from '../../storage-sql/test/host-migrations.scenarios'
import { createSqliteStorage, SQLITE_COLUMN_TYPES } from '../src/index'

const dir = mkdtempSync(join(tmpdir(), 'peak-oms-sqlite-host-'))
let n = 0
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describeHostMigrations('sqlite', async () => {
  const filename = join(dir, `shared-${n++}.db`)
  const database = new BetterSqlite3(filename)
  const host = new Kysely<Record<string, never>>({ dialect: new SqliteDialect({ database }) })
  return {
    host,
    hostMigratorOptions: {},
    columnTypes: SQLITE_COLUMN_TYPES,
    openStorage: () => createSqliteStorage({ filename }),
    async tables() {
      const rows = database.prepare("select name from sqlite_master where type = 'table'").all() as {
        name: string
      }[]
      return new Set(rows.map((row) => row.name))
    },
    async dispose() {
      await host.destroy()
    },
  }
})
