import {
  type ColumnMetadata,
  type DatabaseIntrospector,
  type DatabaseMetadata,
  type DatabaseMetadataOptions,
  type Kysely,
  PostgresDialect,
  type PostgresDialectConfig,
  type SchemaMetadata,
  sql,
  type TableMetadata,
} from 'kysely'

// biome-ignore lint/suspicious/noExplicitAny: the catalogs are not part of the typed schema.
type AnyDb = Kysely<any>

/**
 * Kysely's migrator asks the introspector whether its tables exist. Kysely's own PostgreSQL introspector
 * reads every column of every schema and calls `has_schema_privilege` / `pg_get_serial_sequence` by
 * name, which fails ("schema … does not exist") when another client drops an unrelated schema at that
 * moment, and grows with the whole database. This one reads the one schema Peak OMS uses, joining the
 * catalogs by oid only.
 */
class SchemaIntrospector implements DatabaseIntrospector {
  readonly #db: AnyDb
  readonly #schema: string

  constructor(db: AnyDb, schema: string) {
    this.#db = db
    this.#schema = schema
  }

  async getSchemas(): Promise<SchemaMetadata[]> {
    const { rows } = await sql<{ name: string }>`select nspname as name from pg_catalog.pg_namespace`.execute(
      this.#db,
    )
    return rows
  }

  async getTables(_options?: DatabaseMetadataOptions): Promise<TableMetadata[]> {
    const { rows } = await sql<{
      table: string
      kind: string
      column: string | null
      not_null: boolean | null
      has_default: boolean | null
      type: string | null
      type_schema: string | null
    }>`
      select c.relname as table, c.relkind as kind, a.attname as column, a.attnotnull as not_null,
        a.atthasdef as has_default, t.typname as type, tns.nspname as type_schema
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace ns on ns.oid = c.relnamespace
      left join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      left join pg_catalog.pg_type t on t.oid = a.atttypid
      left join pg_catalog.pg_namespace tns on tns.oid = t.typnamespace
      where ns.nspname = ${this.#schema} and c.relkind in ('r', 'v', 'p')
      order by c.relname, a.attnum`.execute(this.#db)
    const tables = new Map<
      string,
      { name: string; isView: boolean; schema: string; columns: ColumnMetadata[] }
    >()
    for (const row of rows) {
      let table = tables.get(row.table)
      if (!table) {
        table = { name: row.table, isView: row.kind === 'v', schema: this.#schema, columns: [] }
        tables.set(row.table, table)
      }
      if (row.column !== null) {
        table.columns.push({
          name: row.column,
          dataType: row.type ?? '',
          ...(row.type_schema ? { dataTypeSchema: row.type_schema } : {}),
          isNullable: !row.not_null,
          hasDefaultValue: Boolean(row.has_default),
          isAutoIncrementing: false,
        })
      }
    }
    return [...tables.values()]
  }

  async getMetadata(options?: DatabaseMetadataOptions): Promise<DatabaseMetadata> {
    return { tables: await this.getTables(options) }
  }
}

/** `PostgresDialect` whose introspector sees only `schema` (see `SchemaIntrospector`). */
export class SchemaScopedPostgresDialect extends PostgresDialect {
  readonly #schema: string

  constructor(config: PostgresDialectConfig, schema: string) {
    super(config)
    this.#schema = schema
  }

  override createIntrospector(db: AnyDb): DatabaseIntrospector {
    return new SchemaIntrospector(db, this.#schema)
  }
}
