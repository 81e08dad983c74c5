import type { OmsError } from '@peak-oms/core'
import type { Database } from 'better-sqlite3'
import type { MigrationResult } from 'kysely'

/** Where the SQLite data lives: a file (or `:memory:`), or a `better-sqlite3` database the host opened. */
export type SqliteStorageConfig = { filename: string } | { database: Database }

export interface SqliteStorageOptions {
  /** How long a writer waits for another process's write lock before retrying, in ms. @default 5000 */
  busyTimeoutMs?: number
  /** How often a transaction that still found the database busy is re-run. @default 20 */
  maxBusyRetries?: number
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
