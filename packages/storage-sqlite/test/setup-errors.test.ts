import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createOms, isOmsError, OmsError, type StorageTx } from '@peak-oms/core'
import BetterSqlite3 from 'better-sqlite3'
import { afterAll, describe, expect, test } from 'vitest'
import { createSqliteStorage, type SqliteStorage } from '../src/index'

const dir = mkdtempSync(join(tmpdir(), 'peak-oms-sqlite-setup-'))
let n = 0
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const file = () => join(dir, `setup-${n++}.db`)
const readLocations = (tx: StorageTx) => tx.locations.list()

/** The rejection of `promise`, or of `fn()` when it throws synchronously. */
async function caught(run: () => unknown): Promise<unknown> {
  try {
    await run()
  } catch (error) {
    return error
  }
  throw new Error('expected a failure, but it succeeded')
}

async function migrated(filename = file()): Promise<SqliteStorage> {
  const storage = createSqliteStorage({ filename })
  const { error } = await storage.migrateToLatest()
  if (error) throw error
  return storage
}

describe('sqlite: setup mistakes are typed errors', () => {
  test('a transaction before migrateToLatest() is STORAGE_NOT_MIGRATED naming the missing table', async () => {
    const storage = createSqliteStorage({ filename: file() })
    try {
      const error = await caught(() => storage.transaction(readLocations))
      expect(isOmsError(error)).toBe(true)
      expect(error).toMatchObject({
        code: 'STORAGE_NOT_MIGRATED',
        details: { storage: 'sqlite', operation: 'transaction', table: 'oms_locations' },
      })
      expect((error as Error).message).toContain('oms_locations')
      expect((error as Error).message).toContain('migrateToLatest()')

      // Through the services too, and fixed by migrating.
      const oms = createOms({ storage })
      const viaOms = await caught(() =>
        oms.inventory.defineLocation({
          actor: { id: 'admin', roles: ['system_admin'] },
          location: { id: 'l1', storeId: 's1', name: 'Front', kind: 'store' },
        }),
      )
      expect(viaOms).toMatchObject({ code: 'STORAGE_NOT_MIGRATED' })
      expect((await storage.migrateToLatest()).error).toBeUndefined()
      expect(await storage.transaction(readLocations)).toEqual([])
    } finally {
      await storage.close()
    }
  })

  test('a schema older than the code (a missing column) is STORAGE_NOT_MIGRATED naming the column', async () => {
    const filename = file()
    const storage = await migrated(filename)
    const raw = new BetterSqlite3(filename)
    try {
      raw.exec('alter table oms_locations drop column kind')
      const error = await caught(() =>
        storage.transaction((tx) =>
          tx.locations.upsert({ id: 'l1', storeId: 's1', name: 'Front', kind: 'store', externalIds: {} }),
        ),
      )
      expect(error).toMatchObject({ code: 'STORAGE_NOT_MIGRATED', details: { column: 'kind' } })
    } finally {
      raw.close()
      await storage.close()
    }
  })

  test('every call after close() is STORAGE_CLOSED; close() twice is fine', async () => {
    const storage = await migrated()
    await storage.close()
    await storage.close()
    const error = await caught(() => storage.transaction(readLocations))
    expect(isOmsError(error)).toBe(true)
    expect(error).toMatchObject({ code: 'STORAGE_CLOSED', details: { operation: 'transaction' } })
    expect((error as Error).message).toMatch(/close\(\)/)
    const result = await storage.migrateToLatest()
    expect(isOmsError(result.error)).toBe(true)
    expect(result.error).toMatchObject({ code: 'STORAGE_CLOSED', details: { operation: 'migrate' } })
  })

  test("with the host's own database: closed after close(), and the host's database stays open", async () => {
    const database = new BetterSqlite3(file())
    const storage = createSqliteStorage({ database })
    try {
      expect((await storage.migrateToLatest()).error).toBeUndefined()
      await storage.close()
      expect(database.open).toBe(true)
      expect(await caught(() => storage.transaction(readLocations))).toMatchObject({ code: 'STORAGE_CLOSED' })
    } finally {
      database.close()
    }
  })

  test('the host closing its database under the storage is STORAGE_CLOSED', async () => {
    const database = new BetterSqlite3(file())
    const storage = createSqliteStorage({ database })
    expect((await storage.migrateToLatest()).error).toBeUndefined()
    database.close()
    const error = await caught(() => storage.transaction(readLocations))
    expect(isOmsError(error)).toBe(true)
    expect(error).toMatchObject({ code: 'STORAGE_CLOSED' })
  })

  test('a file in a directory that does not exist is STORAGE_UNAVAILABLE at construction, naming the file', () => {
    const filename = join(dir, 'no-such-directory', 'oms.db')
    const error = (() => {
      try {
        createSqliteStorage({ filename })
      } catch (e) {
        return e
      }
    })()
    expect(isOmsError(error)).toBe(true)
    expect(error).toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
      details: { storage: 'sqlite', operation: 'open', filename },
    })
    expect((error as Error).message).toContain(filename)
    expect((error as Error).message).toMatch(/directory does not exist/)
  })

  test('a path that cannot be opened as a file (a directory) is STORAGE_UNAVAILABLE [SQLITE_CANTOPEN]', () => {
    const error = (() => {
      try {
        createSqliteStorage({ filename: dir })
      } catch (e) {
        return e
      }
    })()
    expect(isOmsError(error)).toBe(true)
    expect(error).toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
      details: { driverCode: 'SQLITE_CANTOPEN', filename: dir },
    })
  })

  test('a file that is not a SQLite database is STORAGE_ERROR at construction [SQLITE_NOTADB]', () => {
    const filename = file()
    writeFileSync(filename, 'these are not the pages of a SQLite database '.repeat(200))
    const error = (() => {
      try {
        createSqliteStorage({ filename })
      } catch (e) {
        return e
      }
    })()
    expect(isOmsError(error)).toBe(true)
    expect(error).toMatchObject({
      code: 'STORAGE_ERROR',
      details: { driverCode: 'SQLITE_NOTADB', operation: 'open' },
    })
  })

  test.each([
    ['no filename', {}, {}, 'filename'],
    ['an empty filename', { filename: ' ' }, {}, 'filename'],
    ['a filename that is not a string', { filename: 42 }, {}, 'filename'],
    ['both filename and database', { filename: 'a.db', database: {} }, {}, 'config'],
    ['a database that is not a better-sqlite3 one', { database: { name: 'x' } }, {}, 'database'],
    ['a negative busyTimeoutMs', { filename: ':memory:' }, { busyTimeoutMs: -1 }, 'busyTimeoutMs'],
    ['a fractional maxBusyRetries', { filename: ':memory:' }, { maxBusyRetries: 1.5 }, 'maxBusyRetries'],
    ['an onQuery that is not a function', { filename: ':memory:' }, { onQuery: 'log' }, 'onQuery'],
  ])('%s is a CONFIGURATION error naming the field', (_, config, options, field) => {
    const error = (() => {
      try {
        createSqliteStorage(config as never, options as never)
      } catch (e) {
        return e
      }
    })()
    expect(isOmsError(error)).toBe(true)
    expect(error).toMatchObject({ code: 'CONFIGURATION', details: { component: 'SQLite storage' } })
    const issues = (error as OmsError).details.issues as { path: string }[]
    expect(issues.map((issue) => issue.path)).toContain(field)
    expect((error as Error).message).toContain(field)
  })

  test('another unexpected database failure is STORAGE_ERROR saying what failed', async () => {
    const filename = file()
    const storage = await migrated(filename)
    const raw = new BetterSqlite3(filename)
    try {
      raw.exec(
        "create trigger host_guard before insert on oms_locations begin select raise(abort, 'locations are read-only here'); end",
      )
      const error = await caught(() =>
        storage.transaction((tx) =>
          tx.locations.upsert({ id: 'l1', storeId: 's1', name: 'Front', kind: 'store', externalIds: {} }),
        ),
      )
      expect(isOmsError(error)).toBe(true)
      expect(error).toMatchObject({
        code: 'STORAGE_ERROR',
        details: { driverCode: 'SQLITE_CONSTRAINT_TRIGGER', operation: 'transaction' },
      })
      expect((error as Error).message).toContain('locations are read-only here')
      expect((error as Error).cause).toMatchObject({ code: 'SQLITE_CONSTRAINT_TRIGGER' })
    } finally {
      raw.close()
      await storage.close()
    }
  })

  test('a database still busy after every re-run is CONFLICT', async () => {
    const filename = file()
    await (await migrated(filename)).close()
    const storage = createSqliteStorage({ filename }, { busyTimeoutMs: 0, maxBusyRetries: 2 })
    const holder = new BetterSqlite3(filename)
    try {
      holder.exec('begin immediate')
      const error = await caught(() =>
        storage.transaction((tx) =>
          tx.locations.upsert({ id: 'l1', storeId: 's1', name: 'Front', kind: 'store', externalIds: {} }),
        ),
      )
      expect(error).toMatchObject({ code: 'CONFLICT', details: { driverCode: 'SQLITE_BUSY', attempts: 2 } })
      holder.exec('rollback')
      await storage.transaction((tx) =>
        tx.locations.upsert({ id: 'l1', storeId: 's1', name: 'Front', kind: 'store', externalIds: {} }),
      )
    } finally {
      holder.close()
      await storage.close()
    }
  })

  test("the callback's own errors come back unchanged", async () => {
    const storage = await migrated()
    try {
      const domain = new OmsError('NOT_FOUND', 'order o1 was not found')
      expect(await caught(() => storage.transaction(() => Promise.reject(domain)))).toBe(domain)
      const own = new RangeError('host bug')
      expect(await caught(() => storage.transaction(() => Promise.reject(own)))).toBe(own)
    } finally {
      await storage.close()
    }
  })
})
