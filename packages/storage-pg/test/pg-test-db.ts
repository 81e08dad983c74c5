import pg from 'pg'
import { createPgStorage, type PgStorage } from '../src/index'

/** The PostgreSQL the tests use: `PEAK_OMS_PG_URL`, default the local server. */
export const pgUrl = () => process.env.PEAK_OMS_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/**
 * Whether PostgreSQL answers. With `CI` set an unreachable server is a failure (the test file throws);
 * locally the PostgreSQL tests are skipped with a printed notice.
 */
export async function pgAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: pgUrl(), connectionTimeoutMillis: 3000 })
  try {
    await client.connect()
    await client.query('select 1')
    return true
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error)
    if (process.env.CI)
      throw new Error(
        `PostgreSQL at ${pgUrl().replace(/\/\/[^@]*@/, '//***@')} is unreachable under CI: ${why}`,
      )
    console.warn(
      `[peak-oms] PostgreSQL not reachable (${why}): skipping PostgreSQL tests. Set PEAK_OMS_PG_URL or start it.`,
    )
    return false
  } finally {
    await client.end().catch(() => {})
  }
}

let n = 0
/** A schema name no other test (or test process) uses. */
export const freshSchemaName = () => `peak_test_${process.pid}_${Date.now().toString(36)}_${n++}`

/** A storage in a schema of its own, migrated; `dropSchema()` removes it. */
export async function freshPgStorage(options: { poolSize?: number } = {}): Promise<PgStorage> {
  const schema = freshSchemaName()
  const storage = createPgStorage({ connectionString: pgUrl(), poolSize: options.poolSize ?? 20 }, { schema })
  const { error } = await storage.migrateToLatest()
  if (error) throw error
  return storage
}

/**
 * Migrated schemas of this test file that no test is using: a test gets one emptied (every Peak OMS
 * table truncated, the per-day number sequences dropped) instead of creating and migrating a new schema,
 * which costs far more than the test. `dropRecycledSchemas()` removes them all at the end of the file.
 */
const idle: string[] = []
const recycled = new Set<string>()

export async function recycledPgStorage(): Promise<PgStorage> {
  const schema = idle.pop()
  if (!schema) {
    const storage = await freshPgStorage()
    recycled.add(storage.schema)
    return storage
  }
  const admin = new pg.Client({ connectionString: pgUrl() })
  await admin.connect()
  try {
    const { rows: tables } = await admin.query<{ name: string }>(
      "select tablename as name from pg_tables where schemaname = $1 and tablename like 'oms\\_%' and tablename not like 'oms\\_migration%'",
      [schema],
    )
    const { rows: sequences } = await admin.query<{ name: string }>(
      "select sequencename as name from pg_sequences where schemaname = $1 and sequencename like 'oms\\_seq\\_%'",
      [schema],
    )
    const id = (name: string) => `"${schema}"."${name}"`
    await admin.query(`truncate ${tables.map((t) => id(t.name)).join(', ')} restart identity`)
    for (const seq of sequences) await admin.query(`drop sequence ${id(seq.name)}`)
  } finally {
    await admin.end()
  }
  return createPgStorage({ connectionString: pgUrl(), poolSize: 20 }, { schema })
}

/** Gives a recycled storage's schema back for the next test. */
export async function releasePgStorage(storage: PgStorage): Promise<void> {
  await storage.close()
  if (recycled.has(storage.schema)) idle.push(storage.schema)
  else await dropSchema(storage.schema)
}

/** Drops every schema `recycledPgStorage` made in this file. */
export async function dropRecycledSchemas(): Promise<void> {
  for (const schema of recycled) await dropSchema(schema)
  recycled.clear()
  idle.length = 0
}

async function dropSchema(schema: string): Promise<void> {
  const admin = new pg.Client({ connectionString: pgUrl() })
  await admin.connect()
  try {
    await admin.query(`drop schema if exists "${schema}" cascade`)
  } finally {
    await admin.end()
  }
}

let peers = 0
/**
 * Another app instance on the same schema (its own pool), named so that the test can see in
 * `pg_stat_activity` when one of its transactions waits for a lock.
 */
export async function pgPeer(storage: PgStorage) {
  const name = `peak_peer_${process.pid}_${peers++}`
  const url = new URL(pgUrl())
  url.searchParams.set('application_name', name)
  const peer = createPgStorage({ connectionString: url.toString(), poolSize: 4 }, { schema: storage.schema })
  const probe = new pg.Client({ connectionString: pgUrl() })
  await probe.connect()
  return {
    storage: peer,
    async isWaitingForLock() {
      const { rows } = await probe.query(
        "select count(*)::int as n from pg_stat_activity where application_name = $1 and wait_event_type = 'Lock'",
        [name],
      )
      return rows[0].n > 0
    },
    async close() {
      await probe.end()
      await peer.close()
    },
  }
}
