import type {
  Fulfillment,
  HistoryEntry,
  IdempotencyRecord,
  InventoryLevel,
  Item,
  LevelDeltas,
  Location,
  Movement,
  NewOutboxEvent,
  Note,
  Order,
  OrderFilter,
  OrderSearchFilter,
  OutboxEvent,
  Reservation,
  StorageTx,
  SyncJob,
  SyncJobKind,
  SyncJobStatus,
  SyncJobSummaryRow,
} from '@peak-oms/core'
import { fulfillmentDispatchedAt, searchTermsOf } from '@peak-oms/core'
import { type Kysely, type RawBuilder, type Selectable, type SelectQueryBuilder, sql } from 'kysely'
import { type Codec, readBool, readJson, readTs, readTsOrNull, writeJson } from './codec'
import type {
  FulfillmentsTable,
  HistoryTable,
  ItemsTable,
  LevelsTable,
  LocationsTable,
  MovementsTable,
  NotesTable,
  OrdersTable,
  OutboxTable,
  PeakDatabase,
  ReservationsTable,
  SyncJobsTable,
} from './database'
import { fulfillmentStatistics } from './fulfillment-statistics-sql'
import {
  AVAILABLE,
  createSqlCounts,
  createSqlInventoryOperations,
  createSqlTransfers,
  insertZeroLevels,
  lowLevels,
  setLevelSetting,
} from './inventory-operations-sql'
import { createSqlPayments } from './payments-sql'
import { type ColumnTypes, historyActionIndexed, UNINDEXED_HISTORY_ACTIONS } from './schema'

/** What differs between the SQL backends at query time. */
export interface SqlDialect {
  name: 'pg' | 'sqlite'
  codec: Codec
  /** The column types of the schema (for casts in raw SQL). */
  types: Pick<ColumnTypes, 'json' | 'timestamp'>
  /** The schema raw SQL must name (Kysely's `withSchema` does not reach into raw SQL). */
  schema?: string
  /**
   * Row locks (`FOR NO KEY UPDATE`, `FOR UPDATE SKIP LOCKED`): PostgreSQL. SQLite has one writer at a time,
   * which holds every row already.
   */
  skipLocked: boolean
  /** INSERTs inside WITH (PostgreSQL): `append` sends several tables' rows in one statement. */
  writableCtes: boolean
  /** Increments and returns a counter; may run outside the transaction (gaps allowed). */
  nextSequence(db: Kysely<PeakDatabase>, name: string): Promise<number>
}

type Db = Kysely<PeakDatabase>

const ACTIVE = sql.lit('active')
/** Rows per INSERT when a batch is large (a count approval, a bulk update). */
const APPEND_CHUNK = 1000

function chunks<T>(rows: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size))
  return out
}

const toLevel = (r: Selectable<LevelsTable>): InventoryLevel => ({
  itemId: r.item_id,
  locationId: r.location_id,
  onHand: Number(r.on_hand),
  reserved: Number(r.reserved),
  damaged: Number(r.damaged),
  quarantine: Number(r.quarantine),
  incoming: Number(r.incoming),
  safetyStock: Number(r.safety_stock),
  reorderPoint: r.reorder_point === null || r.reorder_point === undefined ? null : Number(r.reorder_point),
  version: Number(r.version),
  updatedAt: readTs(r.updated_at),
})

const toMovement = (r: Selectable<MovementsTable>): Movement => ({
  id: r.id,
  itemId: r.item_id,
  locationId: r.location_id,
  bucket: r.bucket as Movement['bucket'],
  delta: Number(r.delta),
  reason: r.reason as Movement['reason'],
  packageId: r.package_id,
  actorId: r.actor_id,
  reference:
    r.reference_kind && r.reference_id
      ? { kind: r.reference_kind as NonNullable<Movement['reference']>['kind'], id: r.reference_id }
      : null,
  note: r.note,
  createdAt: readTs(r.created_at),
})

const toLocation = (r: Selectable<LocationsTable> | undefined): Location | null =>
  r
    ? {
        id: r.id,
        storeId: r.store_id,
        name: r.name,
        kind: r.kind as Location['kind'],
        externalIds: readJson(r.external_ids),
      }
    : null

const toReservation = (r: Selectable<ReservationsTable>): Reservation => ({
  id: r.id,
  itemId: r.item_id,
  locationId: r.location_id,
  orderId: r.order_id,
  orderLineId: r.order_line_id,
  quantityReserved: Number(r.quantity_reserved),
  quantityFulfilled: Number(r.quantity_fulfilled),
  quantityReleased: Number(r.quantity_released),
  status: r.status as Reservation['status'],
  expiresAt: readTsOrNull(r.expires_at),
  reservedAt: readTs(r.reserved_at),
  releasedAt: readTsOrNull(r.released_at),
  fulfilledAt: readTsOrNull(r.fulfilled_at),
  notes: r.notes,
  createdAt: readTs(r.created_at),
  updatedAt: readTs(r.updated_at),
})

type OrderDoc = Pick<Order, 'lines' | 'totals' | 'externalIds' | 'attributes' | 'cancellationReason'>

const toOrder = (r: Selectable<OrdersTable>): Order => {
  const doc = readJson<OrderDoc>(r.doc)
  return {
    id: r.id,
    number: r.number,
    channel: r.channel as Order['channel'],
    flow: r.flow as Order['flow'],
    storeId: r.store_id,
    locationId: r.location_id,
    customerId: r.customer_id,
    lines: doc.lines,
    totals: doc.totals,
    paymentStatus: r.payment_status as Order['paymentStatus'],
    status: r.status,
    cancellationReason: doc.cancellationReason,
    packedQuantity: Number(r.packed_quantity),
    assigneeId: r.assignee_id ?? null,
    posSyncState: r.pos_sync_state ?? null,
    version: Number(r.version),
    externalIds: doc.externalIds,
    attributes: doc.attributes,
    idempotencyKey: r.idempotency_key,
    createdAt: readTs(r.created_at),
    updatedAt: readTs(r.updated_at),
  }
}

const TS_FIELDS = [
  'assignedAt',
  'pickingStartedAt',
  'pickingCompletedAt',
  'packingStartedAt',
  'packingCompletedAt',
  'shippedAt',
  'fulfilledAt',
  'cancelledAt',
] as const

const toFulfillment = (r: Selectable<FulfillmentsTable>): Fulfillment => {
  // Rows written before a field existed read as its default.
  const doc = {
    shortPicked: false,
    scansAccepted: 0,
    scansRejected: 0,
    carrier: null,
    ...readJson<Record<string, unknown>>(r.doc),
  } as Record<string, unknown>
  doc.lines = (doc.lines as Array<Record<string, unknown>>).map((l) => ({
    sku: null,
    quantityPicked: 0,
    ...l,
  }))
  for (const f of TS_FIELDS)
    doc[f] = doc[f] === null || doc[f] === undefined ? null : new Date(doc[f] as string)
  return {
    ...(doc as Omit<
      Fulfillment,
      | 'id'
      | 'number'
      | 'orderId'
      | 'locationId'
      | 'status'
      | 'storeId'
      | 'customerId'
      | 'assignedToId'
      | 'version'
      | 'createdAt'
      | 'updatedAt'
    >),
    id: r.id,
    number: r.number,
    orderId: r.order_id,
    locationId: r.location_id,
    status: r.status as Fulfillment['status'],
    storeId: r.store_id as string,
    customerId: r.customer_id,
    assignedToId: r.assigned_to_id,
    version: Number(r.version),
    createdAt: readTs(r.created_at),
    updatedAt: readTs(r.updated_at),
  }
}

const toHistory = (r: Selectable<HistoryTable>): HistoryEntry => ({
  id: r.id,
  entityType: r.entity_type as HistoryEntry['entityType'],
  entityId: r.entity_id,
  orderId: r.order_id,
  storeId: r.store_id,
  action: r.action as HistoryEntry['action'],
  oldStatus: r.old_status,
  newStatus: r.new_status,
  description: r.description,
  actorId: r.actor_id,
  ip: r.ip,
  userAgent: r.user_agent,
  additionalData: readJson(r.additional_data),
  createdAt: readTs(r.created_at),
})

const toNote = (r: Selectable<NotesTable>): Note => ({
  id: r.id,
  orderId: r.order_id,
  text: r.text,
  isInternal: readBool(r.is_internal),
  notifyCustomer: readBool(r.notify_customer),
  notifiedAt: readTsOrNull(r.notified_at),
  authorId: r.author_id,
  createdAt: readTs(r.created_at),
  updatedAt: readTs(r.updated_at),
})

const toOutbox = (r: Selectable<OutboxTable>): OutboxEvent => ({
  seq: Number(r.seq),
  id: r.id,
  type: r.type,
  aggregateId: r.aggregate_id,
  payload: readJson(r.payload),
  createdAt: readTs(r.created_at),
  attempts: Number(r.attempts),
  availableAt: readTs(r.available_at),
  lastError: r.last_error,
  deliveredAt: readTsOrNull(r.delivered_at),
  leaseOwner: r.lease_owner,
  leaseUntil: readTsOrNull(r.lease_until),
})

const toItem = (r: Selectable<ItemsTable>): Item => ({
  id: r.id,
  sku: r.sku,
  name: r.name,
  category: r.category,
  unit: r.unit as Item['unit'],
  cannabis: r.cannabis === null ? null : readJson(r.cannabis),
  externalIds: readJson(r.external_ids),
  barcode: r.barcode,
})

const toSyncJob = (r: Selectable<SyncJobsTable>): SyncJob => ({
  id: r.id,
  seq: Number(r.seq),
  pos: r.pos,
  kind: r.kind as SyncJobKind,
  entityId: r.entity_id,
  storeId: r.store_id,
  status: r.status as SyncJobStatus,
  attempts: Number(r.attempts),
  nextAttemptAt: readTs(r.next_attempt_at),
  lastError:
    r.last_error_code === null ? null : { code: r.last_error_code, message: r.last_error_message ?? '' },
  lastFailedAt: readTsOrNull(r.last_failed_at),
  leaseOwner: r.lease_owner,
  leaseUntil: readTsOrNull(r.lease_until),
  note: r.note,
  createdAt: readTs(r.created_at),
  updatedAt: readTs(r.updated_at),
  finishedAt: readTsOrNull(r.finished_at),
})

/**
 * The caller's reach on orders (or fulfillments, which carry their order's store and customer):
 * `store_id IN (…) OR customer_id = …`; nothing when neither is given.
 */
function withReach<Q extends SelectQueryBuilder<PeakDatabase, 'oms_orders', object>>(
  q: Q,
  reach: OrderFilter['reach'],
): Q {
  if (!reach) return q
  return q.where((eb) => {
    const ors = []
    if (reach.storeIds.length) ors.push(eb('store_id', 'in', [...reach.storeIds]))
    if (reach.customerId !== null) ors.push(eb('customer_id', '=', reach.customerId))
    return ors.length ? eb.or(ors) : eb.lit(false)
  }) as Q
}

/** Audit rows the caller reaches: rows of its stores, or of its own orders as a customer. */
function historyInReach<Q extends SelectQueryBuilder<PeakDatabase, 'oms_history', object>>(
  q: Q,
  reach: OrderFilter['reach'],
): Q {
  if (!reach) return q
  return q.where((eb) => {
    const ors = []
    if (reach.storeIds.length) ors.push(eb('store_id', 'in', [...reach.storeIds]))
    if (reach.customerId !== null)
      ors.push(
        eb(
          'order_id',
          'in',
          eb.selectFrom('oms_orders').select('id').where('customer_id', '=', reach.customerId),
        ),
      )
    return ors.length ? eb.or(ors) : eb.lit(false)
  }) as Q
}

const SORT_COLUMNS = {
  created: 'created_at',
  updated: 'updated_at',
  total: 'total_minor',
  number: 'number',
} as const

/** A search word is looked up as its list of terms when it begins at most this many distinct terms. */
const MAX_EXPANDED_TERMS = 64

/** A word with fewer term rows than this (in the search's creation range) is intersected directly. */
const RARE_WORD_ROWS = 2000

/** What `expandWords` learnt of a search's words. */
interface ExpandedWords {
  /** The distinct terms each word begins, for the words that begin at most `MAX_EXPANDED_TERMS`. */
  terms: Map<string, readonly string[]>
  /**
   * The words, rarest first (fewest term rows, counted up to `RARE_WORD_ROWS`; then fewest terms): a
   * search walks the first word's rows and checks the others per row.
   */
  order: string[]
  /** Whether some word has fewer than `RARE_WORD_ROWS` term rows in the search's range. */
  rare: boolean
  /** The newest order's creation time (epoch ms), null without orders. */
  top: number | null
}

/**
 * One statement per word: the distinct terms it begins (a skip scan of the term index, one seek per
 * term), how many term rows it has in the search's creation range (counted up to `RARE_WORD_ROWS`, over
 * every store: the first rows of its range in the index, where a count in a small store would walk the
 * word's rows of all stores), and (with the first word) the newest order's creation time.
 */
async function expandWords(
  db: Db,
  dialect: SqlDialect,
  f: OrderSearchFilter,
  words: readonly string[],
): Promise<ExpandedWords> {
  const table = sql.table(dialect.schema ? `${dialect.schema}.oms_order_terms` : 'oms_order_terms')
  const out: ExpandedWords = { terms: new Map(), order: [], rare: false, top: null }
  const range = { createdFrom: f.createdFrom, createdTo: f.createdTo }
  const rows = new Map<string, number>()
  for (const [i, word] of words.entries()) {
    const end = `${word}${PREFIX_END}`
    const inRange = wordRows(db, dialect, range, word, undefined).select('t.order_id').limit(RARE_WORD_ROWS)
    const count = db.selectFrom(inRange.as('x')).select((eb) => eb.fn.countAll<number | string>().as('n'))
    const top =
      i === 0 ? db.selectFrom('oms_orders').select((eb) => eb.fn.max('created_at').as('top')) : sql`null`
    const r = await sql<{
      term: string | null
      n: number | string | null
      top: unknown
    }>`with recursive k(term) as (
        select min(term) from ${table} where term >= ${word} and term < ${end}
        union all
        select (select min(x.term) from ${table} x where x.term > k.term and x.term < ${end}) from k
        where k.term is not null
      )
      select e.term, null as n, null as top
      from (select term from k where term is not null limit ${MAX_EXPANDED_TERMS + 1}) e
      union all select null, (${count}), (${top})`.execute(db)
    const terms = r.rows.filter((row) => row.term !== null).map((row) => row.term as string)
    const summary = r.rows.find((row) => row.term === null)
    if (terms.length <= MAX_EXPANDED_TERMS) out.terms.set(word, terms)
    rows.set(word, Number(summary?.n ?? 0))
    if (Number(summary?.n ?? 0) < RARE_WORD_ROWS) out.rare = true
    if (i === 0 && summary?.top !== null && summary?.top !== undefined)
      out.top = readTs(summary.top as Date | number | string).getTime()
  }
  const width = (w: string) => out.terms.get(w)?.length ?? Number.POSITIVE_INFINITY
  out.order = [...words].sort((a, b) => (rows.get(a) ?? 0) - (rows.get(b) ?? 0) || width(a) - width(b))
  return out
}

/**
 * The creation-time windows a text search newest first tries, in days back from where the page starts:
 * the first that fills the page answers it (its orders are the newest of the whole result), the last is
 * the whole range.
 */
const SEARCH_WINDOW_DAYS = [7, 31, null] as const
const DAY_MS = 86_400_000

/** Up to this many statuses, a search by creation time merges one page per status (see `search`). */
const MERGED_STATUSES = 6

/** The highest code point: `term >= w AND term < w || MAX` is "term begins with w", on an index. */
const PREFIX_END = '\u{10FFFF}'

/**
 * The orders matching a search, as `oms_orders as o`: every criterion in the WHERE clause, the text
 * words as prefix ranges on the term table, notes and fulfillments as EXISTS.
 */
/** A page's end of a text search read from the term rows alone (see `wordMatches`). */
interface TermPage {
  direction: 'asc' | 'desc'
  limit: number
  after?: { value: number; id: string } | undefined
}

/** The stores a search's term rows can be narrowed to: its stores, within a store-only reach. */
function termStores(f: OrderSearchFilter): readonly string[] | undefined {
  const reach = f.reach && f.reach.customerId === null ? f.reach.storeIds : undefined
  if (f.storeIds && reach) return f.storeIds.filter((s) => reach.includes(s))
  return f.storeIds ?? reach
}

/** One word's term rows (its expanded terms, else its prefix range), narrowed by store and time. */
function wordRows(
  db: Db,
  dialect: SqlDialect,
  f: OrderSearchFilter,
  word: string,
  expanded: ReadonlyMap<string, readonly string[]> | undefined,
) {
  const { codec } = dialect
  let t = db.selectFrom('oms_order_terms as t')
  const terms = expanded?.get(word)
  t = terms
    ? terms.length
      ? t.where('t.term', 'in', terms)
      : t.where(sql.lit(false))
    : t.where('t.term', '>=', word).where('t.term', '<', `${word}${PREFIX_END}`)
  const stores = termStores(f)
  if (stores) t = stores.length ? t.where('t.store_id', 'in', [...stores]) : t.where(sql.lit(false))
  if (f.createdFrom) t = t.where('t.created_at', '>=', codec.ts(f.createdFrom))
  if (f.createdTo) t = t.where('t.created_at', '<', codec.ts(f.createdTo))
  return t
}

/**
 * The ids of the orders having every word, from the term table alone. Each word is its list of terms when
 * it was expanded (equality: one range per term of the term table's key `(term, created_at, order_id,
 * store_id)`, the creation time a bound of it, the store checked in the index), else its prefix range; the term rows are narrowed by store and creation time themselves,
 * and the words' order sets intersected there. With `top` (a search by creation time with no criterion
 * outside the term rows), the page is cut there too — the term rows carry the creation time — so only
 * the page's orders are read from the order table.
 */
function wordMatches(
  db: Db,
  dialect: SqlDialect,
  f: OrderSearchFilter,
  words: readonly string[],
  expanded: ReadonlyMap<string, readonly string[]> | undefined,
  top: TermPage | undefined,
) {
  const [first, ...others] = words as [string, ...string[]]
  const rows = (word: string) => wordRows(db, dialect, f, word, expanded).select('t.order_id')
  if (!top) return others.reduce((all, word) => all.intersect(rows(word)), rows(first))
  let t = wordRows(db, dialect, f, first, expanded).select(['t.order_id', 't.created_at'])
  // The other words (expanded to their terms: `top` is only asked for then) are checked per row of the
  // first, already narrowed by store and time, on the term table's own key: one seek of
  // (term, created_at, order_id) per term of the word.
  for (const word of others)
    t = t.where(({ exists, selectFrom }) => {
      const terms = expanded?.get(word) ?? []
      return exists(
        selectFrom('oms_order_terms as u')
          .select(sql.lit(1).as('one'))
          .where(terms.length ? sql<boolean>`u.term in (${sql.join(terms)})` : sql.lit(false))
          .whereRef('u.created_at', '=', 't.created_at')
          .whereRef('u.order_id', '=', 't.order_id'),
      )
    })
  const after = top.after
  if (after)
    t = t.where((eb) =>
      eb(
        eb.refTuple('t.created_at', 't.order_id'),
        top.direction === 'desc' ? '<' : '>',
        eb.tuple(dialect.codec.ts(new Date(after.value)), after.id),
      ),
    )
  const page = t
    .distinct()
    .orderBy('t.created_at', top.direction)
    .orderBy('t.order_id', top.direction)
    .limit(top.limit)
  return db.selectFrom(page.as('w')).select('w.order_id')
}

/** Whether a search's criteria are all on the term rows (words, stores, creation range, a store reach). */
const onTermRowsOnly = (f: OrderSearchFilter) =>
  (!f.reach || f.reach.customerId === null) &&
  Object.entries(f).every(
    ([key, value]) =>
      value === undefined || ['words', 'storeIds', 'createdFrom', 'createdTo', 'reach'].includes(key),
  )

function searchQuery(
  db: Db,
  dialect: SqlDialect,
  f: OrderSearchFilter,
  expanded?: ReadonlyMap<string, readonly string[]>,
  top?: TermPage,
) {
  const { codec } = dialect
  let q = db.selectFrom('oms_orders as o')
  const reach = f.reach
  if (reach)
    q = q.where((eb) => {
      const ors = []
      if (reach.storeIds.length) ors.push(eb('o.store_id', 'in', [...reach.storeIds]))
      if (reach.customerId !== null) ors.push(eb('o.customer_id', '=', reach.customerId))
      return ors.length ? eb.or(ors) : eb.lit(false)
    })
  const lists = [
    ['o.store_id', f.storeIds],
    ['o.location_id', f.locationIds],
    ['o.status', f.statuses],
    ['o.channel', f.channels],
    ['o.flow', f.flows],
    ['o.payment_status', f.paymentStatuses],
  ] as const
  for (const [column, values] of lists) {
    if (!values) continue
    q = values.length ? q.where(column, 'in', [...values]) : q.where(sql.lit(false))
  }
  if (f.posSyncStates) {
    const states = f.posSyncStates.filter((v): v is string => v !== null)
    const untouched = f.posSyncStates.includes(null)
    // Literal states (they are from a closed list): SQLite uses the partial index of failed syncs only
    // for a literal `= 'failed'`.
    q = q.where((eb) => {
      const ors = states.map((state) => eb('o.pos_sync_state', '=', sql.lit(state)))
      if (untouched) ors.push(eb('o.pos_sync_state', 'is', null))
      return ors.length ? eb.or(ors) : eb.lit(false)
    })
  }
  if (f.customerId !== undefined) q = q.where('o.customer_id', '=', f.customerId)
  if (f.assigneeId !== undefined)
    q =
      f.assigneeId === null
        ? q.where('o.assignee_id', 'is', null)
        : q.where('o.assignee_id', '=', f.assigneeId)
  if (f.createdFrom) q = q.where('o.created_at', '>=', codec.ts(f.createdFrom))
  if (f.createdTo) q = q.where('o.created_at', '<', codec.ts(f.createdTo))
  if (f.updatedFrom) q = q.where('o.updated_at', '>=', codec.ts(f.updatedFrom))
  if (f.updatedTo) q = q.where('o.updated_at', '<', codec.ts(f.updatedTo))
  if (f.totalMin !== undefined) q = q.where('o.total_minor', '>=', f.totalMin)
  if (f.totalMax !== undefined) q = q.where('o.total_minor', '<=', f.totalMax)
  if (f.words?.length) {
    const words = f.words
    q = q.where('o.id', 'in', () => wordMatches(db, dialect, f, words, expanded, top))
  }
  // The note count is kept on the order: "has notes" is a partial index of the noted orders.
  if (f.hasNotes !== undefined) q = q.where(sql<boolean>`o.note_count ${sql.raw(f.hasNotes ? '>' : '=')} 0`)
  if (f.fulfillmentStatuses) {
    const statuses = f.fulfillmentStatuses
    // The orders of the (few) fulfillments in those statuses, by the status index: a correlated EXISTS
    // would probe every order of the sort until a page is found.
    q = statuses.length
      ? q.where('o.id', 'in', (eb) =>
          eb
            .selectFrom('oms_fulfillments as x')
            .select('x.order_id')
            .where('x.status', 'in', [...statuses]),
        )
      : q.where(sql.lit(false))
  }
  return q
}

const LEVEL_COLUMNS: Record<keyof LevelDeltas, keyof LevelsTable> = {
  onHand: 'on_hand',
  reserved: 'reserved',
  damaged: 'damaged',
  quarantine: 'quarantine',
  incoming: 'incoming',
}

/**
 * Core's transaction-scoped repositories on Kysely: one implementation for every SQL backend. `db` is the
 * transaction (or the single connection holding it). Every write that must not race is one conditional
 * statement (`UPDATE … WHERE <condition> RETURNING`), never a read followed by a write.
 */
export function createSqlTx(db: Db, dialect: SqlDialect): StorageTx {
  const { codec } = dialect
  const orderRow = (o: Order) => ({
    id: o.id,
    number: o.number,
    channel: o.channel,
    flow: o.flow,
    store_id: o.storeId,
    location_id: o.locationId,
    customer_id: o.customerId,
    status: o.status,
    payment_status: o.paymentStatus,
    total_minor: o.totals.totalMinor,
    currency: o.totals.currency,
    packed_quantity: o.packedQuantity,
    assignee_id: o.assigneeId,
    pos_sync_state: o.posSyncState,
    version: o.version,
    idempotency_key: o.idempotencyKey,
    doc: writeJson({
      lines: o.lines,
      totals: o.totals,
      externalIds: o.externalIds,
      attributes: o.attributes,
      cancellationReason: o.cancellationReason,
    } satisfies OrderDoc),
    created_at: codec.ts(o.createdAt),
    updated_at: codec.ts(o.updatedAt),
  })
  const fulfillmentRow = (f: Fulfillment) => {
    const {
      id,
      number,
      orderId,
      storeId,
      customerId,
      locationId,
      status,
      assignedToId,
      version,
      createdAt,
      updatedAt,
      ...doc
    } = f
    return {
      id,
      number,
      order_id: orderId,
      store_id: storeId,
      customer_id: customerId,
      location_id: locationId,
      status,
      assigned_to_id: assignedToId,
      version,
      doc: writeJson(doc),
      created_at: codec.ts(createdAt),
      updated_at: codec.ts(updatedAt),
      scans_accepted: f.scansAccepted,
      scans_rejected: f.scansRejected,
      dispatched_at: codec.ts(fulfillmentDispatchedAt(f)),
    }
  }
  const noteRow = (n: Note) => ({
    id: n.id,
    order_id: n.orderId,
    text: n.text,
    is_internal: codec.bool(n.isInternal),
    notify_customer: codec.bool(n.notifyCustomer),
    notified_at: codec.ts(n.notifiedAt),
    author_id: n.authorId,
    created_at: codec.ts(n.createdAt),
    updated_at: codec.ts(n.updatedAt),
  })

  /** An order's search-term rows: each term with the order's store and creation time. */
  const termRows = (o: Order) => {
    const created_at = codec.ts(o.createdAt)
    return searchTermsOf(o).map((term) => ({ term, order_id: o.id, store_id: o.storeId, created_at }))
  }
  /**
   * Keeps the term rows of orders just written in step with them, from the versions they replaced: the
   * terms an order lost are deleted and those it gained inserted, each by the term table's own key (its
   * store and creation time never change). Nothing is written when its terms did not change — the common
   * case, a status change.
   */
  const refreshTerms = async (changes: ReadonlyArray<{ before: Order; after: Order }>) => {
    const lost: Array<ReturnType<typeof termRows>[number]> = []
    const gained: typeof lost = []
    for (const { before, after } of changes) {
      const old = new Set(searchTermsOf(before))
      const rows = termRows(after)
      const now = new Set(rows.map((r) => r.term))
      gained.push(...rows.filter((r) => !old.has(r.term)))
      lost.push(...termRows(before).filter((r) => !now.has(r.term)))
    }
    for (const chunk of chunks(lost, 500))
      await db
        .deleteFrom('oms_order_terms')
        .where((eb) =>
          eb.or(
            chunk.map((r) =>
              eb.and([
                eb('term', '=', r.term),
                eb('created_at', '=', r.created_at),
                eb('order_id', '=', r.order_id),
                eb('store_id', '=', r.store_id),
              ]),
            ),
          ),
        )
        .execute()
    for (const chunk of chunks(gained, 2000))
      await db
        .insertInto('oms_order_terms')
        .values(chunk)
        .onConflict((oc) => oc.columns(['term', 'created_at', 'order_id', 'store_id']).doNothing())
        .execute()
  }

  /** The ids of the locations of these stores, as a subquery. */
  const locationsOf = (storeIds: readonly string[]) =>
    db
      .selectFrom('oms_locations')
      .select('id')
      .where('store_id', 'in', storeIds.length ? [...storeIds] : [''])

  /** One INSERT per table (null when there is nothing to insert), shared by the repositories and `append`. */
  const inserts = {
    reservations: (rows: readonly Reservation[]) =>
      rows.length === 0
        ? null
        : db.insertInto('oms_reservations').values(
            rows.map((r) => ({
              id: r.id,
              item_id: r.itemId,
              location_id: r.locationId,
              order_id: r.orderId,
              order_line_id: r.orderLineId,
              quantity_reserved: r.quantityReserved,
              quantity_fulfilled: r.quantityFulfilled,
              quantity_released: r.quantityReleased,
              status: r.status,
              expires_at: codec.ts(r.expiresAt),
              reserved_at: codec.ts(r.reservedAt),
              released_at: codec.ts(r.releasedAt),
              fulfilled_at: codec.ts(r.fulfilledAt),
              notes: r.notes,
              created_at: codec.ts(r.createdAt),
              updated_at: codec.ts(r.updatedAt),
            })),
          ),
    orders: (rows: readonly Order[]) =>
      rows.length === 0 ? null : db.insertInto('oms_orders').values(rows.map(orderRow)),
    orderTerms: (rows: readonly Order[]) => {
      const terms = rows.flatMap(termRows)
      return terms.length === 0 ? null : db.insertInto('oms_order_terms').values(terms)
    },
    movements: (rows: readonly Movement[]) =>
      rows.length === 0
        ? null
        : db.insertInto('oms_movements').values(
            rows.map((m) => ({
              id: m.id,
              item_id: m.itemId,
              location_id: m.locationId,
              bucket: m.bucket,
              delta: m.delta,
              reason: m.reason,
              package_id: m.packageId,
              actor_id: m.actorId,
              reference_kind: m.reference?.kind ?? null,
              reference_id: m.reference?.id ?? null,
              note: m.note,
              created_at: codec.ts(m.createdAt),
            })),
          ),
    history: (rows: readonly HistoryEntry[]) =>
      rows.length === 0
        ? null
        : db.insertInto('oms_history').values(
            rows.map((h) => ({
              id: h.id,
              entity_type: h.entityType,
              entity_id: h.entityId,
              order_id: h.orderId,
              store_id: h.storeId,
              action: h.action,
              old_status: h.oldStatus,
              new_status: h.newStatus,
              description: h.description,
              actor_id: h.actorId,
              ip: h.ip,
              user_agent: h.userAgent,
              additional_data: writeJson(h.additionalData),
              created_at: codec.ts(h.createdAt),
            })),
          ),
    outbox: (rows: readonly NewOutboxEvent[]) =>
      rows.length === 0
        ? null
        : db.insertInto('oms_outbox').values(
            rows.map((e) => ({
              id: e.id,
              type: e.type,
              aggregate_id: e.aggregateId,
              payload: writeJson(e.payload),
              created_at: codec.ts(e.createdAt),
              attempts: 0,
              available_at: codec.ts(e.createdAt),
              last_error: null,
              delivered_at: null,
              lease_owner: null,
              lease_until: null,
            })),
          ),
  }

  const tx: StorageTx = {
    async append(batch) {
      const large = [batch.reservations, batch.orders, batch.movements, batch.history, batch.outbox].some(
        (rows) => (rows?.length ?? 0) > APPEND_CHUNK,
      )
      if (large) {
        // Too many rows for one statement's parameters (SQLite 32,766; PostgreSQL 65,535): in slices.
        const slices = [
          ...chunks(batch.reservations ?? [], APPEND_CHUNK).map(inserts.reservations),
          ...chunks(batch.orders ?? [], APPEND_CHUNK).map(inserts.orders),
          ...chunks(batch.orders ?? [], APPEND_CHUNK / 10).map(inserts.orderTerms),
          ...chunks(batch.movements ?? [], APPEND_CHUNK).map(inserts.movements),
          ...chunks(batch.history ?? [], APPEND_CHUNK).map(inserts.history),
          ...chunks(batch.outbox ?? [], APPEND_CHUNK).map(inserts.outbox),
        ]
        for (const q of slices) await q?.execute()
        return
      }
      const queries = [
        inserts.reservations(batch.reservations ?? []),
        inserts.orders(batch.orders ?? []),
        inserts.orderTerms(batch.orders ?? []),
        inserts.movements(batch.movements ?? []),
        inserts.history(batch.history ?? []),
        inserts.outbox(batch.outbox ?? []),
      ].filter((q) => q !== null)
      if (!dialect.writableCtes || queries.length < 2) {
        for (const q of queries) await q.execute()
        return
      }
      // One round trip: every insert a data-modifying CTE, which PostgreSQL runs to completion.
      // biome-ignore lint/suspicious/noExplicitAny: the CTEs are only written to, never read, so their row types do not matter.
      let creator: any = db
      for (const [i, q] of queries.entries()) creator = creator.with(`w${i}`, () => q)
      await (creator as Db).selectNoFrom(sql.lit(1).as('done')).execute()
    },
    locations: {
      async upsert(l: Location) {
        const row = {
          id: l.id,
          store_id: l.storeId,
          name: l.name,
          kind: l.kind,
          external_ids: writeJson(l.externalIds),
        }
        await db
          .insertInto('oms_locations')
          .values(row)
          .onConflict((oc) =>
            oc.column('id').doUpdateSet({
              store_id: row.store_id,
              name: row.name,
              kind: row.kind,
              external_ids: row.external_ids,
            }),
          )
          .execute()
      },
      async get(id) {
        return toLocation(
          await db.selectFrom('oms_locations').selectAll().where('id', '=', id).executeTakeFirst(),
        )
      },
      async lock(id) {
        const q = db.selectFrom('oms_locations').selectAll().where('id', '=', id)
        return toLocation(await (dialect.skipLocked ? q.forNoKeyUpdate() : q).executeTakeFirst())
      },
      async list(filter = {}) {
        let q = db.selectFrom('oms_locations').selectAll().orderBy('id')
        if (filter.storeId) q = q.where('store_id', '=', filter.storeId)
        return (await q.execute()).map((r) => toLocation(r) as Location)
      },
    },
    items: {
      async upsert(i: Item) {
        const row = {
          id: i.id,
          sku: i.sku,
          name: i.name,
          category: i.category,
          unit: i.unit,
          cannabis: i.cannabis === null ? null : writeJson(i.cannabis),
          external_ids: writeJson(i.externalIds),
          barcode: i.barcode,
        }
        const { id: _id, ...rest } = row
        await db
          .insertInto('oms_items')
          .values(row)
          .onConflict((oc) => oc.column('id').doUpdateSet(rest))
          .execute()
      },
      async get(id) {
        const [item] = await this.getMany([id])
        return item ?? null
      },
      async getMany(ids) {
        if (ids.length === 0) return []
        const rows = await db
          .selectFrom('oms_items')
          .selectAll()
          .where('id', 'in', [...ids])
          .execute()
        return rows.map(toItem)
      },
      async findByExternalIds(system, externalIds) {
        if (externalIds.length === 0) return []
        // The id at `system` inside the JSON column, as text (a scan: pulls are rare and batched).
        const key =
          dialect.name === 'pg'
            ? sql<string>`external_ids ->> ${system}`
            : sql<string>`json_extract(external_ids, ${`$."${system.replaceAll('"', '')}"`})`
        const rows = await db
          .selectFrom('oms_items')
          .selectAll()
          .where(key, 'in', [...externalIds])
          .execute()
        return rows.map(toItem)
      },
    },
    inventory: {
      async getLevel(itemId, locationId) {
        const r = await db
          .selectFrom('oms_levels')
          .selectAll()
          .where('item_id', '=', itemId)
          .where('location_id', '=', locationId)
          .executeTakeFirst()
        return r ? toLevel(r) : null
      },
      async lockLevel(itemId, locationId) {
        const q = db
          .selectFrom('oms_levels')
          .selectAll()
          .where('item_id', '=', itemId)
          .where('location_id', '=', locationId)
        const r = await (dialect.skipLocked ? q.forNoKeyUpdate() : q).executeTakeFirst()
        return r ? toLevel(r) : null
      },
      async listLevels(filter = {}) {
        let q = db.selectFrom('oms_levels').selectAll().orderBy('item_id').orderBy('location_id')
        if (filter.itemId) q = q.where('item_id', '=', filter.itemId)
        if (filter.locationId) q = q.where('location_id', '=', filter.locationId)
        if (filter.itemIds)
          q = filter.itemIds.length ? q.where('item_id', 'in', [...filter.itemIds]) : q.where(sql.lit(false))
        if (filter.storeIds) q = q.where('location_id', 'in', locationsOf(filter.storeIds))
        if (filter.limit !== undefined) q = q.limit(filter.limit)
        if (filter.offset) q = q.offset(filter.offset)
        return (await q.execute()).map(toLevel)
      },
      async applyDeltas(itemId, locationId, deltas, options) {
        const entries = (Object.keys(LEVEL_COLUMNS) as Array<keyof LevelDeltas>)
          .map((k) => [LEVEL_COLUMNS[k], deltas[k] ?? 0] as const)
          .filter(([, d]) => d !== 0)
        const update = () => {
          let q = db
            .updateTable('oms_levels')
            .set((eb) => {
              const set: Record<string, unknown> = {
                version: eb('version', '+', 1),
                updated_at: codec.ts(options.now),
              }
              for (const [col, d] of entries) set[col] = eb(col, '+', d)
              return set
            })
            .where('item_id', '=', itemId)
            .where('location_id', '=', locationId)
          for (const [col, d] of entries) if (d < 0) q = q.where(col, '>=', -d)
          if (options.requireAvailable !== undefined) {
            q = q.where(
              sql<number>`on_hand - reserved - damaged - quarantine - safety_stock`,
              '>=',
              options.requireAvailable,
            )
          }
          if (options.expectOnHand !== undefined) q = q.where('on_hand', '=', options.expectOnHand)
          return q.returningAll().executeTakeFirst()
        }
        const row = await update()
        if (row) return toLevel(row)
        // A missing row is created at zero, then the same conditional write runs again. Only worth it when
        // the write could succeed on a zero row (nothing negative, no availability asked for).
        const couldSucceedOnZero =
          entries.every(([, d]) => d >= 0) &&
          (options.requireAvailable === undefined || options.requireAvailable <= 0) &&
          (options.expectOnHand === undefined || options.expectOnHand === 0)
        if (!couldSucceedOnZero) return null
        const inserted = await insertZeroLevels(db, dialect, [{ itemId, locationId }], options.now)
        if (inserted === 0) {
          // Someone else created it meanwhile: try the write once more on their row.
          const again = await update()
          return again ? toLevel(again) : null
        }
        const again = await update()
        return again ? toLevel(again) : null
      },
      async setSafetyStock(itemId, locationId, safetyStock, now) {
        const r = await setLevelSetting(db, dialect, 'safety_stock', itemId, locationId, safetyStock, now)
        return r ? toLevel(r) : null
      },
      ...createSqlInventoryOperations(db, dialect, toLevel),
      async insertMovements(movements) {
        await tx.append({ movements })
      },
      async listMovements(filter) {
        let q = db.selectFrom('oms_movements').selectAll()
        if (filter.itemId) q = q.where('item_id', '=', filter.itemId)
        if (filter.locationId) q = q.where('location_id', '=', filter.locationId)
        if (filter.referenceId) q = q.where('reference_id', '=', filter.referenceId)
        if (filter.packageId) q = q.where('package_id', '=', filter.packageId)
        if (filter.storeIds) q = q.where('location_id', 'in', locationsOf(filter.storeIds))
        if (filter.limit) {
          const rows = await q.orderBy('seq', 'desc').limit(filter.limit).execute()
          return rows.reverse().map(toMovement)
        }
        return (await q.orderBy('seq').execute()).map(toMovement)
      },
      async sumMovements(row) {
        let q = db
          .selectFrom('oms_movements')
          .select([
            'item_id',
            'location_id',
            'bucket',
            (eb) => eb.fn.sum<number | string>('delta').as('total'),
          ])
          .groupBy(['item_id', 'location_id', 'bucket'])
        if (row) q = q.where('item_id', '=', row.itemId).where('location_id', '=', row.locationId)
        const rows = await q.execute()
        return rows.map((r) => ({
          itemId: r.item_id,
          locationId: r.location_id,
          bucket: r.bucket as Movement['bucket'],
          total: Number(r.total),
        }))
      },
      async overwriteLevel(level) {
        const row = {
          item_id: level.itemId,
          location_id: level.locationId,
          on_hand: level.onHand,
          reserved: level.reserved,
          damaged: level.damaged,
          quarantine: level.quarantine,
          incoming: level.incoming,
          safety_stock: level.safetyStock,
          reorder_point: level.reorderPoint,
          version: level.version,
          updated_at: codec.ts(level.updatedAt),
        }
        const { item_id: _i, location_id: _l, ...rest } = row
        await db
          .insertInto('oms_levels')
          .values(row)
          .onConflict((oc) => oc.columns(['item_id', 'location_id']).doUpdateSet(rest))
          .execute()
      },
    },
    reservations: {
      async insertMany(reservations) {
        await inserts.reservations(reservations)?.execute()
      },
      async get(id) {
        const r = await db.selectFrom('oms_reservations').selectAll().where('id', '=', id).executeTakeFirst()
        return r ? toReservation(r) : null
      },
      async listByOrder(orderId) {
        return (
          await db
            .selectFrom('oms_reservations')
            .selectAll()
            .where('order_id', '=', orderId)
            .orderBy('created_at')
            .orderBy('id')
            .execute()
        ).map(toReservation)
      },
      async listByOrders(orderIds) {
        if (orderIds.length === 0) return []
        const rows: Reservation[] = []
        for (const ids of chunks(orderIds, 1000)) {
          rows.push(
            ...(
              await db
                .selectFrom('oms_reservations')
                .selectAll()
                .where('order_id', 'in', ids)
                .orderBy('created_at')
                .orderBy('id')
                .execute()
            ).map(toReservation),
          )
        }
        return rows
      },
      async listActive(filter = {}) {
        let q = db.selectFrom('oms_reservations').selectAll().where('status', '=', ACTIVE)
        if (filter.itemId) q = q.where('item_id', '=', filter.itemId)
        if (filter.locationId) q = q.where('location_id', '=', filter.locationId)
        return (await q.orderBy('id').execute()).map(toReservation)
      },
      async update(changes) {
        const changed: Reservation[] = []
        for (const c of changes) {
          const set: Record<string, unknown> = {}
          const p = c.patch
          if (p.status !== undefined) set.status = p.status
          if (p.quantityFulfilled !== undefined) set.quantity_fulfilled = p.quantityFulfilled
          if (p.quantityReleased !== undefined) set.quantity_released = p.quantityReleased
          if (p.expiresAt !== undefined) set.expires_at = codec.ts(p.expiresAt)
          if (p.releasedAt !== undefined) set.released_at = codec.ts(p.releasedAt)
          if (p.fulfilledAt !== undefined) set.fulfilled_at = codec.ts(p.fulfilledAt)
          if (p.updatedAt !== undefined) set.updated_at = codec.ts(p.updatedAt)
          const r = await db
            .updateTable('oms_reservations')
            .set(set)
            .where('id', '=', c.id)
            .where('status', '=', c.expected.status)
            .where('quantity_fulfilled', '=', c.expected.quantityFulfilled)
            .where('quantity_released', '=', c.expected.quantityReleased)
            .returningAll()
            .executeTakeFirst()
          if (r) changed.push(toReservation(r))
        }
        return changed
      },
      async expireDue(now, limit, filter) {
        // Literal statuses (not parameters) so SQLite can use the partial indexes.
        let q = db
          .selectFrom('oms_reservations')
          .selectAll()
          .where('status', '=', ACTIVE)
          .where('expires_at', '<=', codec.ts(now))
        if (filter && 'orderIds' in filter) {
          if (filter.orderIds.length === 0) return []
          q = q.where('order_id', 'in', [...filter.orderIds])
        } else if (filter) {
          q = q.where('item_id', '=', filter.itemId).where('location_id', '=', filter.locationId)
        }
        q = q.orderBy('expires_at')
        if (limit < Number.MAX_SAFE_INTEGER) q = q.limit(limit)
        // Holds another transaction has locked are skipped, never waited for: their order's command or a
        // sweeper that locked the order decides what becomes of them.
        const due = (await (dialect.skipLocked ? q.forUpdate().skipLocked() : q).execute()).map(toReservation)
        if (due.length === 0) return []
        const updated = await db
          .updateTable('oms_reservations')
          .set((eb) => ({
            status: 'expired',
            quantity_released: eb('quantity_reserved', '-', eb.ref('quantity_fulfilled')),
            released_at: codec.ts(now),
            updated_at: codec.ts(now),
          }))
          .where(
            'id',
            'in',
            due.map((r) => r.id),
          )
          .where('status', '=', 'active')
          .returning('id')
          .execute()
        const ids = new Set(updated.map((r) => r.id))
        return due.filter((r) => ids.has(r.id))
      },
      async listDueOrderIds(now, limit) {
        const rows = await db
          .selectFrom('oms_reservations')
          .select(['order_id', (eb) => eb.fn.min('expires_at').as('due')])
          .where('status', '=', ACTIVE)
          .where('expires_at', '<=', codec.ts(now))
          .groupBy('order_id')
          .orderBy('due')
          .limit(limit)
          .execute()
        return rows.map((r) => r.order_id)
      },
      async sumActive(row) {
        let q = db
          .selectFrom('oms_reservations')
          .select([
            'item_id',
            'location_id',
            sql<number | string>`sum(quantity_reserved - quantity_fulfilled - quantity_released)`.as('total'),
          ])
          .where('status', '=', ACTIVE)
          .groupBy(['item_id', 'location_id'])
        if (row) q = q.where('item_id', '=', row.itemId).where('location_id', '=', row.locationId)
        const rows = await q.execute()
        return rows.map((r) => ({ itemId: r.item_id, locationId: r.location_id, total: Number(r.total) }))
      },
      async search(f) {
        let q = db
          .selectFrom('oms_reservations as r')
          .selectAll('r')
          .orderBy('r.created_at', 'desc')
          .orderBy('r.id', 'desc')
          .limit(f.limit)
        const reach = f.reach
        if (reach)
          q = q.where('r.order_id', 'in', (eb) =>
            eb
              .selectFrom('oms_orders as o')
              .select('o.id')
              .where((w) => {
                const ors = []
                if (reach.storeIds.length) ors.push(w('o.store_id', 'in', [...reach.storeIds]))
                if (reach.customerId !== null) ors.push(w('o.customer_id', '=', reach.customerId))
                return ors.length ? w.or(ors) : w.lit(false)
              }),
          )
        if (f.statuses)
          q = f.statuses.length ? q.where('r.status', 'in', [...f.statuses]) : q.where(sql.lit(false))
        if (f.itemId !== undefined) q = q.where('r.item_id', '=', f.itemId)
        if (f.locationId !== undefined) q = q.where('r.location_id', '=', f.locationId)
        if (f.orderId !== undefined) q = q.where('r.order_id', '=', f.orderId)
        const after = f.after
        if (after)
          q = q.where((eb) =>
            eb(eb.refTuple('r.created_at', 'r.id'), '<', eb.tuple(codec.ts(after.createdAt), after.id)),
          )
        return (await q.execute()).map(toReservation)
      },
      async listOrdersWithExpiredHolds(statuses, limit) {
        if (statuses.length === 0) return []
        // From the (few) orders still in an expirable status, probing each one's expired holds.
        const rows = await db
          .selectFrom('oms_orders as o')
          .select('o.id')
          .where('o.status', 'in', [...statuses])
          .where(({ exists, selectFrom }) =>
            exists(
              selectFrom('oms_reservations as r')
                .select(sql.lit(1).as('one'))
                .whereRef('r.order_id', '=', 'o.id')
                .where('r.status', '=', sql.lit('expired')),
            ),
          )
          .limit(limit)
          .execute()
        return rows.map((r) => r.id)
      },
    },
    orders: {
      async insert(order) {
        await inserts.orders([order])?.execute()
        await inserts.orderTerms([order])?.execute()
      },
      async get(id) {
        const r = await db.selectFrom('oms_orders').selectAll().where('id', '=', id).executeTakeFirst()
        return r ? toOrder(r) : null
      },
      async lock(id) {
        const q = db.selectFrom('oms_orders').selectAll().where('id', '=', id)
        const r = await (dialect.skipLocked ? q.forNoKeyUpdate() : q).executeTakeFirst()
        return r ? toOrder(r) : null
      },
      async lockFree(ids) {
        if (ids.length === 0) return []
        const q = db
          .selectFrom('oms_orders')
          .selectAll()
          .where('id', 'in', [...ids])
          .orderBy('id')
        return (await (dialect.skipLocked ? q.forNoKeyUpdate().skipLocked() : q).execute()).map(toOrder)
      },
      async getByNumber(number) {
        const r = await db
          .selectFrom('oms_orders')
          .selectAll()
          .where('number', '=', number)
          .executeTakeFirst()
        return r ? toOrder(r) : null
      },
      async getMany(ids) {
        if (ids.length === 0) return []
        const rows = await db
          .selectFrom('oms_orders')
          .selectAll()
          .where('id', 'in', [...ids])
          .execute()
        const byId = new Map(rows.map((r) => [r.id, toOrder(r)]))
        return ids.flatMap((id) => {
          const o = byId.get(id)
          return o ? [o] : []
        })
      },
      async update(order, expectedVersion) {
        const { id, ...rest } = orderRow(order)
        // the version being replaced, for its search terms (a compare-and-swap that will miss stops here)
        const before = await db.selectFrom('oms_orders').selectAll().where('id', '=', id).executeTakeFirst()
        if (!before || Number(before.version) !== expectedVersion) return false
        const r = await db
          .updateTable('oms_orders')
          .set(rest)
          .where('id', '=', id)
          .where('version', '=', expectedVersion)
          .executeTakeFirst()
        if (Number(r.numUpdatedRows) !== 1) return false
        // The search terms follow the order: drop those it lost, add those it gained.
        await refreshTerms([{ before: toOrder(before), after: order }])
        return true
      },
      async updateMany(updates) {
        let written = 0
        // One statement per chunk: a VALUES list joined to the table, each row compare-and-swapped on
        // version. Every column an order write can change is set (as `update` does), and the search
        // terms of the orders written follow them.
        for (const chunk of chunks(updates, 250)) {
          // the versions being replaced, for their search terms
          const replaced = new Map(
            (
              await db
                .selectFrom('oms_orders')
                .selectAll()
                .where(
                  'id',
                  'in',
                  chunk.map((u) => u.order.id),
                )
                .execute()
            ).map((r) => [r.id, r]),
          )
          const values = chunk.map(({ order, expectedVersion }) => {
            const r = orderRow(order)
            return sql`(${r.id}, ${expectedVersion}, ${r.status}, ${r.payment_status}, ${r.packed_quantity}, ${r.version}, ${r.doc}, ${r.updated_at}, ${r.customer_id}, ${r.location_id}, ${r.total_minor}, ${r.currency}, ${r.assignee_id}, ${r.pos_sync_state})`
          })
          const { json, timestamp } = dialect.types
          const result =
            await sql`with v(id, expected, status, payment_status, packed_quantity, version, doc, updated_at, customer_id, location_id, total_minor, currency, assignee_id, pos_sync_state) as (values ${sql.join(values)})
            update ${sql.table(dialect.schema ? `${dialect.schema}.oms_orders` : 'oms_orders')} set
              status = v.status,
              payment_status = v.payment_status,
              packed_quantity = cast(v.packed_quantity as integer),
              version = cast(v.version as integer),
              doc = cast(v.doc as ${sql.raw(json)}),
              updated_at = cast(v.updated_at as ${sql.raw(timestamp)}),
              customer_id = cast(v.customer_id as text),
              location_id = v.location_id,
              total_minor = cast(v.total_minor as integer),
              currency = v.currency,
              assignee_id = cast(v.assignee_id as text),
              pos_sync_state = cast(v.pos_sync_state as text)
            from v
            where oms_orders.id = v.id and oms_orders.version = cast(v.expected as integer)
            returning oms_orders.id`.execute(db)
          const ids = new Set((result.rows as Array<{ id: string }>).map((r) => r.id))
          written += ids.size
          await refreshTerms(
            chunk.flatMap((u) => {
              const before = replaced.get(u.order.id)
              return ids.has(u.order.id) && before && Number(before.version) === u.expectedVersion
                ? [{ before: toOrder(before), after: u.order }]
                : []
            }),
          )
        }
        return written
      },
      async list(filter) {
        let q = withReach(db.selectFrom('oms_orders').selectAll(), filter.reach)
        if (filter.storeIds)
          q = filter.storeIds.length
            ? q.where('store_id', 'in', [...filter.storeIds])
            : q.where(sql.lit(false))
        if (filter.statuses)
          q = filter.statuses.length ? q.where('status', 'in', [...filter.statuses]) : q.where(sql.lit(false))
        if (filter.channel) q = q.where('channel', '=', filter.channel)
        if (filter.customerId) q = q.where('customer_id', '=', filter.customerId)
        if (filter.createdFrom) q = q.where('created_at', '>=', codec.ts(filter.createdFrom))
        if (filter.createdTo) q = q.where('created_at', '<', codec.ts(filter.createdTo))
        q = q.orderBy('created_at', 'desc').orderBy('number', 'desc')
        if (filter.limit !== undefined) q = q.limit(filter.limit)
        if (filter.offset) q = q.offset(filter.offset)
        if (filter.offset && filter.limit === undefined) q = q.limit(Number.MAX_SAFE_INTEGER)
        return (await q.execute()).map(toOrder)
      },
      async search(asked, page) {
        // A page is a few milliseconds of work: on PostgreSQL, starting parallel workers for it (which the
        // planner picks for a long walk of term rows) costs several times the whole search.
        if (dialect.name === 'pg') await sql`set local max_parallel_workers_per_gather = 0`.execute(db)
        const { field, direction } = page.sort
        const column = SORT_COLUMNS[field]
        const words = asked.words?.length ? await expandWords(db, dialect, asked, asked.words) : undefined
        const expanded = words?.terms
        // the rarest word first: its rows are walked, the others checked per row
        const filter = words ? { ...asked, words: words.order } : asked
        // the page cut on the term rows, when every criterion is on them and every word but the first
        // was expanded to its terms (the others are sought on the term table's key)
        const byTerms =
          field === 'created' &&
          !!filter.words?.length &&
          onTermRowsOnly(filter) &&
          filter.words.slice(1).every((w) => expanded?.has(w))
        const lateRows =
          field === 'total' && !filter.words?.length && !!(filter.createdFrom || filter.createdTo)
        const pageOf = (f: OrderSearchFilter) => {
          const top = byTerms
            ? { direction, limit: page.limit, after: page.after as TermPage['after'] }
            : undefined
          let q = searchQuery(db, dialect, f, expanded, top).selectAll('o')
          if (page.after) {
            const value =
              field === 'created' || field === 'updated'
                ? codec.ts(new Date(page.after.value as number))
                : page.after.value
            const id = page.after.id
            q = q.where((eb) =>
              eb(eb.refTuple(`o.${column}`, 'o.id'), direction === 'desc' ? '<' : '>', eb.tuple(value, id)),
            )
          }
          q = q.orderBy(`o.${column}`, direction).orderBy('o.id', direction).limit(page.limit)
          if (!lateRows) return q
          // By total within a creation range: the page's ids first, from the creation-time indexes alone
          // (they hold the store, the total and the id), then only those orders read.
          return db
            .selectFrom('oms_orders as o')
            .selectAll('o')
            .where('o.id', 'in', q.clearSelect().select('o.id'))
            .orderBy(`o.${column}`, direction)
            .orderBy('o.id', direction)
        }
        const statuses = filter.statuses
        if (field === 'created' && statuses && statuses.length > 1 && statuses.length <= MERGED_STATUSES) {
          // Several statuses, by creation time: one page per status (each one range of the (status,
          // created_at) index, read in order), merged. Neither database merges ranges of one IN list in
          // order; this way no status's whole set is read and sorted.
          const [head, ...rest] = statuses.map((status) =>
            db.selectFrom(pageOf({ ...filter, statuses: [status] }).as('p')).selectAll(),
          )
          const merged = rest.reduce((all, one) => all.unionAll(one), head as NonNullable<typeof head>)
          const rows = await db
            .selectFrom(merged.as('m'))
            .selectAll()
            .orderBy(`m.${column}`, direction)
            .orderBy('m.id', direction)
            .limit(page.limit)
            .execute()
          return rows.map(toOrder)
        }
        // A page cut on the term rows of a first word that is one term walks that term's rows newest first
        // and stops at the page's end: a window would only walk them again.
        const walks = byTerms && expanded?.get(filter.words?.[0] as string)?.length === 1
        if (
          filter.words?.length &&
          field === 'created' &&
          direction === 'desc' &&
          words &&
          !words.rare &&
          !walks
        ) {
          // Text newest first: the words' order sets are intersected in the term table, which costs what
          // the sets hold. Narrowed to a window of recent orders first (the week before the page
          // starts, then a month), the sets are small; a window that fills the page holds the
          // newest matches of all, so the page is the same as over the whole range.
          if (!page.after && words.top === null) return []
          let top = page.after ? (page.after.value as number) : (words.top as number)
          if (filter.createdTo) top = Math.min(top, filter.createdTo.getTime())
          for (const days of SEARCH_WINDOW_DAYS) {
            const start = days === null ? null : new Date(top - days * DAY_MS)
            const narrowed =
              start && !(filter.createdFrom && filter.createdFrom >= start)
                ? { ...filter, createdFrom: start }
                : filter
            const rows = await pageOf(narrowed).execute()
            if (rows.length >= page.limit || narrowed === filter) return rows.map(toOrder)
          }
        }
        return (await pageOf(filter).execute()).map(toOrder)
      },
      async count(filter) {
        const expanded = filter.words?.length
          ? (await expandWords(db, dialect, filter, filter.words)).terms
          : undefined
        const r = await searchQuery(db, dialect, filter, expanded)
          .select((eb) => eb.fn.countAll<number | string>().as('n'))
          .executeTakeFirstOrThrow()
        return Number(r.n)
      },
      async countByStatus(filter) {
        let q = db
          .selectFrom('oms_orders')
          .select(['status', (eb) => eb.fn.countAll<number | string>().as('n')])
          .groupBy('status')
        q = withReach(q, filter.reach)
        if (filter.storeIds)
          q = filter.storeIds.length
            ? q.where('store_id', 'in', [...filter.storeIds])
            : q.where(sql.lit(false))
        if (filter.channel) q = q.where('channel', '=', filter.channel)
        if (filter.customerId) q = q.where('customer_id', '=', filter.customerId)
        if (filter.createdFrom) q = q.where('created_at', '>=', codec.ts(filter.createdFrom))
        if (filter.createdTo) q = q.where('created_at', '<', codec.ts(filter.createdTo))
        return Object.fromEntries((await q.execute()).map((r) => [r.status, Number(r.n)]))
      },
    },
    fulfillments: {
      async insert(f) {
        await db.insertInto('oms_fulfillments').values(fulfillmentRow(f)).execute()
      },
      async get(id) {
        const r = await db.selectFrom('oms_fulfillments').selectAll().where('id', '=', id).executeTakeFirst()
        return r ? toFulfillment(r) : null
      },
      async listByOrder(orderId) {
        return (
          await db
            .selectFrom('oms_fulfillments')
            .selectAll()
            .where('order_id', '=', orderId)
            .orderBy('created_at')
            .execute()
        ).map(toFulfillment)
      },
      async update(f, expectedVersion) {
        const { id, ...rest } = fulfillmentRow(f)
        const r = await db
          .updateTable('oms_fulfillments')
          .set(rest)
          .where('id', '=', id)
          .where('version', '=', expectedVersion)
          .executeTakeFirst()
        return Number(r.numUpdatedRows) === 1
      },
      async list(filter) {
        // Same reach columns as orders (store_id, customer_id).
        let q = withReach(
          db.selectFrom('oms_fulfillments').selectAll() as unknown as SelectQueryBuilder<
            PeakDatabase,
            'oms_orders',
            object
          >,
          filter.reach,
        ) as unknown as SelectQueryBuilder<PeakDatabase, 'oms_fulfillments', Selectable<FulfillmentsTable>>
        if (filter.statuses)
          q = filter.statuses.length ? q.where('status', 'in', [...filter.statuses]) : q.where(sql.lit(false))
        if (filter.assignedToId !== undefined) q = q.where('assigned_to_id', '=', filter.assignedToId)
        if (filter.locationId !== undefined) q = q.where('location_id', '=', filter.locationId)
        const rows = await q
          .orderBy('created_at')
          .orderBy('number')
          .limit(filter.limit ?? 50)
          .offset(filter.offset ?? 0)
          .execute()
        return rows.map(toFulfillment)
      },
      statistics: (filter) => fulfillmentStatistics(db, dialect, filter),
    },
    history: {
      async appendMany(entries) {
        await inserts.history(entries)?.execute()
      },
      async search(f) {
        let q = db.selectFrom('oms_history').selectAll().orderBy('seq', 'desc').limit(f.limit)
        q = historyInReach(q, f.reach)
        if (f.orderId !== undefined) q = q.where('order_id', '=', f.orderId)
        if (f.entityType !== undefined) q = q.where('entity_type', '=', f.entityType)
        if (f.entityId !== undefined) q = q.where('entity_id', '=', f.entityId)
        if (f.actorId !== undefined) q = q.where('actor_id', '=', f.actorId)
        if (f.actions) {
          q = f.actions.length ? q.where('action', 'in', [...f.actions]) : q.where(sql.lit(false))
          // Only actions the action index holds: its condition, so both databases use the index.
          if (f.actions.length && !f.actions.some((a) => UNINDEXED_HISTORY_ACTIONS.includes(a)))
            q = q.where(historyActionIndexed())
        }
        if (f.from) q = q.where('created_at', '>=', codec.ts(f.from))
        if (f.to) q = q.where('created_at', '<', codec.ts(f.to))
        if (f.beforeSeq !== undefined) q = q.where('seq', '<', f.beforeSeq)
        return (await q.execute()).map((r) => ({ seq: Number(r.seq), entry: toHistory(r) }))
      },
      async list(filter) {
        let q = db.selectFrom('oms_history').selectAll().orderBy('seq')
        q = historyInReach(q, filter.reach)
        if (filter.orderId) q = q.where('order_id', '=', filter.orderId)
        if (filter.entityId) q = q.where('entity_id', '=', filter.entityId)
        if (filter.action) q = q.where('action', '=', filter.action)
        if (filter.limit) q = q.limit(filter.limit)
        return (await q.execute()).map(toHistory)
      },
    },
    notes: {
      async insert(n) {
        await db.insertInto('oms_notes').values(noteRow(n)).execute()
        // The order counts its notes (the "has notes" search filter), in the same transaction.
        await db
          .updateTable('oms_orders')
          .set((eb) => ({ note_count: eb('note_count', '+', 1) }))
          .where('id', '=', n.orderId)
          .execute()
      },
      async get(id) {
        const r = await db.selectFrom('oms_notes').selectAll().where('id', '=', id).executeTakeFirst()
        return r ? toNote(r) : null
      },
      async update(n) {
        const { id, ...rest } = noteRow(n)
        await db.updateTable('oms_notes').set(rest).where('id', '=', id).execute()
      },
      async delete(id) {
        const r = await db
          .deleteFrom('oms_notes')
          .where('id', '=', id)
          .returning('order_id')
          .executeTakeFirst()
        if (!r) return false
        await db
          .updateTable('oms_orders')
          .set((eb) => ({ note_count: eb('note_count', '-', 1) }))
          .where('id', '=', r.order_id)
          .execute()
        return true
      },
      async listByOrder(orderId, options) {
        let q = db.selectFrom('oms_notes').selectAll().where('order_id', '=', orderId)
        if (!options.includeInternal) q = q.where('is_internal', '=', codec.bool(false))
        return (await q.orderBy('created_at').orderBy('id').execute()).map(toNote)
      },
    },
    outbox: {
      async append(events) {
        await inserts.outbox(events)?.execute()
      },
      async claim({ owner, limit, leaseMs, now }) {
        const at = codec.ts(now)
        let q = db
          .selectFrom('oms_outbox as o')
          .select('o.seq')
          .where('o.delivered_at', 'is', null)
          .where('o.available_at', '<=', at)
          .where((eb) => eb.or([eb('o.lease_until', 'is', null), eb('o.lease_until', '<=', at)]))
          .where(({ not, exists, selectFrom }) =>
            not(
              exists(
                selectFrom('oms_outbox as p')
                  .select(sql.lit(1).as('one'))
                  .whereRef('p.aggregate_id', '=', 'o.aggregate_id')
                  .where('p.delivered_at', 'is', null)
                  .whereRef('p.seq', '<', 'o.seq'),
              ),
            ),
          )
          .orderBy('o.seq')
          .limit(limit)
        if (dialect.skipLocked) q = q.forUpdate().skipLocked()
        const picked = await q.execute()
        if (picked.length === 0) return []
        const rows = await db
          .updateTable('oms_outbox')
          .set((eb) => ({
            lease_owner: owner,
            lease_until: codec.ts(new Date(now.getTime() + leaseMs)),
            attempts: eb('attempts', '+', 1),
          }))
          .where(
            'seq',
            'in',
            picked.map((p) => Number(p.seq)),
          )
          .returningAll()
          .execute()
        return rows.map(toOutbox).sort((a, b) => a.seq - b.seq)
      },
      async markDelivered(seqs, owner, now) {
        if (seqs.length === 0) return
        await db
          .updateTable('oms_outbox')
          .set({ delivered_at: codec.ts(now), lease_owner: null, lease_until: null })
          .where('seq', 'in', [...seqs])
          .where('lease_owner', '=', owner)
          .where('delivered_at', 'is', null)
          .execute()
      },
      async markFailed(seq, owner, error, availableAt) {
        await db
          .updateTable('oms_outbox')
          .set({
            last_error: error,
            available_at: codec.ts(availableAt),
            lease_owner: null,
            lease_until: null,
          })
          .where('seq', '=', seq)
          .where('lease_owner', '=', owner)
          .execute()
      },
      async list(filter) {
        let q = db.selectFrom('oms_outbox').selectAll().orderBy('seq')
        if (filter.delivered === true) q = q.where('delivered_at', 'is not', null)
        if (filter.delivered === false) q = q.where('delivered_at', 'is', null)
        if (filter.aggregateId) q = q.where('aggregate_id', '=', filter.aggregateId)
        if (filter.limit) q = q.limit(filter.limit)
        return (await q.execute()).map(toOutbox)
      },
    },
    sequences: {
      next: (name) => dialect.nextSequence(db, name),
    },
    dashboard: {
      async figures(f) {
        const stores = f.storeIds ? [...f.storeIds] : null
        const from = codec.ts(f.from)
        const to = codec.ts(f.to)
        const hour: RawBuilder<number | string> =
          dialect.name === 'pg'
            ? sql`(floor(extract(epoch from created_at) / 3600) * 3600000)::bigint`
            : sql`(created_at / 3600000) * 3600000`
        // One pass over the window's orders (an index range), grouped in the database.
        let groups = db
          .selectFrom('oms_orders')
          .select([
            'status',
            'currency',
            hour.as('hour_start'),
            (eb) => eb.fn.countAll<number | string>().as('n'),
            (eb) => eb.fn.sum<number | string>('total_minor').as('total'),
          ])
          .where('created_at', '>=', from)
          .where('created_at', '<', to)
          .groupBy(['status', 'currency', 'hour_start'])
        if (stores) groups = groups.where('store_id', 'in', stores.length ? stores : [''])
        let backlog = db
          .selectFrom('oms_orders')
          .select(['status', (eb) => eb.fn.countAll<number | string>().as('n')])
          .where('status', 'in', f.backlogStatuses.length ? [...f.backlogStatuses] : [''])
          .groupBy('status')
        if (stores) backlog = backlog.where('store_id', 'in', stores.length ? stores : [''])
        let holds = db
          .selectFrom('oms_reservations')
          .select([
            (eb) => eb.fn.countAll<number | string>().as('taken'),
            sql<number | string | null>`sum(case when status = 'expired' then 1 else 0 end)`.as('expired'),
          ])
          .where('created_at', '>=', from)
          .where('created_at', '<', to)
        if (stores) holds = holds.where('location_id', 'in', locationsOf(stores))
        // Stock-out incidents: the items at a location found short in the window (each counts once).
        let shortages = db
          .selectFrom('oms_history')
          .select((eb) => eb.fn.count<number | string>('entity_id').distinct().as('n'))
          .where('action', '=', 'inventory_shortage')
          .where('created_at', '>=', from)
          .where('created_at', '<', to)
        if (stores) shortages = shortages.where('store_id', 'in', stores.length ? stores : [''])
        const available = AVAILABLE
        let low = lowLevels(db)
        if (stores) low = low.where('location_id', 'in', locationsOf(stores))
        const [g, b, h, sh, lowCount, lowest] = [
          await groups.execute(),
          await backlog.execute(),
          await holds.executeTakeFirstOrThrow(),
          await shortages.executeTakeFirstOrThrow(),
          await low.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
          await low
            .select(['item_id', 'location_id', available.as('available'), 'reorder_point'])
            .orderBy('available')
            .orderBy('item_id')
            .orderBy('location_id')
            .limit(f.lowStockSample)
            .execute(),
        ]
        return {
          groups: g.map((r) => ({
            status: r.status,
            currency: r.currency,
            hourStart: Number(r.hour_start),
            orders: Number(r.n),
            totalMinor: Number(r.total),
          })),
          backlog: Object.fromEntries(b.map((r) => [r.status, Number(r.n)])),
          holds: { taken: Number(h.taken), expired: Number(h.expired ?? 0) },
          shortages: Number(sh.n),
          lowStock: {
            rows: Number(lowCount.n),
            lowest: lowest.map((r) => ({
              itemId: r.item_id,
              locationId: r.location_id,
              available: Number(r.available),
              reorderPoint: Number(r.reorder_point),
            })),
          },
        }
      },
    },
    transfers: createSqlTransfers(db, dialect),
    counts: createSqlCounts(db, dialect),
    payments: createSqlPayments(db, dialect),
    idempotency: {
      async claim(scope, key, requestHash, now) {
        const inserted = await db
          .insertInto('oms_idempotency')
          .values({ scope, key, request_hash: requestHash, result: null, created_at: codec.ts(now) })
          .onConflict((oc) => oc.columns(['scope', 'key']).doNothing())
          .returning('scope')
          .executeTakeFirst()
        if (inserted) return null
        const r = await db
          .selectFrom('oms_idempotency')
          .selectAll()
          .where('scope', '=', scope)
          .where('key', '=', key)
          .executeTakeFirstOrThrow()
        return {
          scope: r.scope,
          key: r.key,
          requestHash: r.request_hash,
          result: r.result,
          createdAt: readTs(r.created_at),
        } satisfies IdempotencyRecord
      },
      async complete(scope, key, result) {
        await db
          .updateTable('oms_idempotency')
          .set({ result })
          .where('scope', '=', scope)
          .where('key', '=', key)
          .execute()
      },
    },
    syncJobs: {
      async enqueue(jobs) {
        // One by one, in the caller's order, so `seq` follows it; the partial unique index on pending jobs
        // turns a repeat into nothing.
        for (const j of jobs) {
          await db
            .insertInto('oms_sync_jobs')
            .values({
              id: j.id,
              pos: j.pos,
              kind: j.kind,
              entity_id: j.entityId,
              store_id: j.storeId,
              status: 'pending',
              attempts: 0,
              next_attempt_at: codec.ts(j.nextAttemptAt ?? j.createdAt),
              last_error_code: null,
              last_error_message: null,
              last_failed_at: null,
              lease_owner: null,
              lease_until: null,
              note: null,
              created_at: codec.ts(j.createdAt),
              updated_at: codec.ts(j.createdAt),
              finished_at: null,
            })
            .onConflict((oc) =>
              oc.columns(['pos', 'kind', 'entity_id']).where('status', '=', sql.lit('pending')).doNothing(),
            )
            .execute()
        }
      },
      async claim({ owner, limit, leaseMs, now, pos }) {
        const at = codec.ts(now)
        let q = db
          .selectFrom('oms_sync_jobs as j')
          .select('j.seq')
          .where((eb) =>
            eb.or([
              eb.and([eb('j.status', '=', 'pending'), eb('j.next_attempt_at', '<=', at)]),
              eb.and([eb('j.status', '=', 'running'), eb('j.lease_until', '<=', at)]),
            ]),
          )
          .where(({ not, exists, selectFrom }) =>
            not(
              exists(
                selectFrom('oms_sync_jobs as p')
                  .select(sql.lit(1).as('one'))
                  .whereRef('p.pos', '=', 'j.pos')
                  .whereRef('p.entity_id', '=', 'j.entity_id')
                  .where('p.status', 'in', [sql.lit('pending'), sql.lit('running'), sql.lit('dead')])
                  .whereRef('p.seq', '<', 'j.seq'),
              ),
            ),
          )
          .orderBy('j.seq')
          .limit(limit)
        if (pos) q = q.where('j.pos', 'in', pos.length ? [...pos] : [''])
        if (dialect.skipLocked) q = q.forUpdate().skipLocked()
        const picked = await q.execute()
        if (picked.length === 0) return []
        const rows = await db
          .updateTable('oms_sync_jobs')
          .set((eb) => ({
            status: 'running',
            lease_owner: owner,
            lease_until: codec.ts(new Date(now.getTime() + leaseMs)),
            attempts: eb('attempts', '+', 1),
            updated_at: at,
          }))
          .where(
            'seq',
            'in',
            picked.map((p) => Number(p.seq)),
          )
          .returningAll()
          .execute()
        return rows.map(toSyncJob).sort((a, b) => a.seq - b.seq)
      },
      async finish(id, owner, outcome, now) {
        const at = codec.ts(now)
        const common = { status: outcome.status, lease_owner: null, lease_until: null, updated_at: at }
        const set =
          outcome.status === 'succeeded'
            ? { ...common, finished_at: at, ...(outcome.note ? { note: outcome.note } : {}) }
            : {
                ...common,
                last_error_code: outcome.error.code,
                last_error_message: outcome.error.message,
                last_failed_at: at,
                ...(outcome.status === 'pending'
                  ? { next_attempt_at: codec.ts(outcome.nextAttemptAt) }
                  : { finished_at: at }),
              }
        const r = await db
          .updateTable('oms_sync_jobs')
          .set(set)
          .where('id', '=', id)
          .where('status', '=', 'running')
          .where('lease_owner', '=', owner)
          .executeTakeFirst()
        return Number(r.numUpdatedRows) > 0
      },
      async update(id, expected, patch) {
        const row = await db
          .updateTable('oms_sync_jobs')
          .set({
            status: patch.status,
            lease_owner: null,
            lease_until: null,
            updated_at: codec.ts(patch.updatedAt),
            ...(patch.attempts !== undefined ? { attempts: patch.attempts } : {}),
            ...(patch.nextAttemptAt ? { next_attempt_at: codec.ts(patch.nextAttemptAt) } : {}),
            ...(patch.note !== undefined ? { note: patch.note } : {}),
            ...(patch.finishedAt !== undefined ? { finished_at: codec.ts(patch.finishedAt) } : {}),
          })
          .where('id', '=', id)
          .where('status', 'in', expected.length ? [...expected] : [''])
          .returningAll()
          .executeTakeFirst()
        return row ? toSyncJob(row) : null
      },
      async get(id) {
        const row = await db.selectFrom('oms_sync_jobs').selectAll().where('id', '=', id).executeTakeFirst()
        return row ? toSyncJob(row) : null
      },
      async list(f) {
        let q = db
          .selectFrom('oms_sync_jobs')
          .selectAll()
          .orderBy('seq', f.newestFirst ? 'desc' : 'asc')
        if (f.statuses) q = q.where('status', 'in', f.statuses.length ? [...f.statuses] : [''])
        if (f.pos) q = q.where('pos', '=', f.pos)
        if (f.kind) q = q.where('kind', '=', f.kind)
        if (f.entityId) q = q.where('entity_id', '=', f.entityId)
        if (f.storeIds) q = q.where('store_id', 'in', f.storeIds.length ? [...f.storeIds] : [''])
        // SQLite takes OFFSET only after a LIMIT.
        if (f.limit !== undefined || f.offset) q = q.limit(f.limit ?? Number.MAX_SAFE_INTEGER)
        if (f.offset) q = q.offset(f.offset)
        return (await q.execute()).map(toSyncJob)
      },
      async summary() {
        const rows = await db
          .selectFrom('oms_sync_jobs')
          .select((eb) => [
            'pos',
            'status',
            eb.fn.countAll().as('count'),
            eb.fn.min('created_at').as('oldest_created_at'),
            eb.fn.max('finished_at').as('latest_finished_at'),
            eb.fn.max('last_failed_at').as('latest_failed_at'),
          ])
          .groupBy(['pos', 'status'])
          .execute()
        return rows.map(
          (r): SyncJobSummaryRow => ({
            pos: r.pos,
            status: r.status as SyncJobStatus,
            count: Number(r.count),
            oldestCreatedAt: readTsOrNull(r.oldest_created_at as Date | number | null),
            latestFinishedAt: readTsOrNull(r.latest_finished_at as Date | number | null),
            latestFailedAt: readTsOrNull(r.latest_failed_at as Date | number | null),
          }),
        )
      },
    },
  }
  return tx
}

/** The upsert-increment sequence: one row per counter. Right for SQLite (one writer at a time). */
export async function rowSequence(db: Db, name: string): Promise<number> {
  const r = await db
    .insertInto('oms_sequences')
    .values({ name, value: 1 })
    .onConflict((oc) => oc.column('name').doUpdateSet((eb) => ({ value: eb('oms_sequences.value', '+', 1) })))
    .returning('value')
    .executeTakeFirstOrThrow()
  return Number(r.value)
}
