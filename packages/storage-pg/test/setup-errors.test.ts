import { inspect } from 'node:util'
import { createOms, isOmsError, OmsError, type StorageTx } from '@peak-oms/core'
import { classifyPgError, toOmsError, toStorageError } from '@peak-oms/storage-sql'
import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import { describe, expect, test } from 'vitest'
import { createPgStorage, type PgStorage } from '../src/index'
import { freshSchemaName, pgAvailable, pgUrl } from './pg-test-db'

const readLocations = (tx: StorageTx) => tx.locations.list()
const location = { id: 'l1', storeId: 's1', name: 'Front', kind: 'store' as const, externalIds: {} }

async function caught(run: () => unknown): Promise<unknown> {
  try {
    await run()
  } catch (error) {
    return error
  }
  throw new Error('expected a failure, but it succeeded')
}

const thrownBy = (run: () => unknown): unknown => {
  try {
    run()
  } catch (error) {
    return error
  }
  throw new Error('expected a failure, but it succeeded')
}

/** Everything an error would show in a log: its JSON, and every own property of it and its causes. */
const serialized = (error: unknown) =>
  `${JSON.stringify(error)}\n${inspect(error, { showHidden: true, depth: 20, breakLength: Infinity })}`

/** Shaped like pg's `DatabaseError`. */
const serverError = (code: string, message: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), { name: 'error', severity: 'ERROR', code, ...extra })

const PASSWORD = 's3cret-P4ss-9d1f'
const USER = 'oms_app_user'

describe('pg: setup mistakes that need no server are typed errors', () => {
  test('unreachable server (nothing listens on 127.0.0.1:1): STORAGE_UNAVAILABLE with host and port, never the credentials', async () => {
    const storage = createPgStorage({ connectionString: `postgres://${USER}:${PASSWORD}@127.0.0.1:1/test` })
    try {
      const error = await caught(() => storage.transaction(readLocations))
      expect(isOmsError(error)).toBe(true)
      expect(error).toMatchObject({
        code: 'STORAGE_UNAVAILABLE',
        details: {
          storage: 'pg',
          operation: 'transaction',
          host: '127.0.0.1',
          port: 1,
          database: 'test',
          driverCode: 'ECONNREFUSED',
        },
      })
      expect((error as Error).message).toContain('127.0.0.1:1')
      for (const secret of [PASSWORD, USER]) {
        expect((error as Error).message).not.toContain(secret)
        expect(JSON.stringify((error as OmsError).details)).not.toContain(secret)
        expect(serialized(error)).not.toContain(secret)
      }

      const migration = await storage.migrateToLatest()
      expect(isOmsError(migration.error)).toBe(true)
      expect(migration.error).toMatchObject({
        code: 'STORAGE_UNAVAILABLE',
        details: { operation: 'migrate' },
      })
      for (const secret of [PASSWORD, USER]) expect(serialized(migration.error)).not.toContain(secret)
    } finally {
      await storage.close()
    }
  })

  test("unreachable server through the host's own pool: STORAGE_UNAVAILABLE, never the credentials", async () => {
    const pool = new pg.Pool({ host: '127.0.0.1', port: 1, user: USER, password: PASSWORD, database: 'test' })
    const storage = createPgStorage({ pool })
    try {
      const error = await caught(() => storage.transaction(readLocations))
      expect(error).toMatchObject({ code: 'STORAGE_UNAVAILABLE', details: { host: '127.0.0.1', port: 1 } })
      for (const secret of [PASSWORD, USER]) expect(serialized(error)).not.toContain(secret)
    } finally {
      await storage.close()
      await pool.end()
    }
  })

  const badConfigs: [string, unknown, unknown, string][] = [
    ['no connectionString', {}, {}, 'connectionString'],
    ['an empty connectionString', { connectionString: '' }, {}, 'connectionString'],
    ['a pool without connect/end', { pool: {} }, {}, 'pool'],
    ['both connectionString and pool', { connectionString: pgUrl(), pool: {} }, {}, 'config'],
    ['poolSize 0', { connectionString: pgUrl(), poolSize: 0 }, {}, 'poolSize'],
    ['poolSize with a pool of its own', { pool: { connect() {}, end() {} }, poolSize: 4 }, {}, 'poolSize'],
    ['an invalid schema name', { connectionString: pgUrl() }, { schema: 'Bad-Name; drop' }, 'schema'],
    ['a schema that is not a string', { connectionString: pgUrl() }, { schema: 7 }, 'schema'],
    ['a negative maxRetries', { connectionString: pgUrl() }, { maxRetries: -1 }, 'maxRetries'],
    ['an onQuery that is not a function', { connectionString: pgUrl() }, { onQuery: true }, 'onQuery'],
  ]
  test.each(badConfigs)('%s is a CONFIGURATION error naming the field', (_, config, options, field) => {
    const error = thrownBy(() => createPgStorage(config as never, options as never))
    expect(isOmsError(error)).toBe(true)
    expect(error).toMatchObject({ code: 'CONFIGURATION', details: { component: 'PostgreSQL storage' } })
    const issues = (error as OmsError).details.issues as { path: string }[]
    expect(issues.map((issue) => issue.path)).toContain(field)
    expect((error as Error).message).toContain(field)
  })

  test('a CONFIGURATION error never repeats the connection string', () => {
    const connectionString = `postgres://${USER}:${PASSWORD}@db.internal:5432/oms`
    const error = thrownBy(() => createPgStorage({ connectionString, poolSize: -3 }))
    expect(error).toMatchObject({ code: 'CONFIGURATION' })
    for (const secret of [PASSWORD, USER]) expect(serialized(error)).not.toContain(secret)
  })

  test('a connection string pg cannot parse is a CONFIGURATION error that never repeats it', () => {
    const connectionString = `postgres://${USER}:${PASSWORD}@db.internal:port/oms`
    const error = thrownBy(() => createPgStorage({ connectionString }))
    expect(error).toMatchObject({ code: 'CONFIGURATION' })
    expect((error as OmsError).details.issues).toEqual([
      expect.objectContaining({ path: 'connectionString' }),
    ])
    for (const secret of [PASSWORD, USER]) expect(serialized(error)).not.toContain(secret)
  })

  test("the host's pool failing before any query (here: its connection string does not parse) is STORAGE_ERROR without the credentials", async () => {
    const pool = new pg.Pool({ connectionString: `postgres://${USER}:${PASSWORD}@db.internal:port/oms` })
    const storage = createPgStorage({ pool })
    try {
      const error = await caught(() => storage.transaction(readLocations))
      expect(isOmsError(error)).toBe(true)
      expect(error).toMatchObject({
        code: 'STORAGE_ERROR',
        details: { operation: 'transaction', driverCode: 'ERR_INVALID_URL' },
      })
      expect((error as Error).message).toMatch(/connection string is not a valid URL/)
      for (const secret of [PASSWORD, USER]) expect(serialized(error)).not.toContain(secret)
    } finally {
      await storage.close()
      await pool.end()
    }
  })

  const context = {
    storage: 'pg',
    classify: classifyPgError,
    target: { host: 'db.internal', port: 5432, database: 'oms' },
  }
  const fromDatabase = { attempts: 0, thrownByCallback: false }
  const systemError = (code: string, extra: Record<string, unknown> = {}) =>
    Object.assign(new Error(`connect ${code}`), { code, syscall: 'connect', ...extra })

  test.each([
    [
      'refused credentials (28P01)',
      serverError('28P01', `password authentication failed for user "${USER}"`),
    ],
    [
      'no pg_hba.conf entry (28000)',
      serverError('28000', `no pg_hba.conf entry for host "10.0.0.1", user "${USER}", database "oms"`),
    ],
    ['too many clients (53300)', serverError('53300', 'sorry, too many clients already')],
    ['server starting up (57P03)', serverError('57P03', 'the database system is starting up')],
    ['a missing database (3D000)', serverError('3D000', 'database "oms" does not exist')],
    ['an unknown host (ENOTFOUND)', systemError('ENOTFOUND', { hostname: 'db.internal' })],
    ['a connect timeout (ETIMEDOUT)', systemError('ETIMEDOUT', { address: '10.0.0.9', port: 5432 })],
    ['a dropped connection', new Error('Connection terminated unexpectedly')],
    ['a pool connect timeout', new Error('timeout exceeded when trying to connect')],
  ])('%s is STORAGE_UNAVAILABLE without user or password', (_, driverError) => {
    const error = toStorageError(driverError, context, fromDatabase)
    expect(isOmsError(error)).toBe(true)
    expect(error).toMatchObject({ code: 'STORAGE_UNAVAILABLE' })
    for (const secret of [PASSWORD, USER]) expect(serialized(error)).not.toContain(secret)
  })

  test('data exceptions never quote the value; server details (row data) never reach the error', () => {
    const badValue = toStorageError(
      serverError('22P02', 'invalid input syntax for type integer: "jane@example.test"'),
      context,
      fromDatabase,
    )
    expect(badValue).toMatchObject({ code: 'STORAGE_ERROR', details: { driverCode: '22P02' } })
    expect(serialized(badValue)).not.toContain('jane@example.test')

    const duplicate = toStorageError(
      serverError('23505', 'duplicate key value violates unique constraint "oms_orders_number_key"', {
        detail: 'Key (number)=(jane@example.test) already exists.',
        constraint: 'oms_orders_number_key',
        table: 'oms_orders',
      }),
      context,
      fromDatabase,
    )
    expect(duplicate).toMatchObject({
      code: 'STORAGE_ERROR',
      details: { driverCode: '23505', constraint: 'oms_orders_number_key', table: 'oms_orders' },
    })
    expect((duplicate as Error).message).toContain('oms_orders_number_key')
    expect(serialized(duplicate)).not.toContain('jane@example.test')
  })

  test("Kysely's own migration checks become STORAGE_ERROR saying what to do", () => {
    const error = toOmsError(
      new Error('corrupted migrations: previously executed migration 0002-later is missing'),
      'migrate',
      context,
    )
    expect(error).toMatchObject({ code: 'STORAGE_ERROR', details: { operation: 'migrate' } })
    expect(error.message).toContain('0002-later is missing')
    expect(error.message).toContain('use the version that migrated this database')
  })
})

if (await pgAvailable()) {
  describe('pg: setup mistakes against a live server are typed errors', () => {
    const fresh = (schema = freshSchemaName()) =>
      createPgStorage({ connectionString: pgUrl(), poolSize: 2 }, { schema })
    async function migrated(): Promise<PgStorage> {
      const storage = fresh()
      const { error } = await storage.migrateToLatest()
      if (error) throw error
      return storage
    }
    async function dispose(storage: PgStorage) {
      const cleanup = fresh(storage.schema)
      await cleanup.dropSchema()
      await cleanup.close()
      await storage.close()
    }

    test('a transaction before migrateToLatest() is STORAGE_NOT_MIGRATED naming the missing table', async () => {
      const storage = fresh()
      try {
        const error = await caught(() => storage.transaction(readLocations))
        expect(isOmsError(error)).toBe(true)
        expect(error).toMatchObject({
          code: 'STORAGE_NOT_MIGRATED',
          details: { storage: 'pg', operation: 'transaction', table: 'oms_locations', driverCode: '42P01' },
        })
        expect((error as Error).message).toContain('migrateToLatest()')

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
        await dispose(storage)
      }
    })

    test('a schema older than the code (a missing column) is STORAGE_NOT_MIGRATED naming the column', async () => {
      const storage = await migrated()
      const pool = new pg.Pool({ connectionString: pgUrl(), max: 1 })
      try {
        await pool.query(`alter table "${storage.schema}".oms_locations drop column kind`)
        const error = await caught(() => storage.transaction((tx) => tx.locations.upsert(location)))
        expect(error).toMatchObject({ code: 'STORAGE_NOT_MIGRATED', details: { column: 'kind' } })
      } finally {
        await pool.end()
        await dispose(storage)
      }
    })

    test('every call after close() is STORAGE_CLOSED; close() twice is fine', async () => {
      const storage = await migrated()
      await dispose(storage)
      await storage.close()
      const error = await caught(() => storage.transaction(readLocations))
      expect(isOmsError(error)).toBe(true)
      expect(error).toMatchObject({ code: 'STORAGE_CLOSED', details: { operation: 'transaction' } })
      const result = await storage.migrateToLatest()
      expect(result.error).toMatchObject({ code: 'STORAGE_CLOSED', details: { operation: 'migrate' } })
    })

    test("with the host's own pool: closed after close(), the pool stays open; ending the pool under it is STORAGE_CLOSED", async () => {
      const pool = new pg.Pool({ connectionString: pgUrl(), max: 2 })
      const schema = freshSchemaName()
      const first = createPgStorage({ pool }, { schema })
      const second = createPgStorage({ pool }, { schema })
      try {
        expect((await first.migrateToLatest()).error).toBeUndefined()
        await first.close()
        expect(await caught(() => first.transaction(readLocations))).toMatchObject({ code: 'STORAGE_CLOSED' })
        expect(await second.transaction(readLocations)).toEqual([])
        await second.dropSchema()
      } finally {
        await pool.end()
      }
      const error = await caught(() => second.transaction(readLocations))
      expect(isOmsError(error)).toBe(true)
      expect(error).toMatchObject({ code: 'STORAGE_CLOSED' })
    })

    test('a database that does not exist is STORAGE_UNAVAILABLE naming it', async () => {
      const url = new URL(pgUrl())
      url.pathname = '/peak_oms_no_such_database'
      const storage = createPgStorage({ connectionString: url.toString() })
      try {
        const error = await caught(() => storage.transaction(readLocations))
        expect(error).toMatchObject({
          code: 'STORAGE_UNAVAILABLE',
          details: { driverCode: '3D000', database: 'peak_oms_no_such_database' },
        })
      } finally {
        await storage.close()
      }
    })

    test('another unexpected database failure is STORAGE_ERROR saying what failed', async () => {
      const storage = await migrated()
      const root = new Kysely<never>({
        dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: pgUrl(), max: 1 }) }),
      })
      try {
        const guard = sql.id(storage.schema, 'host_guard')
        await sql`create function ${guard}() returns trigger language plpgsql as $$
          begin raise exception 'locations are read-only here'; end $$`.execute(root)
        await sql`create trigger host_guard before insert on ${sql.id(storage.schema, 'oms_locations')}
          for each row execute function ${guard}()`.execute(root)
        const error = await caught(() => storage.transaction((tx) => tx.locations.upsert(location)))
        expect(isOmsError(error)).toBe(true)
        expect(error).toMatchObject({
          code: 'STORAGE_ERROR',
          details: { driverCode: 'P0001', operation: 'transaction' },
        })
        expect((error as Error).message).toContain('locations are read-only here')
      } finally {
        await root.destroy()
        await dispose(storage)
      }
    })

    test('serialization failures are re-run maxRetries times, then CONFLICT', async () => {
      const storage = createPgStorage({ connectionString: pgUrl(), poolSize: 1 }, { maxRetries: 3 })
      let runs = 0
      try {
        const error = await caught(() =>
          storage.transaction(async () => {
            runs++
            throw serverError('40001', 'could not serialize access due to concurrent update')
          }),
        )
        expect(runs).toBe(4)
        expect(error).toMatchObject({ code: 'CONFLICT', details: { driverCode: '40001', attempts: 3 } })
      } finally {
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
        await dispose(storage)
      }
    })
  })
} else {
  describe('pg: setup mistakes against a live server are typed errors', () => {
    test.skip('PostgreSQL is not reachable (see the notice above)', () => {})
  })
}
