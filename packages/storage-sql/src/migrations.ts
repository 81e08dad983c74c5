import { type Kysely, type MigrationResultSet, Migrator, sql } from 'kysely'
import type { PeakDatabase } from './database'
import { type ColumnTypes, migrationProvider } from './schema'

/**
 * Peak OMS records its migrations in tables of its own, so a host that runs its own Kysely migrations in the
 * same database (with Kysely's default `kysely_migration` tables) never sees ours, nor we theirs.
 */
export const MIGRATION_TABLE = 'oms_migration'
export const MIGRATION_LOCK_TABLE = 'oms_migration_lock'
/** Where versions before the own tables recorded their migrations (Kysely's default). */
export const LEGACY_MIGRATION_TABLE = 'kysely_migration'

/** Every table the migrations create. */
export const OMS_TABLES = [
  'oms_locations',
  'oms_items',
  'oms_levels',
  'oms_movements',
  'oms_reservations',
  'oms_orders',
  'oms_fulfillments',
  'oms_history',
  'oms_notes',
  'oms_outbox',
  'oms_sequences',
  'oms_idempotency',
] as const satisfies readonly (keyof PeakDatabase)[]

// biome-ignore lint/suspicious/noExplicitAny: the migration tables are not part of the typed schema.
type AnyDb = Kysely<any>

export interface MigrationTarget {
  dialect: 'sqlite' | 'pg'
  /** On PostgreSQL, bound to `schema` (`withSchema`). */
  db: AnyDb
  /** PostgreSQL only: the schema of every Peak OMS table, the migration tables included. */
  schema?: string
  types: ColumnTypes
}

/**
 * Brings the schema up to date: adopts migrations recorded by an older version in `kysely_migration`, then
 * runs Kysely's migrator on `oms_migration` / `oms_migration_lock`. Never throws.
 */
export async function runMigrations(target: MigrationTarget): Promise<MigrationResultSet> {
  const provider = migrationProvider(target.types)
  try {
    await adoptLegacyMigrations(target, Object.keys(await provider.getMigrations()))
  } catch (error) {
    return { error }
  }
  return new Migrator({
    db: target.db,
    provider,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    ...(target.schema !== undefined ? { migrationTableSchema: target.schema } : {}),
  }).migrateToLatest()
}

/**
 * Versions before the own migration tables recorded their migrations in Kysely's default `kysely_migration`.
 * When that table lists only Peak OMS migrations, every Peak OMS table exists and `oms_migration` does not,
 * its rows move to `oms_migration` (one transaction), so nothing runs twice and `kysely_migration` is left
 * free for the host's own migrations. Returns whether it adopted anything.
 */
export async function adoptLegacyMigrations(
  target: MigrationTarget,
  ours: readonly string[],
): Promise<boolean> {
  // The common case, one query: already on the own tables, or nothing to adopt.
  const present = await existingTables(target.db, target, [MIGRATION_TABLE, LEGACY_MIGRATION_TABLE])
  if (present.has(MIGRATION_TABLE) || !present.has(LEGACY_MIGRATION_TABLE)) return false
  return inWriteTransaction(target, async (db) => {
    const tables = await existingTables(db, target, [MIGRATION_TABLE, LEGACY_MIGRATION_TABLE, ...OMS_TABLES])
    if (tables.has(MIGRATION_TABLE) || !tables.has(LEGACY_MIGRATION_TABLE)) return false
    if (!OMS_TABLES.every((table) => tables.has(table))) return false
    const legacy = table(target, LEGACY_MIGRATION_TABLE)
    const { rows } = await sql<{ name: string; timestamp: string }>`
      select name, ${sql.id('timestamp')} as timestamp from ${legacy}`.execute(db)
    const known = new Set(ours)
    if (rows.length === 0 || !rows.every((row) => known.has(row.name))) return false
    const own = table(target, MIGRATION_TABLE)
    // The same shape Kysely's migrator creates.
    await sql`create table ${own} (name varchar(255) not null primary key, ${sql.id('timestamp')} varchar(255) not null)`.execute(
      db,
    )
    for (const row of rows) {
      await sql`insert into ${own} (name, ${sql.id('timestamp')}) values (${row.name}, ${row.timestamp})`.execute(
        db,
      )
    }
    await sql`delete from ${legacy} where name in (${sql.join(rows.map((row) => row.name))})`.execute(db)
    return true
  })
}

const table = (target: MigrationTarget, name: string) =>
  target.schema !== undefined ? sql.id(target.schema, name) : sql.id(name)

async function existingTables(
  db: AnyDb,
  target: MigrationTarget,
  names: readonly string[],
): Promise<Set<string>> {
  const list = sql.join(names.map((name) => sql.lit(name)))
  const query =
    target.dialect === 'sqlite'
      ? sql<{ name: string }>`select name from sqlite_master where type = 'table' and name in (${list})`
      : sql<{ name: string }>`
          select c.relname as name from pg_catalog.pg_class c
          join pg_catalog.pg_namespace n on n.oid = c.relnamespace
          where n.nspname = ${target.schema ?? 'public'} and c.relkind in ('r', 'p') and c.relname in (${list})`
  const { rows } = await query.execute(db)
  return new Set(rows.map((row) => row.name))
}

/** Arbitrary constant: serialises adoption between PostgreSQL clients migrating at the same time. */
const ADOPTION_LOCK = 727_115_340_021

async function inWriteTransaction<T>(target: MigrationTarget, fn: (db: AnyDb) => Promise<T>): Promise<T> {
  if (target.dialect === 'pg') {
    return target.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${sql.lit(ADOPTION_LOCK)})`.execute(trx)
      return fn(trx)
    })
  }
  // SQLite: take the write lock up front, so two processes adopting at once queue instead of failing.
  return target.db.connection().execute(async (conn) => {
    await sql.raw('begin immediate').execute(conn)
    try {
      const result = await fn(conn)
      await sql.raw('commit').execute(conn)
      return result
    } catch (error) {
      await sql.raw('rollback').execute(conn)
      throw error
    }
  })
}
