import { OmsError } from './oms-error'

/** What the storage was asked to do when it failed. */
export type StorageOperation = 'open' | 'migrate' | 'transaction'

export type StorageErrorCode =
  | 'STORAGE_NOT_MIGRATED'
  | 'STORAGE_CLOSED'
  | 'STORAGE_UNAVAILABLE'
  | 'STORAGE_ERROR'

export interface StorageErrorInit {
  /** The backend's `Storage.name`: `sqlite`, `pg`, `memory`. */
  storage: string
  operation: StorageOperation
  /**
   * The driver's own code, when there is one: a PostgreSQL SQLSTATE (`42P01`), a SQLite result code
   * (`SQLITE_CANTOPEN`) or a system error code (`ECONNREFUSED`).
   */
  driverCode?: string
}

/**
 * A storage backend failed for a reason outside the domain: the database is missing its schema, closed,
 * unreachable, or failed in some other way. Branch on `code`. Never carries credentials or row data: its
 * `cause`, when present, is a copy of the driver error with only the fields that are safe to log.
 */
export class StorageError extends OmsError {
  declare readonly code: StorageErrorCode
  readonly storage: string
  readonly operation: StorageOperation

  constructor(
    code: StorageErrorCode,
    message: string,
    init: StorageErrorInit & { details?: Record<string, unknown>; cause?: unknown },
  ) {
    const { details, cause, ...base } = init
    super(code, message, {
      cause,
      details: { ...withoutUndefined(base), ...withoutUndefined(details ?? {}) },
    })
    this.storage = init.storage
    this.operation = init.operation
  }
}

export interface StorageNotMigratedInit extends StorageErrorInit {
  /** The missing table (`oms_locations`), when known. */
  table?: string
  /** The missing column, when the schema is older than this version of Peak OMS. */
  column?: string
  /** The missing PostgreSQL schema, when the whole schema is missing. */
  schema?: string
}

/** `STORAGE_NOT_MIGRATED`: a Peak OMS table or column does not exist. Call `migrateToLatest()`. */
export class StorageNotMigratedError extends StorageError {
  constructor(init: StorageNotMigratedInit, options: { cause?: unknown } = {}) {
    const { table, column, schema, ...base } = init
    const missing = column
      ? `column ${table ? `${table}.` : ''}${column} (the schema is older than this version of Peak OMS)`
      : table
        ? `table ${table}`
        : schema
          ? `schema "${schema}"`
          : 'a Peak OMS table'
    super(
      'STORAGE_NOT_MIGRATED',
      `${init.storage} storage is not migrated: ${missing} does not exist. Call migrateToLatest() once before use, and again after upgrading Peak OMS`,
      { ...base, details: { table, column, schema }, cause: options.cause },
    )
  }
}

/** `STORAGE_CLOSED`: the storage was used after `close()`, or its database or pool was closed under it. */
export class StorageClosedError extends StorageError {
  constructor(init: StorageErrorInit & { reason?: string }, options: { cause?: unknown } = {}) {
    const { reason, ...base } = init
    super(
      'STORAGE_CLOSED',
      `${init.storage} storage is closed (${reason ?? 'close() was called'}): it cannot ${verb(init.operation)}. Create a new storage instead of reusing a closed one`,
      { ...base, details: { reason }, cause: options.cause },
    )
  }
}

export interface StorageUnavailableInit extends StorageErrorInit {
  /** What went wrong, in a few words: `connection refused`, `the directory does not exist`. */
  reason: string
  /** What to do about it. */
  hint: string
  /** Where the database is. Never user names or passwords. */
  host?: string
  port?: number
  database?: string
  filename?: string
}

/**
 * `STORAGE_UNAVAILABLE`: the database could not be reached or opened. Retry once the database is up or the
 * address, file path or credentials are fixed.
 */
export class StorageUnavailableError extends StorageError {
  constructor(init: StorageUnavailableInit, options: { cause?: unknown } = {}) {
    const { reason, hint, host, port, database, filename, ...base } = init
    const address = host !== undefined ? (port !== undefined ? `${host}:${port}` : host) : undefined
    const where = filename
      ? ` file ${filename}`
      : address
        ? ` at ${address}${database ? ` (database ${database})` : ''}`
        : database
          ? ` (database ${database})`
          : ''
    super(
      'STORAGE_UNAVAILABLE',
      `${init.storage} storage cannot ${filename ? 'open' : 'reach'} its database${where}: ${reason}${init.driverCode ? ` [${init.driverCode}]` : ''}. ${hint}`,
      { ...base, details: { reason, host, port, database, filename }, cause: options.cause },
    )
  }
}

/** `STORAGE_ERROR`: any other database failure. The message says what failed. */
export class StorageFailureError extends StorageError {
  constructor(
    init: StorageErrorInit & { what: string; hint?: string; details?: Record<string, unknown> },
    options: { cause?: unknown } = {},
  ) {
    const { what, hint, details, ...base } = init
    const code = init.driverCode ? ` [${init.driverCode}]` : ''
    super(
      'STORAGE_ERROR',
      `${init.storage} storage could not ${verb(init.operation)}: ${what}${code}${hint ? `. ${hint}` : ''}`,
      { ...base, details, cause: options.cause },
    )
  }
}

export const isStorageError = (error: unknown): error is StorageError =>
  error instanceof StorageError ||
  (typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    typeof error.code === 'string' &&
    error.code.startsWith('STORAGE_') &&
    'operation' in error)

const verb = (operation: StorageOperation) =>
  operation === 'open' ? 'open' : operation === 'migrate' ? 'migrate' : 'run a transaction'

const withoutUndefined = (record: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined))
