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
  classifyPgError,
  createSqlTx,
  type ErrorContext,
  hasMethods,
  type PeakDatabase,
  pgCodec,
  runMigrations,
  type SqlDialect,
  type StorageTarget,
  toMigrationResult,
  toOmsError,
  toStorageError,
} from '@peak-oms/storage-sql'
import { Kysely, sql } from 'kysely'
import pg from 'pg'
import type { PgPool, PgStorageConfig, PgStorageOptions, StorageMigrationResult } from './pg-storage-config'
import { SchemaScopedPostgresDialect } from './schema-introspector'

export const PG_COLUMN_TYPES = {
  timestamp: 'timestamptz',
  json: 'json',
  boolean: 'boolean',
  serial: 'bigserial',
  autoIncrement: false,
} as const

/** 40001 serialization failure, 40P01 deadlock: the whole transaction may simply run again. */
const isRetryable = (error: unknown) => classifyPgError(error)?.kind === 'retryable'

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

/** Rejects a missing or invalid setting with a `ConfigurationError` naming the field. */
function checkConfig(config: unknown, options: unknown): void {
  const checks = new ConfigChecks('PostgreSQL storage')
  if (typeof config !== 'object' || config === null) {
    checks.fail('config', 'give { connectionString } or { pool } (a pg Pool)')
  } else {
    const { connectionString, pool, poolSize } = config as Record<string, unknown>
    if (connectionString !== undefined && pool !== undefined) {
      checks.fail('config', 'give either connectionString or pool, not both')
    } else if (pool !== undefined) {
      if (!hasMethods(pool, 'connect', 'end'))
        checks.fail('pool', 'must be a pg Pool (with connect() and end())')
      if (poolSize !== undefined)
        checks.fail('poolSize', 'only applies with connectionString; size your own pool')
    } else if (typeof connectionString !== 'string' || connectionString.trim() === '') {
      // Never echo the value: it may hold a password.
      checks.fail('connectionString', 'is required: a postgres:// URL (or give { pool })')
    } else {
      if (!parses(connectionString)) {
        checks.fail(
          'connectionString',
          'is not a valid postgres:// URL: check the port, and percent-encode special characters (# / ? @ :) in the user and password',
        )
      }
      checks.integer('poolSize', poolSize, 1)
    }
  }
  if (checks.object('options', options) && options) {
    const { schema } = options
    if (schema !== undefined && (typeof schema !== 'string' || !SCHEMA_NAME.test(schema))) {
      checks.fail(
        'schema',
        `${typeof schema === 'string' ? `"${schema.slice(0, 80)}"` : typeof schema} is not a valid schema name: use lower-case letters, digits and _, starting with a letter or _ (at most 63)`,
      )
    }
    checks.integer('maxRetries', options.maxRetries, 0)
    checks.callback('onQuery', options.onQuery)
  }
  checks.done()
}

/**
 * Whether pg accepts the connection string. Parsing it the way pg does (a client that never connects) catches
 * it here: pg's own parse error quotes the whole string, password included.
 */
function parses(connectionString: string): boolean {
  try {
    new pg.Client({ connectionString })
    return true
  } catch {
    return false
  }
}

/**
 * Host, port and database of a connection string or pool, for error messages. Never the user or
 * password; nothing at all when the string does not parse.
 */
function describeTarget(config: PgStorageConfig): StorageTarget {
  if (!('pool' in config)) return parseConnectionString(config.connectionString)
  const options = (config.pool as { options?: Record<string, unknown> }).options
  if (typeof options !== 'object' || options === null) return {}
  const { host, port, database, connectionString } = options
  return {
    ...(typeof connectionString === 'string' ? parseConnectionString(connectionString) : {}),
    ...(typeof host === 'string' ? { host } : {}),
    ...(typeof port === 'number' ? { port } : {}),
    ...(typeof database === 'string' ? { database } : {}),
  }
}

function parseConnectionString(connectionString: string): StorageTarget {
  try {
    const url = new URL(connectionString)
    const host = url.hostname ? decodeURIComponent(url.hostname) : (url.searchParams.get('host') ?? undefined)
    const port = Number(url.port || url.searchParams.get('port') || 5432)
    const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || undefined
    return {
      ...(host ? { host } : {}),
      ...(Number.isInteger(port) ? { port } : {}),
      ...(database ? { database } : {}),
    }
  } catch {
    // Not a URL (e.g. a socket path): the error's own address is all there is. The parse error itself is
    // dropped: it quotes the whole string.
    return {}
  }
}

/**
 * Peak OMS storage on PostgreSQL, for many app instances sharing one database. READ COMMITTED with
 * conditional `UPDATE … WHERE … RETURNING` writes, rows touched in canonical order, `FOR UPDATE SKIP LOCKED`
 * claims, CHECK constraints backing I1, and a bounded re-run of the whole transaction on 40001/40P01.
 */
export class PgStorage implements Storage {
  readonly name = 'pg'
  readonly capabilities: StorageCapabilities = { multiProcess: true, retriesTransactions: true }
  readonly schema: string
  /** Kysely bound to the schema. */
  readonly #db: Kysely<PeakDatabase>
  readonly #root: Kysely<PeakDatabase>
  readonly #ownedPool: PgPool | null
  readonly #maxRetries: number
  readonly #dialect: Omit<SqlDialect, 'nextSequence'>
  readonly #knownSequences = new Set<string>()
  readonly #errors: ErrorContext
  #closed = false

  /** @throws ConfigurationError (`CONFIGURATION`) for a missing or invalid setting, naming the field. */
  constructor(config: PgStorageConfig, options: PgStorageOptions = {}) {
    checkConfig(config, options)
    this.schema = options.schema ?? 'public'
    this.#errors = { storage: this.name, classify: classifyPgError, target: describeTarget(config) }
    let pool: PgPool
    if ('pool' in config) {
      pool = config.pool
    } else {
      const owned = new pg.Pool({ connectionString: config.connectionString, max: config.poolSize ?? 10 })
      // An idle connection the server dropped (restart, failover) is an 'error' event on the pool; without a
      // listener it would end the process. The pool discards that connection and opens a new one on demand.
      owned.on('error', () => {})
      pool = owned
    }
    this.#ownedPool = 'pool' in config ? null : pool
    this.#maxRetries = options.maxRetries ?? 10
    const onQuery = options.onQuery
    this.#root = new Kysely<PeakDatabase>({
      // biome-ignore lint/suspicious/noExplicitAny: PostgresDialect's pool type is pg's own; ours is the structural subset.
      dialect: new SchemaScopedPostgresDialect({ pool: pool as any }, this.schema),
      ...(onQuery ? { log: (e) => onQuery({ sql: e.query.sql, durationMs: e.queryDurationMillis }) } : {}),
    })
    this.#db = this.#root.withSchema(this.schema)
    this.#dialect = {
      name: 'pg',
      codec: pgCodec,
      types: { json: 'json', timestamp: 'timestamptz' },
      schema: this.schema,
      skipLocked: true,
      writableCtes: true,
    }
  }

  /**
   * Creates the schema if needed and creates or upgrades the tables; a no-op when they are up to date.
   * Records what ran in `<schema>.oms_migration` (adopting what an older version recorded in
   * `<schema>.kysely_migration`). Never throws: the result's `error` is a typed `OmsError`.
   */
  async migrateToLatest(): Promise<StorageMigrationResult> {
    if (this.#closed) return { error: new StorageClosedError({ storage: this.name, operation: 'migrate' }) }
    try {
      await sql`create schema if not exists ${sql.id(this.schema)}`.execute(this.#root)
    } catch (error) {
      return { error: toOmsError(error, 'migrate', this.#errors) }
    }
    const result = await runMigrations({
      dialect: 'pg',
      db: this.#db,
      schema: this.schema,
      types: PG_COLUMN_TYPES,
    })
    return toMigrationResult(result, this.#errors)
  }

  /**
   * Errors the callback throws come back unchanged; database failures come back as typed storage errors
   * (`STORAGE_NOT_MIGRATED`, `STORAGE_CLOSED`, `STORAGE_UNAVAILABLE`, `STORAGE_ERROR`, or `CONFLICT` after
   * `maxRetries` re-runs on serialization failures and deadlocks).
   */
  async transaction<T>(fn: (tx: StorageTx) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    if (this.#closed) throw new StorageClosedError({ storage: this.name, operation: 'transaction' })
    const fromCallback = new CallbackErrors()
    for (let attempt = 0; ; attempt++) {
      try {
        let builder = this.#db.transaction()
        if (options.readOnly) builder = builder.setAccessMode('read only')
        if (options.isolation === 'snapshot') builder = builder.setIsolationLevel('repeatable read')
        const created = new Set<string>()
        const dialect: SqlDialect = {
          ...this.#dialect,
          nextSequence: (db, name) => this.#nextSequence(db, name, created),
        }
        const result = await builder.execute((trx) => fromCallback.run(() => fn(createSqlTx(trx, dialect))))
        // A sequence created in a transaction exists only once that transaction committed.
        for (const seq of created) this.#knownSequences.add(seq)
        return result
      } catch (error) {
        if (!isRetryable(error) || attempt >= this.#maxRetries)
          throw toStorageError(error, this.#errors, {
            attempts: attempt,
            thrownByCallback: fromCallback.has(error),
          })
        await new Promise((r) => setTimeout(r, Math.random() * 5 * 2 ** Math.min(attempt, 6)))
      }
    }
  }

  /**
   * Order and fulfillment numbers come from one PostgreSQL sequence per counter (per day): `nextval`
   * never blocks and holds no row lock, so numbering does not serialise order creation. A rolled-back
   * order leaves a gap, which is allowed.
   */
  async #nextSequence(db: Kysely<PeakDatabase>, name: string, created: Set<string>): Promise<number> {
    const seq = `oms_seq_${name.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`.slice(0, 63)
    const qualified = sql`${sql.id(this.schema, seq)}`
    if (!this.#knownSequences.has(seq)) {
      // Created in a savepoint: if another transaction creates it at the same moment, ours rolls back to
      // the savepoint and uses theirs.
      await sql`savepoint oms_seq`.execute(db)
      try {
        await sql`create sequence if not exists ${qualified}`.execute(db)
        await sql`release savepoint oms_seq`.execute(db)
      } catch {
        await sql`rollback to savepoint oms_seq`.execute(db)
      }
      created.add(seq)
    }
    const { rows } = await sql<{
      v: string
    }>`select nextval(${sql.lit(`${this.schema}.${seq}`)}::regclass) as v`.execute(db)
    return Number(rows[0]?.v)
  }

  /** Ends the pool when Peak OMS opened it (a host's own pool stays open). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#ownedPool) await this.#root.destroy()
  }

  /** Drops the schema and everything in it (tests). */
  async dropSchema(): Promise<void> {
    if (this.#closed) throw new StorageClosedError({ storage: this.name, operation: 'migrate' })
    try {
      await sql`drop schema if exists ${sql.id(this.schema)} cascade`.execute(this.#root)
    } catch (error) {
      throw toOmsError(error, 'migrate', this.#errors)
    }
  }
}

/**
 * Opens Peak OMS storage on PostgreSQL. Call `migrateToLatest()` once (per deployment) before use.
 *
 * @example
 * ```ts
 * const storage = createPgStorage({ connectionString: process.env.DATABASE_URL }, { schema: 'oms' })
 * await storage.migrateToLatest()
 * const oms = createOms({ storage })
 * ```
 */
export function createPgStorage(config: PgStorageConfig, options?: PgStorageOptions): PgStorage {
  return new PgStorage(config, options)
}
