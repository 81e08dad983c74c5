import type { ColumnType } from 'kysely'

/** Timestamps: `timestamptz` (Date) on PostgreSQL, epoch milliseconds (number) on SQLite. */
export type Ts = ColumnType<Date | number, Date | number, Date | number>
/** JSON: `json` on PostgreSQL (stored as written, parsed by pg on read; nothing queries inside it, so no jsonb conversion on the write path), `text` on SQLite. */
export type Json = ColumnType<unknown, string, string>
/** `boolean` on PostgreSQL, 0/1 on SQLite. */
export type Bool = ColumnType<boolean | number, boolean | number, boolean | number>
/** bigint columns come back as strings from pg. */
export type BigSeq = ColumnType<number | string, never, never>

export interface LocationsTable {
  id: string
  store_id: string
  name: string
  kind: string
  external_ids: Json
}

export interface ItemsTable {
  id: string
  sku: string
  name: string
  category: string | null
  unit: string
  cannabis: Json | null
  external_ids: Json
  /** 0006. */
  barcode: string | null
}

export interface LevelsTable {
  item_id: string
  location_id: string
  on_hand: number
  reserved: number
  damaged: number
  quarantine: number
  incoming: number
  safety_stock: number
  /** Added by 0003; null: not watched for low stock. */
  reorder_point: number | null
  version: number
  updated_at: Ts
}

export interface MovementsTable {
  seq: BigSeq
  id: string
  item_id: string
  location_id: string
  bucket: string
  delta: number
  reason: string
  package_id: string | null
  actor_id: string
  reference_kind: string | null
  reference_id: string | null
  note: string | null
  created_at: Ts
}

export interface ReservationsTable {
  id: string
  item_id: string
  location_id: string
  order_id: string
  order_line_id: string
  quantity_reserved: number
  quantity_fulfilled: number
  quantity_released: number
  status: string
  expires_at: Ts | null
  reserved_at: Ts
  released_at: Ts | null
  fulfilled_at: Ts | null
  notes: string | null
  created_at: Ts
  updated_at: Ts
}

export interface OrdersTable {
  id: string
  number: string
  channel: string
  flow: string
  store_id: string
  location_id: string
  customer_id: string | null
  status: string
  payment_status: string
  total_minor: number
  currency: string
  packed_quantity: number
  /** 0005: who the order is assigned to. */
  assignee_id: string | null
  /** 0005: where the order stands with the POS (written by a POS sync), null while untouched. */
  pos_sync_state: string | null
  /** 0007: how many notes the order has, kept in step by the note writes (the "has notes" filter). */
  note_count: ColumnType<number, number | undefined, number | undefined>
  version: number
  idempotency_key: string | null
  /** The rest of the order (lines, totals, external ids, attributes, cancellation reason). */
  doc: Json
  created_at: Ts
  updated_at: Ts
}

/** 0005: the words an order is found by in a text search (`searchTermsOf`), one row per (term, order). */
export interface OrderTermsTable {
  term: string
  order_id: string
  /** 0007: the order's store and creation time, so "words, store, newest first" is one index range. */
  store_id: string
  created_at: Ts
}

export interface FulfillmentsTable {
  id: string
  number: string
  order_id: string
  /** 0006: the order's store and customer, for reach-limited lists. */
  store_id: string | null
  customer_id: string | null
  location_id: string
  status: string
  assigned_to_id: string | null
  version: number
  doc: Json
  created_at: Ts
  updated_at: Ts
  /** 0009: the figures fulfillment statistics aggregate (also in `doc`). */
  scans_accepted: number
  scans_rejected: number
  dispatched_at: Ts | null
}

export interface HistoryTable {
  seq: BigSeq
  id: string
  entity_type: string
  entity_id: string
  order_id: string | null
  store_id: string | null
  action: string
  old_status: string | null
  new_status: string | null
  description: string
  actor_id: string
  ip: string | null
  user_agent: string | null
  additional_data: Json
  created_at: Ts
}

export interface NotesTable {
  id: string
  order_id: string
  text: string
  is_internal: Bool
  notify_customer: Bool
  notified_at: Ts | null
  author_id: string
  created_at: Ts
  updated_at: Ts
}

export interface OutboxTable {
  seq: BigSeq
  id: string
  type: string
  aggregate_id: string
  payload: Json
  created_at: Ts
  attempts: number
  available_at: Ts
  last_error: string | null
  delivered_at: Ts | null
  lease_owner: string | null
  lease_until: Ts | null
}

export interface SequencesTable {
  name: string
  value: number
}

export interface IdempotencyTable {
  scope: string
  key: string
  request_hash: string
  result: string | null
  created_at: Ts
}

export interface TransfersTable {
  id: string
  from_location_id: string
  to_location_id: string
  from_store_id: string
  to_store_id: string
  status: string
  version: number
  /** The rest of the transfer (lines, note, loss reason, step timestamps). */
  doc: Json
  created_at: Ts
  updated_at: Ts
}

export interface CountsTable {
  id: string
  location_id: string
  store_id: string
  status: string
  version: number
  /** The rest of the count (kind, items, note, who opened and approved, step timestamps). */
  doc: Json
  created_at: Ts
  updated_at: Ts
}

export interface CountLinesTable {
  count_id: string
  item_id: string
  /** '' for the item as a whole. */
  package_id: string
  expected: number
  counted: number
  counted_by: string
  counted_at: Ts
}

export interface PackageLevelsTable {
  item_id: string
  location_id: string
  package_id: string
  on_hand: number
  received_at: Ts
  updated_at: Ts
}

/** The Peak OMS schema, as Kysely sees it. */
export interface SyncJobsTable {
  seq: BigSeq
  id: string
  pos: string
  kind: string
  entity_id: string
  store_id: string | null
  status: string
  attempts: number
  next_attempt_at: Ts
  last_error_code: string | null
  last_error_message: string | null
  last_failed_at: Ts | null
  lease_owner: string | null
  lease_until: Ts | null
  note: string | null
  created_at: Ts
  updated_at: Ts
  finished_at: Ts | null
}

export interface PaymentsTable {
  id: string
  order_id: string
  store_id: string
  customer_id: string | null
  kind: string
  sequence: number
  idempotency_key: string
  status: string
  /** bigint: a string from pg. */
  amount_minor: ColumnType<number | string, number, number>
  currency: string
  lines: Json
  attempts: number
  last_error_code: string | null
  last_error_message: string | null
  provider_reference: string | null
  version: number
  created_at: Ts
  updated_at: Ts
  completed_at: Ts | null
}

export interface PeakDatabase {
  oms_locations: LocationsTable
  oms_items: ItemsTable
  oms_levels: LevelsTable
  oms_movements: MovementsTable
  oms_reservations: ReservationsTable
  oms_orders: OrdersTable
  oms_order_terms: OrderTermsTable
  oms_fulfillments: FulfillmentsTable
  oms_history: HistoryTable
  oms_notes: NotesTable
  oms_outbox: OutboxTable
  oms_sequences: SequencesTable
  oms_idempotency: IdempotencyTable
  oms_sync_jobs: SyncJobsTable
  oms_transfers: TransfersTable
  oms_counts: CountsTable
  oms_count_lines: CountLinesTable
  oms_package_levels: PackageLevelsTable
  oms_payments: PaymentsTable
}
