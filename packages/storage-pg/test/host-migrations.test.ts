import { Kysely, sql } from 'kysely'
import pg from 'pg'
import { describe, test } from 'vitest'
import { describeHostMigrations } from '../../storage-sql/test/host-migrations.scenarios'
import { createPgStorage, PG_COLUMN_TYPES } from '../src/index'
import { SchemaScopedPostgresDialect } from '../src/schema-introspector'
import { freshSchemaName, pgAvailable, pgUrl } from './pg-test-db'

if (await pgAvailable()) {
  describeHostMigrations('pg', async () => {
    const schema = freshSchemaName()
    const pool = new pg.Pool({ connectionString: pgUrl(), max: 4 })
    // Kysely's own PostgreSQL introspector (which its migrator uses) fails when another client drops a schema
    // at that moment, as the other test files do all the time: the host here uses the schema-scoped one.
    const root = new Kysely<Record<string, never>>({
      dialect: new SchemaScopedPostgresDialect({ pool }, schema),
    })
    await sql`create schema ${sql.id(schema)}`.execute(root)
    return {
      // The host keeps its tables, and Kysely's default migration tables, in the same schema.
      host: root.withSchema(schema),
      hostMigratorOptions: { migrationTableSchema: schema },
      columnTypes: PG_COLUMN_TYPES,
      openStorage: () => createPgStorage({ connectionString: pgUrl(), poolSize: 4 }, { schema }),
      async tables() {
        const { rows } = await sql<{ name: string }>`
          select c.relname as name from pg_catalog.pg_class c
          join pg_catalog.pg_namespace n on n.oid = c.relnamespace
          where n.nspname = ${schema} and c.relkind = 'r'`.execute(root)
        return new Set(rows.map((row) => row.name))
      },
      async dispose() {
        await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(root)
        await root.destroy()
      },
    }
  })
} else {
  describe("pg: migrations next to a host's own Kysely migrations", () => {
    test.skip('PostgreSQL is not reachable (see the notice above)', () => {})
  })
}
