import {
  ConflictError,
  isOmsError,
  type OmsError,
  StorageClosedError,
  StorageFailureError,
  StorageNotMigratedError,
  type StorageOperation,
  StorageUnavailableError,
} from '@peak-oms/core'
import type { MigrationResult, MigrationResultSet } from 'kysely'

/**
 * What a driver error means for the caller. `safe` says whether the driver's message (and a copy of the
 * error's identifying fields) may be shown: false when it can echo row values or a user name.
 */
export type Classification = { driverCode?: string; safe: boolean } & (
  | { kind: 'not-migrated'; table?: string; column?: string; schema?: string }
  | { kind: 'closed'; reason: string }
  | { kind: 'unavailable'; reason: string; hint: string; host?: string; port?: number }
  | { kind: 'retryable' }
  | { kind: 'failure'; what: string; table?: string; column?: string; constraint?: string }
)

/** Recognises one driver's errors. Null: not a driver error (e.g. the transaction callback's own error). */
export type ErrorClassifier = (error: unknown) => Classification | null

/** Where the database is, for messages. Never user names or passwords. */
export interface StorageTarget {
  host?: string
  port?: number
  database?: string
  filename?: string
}

export interface ErrorContext {
  /** `Storage.name`. */
  storage: string
  classify: ErrorClassifier
  target: StorageTarget
}

/**
 * Turns whatever a transaction threw into what the caller should see: `OmsError`s pass through untouched
 * and driver errors become typed storage errors. Any other error passes through when the callback threw it
 * (`thrownByCallback`: its own error); one from connecting, beginning or committing becomes `STORAGE_ERROR`.
 * `attempts`: how often a retryable failure was already re-run.
 */
export function toStorageError(
  error: unknown,
  context: ErrorContext,
  options: { attempts: number; thrownByCallback: boolean },
): unknown {
  if (isOmsError(error)) return error
  const typed = classified(error, 'transaction', context, options.attempts)
  if (typed) return typed
  return options.thrownByCallback ? error : unexpected(error, 'transaction', context)
}

/**
 * Runs the transaction callback and remembers what it threw, so `toStorageError` can tell the callback's
 * own errors from the database's.
 */
export class CallbackErrors {
  readonly #thrown = new WeakSet<object>()
  #primitive: unknown[] = []

  async run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (error) {
      if (typeof error === 'object' && error !== null) this.#thrown.add(error)
      else this.#primitive.push(error)
      throw error
    }
  }

  has(error: unknown): boolean {
    return typeof error === 'object' && error !== null
      ? this.#thrown.has(error)
      : this.#primitive.includes(error)
  }
}

/** Opening or migrating: every failure becomes an `OmsError`, even one no classifier knows. */
export function toOmsError(error: unknown, operation: StorageOperation, context: ErrorContext): OmsError {
  if (isOmsError(error)) return error
  return classified(error, operation, context, 0) ?? unexpected(error, operation, context)
}

/** Kysely's `MigrationResultSet`, with a typed `error`. */
export interface StorageMigrationResult {
  /**
   * Set when migrating failed: `STORAGE_UNAVAILABLE`, `STORAGE_CLOSED`, `STORAGE_ERROR` (a migration
   * failed; the message says what the database answered) or `CONFLICT`.
   */
  readonly error?: OmsError
  /** Each migration that ran (or failed, or was not run after a failure); empty when already up to date. */
  readonly results?: MigrationResult[]
}

export function toMigrationResult(result: MigrationResultSet, context: ErrorContext): StorageMigrationResult {
  const results = result.results ? { results: result.results } : {}
  return result.error === undefined
    ? results
    : { ...results, error: toOmsError(result.error, 'migrate', context) }
}

function classified(
  error: unknown,
  operation: StorageOperation,
  context: ErrorContext,
  attempts: number,
): OmsError | null {
  const found = context.classify(error)
  if (!found) return null
  const base = { storage: context.storage, operation, driverCode: found.driverCode }
  const cause = found.safe ? safeCopy(error) : undefined
  switch (found.kind) {
    case 'not-migrated':
      return new StorageNotMigratedError(
        { ...base, table: found.table, column: found.column, schema: found.schema },
        { cause },
      )
    case 'closed':
      return new StorageClosedError({ ...base, reason: found.reason }, { cause })
    case 'unavailable':
      return new StorageUnavailableError(
        {
          ...base,
          reason: found.reason,
          hint: found.hint,
          ...context.target,
          ...(found.host !== undefined ? { host: found.host } : {}),
          ...(found.port !== undefined ? { port: found.port } : {}),
        },
        { cause },
      )
    case 'retryable':
      return new ConflictError(
        `${context.storage} storage: the transaction still conflicted with concurrent transactions after ${attempts} re-run(s) [${found.driverCode}]; retry it`,
        { storage: context.storage, operation, driverCode: found.driverCode, attempts },
      )
    case 'failure':
      return new StorageFailureError(
        {
          ...base,
          what: found.what,
          details: { table: found.table, column: found.column, constraint: found.constraint },
        },
        { cause },
      )
  }
}

/** A migration or opening failed with an error no classifier knows (e.g. Kysely's own migration checks). */
function unexpected(error: unknown, operation: StorageOperation, context: ErrorContext): OmsError {
  const message = error instanceof Error ? firstLine(error.message) : 'unknown error'
  return new StorageFailureError(
    {
      storage: context.storage,
      operation,
      what: message,
      ...(/^corrupted migrations/.test(message)
        ? {
            hint: 'The migration table lists migrations this version of Peak OMS does not know: use the version that migrated this database or a newer one',
          }
        : {}),
    },
    { cause: safeCopy(error) },
  )
}

const SAFE_FIELDS = [
  'code',
  'errno',
  'syscall',
  'address',
  'port',
  'hostname',
  'severity',
  'schema',
  'table',
  'column',
  'constraint',
  'routine',
] as const

/**
 * A copy of a driver error with only fields that identify what failed: never the server's `detail`
 * (row values), `hint`, `where`, query text or parameters, nor any connection option.
 */
export function safeCopy(error: unknown, depth = 0): Error | undefined {
  if (!(error instanceof Error) || depth > 3) return undefined
  const copy = new Error(error.message)
  copy.name = error.name
  copy.stack = error.stack
  const source = error as unknown as Record<string, unknown>
  const target = copy as unknown as Record<string, unknown>
  for (const field of SAFE_FIELDS) {
    const value = source[field]
    if (typeof value === 'string' || typeof value === 'number') target[field] = value
  }
  const inner = safeCopy(error.cause, depth + 1)
  if (inner) Object.defineProperty(copy, 'cause', { value: inner, enumerable: false, writable: true })
  if (error instanceof AggregateError) {
    target.errors = error.errors.map((e: unknown) => safeCopy(e, depth + 1)).filter(Boolean)
  }
  return copy
}

const firstLine = (text: string) => text.split('\n', 1)[0] ?? ''

const errorFields = (error: unknown): { message: string; code?: string; name: string } | null => {
  if (typeof error !== 'object' || error === null) return null
  const e = error as { message?: unknown; code?: unknown; name?: unknown }
  if (typeof e.message !== 'string') return null
  return {
    message: e.message,
    name: typeof e.name === 'string' ? e.name : 'Error',
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
  }
}

/** Kysely's answer once `destroy()` ran. */
const KYSELY_DESTROYED = 'driver has already been destroyed'

const closed = (reason: string, driverCode?: string): Classification => ({
  kind: 'closed',
  reason,
  safe: true,
  ...(driverCode ? { driverCode } : {}),
})

/** better-sqlite3 errors (`SqliteError` with a `SQLITE_*` code, and its `TypeError`s). */
export const classifySqliteError: ErrorClassifier = (error) => {
  const e = errorFields(error)
  if (!e) return null
  if (e.message === KYSELY_DESTROYED) return closed('close() was called')
  if (/database connection is not open/i.test(e.message)) return closed('the SQLite database was closed')
  if (/Cannot open database because the directory does not exist/.test(e.message)) {
    return {
      kind: 'unavailable',
      reason: 'the directory does not exist',
      hint: 'Create the directory or fix the filename',
      safe: true,
    }
  }
  const code = e.code
  if (!code?.startsWith('SQLITE_')) return null
  if (code.startsWith('SQLITE_BUSY')) return { kind: 'retryable', driverCode: code, safe: true }
  if (code.startsWith('SQLITE_CANTOPEN')) {
    return {
      kind: 'unavailable',
      reason: 'the file cannot be opened',
      hint: 'Check that the directory exists and that this process may read and write it',
      driverCode: code,
      safe: true,
    }
  }
  const table = /no such table: (?:\w+\.)?(oms_\w+)/.exec(e.message)?.[1]
  if (table) return { kind: 'not-migrated', table, driverCode: code, safe: true }
  const column =
    /no such column: (?:\w+\.)?(\w+)/.exec(e.message) ??
    /table (oms_\w+) has no column named (\w+)/.exec(e.message)
  if (column) {
    const [, first, second] = column
    return second
      ? { kind: 'not-migrated', table: first, column: second, driverCode: code, safe: true }
      : { kind: 'not-migrated', column: first, driverCode: code, safe: true }
  }
  // SQLite's messages name tables, columns and constraints, never values.
  return { kind: 'failure', what: firstLine(e.message), driverCode: code, safe: true }
}

/** System errors of a connection attempt (Node `net`/`dns`). */
const NETWORK_CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'the connection was reset',
  ENOTFOUND: 'the host name could not be resolved',
  EAI_AGAIN: 'the host name could not be resolved (DNS lookup timed out)',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  EPIPE: 'the connection was closed by the server',
  ENOENT: 'the Unix socket does not exist',
}

/** pg's own errors (no SQLSTATE) that mean the server could not be reached or dropped the connection. */
const PG_CONNECTION_MESSAGES: readonly [RegExp, string][] = [
  [/^Connection terminated due to connection timeout/, 'the connection timed out'],
  [/^Connection terminated/, 'the connection was terminated'],
  [/^timeout exceeded when trying to connect/, 'timed out waiting for a connection from the pool'],
  [/^timeout expired/, 'the connection timed out'],
  [/^Client has encountered a connection error/, 'the connection failed'],
  [/^The server does not support SSL connections/, 'the server does not support SSL connections'],
  [/^There was an error establishing an SSL connection/, 'SSL could not be established'],
  [/^Query read timeout/, 'the server did not answer in time'],
]

/** PostgreSQL (`pg`) errors: SQLSTATEs from the server, system errors and pg's own connection errors. */
export const classifyPgError: ErrorClassifier = (error) => {
  if (error instanceof AggregateError && error.errors.length > 0) {
    // net's happy-eyeballs connect reports every address it tried; the first says enough.
    const first = classifyPgError(error.errors[0])
    if (first) return first
  }
  const e = errorFields(error)
  if (!e) return null
  if (e.message === KYSELY_DESTROYED) return closed('close() was called')
  if (/^Cannot use a pool after calling end on the pool/.test(e.message))
    return closed('the connection pool was ended')
  if (/^Client was closed and is not queryable/.test(e.message)) return closed('the connection was closed')
  const code = e.code
  if (code === 'ERR_INVALID_URL') {
    // pg could not parse the pool's connection string; the error quotes all of it, password included.
    return {
      kind: 'failure',
      what: 'the connection string is not a valid URL (percent-encode special characters in the user and password)',
      driverCode: code,
      safe: false,
    }
  }
  if (code && NETWORK_CODES[code]) {
    const sys = error as { address?: unknown; port?: unknown; hostname?: unknown }
    const host =
      typeof sys.address === 'string'
        ? sys.address
        : typeof sys.hostname === 'string'
          ? sys.hostname
          : undefined
    return {
      kind: 'unavailable',
      reason: NETWORK_CODES[code],
      hint: UNREACHABLE_HINT,
      driverCode: code,
      safe: true,
      ...(host !== undefined ? { host } : {}),
      ...(typeof sys.port === 'number' ? { port: sys.port } : {}),
    }
  }
  for (const [pattern, reason] of PG_CONNECTION_MESSAGES) {
    if (pattern.test(e.message)) return { kind: 'unavailable', reason, hint: UNREACHABLE_HINT, safe: true }
  }
  const server = error as { severity?: unknown; table?: unknown; column?: unknown; constraint?: unknown }
  if (!code || !/^[0-9A-Z]{5}$/.test(code) || typeof server.severity !== 'string') return null
  return classifySqlState(code, e.message, {
    table: typeof server.table === 'string' ? server.table : undefined,
    column: typeof server.column === 'string' ? server.column : undefined,
    constraint: typeof server.constraint === 'string' ? server.constraint : undefined,
  })
}

const UNREACHABLE_HINT =
  'Check that PostgreSQL is running and accepts connections at that address (host, port, firewall), then retry'

function classifySqlState(
  code: string,
  message: string,
  where: { table?: string; column?: string; constraint?: string },
): Classification {
  const driverCode = code
  if (code === '40001' || code === '40P01') return { kind: 'retryable', driverCode, safe: true }
  if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') {
    return {
      kind: 'unavailable',
      reason: code.startsWith('08') ? 'the connection failed' : 'the server is shutting down or starting up',
      hint: UNREACHABLE_HINT,
      driverCode,
      safe: true,
    }
  }
  if (code === '53300') {
    return {
      kind: 'unavailable',
      reason: 'the server has too many clients',
      hint: "Lower poolSize (or other clients' pools), or raise max_connections on the server",
      driverCode,
      safe: true,
    }
  }
  if (code.startsWith('28')) {
    // The server's message names the user: never shown.
    return {
      kind: 'unavailable',
      reason: 'the server refused the credentials',
      hint: 'Check the user and password of the connection string (and pg_hba.conf)',
      driverCode,
      safe: false,
    }
  }
  if (code === '3D000') {
    return {
      kind: 'unavailable',
      reason: 'the database does not exist',
      hint: 'Create the database or fix the database name of the connection string',
      driverCode,
      safe: true,
    }
  }
  if (code === '42P01') {
    const table = /relation "(?:[^"]*\.)?(oms_\w+)" does not exist/.exec(message)?.[1]
    if (table) return { kind: 'not-migrated', table, driverCode, safe: true }
  }
  if (code === '3F000') {
    const schema = /schema "([^"]+)" does not exist/.exec(message)?.[1]
    return { kind: 'not-migrated', ...(schema ? { schema } : {}), driverCode, safe: true }
  }
  if (code === '42703') {
    const match = /column "([^"]+)"(?: of relation "([^"]+)")? does not exist/.exec(message)
    const column = match?.[1]?.split('.').pop()
    const table = match?.[2] ?? where.table
    if (!table || table.startsWith('oms_')) {
      return {
        kind: 'not-migrated',
        ...(column ? { column } : {}),
        ...(table ? { table } : {}),
        driverCode,
        safe: true,
      }
    }
  }
  // Data exceptions (class 22) can quote the offending value: say only what kind of failure it was.
  if (code.startsWith('22')) {
    return { kind: 'failure', what: 'a value did not fit its column', driverCode, safe: false, ...where }
  }
  return { kind: 'failure', what: firstLine(message), driverCode, safe: true, ...where }
}
