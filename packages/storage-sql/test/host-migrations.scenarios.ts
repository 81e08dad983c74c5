// Scenarios shared by the SQLite and PostgreSQL adapters' tests: Peak OMS's migrations next to a host's own
// Kysely migrations (with Kysely's default `kysely_migration` tables) in the same database and schema.
import type { OrderSearchFilter, Storage } from '@peak-oms/core'
import { type Kysely, type Migration, type MigrationResultSet, Migrator } from 'kysely'
import { describe, expect, test } from 'vitest'
import { MIGRATION_LOCK_TABLE, MIGRATION_TABLE } from '../src/migrations'
import { type ColumnTypes, migrationProvider } from '../src/schema'
import type { StorageMigrationResult } from '../src/storage-errors'

// biome-ignore lint/suspicious/noExplicitAny: the host's schema is not Peak OMS's.
type AnyDb = Kysely<any>

export type MigratingStorage = Storage & { migrateToLatest(): Promise<StorageMigrationResult> }

/** One fresh database (SQLite file, or PostgreSQL schema) the host and Peak OMS share. */
export interface SharedPlace {
  /** The host's own Kysely, on the same database and (PostgreSQL) bound to the same schema. */
  host: AnyDb
  /** Where the host's migrator keeps its (default-named) tables: `{ migrationTableSchema }` on PostgreSQL. */
  hostMigratorOptions: { migrationTableSchema?: string }
  columnTypes: ColumnTypes
  openStorage(): MigratingStorage
  /** Names of the tables in the place. */
  tables(): Promise<Set<string>>
  /** Closes the host's connections and removes the place. */
  dispose(): Promise<void>
}

const hostMigrations: Record<string, Migration> = {
  '2024-01-10-customers': {
    up: async (db) => {
      await db.schema
        .createTable('host_customers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('email', 'text', (c) => c.notNull())
        .execute()
    },
  },
  '2024-02-20-invoices': {
    up: async (db) => {
      await db.schema
        .createTable('host_invoices')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('customer_id', 'text', (c) => c.notNull())
        .execute()
    },
  },
}

const hostMigrator = (place: SharedPlace, migrations: Record<string, Migration> = hostMigrations) =>
  new Migrator({
    db: place.host,
    provider: { getMigrations: async () => migrations },
    ...place.hostMigratorOptions,
  })

const ok = (result: MigrationResultSet | StorageMigrationResult) => {
  expect(result.error).toBeUndefined()
  return (result.results ?? []).map((r) => `${r.migrationName}:${r.status}`)
}

const names = async (place: SharedPlace, table: string) =>
  (await place.host.selectFrom(table).select('name').orderBy('name').execute()).map((row) => row.name)

/** Peak OMS works: a write transaction, then a read-only one that sees it. */
async function expectOmsWorks(storage: MigratingStorage) {
  const location = { id: 'loc-1', storeId: 'store-1', name: 'Front', kind: 'store' as const, externalIds: {} }
  await storage.transaction((tx) => tx.locations.upsert(location))
  const read = await storage.transaction((tx) => tx.locations.list({ storeId: 'store-1' }), {
    readOnly: true,
  })
  expect(read).toEqual([location])
}

/** The host's tables work too. */
async function expectHostWorks(place: SharedPlace) {
  await place.host.insertInto('host_customers').values({ id: 'c1', email: 'a@example.test' }).execute()
  await place.host.insertInto('host_invoices').values({ id: 'i1', customer_id: 'c1' }).execute()
  const rows = await place.host.selectFrom('host_invoices').selectAll().execute()
  expect(rows).toEqual([{ id: 'i1', customer_id: 'c1' }])
}

const HOST_RESULTS = ['2024-01-10-customers:Success', '2024-02-20-invoices:Success']
/** Peak OMS's migrations, in order, as the provider lists them (the test follows new ones by itself). */
const OMS_NAMES = Object.keys(
  await migrationProvider({
    timestamp: 'integer',
    json: 'text',
    boolean: 'integer',
    serial: 'integer',
    autoIncrement: true,
  }).getMigrations(),
).sort()
const OMS_RESULTS = OMS_NAMES.map((n) => `${n}:Success`)
/** What the last version before `oms_migration` had: the first migration only. */
const LEGACY_NAMES = ['0001-init']

export function describeHostMigrations(name: string, openPlace: () => Promise<SharedPlace>): void {
  describe(`${name}: migrations next to a host's own Kysely migrations`, () => {
    const withPlace = (fn: (place: SharedPlace) => Promise<void>) => async () => {
      const place = await openPlace()
      try {
        await fn(place)
      } finally {
        await place.dispose()
      }
    }

    test(
      'records its migrations in oms_migration / oms_migration_lock, never in kysely_migration',
      withPlace(async (place) => {
        const storage = place.openStorage()
        try {
          expect(ok(await storage.migrateToLatest())).toEqual(OMS_RESULTS)
          const tables = await place.tables()
          expect(tables.has('oms_migration')).toBe(true)
          expect(tables.has('oms_migration_lock')).toBe(true)
          expect(tables.has('kysely_migration')).toBe(false)
          expect(await names(place, 'oms_migration')).toEqual(OMS_NAMES)
        } finally {
          await storage.close()
        }
      }),
    )

    for (const order of ['host first, then Peak OMS', 'Peak OMS first, then the host'] as const) {
      test(
        `${order}: both succeed, a second run of each is a no-op, and both work afterwards`,
        withPlace(async (place) => {
          const storage = place.openStorage()
          try {
            if (order === 'host first, then Peak OMS') {
              expect(ok(await hostMigrator(place).migrateToLatest())).toEqual(HOST_RESULTS)
              expect(ok(await storage.migrateToLatest())).toEqual(OMS_RESULTS)
            } else {
              expect(ok(await storage.migrateToLatest())).toEqual(OMS_RESULTS)
              expect(ok(await hostMigrator(place).migrateToLatest())).toEqual(HOST_RESULTS)
            }
            expect(ok(await storage.migrateToLatest())).toEqual([])
            expect(ok(await hostMigrator(place).migrateToLatest())).toEqual([])
            // A second storage on the same place (another app instance) finds nothing to do either.
            const other = place.openStorage()
            try {
              expect(ok(await other.migrateToLatest())).toEqual([])
            } finally {
              await other.close()
            }

            expect(await names(place, 'kysely_migration')).toEqual(Object.keys(hostMigrations))
            expect(await names(place, 'oms_migration')).toEqual(OMS_NAMES)
            await expectOmsWorks(storage)
            await expectHostWorks(place)
          } finally {
            await storage.close()
          }
        }),
      )
    }

    test(
      '0007-search-scale fills the term rows of existing orders with their store and time, and their note counts: the old orders are found by text and by notes',
      withPlace(async (place) => {
        const all = await migrationProvider(place.columnTypes).getMigrations()
        const before = OMS_NAMES.filter((n) => n < '0007')
        const upTo6 = await new Migrator({
          db: place.host,
          provider: {
            getMigrations: async () => Object.fromEntries(before.map((n) => [n, all[n] as Migration])),
          },
          migrationTableName: MIGRATION_TABLE,
          migrationLockTableName: MIGRATION_LOCK_TABLE,
          ...(place.hostMigratorOptions.migrationTableSchema
            ? { migrationTableSchema: place.hostMigratorOptions.migrationTableSchema }
            : {}),
        }).migrateToLatest()
        expect(ok(upTo6)).toEqual(before.map((n) => `${n}:Success`))
        const pg = place.columnTypes.timestamp === 'timestamptz'
        const at = new Date('2026-03-01T10:00:00.000Z')
        const ts = (d: Date) => (pg ? d : d.getTime())
        const doc = JSON.stringify({
          lines: [
            {
              id: 'l1',
              itemId: 'i1',
              sku: 'OLD-SKU',
              name: 'Legacy Gummies',
              quantity: 1,
              unitPriceMinor: 100,
              discountMinor: 0,
              taxMinor: 0,
              totalMinor: 100,
            },
          ],
          totals: {
            subtotalMinor: 100,
            discountMinor: 0,
            taxMinor: 0,
            shippingMinor: 0,
            totalMinor: 100,
            currency: 'USD',
          },
          externalIds: {},
          attributes: {},
          cancellationReason: null,
        })
        for (const [id, store, noted] of [
          ['o-old-1', 'store-a', true],
          ['o-old-2', 'store-b', false],
        ] as const) {
          await place.host
            .insertInto('oms_orders')
            .values({
              id,
              number: `ORD-20260301-${id}`,
              channel: 'kiosk',
              flow: 'pickup',
              store_id: store,
              location_id: 'loc',
              customer_id: null,
              status: 'confirmed',
              payment_status: 'paid',
              total_minor: 100,
              currency: 'USD',
              packed_quantity: 0,
              assignee_id: null,
              pos_sync_state: null,
              version: 1,
              idempotency_key: null,
              doc,
              created_at: ts(at),
              updated_at: ts(at),
            })
            .execute()
          for (const term of [`ord-20260301-${id}`, 'old-sku', 'legacy', 'gummies', 'legacy gummies'])
            await place.host.insertInto('oms_order_terms').values({ term, order_id: id }).execute()
          if (noted)
            await place.host
              .insertInto('oms_notes')
              .values({
                id: `n-${id}`,
                order_id: id,
                text: 'old note',
                is_internal: pg ? true : 1,
                notify_customer: pg ? false : 0,
                notified_at: null,
                author_id: 'staff',
                created_at: ts(at),
                updated_at: ts(at),
              })
              .execute()
        }
        const storage = place.openStorage()
        try {
          expect(ok(await storage.migrateToLatest())).toEqual(
            OMS_NAMES.filter((n) => n >= '0007').map((n) => `${n}:Success`),
          )
          const terms = await place.host
            .selectFrom('oms_order_terms')
            .select(['order_id', 'store_id', 'created_at'])
            .where('term', '=', 'legacy')
            .orderBy('order_id')
            .execute()
          expect(
            terms.map((t) => [t.order_id, t.store_id, new Date(t.created_at as Date | number).getTime()]),
          ).toEqual([
            ['o-old-1', 'store-a', at.getTime()],
            ['o-old-2', 'store-b', at.getTime()],
          ])
          const search = (filter: OrderSearchFilter) =>
            storage.transaction(async (tx) =>
              (
                await tx.orders.search(filter, { sort: { field: 'created', direction: 'desc' }, limit: 10 })
              ).map((o) => o.id),
            )
          expect(await search({ storeIds: ['store-b'], words: ['leg', 'gum'] })).toEqual(['o-old-2'])
          expect(await search({ words: ['old-sku'] })).toEqual(['o-old-2', 'o-old-1'])
          expect(await search({ hasNotes: true })).toEqual(['o-old-1'])
          expect(await search({ hasNotes: false })).toEqual(['o-old-2'])
        } finally {
          await storage.close()
        }
      }),
    )

    test(
      'adopts the migrations an older version recorded in kysely_migration: nothing re-runs, the data stays, the host can use kysely_migration afterwards',
      withPlace(async (place) => {
        // What versions before oms_migration did: Kysely's migrator with its default table names, and
        // only the migrations those versions had.
        const all = await migrationProvider(place.columnTypes).getMigrations()
        const legacy = await new Migrator({
          db: place.host,
          provider: {
            getMigrations: async () => Object.fromEntries(LEGACY_NAMES.map((n) => [n, all[n] as Migration])),
          },
          ...place.hostMigratorOptions,
        }).migrateToLatest()
        expect(ok(legacy)).toEqual(LEGACY_NAMES.map((n) => `${n}:Success`))
        const [recorded] = await place.host.selectFrom('kysely_migration').selectAll().execute()
        await place.host
          .insertInto('oms_locations')
          .values({ id: 'old-loc', store_id: 'store-old', name: 'Back', kind: 'vault', external_ids: '{}' })
          .execute()

        const storage = place.openStorage()
        try {
          // adopted, not re-run; only what came after runs
          expect(ok(await storage.migrateToLatest())).toEqual(
            OMS_RESULTS.filter((r) => !LEGACY_NAMES.some((n) => r.startsWith(`${n}:`))),
          )
          expect((await place.host.selectFrom('oms_migration').selectAll().execute())[0]).toEqual(recorded)
          expect(await names(place, 'kysely_migration')).toEqual([])
          const kept = await storage.transaction((tx) => tx.locations.get('old-loc'))
          expect(kept?.name).toBe('Back')

          expect(ok(await hostMigrator(place).migrateToLatest())).toEqual(HOST_RESULTS)
          expect(ok(await storage.migrateToLatest())).toEqual([])
          expect(ok(await hostMigrator(place).migrateToLatest())).toEqual([])
          await expectOmsWorks(storage)
          await expectHostWorks(place)
        } finally {
          await storage.close()
        }
      }),
    )

    test(
      "does not adopt a host's kysely_migration that merely shares a migration name with Peak OMS",
      withPlace(async (place) => {
        const hostInit: Record<string, Migration> = {
          '0001-init': {
            up: async (db) => {
              await db.schema.createTable('host_things').addColumn('id', 'text').execute()
            },
          },
        }
        expect(ok(await hostMigrator(place, hostInit).migrateToLatest())).toEqual(['0001-init:Success'])
        const storage = place.openStorage()
        try {
          expect(ok(await storage.migrateToLatest())).toEqual(OMS_RESULTS)
          expect(await names(place, 'kysely_migration')).toEqual(['0001-init'])
          expect(await names(place, 'oms_migration')).toEqual(OMS_NAMES)
          expect(ok(await hostMigrator(place, hostInit).migrateToLatest())).toEqual([])
          await expectOmsWorks(storage)
          expect(await place.host.selectFrom('host_things').select('id').execute()).toEqual([])
        } finally {
          await storage.close()
        }
      }),
    )
  })
}
