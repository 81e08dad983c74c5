import type { Database } from 'better-sqlite3'

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
