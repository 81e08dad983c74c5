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
