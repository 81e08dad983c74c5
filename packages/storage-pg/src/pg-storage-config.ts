import type { OmsError } from '@peak-oms/core'
import type { MigrationResult } from 'kysely'
/**
 * The part of `pg.Pool` Peak OMS uses. We don't use the type from `pg` here so the host's own `pg`
 * version is accepted.
 */
export interface PgPool {
  connect(): Promise<PgPoolClient>
  end(): Promise<void>
}

export interface PgPoolClient {
  query<R = unknown>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }>
  release(error?: boolean | Error): void
}

/** A connection string (Peak OMS opens and closes the pool) or a pool the host owns. */
export type PgStorageConfig = { connectionString: string; poolSize?: number } | { pool: PgPool }

export interface PgStorageOptions {
  /** Postgres schema for every Peak OMS table; created by `migrateToLatest()`. @default 'public' */
  schema?: string
  /** How often a transaction is re-run after a serialization failure or deadlock (40001, 40P01). @default 10 */
  maxRetries?: number
  /** Called after every query with its SQL (parameters never included) and duration: for slow-query logs. */
  onQuery?: (query: { sql: string; durationMs: number }) => void
}

/**
 * What `migrateToLatest()` returns: Kysely's `MigrationResultSet`, with `error` a typed `OmsError`
 * (`STORAGE_UNAVAILABLE`, `STORAGE_CLOSED`, `STORAGE_ERROR` or `CONFLICT`).
 */
export interface StorageMigrationResult {
  /** Set when migrating failed; nothing after the failed migration ran. */
  readonly error?: OmsError
  /** Each migration that ran, failed or was not run after a failure; empty when already up to date. */
  readonly results?: MigrationResult[]
}
