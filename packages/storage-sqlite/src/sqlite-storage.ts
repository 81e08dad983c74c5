import {
  type Storage,
  type StorageCapabilities,
  StorageClosedError,
  type StorageTx,
  type TransactionOptions,
} from '@peak-oms/core'
import {
  CallbackErrors,
  ConfigChecks,
  classifySqliteError,
  createSqlTx,
  type ErrorContext,
  hasMethods,
  type PeakDatabase,
  rowSequence,
  runMigrations,
  type SqlDialect,
  sqliteCodec,
  toMigrationResult,
  toOmsError,
  toStorageError,
} from '@peak-oms/storage-sql'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, SqliteDialect, sql } from 'kysely'
import type {
  SqliteStorageConfig,
  SqliteStorageOptions,
  StorageMigrationResult,
} from './sqlite-storage-config'

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

const isBusy = (error: unknown) => classifySqliteError(error)?.kind === 'retryable'

/** Rejects a missing or invalid setting with a `ConfigurationError` naming the field. */
function checkConfig(config: unknown, options: unknown): void {
  const checks = new ConfigChecks('SQLite storage')
  if (typeof config !== 'object' || config === null) {
    checks.fail('config', 'give { filename } or { database } (an open better-sqlite3 database)')
  } else {
    const { filename, database } = config as { filename?: unknown; database?: unknown }
    if (filename !== undefined && database !== undefined) {
      checks.fail('config', 'give either filename or database, not both')
    } else if (database !== undefined) {
      if (!hasMethods(database, 'prepare', 'pragma'))
        checks.fail('database', 'must be a better-sqlite3 Database')
      else if ((database as { open?: unknown }).open === false) checks.fail('database', 'is already closed')
    } else if (typeof filename !== 'string' || filename.trim() === '') {
      checks.fail('filename', 'is required: the path of the database file (or ":memory:")')
    }
  }
  if (checks.object('options', options) && options) {
    checks.integer('busyTimeoutMs', options.busyTimeoutMs, 0, ' of milliseconds')
    checks.integer('maxBusyRetries', options.maxBusyRetries, 0)
    checks.callback('onQuery', options.onQuery)
  }
  checks.done()
}

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
  readonly #errors: ErrorContext
  #closed = false

  /**
   * @throws ConfigurationError (`CONFIGURATION`) for a missing or invalid setting;
   *   StorageUnavailableError (`STORAGE_UNAVAILABLE`) when the file cannot be opened (e.g. its directory
   *   does not exist); StorageFailureError (`STORAGE_ERROR`) when it is not a usable database.
   */
  constructor(config: SqliteStorageConfig, options: SqliteStorageOptions = {}) {
    checkConfig(config, options)
    this.#owned = 'filename' in config
    this.#errors = {
      storage: this.name,
      classify: classifySqliteError,
      target: { filename: 'filename' in config ? config.filename : config.database.name },
    }
    let database: BetterSqlite3.Database | undefined
    try {
      database = 'filename' in config ? new BetterSqlite3(config.filename) : config.database
      database.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`)
      if (database.name !== ':memory:' && database.name !== '') database.pragma('journal_mode = WAL')
      database.pragma('synchronous = NORMAL')
      database.pragma('cache_size = -65536')
      // Checkpoint the WAL less often: each checkpoint syncs the file, and fewer, larger ones cost less in total.
      database.pragma('wal_autocheckpoint = 10000')
    } catch (error) {
      if (this.#owned) database?.close()
      throw toOmsError(error, 'open', this.#errors)
    }
    this.#database = database
    this.#maxBusyRetries = options.maxBusyRetries ?? 20
    const onQuery = options.onQuery
    this.#db = new Kysely<PeakDatabase>({
      dialect: new SqliteDialect({ database: withStatementCache(this.#database) }),
      ...(onQuery ? { log: (e) => onQuery({ sql: e.query.sql, durationMs: e.queryDurationMillis }) } : {}),
    })
  }

  /**
   * Creates or upgrades the schema; a no-op when it is up to date. Records what ran in `oms_migration`
   * (adopting what an older version recorded in `kysely_migration`). Never throws: the result's `error`
   * is a typed `OmsError`.
   */
  async migrateToLatest(): Promise<StorageMigrationResult> {
    if (this.#closed) return { error: new StorageClosedError({ storage: this.name, operation: 'migrate' }) }
    const result = await runMigrations({ dialect: 'sqlite', db: this.#db, types: SQLITE_COLUMN_TYPES })
    return toMigrationResult(result, this.#errors)
  }

  /**
   * Errors the callback throws come back unchanged; database failures come back as typed storage errors
   * (`STORAGE_NOT_MIGRATED`, `STORAGE_CLOSED`, `STORAGE_UNAVAILABLE`, `STORAGE_ERROR`, or `CONFLICT`
   * when the database stayed busy through every re-run).
   */
  async transaction<T>(fn: (tx: StorageTx) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    if (this.#closed) throw new StorageClosedError({ storage: this.name, operation: 'transaction' })
    const fromCallback = new CallbackErrors()
    for (let attempt = 0; ; attempt++) {
      try {
        // One connection, held for the whole transaction (kysely queues other callers in this process).
        return await this.#db.connection().execute(async (conn) => {
          await sql.raw(options.readOnly ? 'begin' : 'begin immediate').execute(conn)
          try {
            const result = await fromCallback.run(() => fn(createSqlTx(conn, dialect)))
            await sql.raw('commit').execute(conn)
            return result
          } catch (error) {
            await sql.raw('rollback').execute(conn)
            throw error
          }
        })
      } catch (error) {
        if (!isBusy(error) || attempt >= this.#maxBusyRetries)
          throw toStorageError(error, this.#errors, {
            attempts: attempt,
            thrownByCallback: fromCallback.has(error),
          })
        await new Promise((r) => setTimeout(r, Math.random() * 10 * (attempt + 1)))
      }
    }
  }

  /** Closes the database when Peak OMS opened it (a host's own database stays open). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
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
