import { searchTermsOf } from '@peak-oms/core'
import { type Kysely, type Migration, type MigrationProvider, sql } from 'kysely'
import { readJson } from './codec'

/** Column types that differ between the SQL backends; everything else in the schema is shared. */
export interface ColumnTypes {
  timestamp: 'timestamptz' | 'integer'
  json: 'json' | 'jsonb' | 'text'
  boolean: 'boolean' | 'integer'
  /** An auto-incrementing 64-bit key. */
  serial: 'bigserial' | 'integer'
  /** `bigserial` needs no AUTOINCREMENT keyword; SQLite's integer primary key does. */
  autoIncrement: boolean
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists.
type AnyDb = Kysely<any>

const serialPk = (t: ColumnTypes) => (col: import('kysely').ColumnDefinitionBuilder) => {
  const c = col.primaryKey()
  return t.autoIncrement ? c.autoIncrement() : c
}

/** 0001: every table, constraint and index the services query by. */
export async function createSchema(db: AnyDb, t: ColumnTypes): Promise<void> {
  const ts = sql.raw(t.timestamp)
  const json = sql.raw(t.json)
  const bool = sql.raw(t.boolean)
  const serial = sql.raw(t.serial)

  await db.schema
    .createTable('oms_locations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('external_ids', json, (c) => c.notNull())
    .execute()
  await db.schema.createIndex('oms_locations_store').on('oms_locations').columns(['store_id']).execute()

  await db.schema
    .createTable('oms_items')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('sku', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('category', 'text')
    .addColumn('unit', 'text', (c) => c.notNull())
    .addColumn('cannabis', json)
    .addColumn('external_ids', json, (c) => c.notNull())
    .execute()

  // The CHECKs back invariant I1 in the database itself: no figure ever goes negative.
  await db.schema
    .createTable('oms_levels')
    .addColumn('item_id', 'text', (c) => c.notNull())
    .addColumn('location_id', 'text', (c) => c.notNull())
    .addColumn('on_hand', 'integer', (c) => c.notNull().check(sql`on_hand >= 0`))
    .addColumn('reserved', 'integer', (c) => c.notNull().check(sql`reserved >= 0`))
    .addColumn('damaged', 'integer', (c) => c.notNull().check(sql`damaged >= 0`))
    .addColumn('quarantine', 'integer', (c) => c.notNull().check(sql`quarantine >= 0`))
    .addColumn('incoming', 'integer', (c) => c.notNull().check(sql`incoming >= 0`))
    .addColumn('safety_stock', 'integer', (c) => c.notNull().check(sql`safety_stock >= 0`))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('oms_levels_pk', ['item_id', 'location_id'])
    .execute()
  await db.schema.createIndex('oms_levels_location').on('oms_levels').columns(['location_id']).execute()

  await db.schema
    .createTable('oms_movements')
    .addColumn('seq', serial, serialPk(t))
    // Append-only rows are keyed by `seq`; their generated UUID needs no second unique index on every insert.
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('item_id', 'text', (c) => c.notNull())
    .addColumn('location_id', 'text', (c) => c.notNull())
    .addColumn('bucket', 'text', (c) => c.notNull())
    .addColumn('delta', 'integer', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('package_id', 'text')
    .addColumn('actor_id', 'text', (c) => c.notNull())
    .addColumn('reference_kind', 'text')
    .addColumn('reference_id', 'text')
    .addColumn('note', 'text')
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('oms_movements_row')
    .on('oms_movements')
    .columns(['item_id', 'location_id', 'bucket'])
    .execute()
  await db.schema
    .createIndex('oms_movements_reference')
    .on('oms_movements')
    .columns(['reference_id'])
    .execute()

  await db.schema
    .createTable('oms_reservations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('item_id', 'text', (c) => c.notNull())
    .addColumn('location_id', 'text', (c) => c.notNull())
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('order_line_id', 'text', (c) => c.notNull())
    .addColumn('quantity_reserved', 'integer', (c) => c.notNull().check(sql`quantity_reserved > 0`))
    .addColumn('quantity_fulfilled', 'integer', (c) => c.notNull().check(sql`quantity_fulfilled >= 0`))
    .addColumn('quantity_released', 'integer', (c) => c.notNull().check(sql`quantity_released >= 0`))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('expires_at', ts)
    .addColumn('reserved_at', ts, (c) => c.notNull())
    .addColumn('released_at', ts)
    .addColumn('fulfilled_at', ts)
    .addColumn('notes', 'text')
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addCheckConstraint(
      'oms_reservations_remaining',
      sql`quantity_fulfilled + quantity_released <= quantity_reserved`,
    )
    .execute()
  await db.schema.createIndex('oms_reservations_order').on('oms_reservations').columns(['order_id']).execute()
  await db.schema
    .createIndex('oms_reservations_active_row')
    .on('oms_reservations')
    .columns(['item_id', 'location_id', 'expires_at'])
    .where(sql.ref('status'), '=', 'active')
    .execute()
  await db.schema
    .createIndex('oms_reservations_due')
    .on('oms_reservations')
    .columns(['expires_at'])
    .where(sql.ref('status'), '=', 'active')
    .execute()
  await db.schema
    .createIndex('oms_reservations_expired')
    .on('oms_reservations')
    .columns(['order_id'])
    .where(sql.ref('status'), '=', 'expired')
    .execute()

  await db.schema
    .createTable('oms_orders')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('number', 'text', (c) => c.notNull().unique())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('flow', 'text', (c) => c.notNull())
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addColumn('location_id', 'text', (c) => c.notNull())
    .addColumn('customer_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('payment_status', 'text', (c) => c.notNull())
    .addColumn('total_minor', 'integer', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('packed_quantity', 'integer', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('idempotency_key', 'text')
    .addColumn('doc', json, (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('oms_orders_status_store_created')
    .on('oms_orders')
    .columns(['status', 'store_id', 'created_at'])
    .execute()
  await db.schema
    .createIndex('oms_orders_store_created')
    .on('oms_orders')
    .columns(['store_id', 'created_at'])
    .execute()
  await db.schema.createIndex('oms_orders_created').on('oms_orders').columns(['created_at']).execute()
  await db.schema
    .createIndex('oms_orders_customer')
    .on('oms_orders')
    .columns(['customer_id', 'created_at'])
    .execute()

  await db.schema
    .createTable('oms_fulfillments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('number', 'text', (c) => c.notNull().unique())
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('location_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('assigned_to_id', 'text')
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('doc', json, (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute()
  await db.schema.createIndex('oms_fulfillments_order').on('oms_fulfillments').columns(['order_id']).execute()
  await db.schema
    .createIndex('oms_fulfillments_status')
    .on('oms_fulfillments')
    .columns(['status', 'assigned_to_id'])
    .execute()

  await db.schema
    .createTable('oms_history')
    .addColumn('seq', serial, serialPk(t))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('entity_type', 'text', (c) => c.notNull())
    .addColumn('entity_id', 'text', (c) => c.notNull())
    .addColumn('order_id', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('old_status', 'text')
    .addColumn('new_status', 'text')
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text', (c) => c.notNull())
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('additional_data', json, (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute()
  await db.schema.createIndex('oms_history_order').on('oms_history').columns(['order_id', 'seq']).execute()
  await db.schema.createIndex('oms_history_entity').on('oms_history').columns(['entity_id', 'seq']).execute()

  await db.schema
    .createTable('oms_notes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('is_internal', bool, (c) => c.notNull())
    .addColumn('notify_customer', bool, (c) => c.notNull())
    .addColumn('notified_at', ts)
    .addColumn('author_id', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute()
  await db.schema.createIndex('oms_notes_order').on('oms_notes').columns(['order_id', 'created_at']).execute()

  await db.schema
    .createTable('oms_outbox')
    .addColumn('seq', serial, serialPk(t))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('aggregate_id', 'text', (c) => c.notNull())
    .addColumn('payload', json, (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('available_at', ts, (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('delivered_at', ts)
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', ts)
    .execute()
  await db.schema
    .createIndex('oms_outbox_pending')
    .on('oms_outbox')
    .columns(['seq'])
    .where(sql.ref('delivered_at'), 'is', null)
    .execute()
  await db.schema
    .createIndex('oms_outbox_pending_aggregate')
    .on('oms_outbox')
    .columns(['aggregate_id', 'seq'])
    .where(sql.ref('delivered_at'), 'is', null)
    .execute()

  await db.schema
    .createTable('oms_sequences')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'integer', (c) => c.notNull())
    .execute()

  await db.schema
    .createTable('oms_idempotency')
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('result', 'text')
    .addColumn('created_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('oms_idempotency_pk', ['scope', 'key'])
    .execute()
}

/**
 * 0002: the store each audit row belongs to, so a store-scoped reader's query can be limited to its
 * stores (null: a global row, e.g. the catalog). Rows written before it stay null: visible to unscoped
 * readers only.
 */
async function addHistoryStore(db: AnyDb): Promise<void> {
  await db.schema.alterTable('oms_history').addColumn('store_id', 'text').execute()
  await db.schema.createIndex('oms_history_store').on('oms_history').columns(['store_id', 'seq']).execute()
}

/**
 * 0003: inventory operations — transfers between locations, physical counts and their counted lines,
 * stock per package (traceability tag), and a reorder point per level for low-stock alerts.
 */
async function addInventoryOperations(db: AnyDb, t: ColumnTypes): Promise<void> {
  const ts = sql.raw(t.timestamp)
  const json = sql.raw(t.json)
  await db.schema
    .alterTable('oms_levels')
    .addColumn('reorder_point', 'integer', (c) => c.check(sql`reorder_point >= 0`))
    .execute()
  await db.schema
    .createTable('oms_transfers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('from_location_id', 'text', (c) => c.notNull())
    .addColumn('to_location_id', 'text', (c) => c.notNull())
    .addColumn('from_store_id', 'text', (c) => c.notNull())
    .addColumn('to_store_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('doc', json, (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('oms_transfers_from')
    .on('oms_transfers')
    .columns(['from_location_id', 'created_at'])
    .execute()
  await db.schema
    .createIndex('oms_transfers_to')
    .on('oms_transfers')
    .columns(['to_location_id', 'created_at'])
    .execute()
  await db.schema
    .createTable('oms_counts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('location_id', 'text', (c) => c.notNull())
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('doc', json, (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .execute()
  await db.schema.createIndex('oms_counts_location').on('oms_counts').columns(['location_id']).execute()
  await db.schema
    .createTable('oms_count_lines')
    .addColumn('count_id', 'text', (c) => c.notNull())
    .addColumn('item_id', 'text', (c) => c.notNull())
    // '' for the item as a whole: a key column cannot be null
    .addColumn('package_id', 'text', (c) => c.notNull())
    .addColumn('expected', 'integer', (c) => c.notNull())
    .addColumn('counted', 'integer', (c) => c.notNull().check(sql`counted >= 0`))
    .addColumn('counted_by', 'text', (c) => c.notNull())
    .addColumn('counted_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('oms_count_lines_pk', ['count_id', 'item_id', 'package_id'])
    .execute()
  await db.schema
    .createTable('oms_package_levels')
    .addColumn('item_id', 'text', (c) => c.notNull())
    .addColumn('location_id', 'text', (c) => c.notNull())
    .addColumn('package_id', 'text', (c) => c.notNull())
    .addColumn('on_hand', 'integer', (c) => c.notNull().check(sql`on_hand >= 0`))
    .addColumn('received_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('oms_package_levels_pk', ['item_id', 'location_id', 'package_id'])
    .execute()
  await db.schema
    .createIndex('oms_package_levels_package')
    .on('oms_package_levels')
    .columns(['package_id'])
    .execute()
  await db.schema
    .createIndex('oms_movements_package')
    .on('oms_movements')
    .columns(['package_id'])
    .where(sql.ref('package_id'), 'is not', null)
    .execute()
}

/**
 * 0004: the POS sync job table. One pending job per (pos, kind, entity) (the partial unique index is what
 * coalesces a repeated enqueue); claims look for due jobs and for the earliest open job of each entity.
 */
async function addSyncJobs(db: AnyDb, t: ColumnTypes): Promise<void> {
  const ts = sql.raw(t.timestamp)
  const serial = sql.raw(t.serial)
  await db.schema
    .createTable('oms_sync_jobs')
    .addColumn('seq', serial, serialPk(t))
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('pos', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('entity_id', 'text', (c) => c.notNull())
    .addColumn('store_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', ts, (c) => c.notNull())
    .addColumn('last_error_code', 'text')
    .addColumn('last_error_message', 'text')
    .addColumn('last_failed_at', ts)
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', ts)
    .addColumn('note', 'text')
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addColumn('finished_at', ts)
    .execute()
  await db.schema
    .createIndex('oms_sync_jobs_one_pending')
    .on('oms_sync_jobs')
    .columns(['pos', 'kind', 'entity_id'])
    .unique()
    .where(sql.ref('status'), '=', 'pending')
    .execute()
  await db.schema
    .createIndex('oms_sync_jobs_open_entity')
    .on('oms_sync_jobs')
    .columns(['pos', 'entity_id', 'seq'])
    .where(sql.ref('status'), 'in', sql`('pending', 'running', 'dead')`)
    .execute()
  await db.schema
    .createIndex('oms_sync_jobs_status')
    .on('oms_sync_jobs')
    .columns(['status', 'pos', 'seq'])
    .execute()
}

/**
 * 0005: orders at scale. Orders gain an assignee and a POS sync state; a term table holds the words each
 * order is found by in a text search (number, customer, skus, item names, external ids), filled here for
 * the orders that exist; indexes for the searches' sorts, ranges and the dashboard's aggregates.
 */
async function addOrderSearch(db: AnyDb): Promise<void> {
  await db.schema.alterTable('oms_orders').addColumn('assignee_id', 'text').execute()
  await db.schema.alterTable('oms_orders').addColumn('pos_sync_state', 'text').execute()
  await db.schema
    .createTable('oms_order_terms')
    .addColumn('term', 'text', (c) => c.notNull())
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('oms_order_terms_pk', ['term', 'order_id'])
    .execute()
  await db.schema.createIndex('oms_order_terms_order').on('oms_order_terms').columns(['order_id']).execute()
  // The orders written before this migration, a batch at a time in id order.
  let after = ''
  for (;;) {
    const rows: Array<{ id: string; number: string; customer_id: string | null; doc: unknown }> = await db
      .selectFrom('oms_orders')
      .select(['id', 'number', 'customer_id', 'doc'])
      .where('id', '>', after)
      .orderBy('id')
      .limit(1000)
      .execute()
    if (rows.length === 0) break
    const terms = rows.flatMap((r) => {
      const doc = readJson<{ lines: never[]; externalIds: Record<string, string> }>(r.doc)
      return searchTermsOf({
        number: r.number,
        customerId: r.customer_id,
        lines: doc.lines ?? [],
        externalIds: doc.externalIds ?? {},
      }).map((term) => ({ term, order_id: r.id }))
    })
    for (let i = 0; i < terms.length; i += 500)
      await db
        .insertInto('oms_order_terms')
        .values(terms.slice(i, i + 500))
        .execute()
    after = (rows[rows.length - 1] as { id: string }).id
  }
  await db.schema.createIndex('oms_orders_updated').on('oms_orders').columns(['updated_at', 'id']).execute()
  await db.schema.createIndex('oms_orders_total').on('oms_orders').columns(['total_minor', 'id']).execute()
  // (created_at, id) pages the hold list; location and status make the dashboard's count index-only.
  await db.schema
    .createIndex('oms_reservations_created')
    .on('oms_reservations')
    .columns(['created_at', 'id', 'location_id', 'status'])
    .execute()
  // The dashboard groups the window's orders by status, currency and hour and sums their totals: the
  // created_at indexes carry those columns, so that scan reads the index alone (they replace 0001's).
  await db.schema.dropIndex('oms_orders_created').execute()
  await db.schema
    .createIndex('oms_orders_created')
    .on('oms_orders')
    .columns(['created_at', 'status', 'currency', 'total_minor'])
    .execute()
  await db.schema.dropIndex('oms_orders_store_created').execute()
  await db.schema
    .createIndex('oms_orders_store_created')
    .on('oms_orders')
    .columns(['store_id', 'created_at', 'status', 'currency', 'total_minor'])
    .execute()
  await db.schema.createIndex('oms_history_action').on('oms_history').columns(['action', 'seq']).execute()
  await db.schema.createIndex('oms_history_actor').on('oms_history').columns(['actor_id', 'seq']).execute()
  await db.schema
    .createIndex('oms_orders_assignee')
    .on('oms_orders')
    .columns(['assignee_id', 'created_at'])
    .execute()
}

/**
 * 0006: fulfillments carry their order's store and customer (reach-limited lists, filtered in the query),
 * with indexes for the work queues (by store and status, by assignee, by location); items gain an
 * optional barcode for scanning. Existing fulfillment rows take their order's store and customer.
 */
async function addFulfillment(db: AnyDb): Promise<void> {
  await db.schema.alterTable('oms_fulfillments').addColumn('store_id', 'text').execute()
  await db.schema.alterTable('oms_fulfillments').addColumn('customer_id', 'text').execute()
  // The query builder, not raw SQL, so a PostgreSQL schema set with `withSchema` applies.
  const ofOrder = (column: 'store_id' | 'customer_id') =>
    db.selectFrom('oms_orders as o').select(`o.${column}`).whereRef('o.id', '=', 'oms_fulfillments.order_id')
  await db
    .updateTable('oms_fulfillments')
    .set({ store_id: ofOrder('store_id'), customer_id: ofOrder('customer_id') })
    .execute()
  await db.schema
    .createIndex('oms_fulfillments_store_status')
    .on('oms_fulfillments')
    .columns(['store_id', 'status', 'created_at'])
    .execute()
  await db.schema
    .createIndex('oms_fulfillments_assignee')
    .on('oms_fulfillments')
    .columns(['assigned_to_id', 'created_at'])
    .execute()
  await db.schema
    .createIndex('oms_fulfillments_location')
    .on('oms_fulfillments')
    .columns(['location_id', 'status'])
    .execute()
  await db.schema.alterTable('oms_items').addColumn('barcode', 'text').execute()
}

/**
 * 0007: text and filter searches that stay fast at a million orders. The term table is rebuilt keyed by
 * `(term, created_at, order_id, store_id)`: each term row carries its order's creation time and store, so
 * "this term, newest first" (and "this term since then") is one range of the key, the store checked in the
 * index. It is the table's only index (a new order's terms land all over it): an order's writes keep its
 * terms in step from the version they replace, by this key, and a search checks a second word of an order
 * by seeking it here with the order's creation time and id. Orders count their
 * notes (kept in step by the note writes, in the same transaction) for a "has notes" filter on a small
 * partial index; a partial index holds the orders whose POS sync failed; `(status, created_at, id)` pages
 * one status newest first (a search over several statuses merges one such range per status); the
 * creation-time indexes end in the id; the assignee index only holds orders that have an assignee (new
 * orders have none, so creating one writes nothing to it) and carries the status. Existing term rows and
 * note counts are filled in from the orders and notes that exist.
 */
async function addSearchScale(db: AnyDb, t: ColumnTypes): Promise<void> {
  const ts = sql.raw(t.timestamp)
  await db.schema
    .createTable('oms_order_terms_0007')
    .addColumn('term', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('oms_order_terms_key', ['term', 'created_at', 'order_id', 'store_id'])
    .execute()
  await db
    .insertInto('oms_order_terms_0007')
    .columns(['term', 'created_at', 'order_id', 'store_id'])
    .expression(
      db
        .selectFrom('oms_order_terms as t')
        .innerJoin('oms_orders as o', 'o.id', 't.order_id')
        .select(['t.term', 'o.created_at', 't.order_id', 'o.store_id']),
    )
    .execute()
  await db.schema.dropTable('oms_order_terms').execute()
  await db.schema.alterTable('oms_order_terms_0007').renameTo('oms_order_terms').execute()

  await db.schema
    .alterTable('oms_orders')
    .addColumn('note_count', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()
  await db
    .updateTable('oms_orders')
    .set({
      note_count: db
        .selectFrom('oms_notes as n')
        .select((eb) => eb.fn.countAll().as('n'))
        .whereRef('n.order_id', '=', 'oms_orders.id'),
    })
    .where('id', 'in', db.selectFrom('oms_notes').select('order_id'))
    .execute()
  await db.schema
    .createIndex('oms_orders_noted')
    .on('oms_orders')
    .columns(['created_at', 'id', 'store_id'])
    .where(sql.ref('note_count'), '>', sql.lit(0))
    .execute()
  await db.schema
    .createIndex('oms_orders_sync_failed')
    .on('oms_orders')
    .columns(['created_at', 'id', 'store_id'])
    .where(sql.ref('pos_sync_state'), '=', sql.lit('failed'))
    .execute()
  await db.schema
    .createIndex('oms_orders_status_created')
    .on('oms_orders')
    .columns(['status', 'created_at', 'id'])
    .execute()
  // The creation-time indexes end in the id: a page by total within a creation range takes its ids from
  // them alone before reading its orders.
  await db.schema.dropIndex('oms_orders_created').execute()
  await db.schema
    .createIndex('oms_orders_created')
    .on('oms_orders')
    .columns(['created_at', 'status', 'currency', 'total_minor', 'id'])
    .execute()
  await db.schema.dropIndex('oms_orders_store_created').execute()
  await db.schema
    .createIndex('oms_orders_store_created')
    .on('oms_orders')
    .columns(['store_id', 'created_at', 'status', 'currency', 'total_minor', 'id'])
    .execute()
  await db.schema.dropIndex('oms_orders_assignee').execute()
  await db.schema
    .createIndex('oms_orders_assignee')
    .on('oms_orders')
    .columns(['assignee_id', 'status', 'created_at', 'id'])
    .where(sql.ref('assignee_id'), 'is not', null)
    .execute()
}

/**
 * 0008: payment operations (capture, void, refund) of orders, written with the change that asks for them
 * and then carried out by the outbox relay: status, amount, attempts, last error and the provider's
 * reference. The idempotency key sent to the provider is unique, as is an operation's place in its order.
 */
async function addPayments(db: AnyDb, t: ColumnTypes): Promise<void> {
  const ts = sql.raw(t.timestamp)
  const json = sql.raw(t.json)
  await db.schema
    .createTable('oms_payments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('store_id', 'text', (c) => c.notNull())
    .addColumn('customer_id', 'text')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('sequence', 'integer', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('amount_minor', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('lines', json, (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('last_error_code', 'text')
    .addColumn('last_error_message', 'text')
    .addColumn('provider_reference', 'text')
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addColumn('completed_at', ts)
    .execute()
  await db.schema
    .createIndex('oms_payments_order')
    .on('oms_payments')
    .columns(['order_id', 'sequence'])
    .unique()
    .execute()
  await db.schema
    .createIndex('oms_payments_status')
    .on('oms_payments')
    .columns(['status', 'store_id', 'created_at'])
    .execute()
}

/**
 * 0009: what fulfillment statistics aggregate, as columns: scans accepted and refused (picking accuracy)
 * and when the goods left (shipped, or handed over), with indexes for the windows. Existing rows take them
 * from their document.
 */
async function addFulfillmentStats(db: AnyDb, t: ColumnTypes): Promise<void> {
  const ts = sql.raw(t.timestamp)
  await db.schema
    .alterTable('oms_fulfillments')
    .addColumn('scans_accepted', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()
  await db.schema
    .alterTable('oms_fulfillments')
    .addColumn('scans_rejected', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()
  await db.schema.alterTable('oms_fulfillments').addColumn('dispatched_at', ts).execute()
  await backfillFulfillmentStats(db, t)
  await db.schema
    .createIndex('oms_fulfillments_created')
    .on('oms_fulfillments')
    .columns(['created_at'])
    .execute()
  await db.schema
    .createIndex('oms_fulfillments_dispatched')
    .on('oms_fulfillments')
    .columns(['dispatched_at'])
    .execute()
}

/** 0009's fill of existing rows: the scan counters and dispatch time from each fulfillment's document. */
export async function backfillFulfillmentStats(db: AnyDb, t: Pick<ColumnTypes, 'timestamp'>): Promise<void> {
  const rows: Array<{ id: string; doc: unknown }> = await db
    .selectFrom('oms_fulfillments')
    .select(['id', 'doc'])
    .execute()
  for (const row of rows) {
    const doc = readJson<{
      scansAccepted?: number
      scansRejected?: number
      shippedAt?: string | null
      fulfilledAt?: string | null
    }>(row.doc)
    const dispatched = doc.shippedAt ?? doc.fulfilledAt ?? null
    await db
      .updateTable('oms_fulfillments')
      .set({
        scans_accepted: doc.scansAccepted ?? 0,
        scans_rejected: doc.scansRejected ?? 0,
        dispatched_at:
          dispatched === null
            ? null
            : t.timestamp === 'integer'
              ? new Date(dispatched).getTime()
              : new Date(dispatched),
      })
      .where('id', '=', row.id)
      .execute()
  }
}

/**
 * The history actions every new order writes (its creation and its holds): the action index leaves them
 * out — they are a large share of all rows, so a search for one of them walks the history newest first and
 * meets them at once. Migration 0010 made the index with this list; changing it takes a new migration.
 */
export const UNINDEXED_HISTORY_ACTIONS: readonly string[] = ['created', 'inventory_reserved']

/**
 * The action index's condition. A history search for other actions adds it word for word, so both
 * databases use the partial index (SQLite only when the query repeats the index's condition).
 */
export const historyActionIndexed = () =>
  sql<boolean>`action not in (${sql.join(UNINDEXED_HISTORY_ACTIONS.map((a) => sql.lit(a)))})`

/**
 * 0010: fewer index entries per new order. One status index `(status, created_at, id, store_id)` serves a
 * store's pages (the store checked in the index) and every store's, in place of two; the history action
 * index leaves out the actions every new order writes.
 */
async function slimCreationIndexes(db: AnyDb): Promise<void> {
  await db.schema.dropIndex('oms_orders_status_store_created').ifExists().execute()
  await db.schema.dropIndex('oms_orders_status_created').ifExists().execute()
  await db.schema
    .createIndex('oms_orders_status_created')
    .on('oms_orders')
    .columns(['status', 'created_at', 'id', 'store_id'])
    .execute()
  await db.schema.dropIndex('oms_history_action').ifExists().execute()
  await db.schema
    .createIndex('oms_history_action')
    .on('oms_history')
    .columns(['action', 'seq'])
    .where(historyActionIndexed())
    .execute()
}

/** The migrations, in code (a folder of files would not survive bundling). */
export function migrationProvider(types: ColumnTypes): MigrationProvider {
  const migrations: Record<string, Migration> = {
    '0001-init': { up: (db) => createSchema(db, types) },
    '0002-history-store': { up: (db) => addHistoryStore(db) },
    '0003-inventory-operations': { up: (db) => addInventoryOperations(db, types) },
    '0004-sync': { up: (db) => addSyncJobs(db, types) },
    '0005-order-search': { up: (db) => addOrderSearch(db) },
    '0006-fulfillment': { up: (db) => addFulfillment(db) },
    '0007-search-scale': { up: (db) => addSearchScale(db, types) },
    '0008-payments': { up: (db) => addPayments(db, types) },
    '0009-fulfillment-stats': { up: (db) => addFulfillmentStats(db, types) },
    '0010-creation-indexes': { up: (db) => slimCreationIndexes(db) },
  }
  return { getMigrations: async () => migrations }
}
