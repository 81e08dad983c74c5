import type { Storage, StorageCapabilities, StorageTx, TransactionOptions } from '@peak-oms/core'
import {
  createSqlTx,
  migrationProvider,
  type PeakDatabase,
  rowSequence,
  type SqlDialect,
  sqliteCodec,
} from '@peak-oms/storage-sql'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, type MigrationResultSet, Migrator, SqliteDialect, sql } from 'kysely'
import type { SqliteStorageConfig, SqliteStorageOptions } from './sqlite-storage-config'

const dialect: SqlDialect = {
  name: 'sqlite',
  codec: sqliteCodec,
  types: { json: 'text', timestamp: 'integer' },
  skipLocked: false,
  writableCtes: false,
  nextSequence: rowSequence,
}

export const SQLITE_COLUMN_TYPES = {
  timestamp: 'integer',
  json: 'text',
  boolean: 'integer',
  serial: 'integer',
  autoIncrement: true,
} as const

const isBusy = (error: unknown) =>
  typeof error === 'object' &&
  error !== null &&
  'code' in error &&
  /^SQLITE_BUSY/.test(String((error as { code: unknown }).code))

/**
 * Kysely prepares every query anew; preparing costs as much as running a small statement. The SQL text of
 * a given query shape is always the same, so prepared statements are kept and reused (bounded).
 */
function withStatementCache(database: BetterSqlite3.Database, max = 500): BetterSqlite3.Database {
  const cache = new Map<string, BetterSqlite3.Statement>()
  return new Proxy(database, {
    get(target, property, receiver) {
      if (property !== 'prepare') {
        const value = Reflect.get(target, property, receiver)
        return typeof value === 'function' ? value.bind(target) : value
      }
      return (source: string) => {
        let statement = cache.get(source)
        if (!statement) {
          if (cache.size >= max) cache.delete(cache.keys().next().value as string)
          statement = target.prepare(source)
          cache.set(source, statement)
        }
        return statement
      }
    },
  })
}

/**
 * Peak OMS storage on embedded SQLite: WAL, `busy_timeout`, and `BEGIN IMMEDIATE` for every write
 * transaction, so writers queue for the lock up front instead of failing on upgrade. Several processes
 * may share one file.
 */
export class SqliteStorage implements Storage {
  readonly name = 'sqlite'
  readonly capabilities: StorageCapabilities = { multiProcess: true, retriesTransactions: true }
  readonly #db: Kysely<PeakDatabase>
  readonly #database: BetterSqlite3.Database
  readonly #owned: boolean
  readonly #maxBusyRetries: number

  constructor(config: SqliteStorageConfig, options: SqliteStorageOptions = {}) {
    this.#owned = 'filename' in config
    this.#database = 'filename' in config ? new BetterSqlite3(config.filename) : config.database
    this.#maxBusyRetries = options.maxBusyRetries ?? 20
    this.#database.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`)
    if (this.#database.name !== ':memory:' && this.#database.name !== '')
      this.#database.pragma('journal_mode = WAL')
    this.#database.pragma('synchronous = NORMAL')
    this.#database.pragma('cache_size = -65536')
    // Checkpoint the WAL less often: each checkpoint syncs the file, and fewer, larger ones cost less in total.
    this.#database.pragma('wal_autocheckpoint = 10000')
    const onQuery = options.onQuery
    this.#db = new Kysely<PeakDatabase>({
      dialect: new SqliteDialect({ database: withStatementCache(this.#database) }),
      ...(onQuery ? { log: (e) => onQuery({ sql: e.query.sql, durationMs: e.queryDurationMillis }) } : {}),
    })
  }

  /** Creates or upgrades the schema. Never throws: the result says what ran and any error. */
  migrateToLatest(): Promise<MigrationResultSet> {
    return new Migrator({ db: this.#db, provider: migrationProvider(SQLITE_COLUMN_TYPES) }).migrateToLatest()
  }

  async transaction<T>(fn: (tx: StorageTx) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        // One connection, held for the whole transaction (kysely queues other callers in this process).
        return await this.#db.connection().execute(async (conn) => {
          await sql.raw(options.readOnly ? 'begin' : 'begin immediate').execute(conn)
          try {
            const result = await fn(createSqlTx(conn, dialect))
            await sql.raw('commit').execute(conn)
            return result
          } catch (error) {
            await sql.raw('rollback').execute(conn)
            throw error
          }
        })
      } catch (error) {
        if (!isBusy(error) || attempt >= this.#maxBusyRetries) throw error
        await new Promise((r) => setTimeout(r, Math.random() * 10 * (attempt + 1)))
      }
    }
  }

  async close(): Promise<void> {
    if (this.#owned) await this.#db.destroy()
  }
}

/**
 * Opens Peak OMS storage on SQLite. Call `migrateToLatest()` once before use.
 *
 * @example
 * ```ts
 * const storage = createSqliteStorage({ filename: 'oms.db' })
 * await storage.migrateToLatest()
 * const oms = createOms({ storage })
 * ```
 */
export function createSqliteStorage(
  config: SqliteStorageConfig,
  options?: SqliteStorageOptions,
): SqliteStorage {
  return new SqliteStorage(config, options)
}
