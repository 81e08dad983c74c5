import type {
  CountLine,
  CountRepository,
  InventoryLevel,
  InventoryRepository,
  PackageLevel,
  StockCount,
  Transfer,
  TransferRepository,
} from '@peak-oms/core'
import { type Kysely, type Selectable, sql } from 'kysely'
import { readJson, readTs, writeJson } from './codec'
import type { CountsTable, LevelsTable, PackageLevelsTable, PeakDatabase, TransfersTable } from './database'
import type { SqlDialect } from './sql-tx'

type Db = Kysely<PeakDatabase>

const TRANSFER_DATES = ['shippedAt', 'receivedAt', 'closedAt', 'cancelledAt'] as const
const COUNT_DATES = ['approvedAt', 'cancelledAt'] as const

/** Revives the ISO timestamps a JSON doc holds. */
function withDates<T extends Record<string, unknown>>(doc: T, fields: readonly string[]): T {
  for (const f of fields) {
    const v = doc[f]
    ;(doc as Record<string, unknown>)[f] = v === null || v === undefined ? null : new Date(v as string)
  }
  return doc
}

const toTransfer = (r: Selectable<TransfersTable>): Transfer =>
  ({
    ...withDates(readJson<Record<string, unknown>>(r.doc), TRANSFER_DATES),
    id: r.id,
    fromLocationId: r.from_location_id,
    toLocationId: r.to_location_id,
    fromStoreId: r.from_store_id,
    toStoreId: r.to_store_id,
    status: r.status as Transfer['status'],
    version: Number(r.version),
    createdAt: readTs(r.created_at),
    updatedAt: readTs(r.updated_at),
  }) as Transfer

const toCount = (r: Selectable<CountsTable>): StockCount =>
  ({
    ...withDates(readJson<Record<string, unknown>>(r.doc), COUNT_DATES),
    id: r.id,
    locationId: r.location_id,
    storeId: r.store_id,
    status: r.status as StockCount['status'],
    version: Number(r.version),
    createdAt: readTs(r.created_at),
    updatedAt: readTs(r.updated_at),
  }) as StockCount

const toPackage = (r: Selectable<PackageLevelsTable>): PackageLevel => ({
  packageId: r.package_id,
  itemId: r.item_id,
  locationId: r.location_id,
  onHand: Number(r.on_hand),
  receivedAt: readTs(r.received_at),
  updatedAt: readTs(r.updated_at),
})

/** `LIMIT` / `OFFSET` of a page, when given. */
const page =
  (filter: { limit?: number; offset?: number }) =>
  <Q extends { limit(n: number): Q; offset(n: number): Q }>(q: Q): Q => {
    const limited = filter.limit === undefined ? q : q.limit(filter.limit)
    return filter.offset ? limited.offset(filter.offset) : limited
  }

/** The tables of documents claimed and written back by compare-and-swap on `version`. */
type VersionedTable = 'oms_transfers' | 'oms_counts'

/**
 * insert / get / lock / update of a versioned document table: one implementation for transfers and counts
 * (the two tables share the id, version, doc and timestamp columns the statements touch).
 */
function versionedRows<T extends { id: string }>(
  db: Db,
  dialect: SqlDialect,
  table: VersionedTable,
  toRow: (value: T) => { id: string } & Record<string, unknown>,
  fromRow: (row: never) => T,
) {
  // Both tables have the columns used here; Kysely cannot see that through the union, hence the casts.
  const t = table as 'oms_transfers'
  const read = fromRow as (row: Selectable<TransfersTable>) => T
  const select = (id: string) => db.selectFrom(t).selectAll().where('id', '=', id)
  return {
    async insert(value: T) {
      await db
        .insertInto(t)
        .values(toRow(value) as never)
        .execute()
    },
    async get(id: string) {
      const r = await select(id).executeTakeFirst()
      return r ? read(r) : null
    },
    async lock(id: string) {
      const q = select(id)
      const r = await (dialect.skipLocked ? q.forNoKeyUpdate() : q).executeTakeFirst()
      return r ? read(r) : null
    },
    async update(value: T, expectedVersion: number) {
      const { id, ...rest } = toRow(value)
      const r = await db
        .updateTable(t)
        .set(rest as never)
        .where('id', '=', id)
        .where('version', '=', expectedVersion)
        .executeTakeFirst()
      return Number(r.numUpdatedRows) === 1
    },
  }
}

/** Transfers on Kysely: a row with the columns queries filter on, the rest as a JSON document. */
export function createSqlTransfers(db: Db, dialect: SqlDialect): TransferRepository {
  const { codec } = dialect
  const row = (t: Transfer) => {
    const {
      id,
      fromLocationId,
      toLocationId,
      fromStoreId,
      toStoreId,
      status,
      version,
      createdAt,
      updatedAt,
      ...doc
    } = t
    return {
      id,
      from_location_id: fromLocationId,
      to_location_id: toLocationId,
      from_store_id: fromStoreId,
      to_store_id: toStoreId,
      status,
      version,
      doc: writeJson(doc),
      created_at: codec.ts(createdAt),
      updated_at: codec.ts(updatedAt),
    }
  }
  return {
    ...versionedRows(db, dialect, 'oms_transfers', row, toTransfer),
    async list(filter) {
      const { storeIds, locationId, status } = filter
      const ids = storeIds?.length ? [...storeIds] : ['']
      const rows = await db
        .selectFrom('oms_transfers')
        .selectAll()
        .$if(storeIds !== undefined, (q) =>
          q.where((eb) => eb.or([eb('from_store_id', 'in', ids), eb('to_store_id', 'in', ids)])),
        )
        .$if(locationId !== undefined, (q) =>
          q.where((eb) =>
            eb.or([
              eb('from_location_id', '=', locationId as string),
              eb('to_location_id', '=', locationId as string),
            ]),
          ),
        )
        .$if(status !== undefined, (q) => q.where('status', '=', status as string))
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .$call(page(filter))
        .execute()
      return rows.map(toTransfer)
    },
  }
}

/** Counts and their lines on Kysely. */
export function createSqlCounts(db: Db, dialect: SqlDialect): CountRepository {
  const { codec } = dialect
  const row = (c: StockCount) => {
    const { id, locationId, storeId, status, version, createdAt, updatedAt, ...doc } = c
    return {
      id,
      location_id: locationId,
      store_id: storeId,
      status,
      version,
      doc: writeJson(doc),
      created_at: codec.ts(createdAt),
      updated_at: codec.ts(updatedAt),
    }
  }
  return {
    ...versionedRows(db, dialect, 'oms_counts', row, toCount),
    async list(filter) {
      const { storeIds, locationId, status } = filter
      const rows = await db
        .selectFrom('oms_counts')
        .selectAll()
        .$if(storeIds !== undefined, (q) =>
          q.where('store_id', 'in', storeIds?.length ? [...storeIds] : ['']),
        )
        .$if(locationId !== undefined, (q) => q.where('location_id', '=', locationId as string))
        .$if(status !== undefined, (q) => q.where('status', '=', status as string))
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .$call(page(filter))
        .execute()
      return rows.map(toCount)
    },
    async upsertLines(lines: readonly CountLine[]) {
      // The same item twice in one call: the last one wins (one row per item in a statement).
      const last = new Map(lines.map((l) => [`${l.itemId}\u0000${l.packageId ?? ''}`, l]))
      const unique = [...last.values()]
      for (let i = 0; i < unique.length; i += 500) {
        await db
          .insertInto('oms_count_lines')
          .values(
            unique.slice(i, i + 500).map((l) => ({
              count_id: l.countId,
              item_id: l.itemId,
              package_id: l.packageId ?? '',
              expected: l.expected,
              counted: l.counted,
              counted_by: l.countedBy,
              counted_at: codec.ts(l.countedAt),
            })),
          )
          .onConflict((oc) =>
            oc.columns(['count_id', 'item_id', 'package_id']).doUpdateSet((eb) => ({
              expected: eb.ref('excluded.expected'),
              counted: eb.ref('excluded.counted'),
              counted_by: eb.ref('excluded.counted_by'),
              counted_at: eb.ref('excluded.counted_at'),
            })),
          )
          .execute()
      }
    },
    async listLines(countId) {
      const rows = await db
        .selectFrom('oms_count_lines')
        .selectAll()
        .where('count_id', '=', countId)
        .orderBy('item_id')
        .orderBy('package_id')
        .execute()
      return rows.map((r) => ({
        countId: r.count_id,
        itemId: r.item_id,
        packageId: r.package_id === '' ? null : r.package_id,
        expected: Number(r.expected),
        counted: Number(r.counted),
        countedBy: r.counted_by,
        countedAt: readTs(r.counted_at),
      }))
    },
  }
}

/** New levels at zero; rows that exist already are left alone. Returns how many were created. */
export async function insertZeroLevels(
  db: Db,
  dialect: SqlDialect,
  rows: ReadonlyArray<{ itemId: string; locationId: string }>,
  now: Date,
): Promise<number> {
  const r = await db
    .insertInto('oms_levels')
    .values(
      rows.map((row) => ({
        item_id: row.itemId,
        location_id: row.locationId,
        on_hand: 0,
        reserved: 0,
        damaged: 0,
        quarantine: 0,
        incoming: 0,
        safety_stock: 0,
        version: 0,
        updated_at: dialect.codec.ts(now),
      })),
    )
    .onConflict((oc) => oc.columns(['item_id', 'location_id']).doNothing())
    .executeTakeFirst()
  return Number(r.numInsertedOrUpdatedRows ?? 0)
}

type InventoryOperations = Pick<
  InventoryRepository,
  'setReorderPoint' | 'listLow' | 'applyPackageDelta' | 'listPackages' | 'listAllPackages' | 'ensureLevels'
>

/** Sets one of a level's settings (safety stock, reorder point), moving its version; the row, or none. */
export function setLevelSetting(
  db: Db,
  dialect: SqlDialect,
  column: 'safety_stock' | 'reorder_point',
  itemId: string,
  locationId: string,
  value: number | null,
  now: Date,
): Promise<Selectable<LevelsTable> | undefined> {
  return db
    .updateTable('oms_levels')
    .set((eb) => ({ [column]: value, version: eb('version', '+', 1), updated_at: dialect.codec.ts(now) }))
    .where('item_id', '=', itemId)
    .where('location_id', '=', locationId)
    .returningAll()
    .executeTakeFirst()
}

/** The inventory repository's reorder-point and per-package parts. */
/** A level's available quantity (on-hand less what is held, set aside and kept as safety stock). */
export const AVAILABLE = sql<number>`on_hand - reserved - damaged - quarantine - safety_stock`

/**
 * The low levels, as a query on `oms_levels`: watched (a reorder point is set) and available at or below
 * the reorder point — the one definition of low stock (`isLow` in core), used by `inventory.lowStock` and
 * the dashboard's low-stock alert alike.
 */
export const lowLevels = (db: Db) =>
  db
    .selectFrom('oms_levels')
    .where('reorder_point', 'is not', null)
    .where(AVAILABLE, '<=', sql<number>`reorder_point`)

export function createSqlInventoryOperations(
  db: Db,
  dialect: SqlDialect,
  level: (r: Selectable<LevelsTable>) => InventoryLevel,
): InventoryOperations {
  const { codec } = dialect
  const locationsOf = (storeIds: readonly string[]) =>
    db
      .selectFrom('oms_locations')
      .select('id')
      .where('store_id', 'in', storeIds.length ? [...storeIds] : [''])
  return {
    async ensureLevels(rows, now) {
      const unique = [...new Map(rows.map((r) => [`${r.itemId}\u0000${r.locationId}`, r])).values()]
      for (let i = 0; i < unique.length; i += 1000)
        await insertZeroLevels(db, dialect, unique.slice(i, i + 1000), now)
    },
    async setReorderPoint(itemId, locationId, reorderPoint, now) {
      const r = await setLevelSetting(db, dialect, 'reorder_point', itemId, locationId, reorderPoint, now)
      return r ? level(r) : null
    },
    async listLow(filter) {
      let q = lowLevels(db).selectAll().orderBy('item_id').orderBy('location_id')
      if (filter.locationId) q = q.where('location_id', '=', filter.locationId)
      if (filter.storeIds) q = q.where('location_id', 'in', locationsOf(filter.storeIds))
      if (filter.limit !== undefined) q = q.limit(filter.limit)
      if (filter.offset) q = q.offset(filter.offset)
      return (await q.execute()).map(level)
    },
    async applyPackageDelta(itemId, locationId, packageId, delta, now) {
      const update = () =>
        db
          .updateTable('oms_package_levels')
          .set((eb) => ({ on_hand: eb('on_hand', '+', delta), updated_at: codec.ts(now) }))
          .where('item_id', '=', itemId)
          .where('location_id', '=', locationId)
          .where('package_id', '=', packageId)
          .where('on_hand', '>=', -delta)
          .returningAll()
          .executeTakeFirst()
      const row = await update()
      if (row) return toPackage(row)
      if (delta < 0) return null
      await db
        .insertInto('oms_package_levels')
        .values({
          item_id: itemId,
          location_id: locationId,
          package_id: packageId,
          on_hand: 0,
          received_at: codec.ts(now),
          updated_at: codec.ts(now),
        })
        .onConflict((oc) => oc.columns(['item_id', 'location_id', 'package_id']).doNothing())
        .execute()
      const again = await update()
      return again ? toPackage(again) : null
    },
    async listPackages(filter) {
      let q = db
        .selectFrom('oms_package_levels')
        .selectAll()
        .where('on_hand', '>', 0)
        .orderBy('received_at')
        .orderBy('package_id')
      q =
        'packageId' in filter
          ? q.where('package_id', '=', filter.packageId)
          : q.where('item_id', '=', filter.itemId).where('location_id', '=', filter.locationId)
      return (await q.execute()).map(toPackage)
    },
    async listAllPackages() {
      return (await db.selectFrom('oms_package_levels').selectAll().execute()).map(toPackage)
    },
  }
}
