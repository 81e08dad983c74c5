'use strict'
// The scenario both smoke scripts run, on the modules each loaded its own way (import or require).
const { generateKeyPairSync } = require('node:crypto')
const { mkdtempSync, rmSync } = require('node:fs')
const { tmpdir } = require('node:os')
const { join } = require('node:path')

/** Port 1 on loopback: nothing listens there, so every call is refused at once. */
const UNREACHABLE = 'http://127.0.0.1:1'

async function orderOnSqlite({ core, testing, sqlite }) {
  const clock = testing.createFakeClock(new Date('2030-03-04T10:00:00.000Z'))
  const dir = mkdtempSync(join(tmpdir(), 'peak-oms-smoke-db-'))
  try {
    const storage = sqlite.createSqliteStorage({ filename: join(dir, 'oms.db') })
    const migration = await storage.migrateToLatest()
    if (migration.error) throw migration.error
    const oms = core.createOms({ storage, clock })
    const actor = { id: 'smoke-manager', roles: ['order_manager'] }
    await oms.inventory.defineLocation({
      actor,
      location: { id: 'floor', storeId: 'store-1', name: 'Sales floor', kind: 'sales_floor' },
    })
    await oms.inventory.defineItem({
      actor,
      item: { id: 'gummies', sku: 'G-10', name: 'Mango gummies 10 pk', unit: 'each' },
    })
    await oms.inventory.receive({ actor, itemId: 'gummies', locationId: 'floor', quantity: 5 })
    const order = await oms.orders.create({
      actor,
      channel: 'kiosk',
      flow: 'pickup',
      storeId: 'store-1',
      currency: 'USD',
      lines: [{ itemId: 'gummies', quantity: 2, unitPriceMinor: 1500 }],
    })
    const level = await oms.inventory.level({ actor, itemId: 'gummies', locationId: 'floor' })
    const refused = await oms.orders
      .create({
        actor,
        channel: 'kiosk',
        flow: 'pickup',
        storeId: 'store-1',
        currency: 'USD',
        lines: [{ itemId: 'gummies', quantity: 4, unitPriceMinor: 1500 }],
      })
      .then(
        () => 'placed',
        (error) => (core.isOmsError(error) ? error.code : `untyped ${String(error)}`),
      )
    await storage.close()
    return {
      order: {
        status: order.status,
        createdAt: order.createdAt.toISOString(),
        lines: order.lines.map((l) => ({ itemId: l.itemId, quantity: l.quantity })),
      },
      level: { onHand: level.onHand, reserved: level.reserved, available: level.available },
      secondOrder: refused,
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function posUnavailable({ core, treez, dutchie, blaze }) {
  const retry = { retries: 1, minTimeout: 10, maxTimeout: 20 }
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const adapters = {
    treez: treez.createTreezAdapter({
      privateKey,
      certificateId: 'smoke-certificate',
      organizationId: 'smoke-organization',
      dispensary: 'smoke',
      baseUrl: UNREACHABLE,
      timeoutMs: 2000,
      retry,
    }),
    dutchie: dutchie.createDutchieAdapter({
      locationKey: 'smoke-location-key',
      baseUrl: UNREACHABLE,
      timeoutMs: 2000,
      retry,
    }),
    blaze: blaze.createBlazeAdapter({
      partnerKey: 'smoke-partner-key',
      developerKey: 'smoke-developer-key',
      baseUrl: UNREACHABLE,
      timeoutMs: 2000,
      retry,
    }),
  }
  const outcome = {}
  for (const [name, adapter] of Object.entries(adapters)) {
    outcome[name] = await adapter.pullProducts({}).then(
      () => 'succeeded',
      (error) => (core.isOmsError(error) ? error.code : `untyped ${error?.name}: ${error?.message}`),
    )
  }
  return outcome
}

/** Runs everything and prints one `SMOKE <json>` line for the test to read. */
async function runSmoke(modules, format) {
  const result = {
    format,
    exports: {
      createPgStorage: typeof modules.pg.createPgStorage,
      runStorageConformanceOnPlainTesting: 'runStorageConformance' in modules.testing,
    },
    sqlite: await orderOnSqlite(modules),
    pos: await posUnavailable(modules),
  }
  console.log(`SMOKE ${JSON.stringify(result)}`)
}

module.exports = { runSmoke }
