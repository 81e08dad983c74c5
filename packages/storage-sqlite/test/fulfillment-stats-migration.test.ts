import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createOms } from '@peak-oms/core'
import { actors, createFakeClock, createWorld } from '@peak-oms/core/testing'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, SqliteDialect, sql } from 'kysely'
import { afterAll, expect, test } from 'vitest'
import { backfillFulfillmentStats } from '../../storage-sql/src/schema'
import { createSqliteStorage, SQLITE_COLUMN_TYPES } from '../src/index'

const dir = mkdtempSync(join(tmpdir(), 'peak-oms-stats-migration-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

test('0009 fills the statistics columns of existing fulfillments from their documents', async () => {
  const filename = join(dir, 'stats.db')
  const storage = createSqliteStorage({ filename })
  const { error } = await storage.migrateToLatest()
  if (error) throw error
  const clock = createFakeClock()
  const w = await createWorld(storage, { flower: 10 }, { clock })
  const m = actors.manager
  const sku = (w.items.flower as string).toUpperCase()
  // one shipped after a wrong scan, one handed over, one left picking
  for (const [i, flow] of (['delivery', 'pickup', 'pickup'] as const).entries()) {
    const order = await w.oms.orders.create({
      actor: m,
      channel: 'kiosk',
      flow,
      storeId: w.storeId,
      currency: 'USD',
      lines: [{ itemId: w.items.flower as string, quantity: 2, unitPriceMinor: 100 }],
    })
    await w.oms.orders.confirmPayment({ actor: actors.payments, orderId: order.id })
    clock.advance(60_000)
    const [f] = await w.oms.fulfillments.create({ actor: m, orderId: order.id })
    const fulfillmentId = f?.id as string
    await w.oms.fulfillments.scan({ actor: m, fulfillmentId, code: 'WRONG' }).catch(() => null)
    await w.oms.fulfillments.scan({ actor: m, fulfillmentId, code: sku, quantity: 2 })
    if (i === 2) continue
    await w.oms.fulfillments.completePicking({ actor: m, fulfillmentId })
    await w.oms.fulfillments.pack({ actor: m, fulfillmentId, boxSize: 'S', weightGrams: 1 })
    clock.advance(5 * 60_000)
    if (flow === 'delivery')
      await w.oms.fulfillments.ship({ actor: m, fulfillmentId, carrier: 'UPS', trackingNumber: 'T' })
    else await w.oms.fulfillments.handOver({ actor: m, fulfillmentId })
  }
  const oms = createOms({ storage, clock })
  const window = { actor: m, from: new Date(clock.now().getTime() - 3_600_000), to: clock.advance(1) }
  const before = await oms.fulfillments.statistics(window)
  expect(before.overall.scans).toMatchObject({ accepted: 3, rejected: 3 })
  expect(before.overall.cycleTime.dispatched).toBe(2)

  // rows as they were before 0009: the columns at their defaults
  const db = new Kysely<Record<string, never>>({
    dialect: new SqliteDialect({ database: new BetterSqlite3(filename) }),
  })
  try {
    await sql`update oms_fulfillments set scans_accepted = 0, scans_rejected = 0, dispatched_at = null`.execute(
      db,
    )
    const emptied = await oms.fulfillments.statistics(window)
    expect(emptied.overall.scans).toMatchObject({ accepted: 0, rejected: 0 })
    expect(emptied.overall.cycleTime.dispatched).toBe(0)
    await backfillFulfillmentStats(db, SQLITE_COLUMN_TYPES)
  } finally {
    await db.destroy()
  }
  expect(await oms.fulfillments.statistics(window)).toEqual(before)
  await storage.close()
})
