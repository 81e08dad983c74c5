import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Storage } from '@peak-oms/core'
import { createPgStorage, type PgStorage } from '@peak-oms/storage-pg'
import { createSqliteStorage } from '@peak-oms/storage-sqlite'
import BetterSqlite3 from 'better-sqlite3'
import pg from 'pg'

/** The hand-written floor: one conditional UPDATE and one hold INSERT in one transaction, nothing else. */
export interface Baseline {
  reserve(itemId: string, locationId: string, quantity: number): Promise<boolean>
  /** Runs raw SQL for seeding (`$1`-style placeholders on pg, `?` on sqlite). */
  exec(sql: string, params?: unknown[]): Promise<void>
  close(): Promise<void>
}

export interface Backend {
  name: string
  storage: Storage
  baseline: Baseline
  /** Qualifies a table name. */
  table(name: string): string
  dialect: 'pg' | 'sqlite'
  /** The SQLite database file. */
  file?: string
  close(): Promise<void>
}

const HOLD_COLUMNS =
  'id, item_id, location_id, order_id, order_line_id, quantity_reserved, quantity_fulfilled, quantity_released, status, expires_at, reserved_at, released_at, fulfilled_at, notes, created_at, updated_at'

/** `reuse`: an existing database file (a seeded one kept with BENCH_SCALE_KEEP) instead of a new one. */
export async function openSqlite(reuse?: string): Promise<Backend> {
  const dir = reuse ? null : mkdtempSync(join(tmpdir(), 'peak-oms-bench-'))
  const file = reuse ?? join(dir as string, 'bench.db')
  const storage = createSqliteStorage({ filename: file })
  const migrated = await storage.migrateToLatest()
  if (migrated.error) throw migrated.error
  const db = new BetterSqlite3(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma('busy_timeout = 5000')
  const reserve = db.prepare(
    'UPDATE oms_levels SET reserved = reserved + ? WHERE item_id = ? AND location_id = ? AND on_hand - reserved - damaged - quarantine - safety_stock >= ?',
  )
  const insert = db.prepare(
    `INSERT INTO oms_reservations (${HOLD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, 0, 0, 'active', ?, ?, NULL, NULL, NULL, ?, ?)`,
  )
  const tx = db.transaction((itemId: string, locationId: string, q: number) => {
    if (reserve.run(q, itemId, locationId, q).changes !== 1) return false
    const now = Date.now()
    const id = randomUUID()
    insert.run(id, itemId, locationId, `base-${id}`, `line-${id}`, q, now + 900_000, now, now, now)
    return true
  })
  return {
    name: 'sqlite (file, WAL)',
    storage,
    dialect: 'sqlite',
    file,
    table: (n) => n,
    baseline: {
      reserve: async (itemId, locationId, q) => tx.immediate(itemId, locationId, q),
      exec: async (sql, params = []) => void db.prepare(sql).run(...params),
      close: async () => void db.close(),
    },
    async close() {
      db.close()
      await storage.close()
      if (dir) rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** `reuse`: an existing schema (a seeded one kept with BENCH_SCALE_KEEP) instead of a new one. */
export async function openPg(url: string, poolSize: number, reuse?: string): Promise<Backend> {
  const schema = reuse ?? `peak_bench_${Date.now().toString(36)}`
  const storage: PgStorage = createPgStorage({ connectionString: url, poolSize }, { schema })
  const migrated = await storage.migrateToLatest()
  if (migrated.error) throw migrated.error
  const pool = new pg.Pool({ connectionString: url, max: poolSize })
  const t = (n: string) => `"${schema}".${n}`
  return {
    name: 'postgresql 15 (local)',
    storage,
    dialect: 'pg',
    table: t,
    baseline: {
      async reserve(itemId, locationId, q) {
        const client = await pool.connect()
        try {
          await client.query('BEGIN')
          const r = await client.query(
            `UPDATE ${t('oms_levels')} SET reserved = reserved + $1 WHERE item_id = $2 AND location_id = $3 AND on_hand - reserved - damaged - quarantine - safety_stock >= $1`,
            [q, itemId, locationId],
          )
          if (r.rowCount !== 1) {
            await client.query('ROLLBACK')
            return false
          }
          const id = randomUUID()
          const now = new Date()
          await client.query(
            `INSERT INTO ${t('oms_reservations')} (${HOLD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, 0, 0, 'active', $7, $8, NULL, NULL, NULL, $8, $8)`,
            [id, itemId, locationId, `base-${id}`, `line-${id}`, q, new Date(now.getTime() + 900_000), now],
          )
          await client.query('COMMIT')
          return true
        } catch (error) {
          await client.query('ROLLBACK').catch(() => {})
          throw error
        } finally {
          client.release()
        }
      },
      exec: async (sql, params = []) => void (await pool.query(sql, params)),
      close: () => pool.end(),
    },
    async close() {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
      await pool.end()
      await storage.close()
    },
  }
}
