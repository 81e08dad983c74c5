import type { Storage, StorageCapabilities, StorageTx, TransactionOptions } from '@peak-oms/core'
import {
  createSqlTx,
  migrationProvider,
  type PeakDatabase,
  pgCodec,
  type SqlDialect,
} from '@peak-oms/storage-sql'
import { Kysely, type MigrationResultSet, Migrator, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import type { PgPool, PgStorageConfig, PgStorageOptions } from './pg-storage-config'

export const PG_COLUMN_TYPES = {
  timestamp: 'timestamptz',
  json: 'json',
  boolean: 'boolean',
  serial: 'bigserial',
  autoIncrement: false,
} as const

/** 40001 serialization failure, 40P01 deadlock: the whole transaction may simply run again. */
const RETRYABLE = new Set(['40001', '40P01'])
const sqlState = (error: unknown) =>
  typeof error === 'object' && error !== null && 'code' in error
    ? String((error as { code: unknown }).code)
    : ''

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

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

  constructor(config: PgStorageConfig, options: PgStorageOptions = {}) {
    this.schema = options.schema ?? 'public'
    if (!SCHEMA_NAME.test(this.schema)) {
      throw new Error(
        `invalid schema name "${this.schema}": use lower-case letters, digits and _ (at most 63)`,
      )
    }
    const pool: PgPool =
      'pool' in config
        ? config.pool
        : new pg.Pool({ connectionString: config.connectionString, max: config.poolSize ?? 10 })
    this.#ownedPool = 'pool' in config ? null : pool
    this.#maxRetries = options.maxRetries ?? 10
    const onQuery = options.onQuery
    this.#root = new Kysely<PeakDatabase>({
      // biome-ignore lint/suspicious/noExplicitAny: PostgresDialect's pool type is pg's own; ours is the structural subset.
      dialect: new PostgresDialect({ pool: pool as any }),
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

  /** Creates the schema if needed and runs the migrations. Never throws: the result says what ran. */
  async migrateToLatest(): Promise<MigrationResultSet> {
    try {
      await sql`create schema if not exists ${sql.id(this.schema)}`.execute(this.#root)
    } catch (error) {
      return { error }
    }
    return new Migrator({
      db: this.#db,
      provider: migrationProvider(PG_COLUMN_TYPES),
      migrationTableSchema: this.schema,
    }).migrateToLatest()
  }

  async transaction<T>(fn: (tx: StorageTx) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
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
        const result = await builder.execute((trx) => fn(createSqlTx(trx, dialect)))
        // A sequence created in a transaction exists only once that transaction committed.
        for (const seq of created) this.#knownSequences.add(seq)
        return result
      } catch (error) {
        if (!RETRYABLE.has(sqlState(error)) || attempt >= this.#maxRetries) throw error
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

  async close(): Promise<void> {
    if (this.#ownedPool) await this.#root.destroy()
  }

  /** Drops the schema and everything in it (tests). */
  async dropSchema(): Promise<void> {
    await sql`drop schema if exists ${sql.id(this.schema)} cascade`.execute(this.#root)
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
