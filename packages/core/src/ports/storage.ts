import type { StockBucket } from '../domain/enums'
import type {
  CountLine,
  Fulfillment,
  HistoryEntry,
  InventoryLevel,
  Item,
  Location,
  Movement,
  Note,
  Order,
  PackageLevel,
  Reservation,
  StockCount,
  Transfer,
} from '../domain/schemas'
import type { SyncJobRepository } from '../sync/sync-job'
import type { PaymentRepository } from './payments'

/** Signed changes to one inventory level, applied in one conditional write. */
export interface LevelDeltas {
  onHand?: number
  reserved?: number
  damaged?: number
  quarantine?: number
  incoming?: number
}

export interface LevelWriteOptions {
  /**
   * Only apply when `available` (onHand − reserved − damaged − quarantine − safetyStock, before the change)
   * is at least this much. This is how a hold is taken: one conditional write, never read-then-write.
   */
  requireAvailable?: number
  /** Compare-and-swap: only apply when `onHand` is exactly this before the write (set-quantity). */
  expectOnHand?: number
  now: Date
}

/** Stock levels and the movement ledger. Levels are only ever written together with a movement or hold. */
export interface InventoryRepository {
  /** Null when the (item, location) pair has never had stock. */
  getLevel(itemId: string, locationId: string): Promise<InventoryLevel | null>
  /**
   * Reads a level and keeps other writers of it waiting until this transaction ends (PostgreSQL: a row
   * lock; single-writer backends hold every row already). Null when the row does not exist. Every write
   * of a level is itself such a lock, so what the caller then reads of that row's movements and holds
   * cannot change before it commits.
   */
  lockLevel(itemId: string, locationId: string): Promise<InventoryLevel | null>
  /** Levels in (item, location) order; `storeIds` keeps those at locations of these stores. */
  listLevels(filter?: {
    itemId?: string
    locationId?: string
    itemIds?: readonly string[]
    storeIds?: readonly string[]
    limit?: number
    offset?: number
  }): Promise<InventoryLevel[]>
  /**
   * Applies `deltas` to the level in ONE conditional write, creating the level at zero first if it does not
   * exist. The write happens only if afterwards every figure is ≥ 0 (onHand included) and, when
   * `requireAvailable` is set, the available quantity before the write was at least that. Returns the new
   * level, or null when the condition failed (nothing written). Not idempotent.
   */
  applyDeltas(
    itemId: string,
    locationId: string,
    deltas: LevelDeltas,
    options: LevelWriteOptions,
  ): Promise<InventoryLevel | null>
  /**
   * Creates the levels of these rows that do not exist yet, at zero (one statement for many rows: a bulk
   * update's new levels). Existing levels are left as they are. Idempotent.
   */
  ensureLevels(rows: readonly LevelRow[], now: Date): Promise<void>
  /** Sets `safetyStock`; returns the level or null when it does not exist. */
  setSafetyStock(
    itemId: string,
    locationId: string,
    safetyStock: number,
    now: Date,
  ): Promise<InventoryLevel | null>
  /** Sets `reorderPoint` (null: not watched); returns the level or null when it does not exist. */
  setReorderPoint(
    itemId: string,
    locationId: string,
    reorderPoint: number | null,
    now: Date,
  ): Promise<InventoryLevel | null>
  /**
   * Levels with a reorder point whose available (onHand − reserved − damaged − quarantine − safetyStock)
   * is at or below it, in (item, location) order; `storeIds` as for `listLevels`.
   */
  listLow(filter: {
    locationId?: string
    storeIds?: readonly string[]
    limit?: number
    offset?: number
  }): Promise<InventoryLevel[]>
  /**
   * Changes one package's on-hand at a location by `delta` in ONE conditional write, creating it at zero
   * (with `receivedAt = now`) when it does not exist. Applies only if the result is ≥ 0; returns the new
   * package level, or null when the condition failed (nothing written). Not idempotent.
   */
  applyPackageDelta(
    itemId: string,
    locationId: string,
    packageId: string,
    delta: number,
    now: Date,
  ): Promise<PackageLevel | null>
  /**
   * Package levels with stock, oldest arrival first (the order sales consume them in): of one
   * (item, location) row, or of one package everywhere.
   */
  listPackages(filter: LevelRow | { packageId: string }): Promise<PackageLevel[]>
  /** Every package level, zero ones included (the invariant checks). */
  listAllPackages(): Promise<PackageLevel[]>
  /** Appends to the ledger. Append-only. */
  insertMovements(movements: readonly Movement[]): Promise<void>
  /** Movements oldest first (with `limit`, the most recent that many); `storeIds` as for levels. */
  listMovements(filter: {
    itemId?: string
    locationId?: string
    referenceId?: string
    packageId?: string
    storeIds?: readonly string[]
    limit?: number
  }): Promise<Movement[]>
  /** Sum of movement deltas per (item, location, bucket), optionally of one row: what the levels must equal (I3). */
  sumMovements(
    row?: LevelRow,
  ): Promise<Array<{ itemId: string; locationId: string; bucket: StockBucket; total: number }>>
  /** Overwrites a level's projected figures (used only by `reconcileProjections({ repair: true })`). */
  overwriteLevel(level: InventoryLevel): Promise<void>
}

/** Transfers between locations. Each step is a compare-and-swap on `version`, after `lock`. */
export interface TransferRepository {
  insert(transfer: Transfer): Promise<void>
  /** Null on a miss. */
  get(id: string): Promise<Transfer | null>
  /**
   * Reads a transfer and claims it for this transaction (PostgreSQL: `FOR NO KEY UPDATE`), so two steps of
   * one transfer run one after the other. Null on a miss.
   */
  lock(id: string): Promise<Transfer | null>
  /** Writes `transfer` only if the stored version is still `expectedVersion`; false when another writer won. */
  update(transfer: Transfer, expectedVersion: number): Promise<boolean>
  /**
   * Newest first. `storeIds`: transfers out of or into these stores; `locationId`: out of or into it.
   */
  list(filter: {
    storeIds?: readonly string[]
    locationId?: string
    status?: string
    limit?: number
    offset?: number
  }): Promise<Transfer[]>
}

/** Physical counts and their counted lines. */
export interface CountRepository {
  insert(count: StockCount): Promise<void>
  get(id: string): Promise<StockCount | null>
  /** Reads a count and claims it for this transaction (as `TransferRepository.lock`). Null on a miss. */
  lock(id: string): Promise<StockCount | null>
  /** Compare-and-swap on `version`; false when another writer won. */
  update(count: StockCount, expectedVersion: number): Promise<boolean>
  /** Newest first; `storeIds` keeps counts of locations of these stores. */
  list(filter: {
    storeIds?: readonly string[]
    locationId?: string
    status?: string
    limit?: number
    offset?: number
  }): Promise<StockCount[]>
  /** Inserts lines, replacing the line of the same (count, item). */
  upsertLines(lines: readonly CountLine[]): Promise<void>
  /** Lines of a count in item order. */
  listLines(countId: string): Promise<CountLine[]>
}

/** One (item, location) row. */
export interface LevelRow {
  itemId: string
  locationId: string
}

/** A change to one hold, written only if the hold is still as the caller read it (compare-and-swap). */
export interface ReservationChange {
  id: string
  /** What the caller read: the write happens only if status, fulfilled and released still match. */
  expected: Pick<Reservation, 'status' | 'quantityFulfilled' | 'quantityReleased'>
  patch: Partial<
    Pick<
      Reservation,
      | 'status'
      | 'quantityFulfilled'
      | 'quantityReleased'
      | 'expiresAt'
      | 'releasedAt'
      | 'fulfilledAt'
      | 'updatedAt'
    >
  >
}

export interface ReservationSearchFilter {
  reach?: OrderFilter['reach']
  statuses?: readonly string[]
  itemId?: string
  locationId?: string
  orderId?: string
  after?: { createdAt: Date; id: string }
  limit: number
}

export interface ReservationRepository {
  insertMany(reservations: readonly Reservation[]): Promise<void>
  get(id: string): Promise<Reservation | null>
  listByOrder(orderId: string): Promise<Reservation[]>
  /** The holds of several orders at once (the sweeper). */
  listByOrders(orderIds: readonly string[]): Promise<Reservation[]>
  listActive(filter?: { itemId?: string; locationId?: string }): Promise<Reservation[]>
  /**
   * Holds newest first (`createdAt`, then id, descending), strictly after `after` when given; the reach
   * is that of the hold's order, in the query.
   */
  search(filter: ReservationSearchFilter): Promise<Reservation[]>
  /**
   * Applies each change only where the hold still matches `expected`. Returns the holds actually changed;
   * a hold another writer changed first is left out. Core never skips such a miss: it runs the whole
   * command again on fresh state, or fails with a typed error.
   */
  update(changes: readonly ReservationChange[]): Promise<Reservation[]>
  /**
   * Atomically marks up to `limit` active holds whose `expiresAt <= now` as `expired` (what remained is
   * counted as released: `quantityReleased = quantityReserved − quantityFulfilled`) and returns them as
   * they were before (status `active`), so the caller can give their remaining quantity back. Safe to run
   * concurrently: each hold is returned to one caller only. `filter` narrows to one (item, location) row
   * (lazy expiry, which skips holds another transaction has locked rather than wait for them) or to the
   * holds of some orders (the sweeper, which has locked those orders first).
   */
  expireDue(
    now: Date,
    limit: number,
    filter?: LevelRow | { orderIds: readonly string[] },
  ): Promise<Reservation[]>
  /** Orders that have active holds due at `now`, soonest first (no lock taken). */
  listDueOrderIds(now: Date, limit: number): Promise<string[]>
  /** Sum of the remaining quantity of active holds per (item, location), optionally of one row (I2). */
  sumActive(row?: LevelRow): Promise<Array<{ itemId: string; locationId: string; total: number }>>
  /**
   * Orders whose status is in `statuses` that hold an `expired` hold: holds expired lazily (by a reserve on
   * the same row) or by a sweeper, whose order the sweeper must still move on.
   */
  listOrdersWithExpiredHolds(statuses: readonly string[], limit: number): Promise<string[]>
}

export interface OrderFilter {
  /**
   * The caller's reach, applied in the query: orders of these stores OR of this customer. Absent: every
   * order (an unscoped actor).
   */
  reach?: { storeIds: readonly string[]; customerId: string | null }
  storeIds?: readonly string[]
  statuses?: readonly string[]
  channel?: string
  customerId?: string
  createdFrom?: Date
  createdTo?: Date
  limit?: number
  offset?: number
}

/** What an order search can be sorted by (ties broken by id, in the same direction). */
export type OrderSortField = 'created' | 'updated' | 'total' | 'number'
export interface OrderSort {
  field: OrderSortField
  direction: 'asc' | 'desc'
}

/**
 * An order search, every criterion applied in the query (an absent one does not narrow; an empty list
 * matches nothing). Every storage answers it alike: the conformance suite checks each one against a model.
 */
export interface OrderSearchFilter {
  /** The caller's reach, as for `OrderFilter`. */
  reach?: OrderFilter['reach']
  /** Lowercased words; each must begin one of the order's search terms (see `searchTermsOf`). */
  words?: readonly string[]
  storeIds?: readonly string[]
  locationIds?: readonly string[]
  statuses?: readonly string[]
  channels?: readonly string[]
  flows?: readonly string[]
  paymentStatuses?: readonly string[]
  /** Orders with at least one fulfillment in one of these statuses. */
  fulfillmentStatuses?: readonly string[]
  customerId?: string
  /** Inclusive lower and exclusive upper bounds. */
  createdFrom?: Date
  createdTo?: Date
  updatedFrom?: Date
  updatedTo?: Date
  /** Inclusive bounds of the order total, in minor units. */
  totalMin?: number
  totalMax?: number
  /** The assignee; null: orders nobody is assigned to. */
  assigneeId?: string | null
  /** Orders that have (true) or have no (false) note. */
  hasNotes?: boolean
  /** POS sync states; null in the list matches orders no sync has touched. */
  posSyncStates?: ReadonlyArray<string | null>
}

/** One page of a search: the orders strictly after `after` in `sort`, at most `limit`. */
export interface OrderSearchPage {
  sort: OrderSort
  /** The sort value (epoch ms for dates, minor units for totals, the number) and id of the last order seen. */
  after?: { value: number | string; id: string }
  limit: number
}

export interface OrderRepository {
  insert(order: Order): Promise<void>
  get(id: string): Promise<Order | null>
  /**
   * Reads an order and claims it for this transaction: every other command that changes the order or its
   * holds claims it first, so they run one after another, each on what the previous one committed
   * (PostgreSQL: `SELECT … FOR NO KEY UPDATE`, which waits; single-writer backends serialise every write
   * transaction already). Null when the order does not exist.
   */
  lock(id: string): Promise<Order | null>
  /**
   * Claims several orders at once in id order, skipping (and leaving out) those another transaction has
   * claimed: the sweeper takes what is free and comes back for the rest.
   */
  lockFree(ids: readonly string[]): Promise<Order[]>
  getByNumber(number: string): Promise<Order | null>
  getMany(ids: readonly string[]): Promise<Order[]>
  /**
   * Writes `order` only if the stored version is still `expectedVersion` (compare-and-swap). The caller
   * passes the order with `version = expectedVersion + 1`. Returns false when another writer won. The
   * order's search terms follow what is written (its lines, customer and external ids may change).
   */
  update(order: Order, expectedVersion: number): Promise<boolean>
  /**
   * The same compare-and-swap for many orders in one round trip (the sweeper). Returns how many were
   * written; fewer than given means another writer won on some of them. For status changes: the search
   * terms (lines, customer, external ids) are not rewritten, so change those through `update`.
   */
  updateMany(updates: ReadonlyArray<{ order: Order; expectedVersion: number }>): Promise<number>
  list(filter: OrderFilter): Promise<Order[]>
  /** A page of orders matching `filter`, in `page.sort` order (keyset paging: stable under inserts). */
  search(filter: OrderSearchFilter, page: OrderSearchPage): Promise<Order[]>
  /** How many orders match `filter`. */
  count(filter: OrderSearchFilter): Promise<number>
  countByStatus(filter: Omit<OrderFilter, 'statuses' | 'limit' | 'offset'>): Promise<Record<string, number>>
}

export interface FulfillmentFilter {
  /** The caller's reach, in the query: fulfillments of these stores OR of this customer's orders. */
  reach?: { storeIds: readonly string[]; customerId: string | null }
  statuses?: readonly string[]
  assignedToId?: string
  locationId?: string
  limit?: number
  offset?: number
}

export interface FulfillmentRepository {
  insert(fulfillment: Fulfillment): Promise<void>
  get(id: string): Promise<Fulfillment | null>
  /** Oldest first. */
  listByOrder(orderId: string): Promise<Fulfillment[]>
  /** Writes only if the stored version is still `expectedVersion` (compare-and-swap). */
  update(fulfillment: Fulfillment, expectedVersion: number): Promise<boolean>
  /** A page of fulfillments, oldest first (then by number: a work queue), filtered in the query. */
  list(filter: FulfillmentFilter): Promise<Fulfillment[]>
  /** The aggregates of `fulfillments.statistics`, each computed by the database: no row is loaded. */
  statistics(filter: FulfillmentStatisticsFilter): Promise<FulfillmentStatisticsRows>
}

/** What `fulfillments.statistics` aggregates, over some stores or all. */
export interface FulfillmentStatisticsFilter {
  /** Absent: every store. */
  storeIds?: readonly string[]
  /** The window, inclusive lower and exclusive upper bound. */
  from: Date
  to: Date
  /** Statuses counted as open (the backlog, over every fulfillment whenever created). */
  openStatuses: readonly string[]
}

/** A cycle-time aggregate of one group: order created → goods dispatched, in milliseconds. */
export interface FulfillmentCycleRow {
  /** Which breakdown the row belongs to, and its key (a store id, an assignee id or null, or null for all). */
  by: 'all' | 'store' | 'assignee'
  key: string | null
  dispatched: number
  totalMs: number
  maxMs: number
  /** Nearest-rank percentiles: the smallest cycle time at or above which lie 50 % (90 %) of the group's. */
  p50Ms: number
  p90Ms: number
}

/** Raw aggregates per store, assignee and status; the service sums them into its breakdowns. */
export interface FulfillmentStatisticsRows {
  /** Fulfillments created in the window, by store, assignee and the status they are in now, with their scans. */
  created: Array<{
    storeId: string
    assignedToId: string | null
    status: string
    fulfillments: number
    scansAccepted: number
    scansRejected: number
  }>
  /** Fulfillments now in an open status (whenever created), by store, assignee and status. */
  open: Array<{ storeId: string; assignedToId: string | null; status: string; fulfillments: number }>
  /**
   * Fulfillments whose goods left in the window (shipped, or handed over at the counter): cycle times over
   * all of them, per store and per assignee.
   */
  cycle: FulfillmentCycleRow[]
}

export interface HistorySearchFilter {
  /** The caller's reach, in the query: rows of these stores OR of this customer's orders. */
  reach?: { storeIds: readonly string[]; customerId: string | null }
  orderId?: string
  entityType?: string
  entityId?: string
  actions?: readonly string[]
  actorId?: string
  /** Inclusive lower and exclusive upper bound of `createdAt`. */
  from?: Date
  to?: Date
  /** Only rows written before this position (the last row of the previous page). */
  beforeSeq?: number
  limit: number
}

export interface HistoryRepository {
  /** Append-only. */
  appendMany(entries: readonly HistoryEntry[]): Promise<void>
  /**
   * Rows newest first, each with its position in the append order (`seq`, increasing with every append):
   * keyset paging that rows appended meanwhile never shift.
   */
  search(filter: HistorySearchFilter): Promise<Array<{ seq: number; entry: HistoryEntry }>>
  list(filter: {
    orderId?: string
    entityId?: string
    action?: string
    limit?: number
    /** The caller's reach, in the query: rows of these stores OR of this customer's orders. */
    reach?: { storeIds: readonly string[]; customerId: string | null }
  }): Promise<HistoryEntry[]>
}

export interface NoteRepository {
  insert(note: Note): Promise<void>
  get(id: string): Promise<Note | null>
  update(note: Note): Promise<void>
  delete(id: string): Promise<boolean>
  listByOrder(orderId: string, options: { includeInternal: boolean }): Promise<Note[]>
}

export interface LocationRepository {
  upsert(location: Location): Promise<void>
  get(id: string): Promise<Location | null>
  /**
   * `get`, holding the location until the transaction ends, so that commands which must see each other's
   * work on one location (opening a stock count beside another open count) run one at a time. PostgreSQL:
   * `FOR NO KEY UPDATE` (rows that only reference the location do not wait); one-writer backends: `get`.
   */
  lock(id: string): Promise<Location | null>
  list(filter?: { storeId?: string }): Promise<Location[]>
}

export interface ItemRepository {
  upsert(item: Item): Promise<void>
  get(id: string): Promise<Item | null>
  getMany(ids: readonly string[]): Promise<Item[]>
  /** Items whose `externalIds[system]` is one of `externalIds` (a POS pull mapping its product ids). */
  findByExternalIds(system: string, externalIds: readonly string[]): Promise<Item[]>
}

/** A domain event written in the same transaction as the change it describes. */
export interface OutboxEvent {
  /** Monotonic per storage: the delivery order. Assigned by the storage. */
  seq: number
  id: string
  type: string
  /** Events of one aggregate (an order) are delivered in `seq` order, one at a time. */
  aggregateId: string
  payload: Record<string, unknown>
  createdAt: Date
  attempts: number
  /** When it may be claimed again after a failure. */
  availableAt: Date
  lastError: string | null
  deliveredAt: Date | null
  leaseOwner: string | null
  leaseUntil: Date | null
}

export type NewOutboxEvent = Pick<OutboxEvent, 'id' | 'type' | 'aggregateId' | 'payload' | 'createdAt'>

export interface OutboxRepository {
  append(events: readonly NewOutboxEvent[]): Promise<void>
  /**
   * Leases up to `limit` undelivered events to `owner` until `now + leaseMs`: events that are available,
   * not leased (or whose lease ended), and have no earlier undelivered event of the same aggregate.
   * Concurrent claimers never get the same event while its lease runs.
   */
  claim(options: { owner: string; limit: number; leaseMs: number; now: Date }): Promise<OutboxEvent[]>
  /** Marks delivered, if `owner` still holds the lease. */
  markDelivered(seqs: readonly number[], owner: string, now: Date): Promise<void>
  /** Records a failed delivery and when to try again; ends the lease. */
  markFailed(seq: number, owner: string, error: string, availableAt: Date): Promise<void>
  list(filter: { delivered?: boolean; aggregateId?: string; limit?: number }): Promise<OutboxEvent[]>
}

/** What `dashboard.figures` aggregates: orders and holds created in [from, to), of some stores or all. */
export interface DashboardFilter {
  storeIds?: readonly string[]
  from: Date
  to: Date
  /** Statuses counted as the open backlog (over every order, whenever created). */
  backlogStatuses: readonly string[]
  /** How many of the lowest levels to return. */
  lowStockSample: number
}

/** Raw aggregates, each computed by the database: no order is loaded to count it. */
export interface DashboardFigures {
  /** Orders created in the window, grouped by status, currency and UTC hour (epoch ms of its start). */
  groups: Array<{ status: string; currency: string; hourStart: number; orders: number; totalMinor: number }>
  /** Orders now in a backlog status, per status. */
  backlog: Record<string, number>
  /** Holds taken in the window, and how many of them expired. */
  holds: { taken: number; expired: number }
  /**
   * Stock-out incidents: the items at a location found short in the window (an `inventory_shortage`
   * audit row: on-hand below what holds promised), each (item, location) counted once however often it
   * was recorded.
   */
  shortages: number
  /**
   * Low levels, by inventory's one definition (`isLow`: a reorder point is set and the available quantity
   * is at or below it): how many, and the lowest few (by available, then item and location).
   */
  lowStock: {
    rows: number
    lowest: Array<{ itemId: string; locationId: string; available: number; reorderPoint: number }>
  }
}

export interface DashboardRepository {
  figures(filter: DashboardFilter): Promise<DashboardFigures>
}

/** Monotonic counters (order and fulfillment numbers). */
export interface SequenceRepository {
  /** Atomically increments and returns the counter `name` (the first call returns 1). Gaps are allowed. */
  next(name: string): Promise<number>
}

export interface IdempotencyRecord {
  scope: string
  key: string
  requestHash: string
  /** The serialised first result; null while the first command is still running in its transaction. */
  result: string | null
  createdAt: Date
}

export interface IdempotencyRepository {
  /**
   * Claims `key` in `scope` for this transaction. Returns null when the claim is new; otherwise the existing
   * record (on SQL, waiting for a concurrent claimer to commit or roll back first).
   */
  claim(scope: string, key: string, requestHash: string, now: Date): Promise<IdempotencyRecord | null>
  /** Stores the result of a claimed key. */
  complete(scope: string, key: string, result: string): Promise<void>
}

/** New rows written together. */
export interface AppendBatch {
  reservations?: readonly Reservation[]
  orders?: readonly Order[]
  movements?: readonly Movement[]
  history?: readonly HistoryEntry[]
  outbox?: readonly NewOutboxEvent[]
}

/** The repositories of one transaction. */
export interface StorageTx {
  /**
   * Inserts new rows into several tables at once: the same as calling each repository's insert, but a
   * backend may send them in one round trip (PostgreSQL: one statement of data-modifying CTEs).
   */
  append(batch: AppendBatch): Promise<void>
  locations: LocationRepository
  items: ItemRepository
  inventory: InventoryRepository
  reservations: ReservationRepository
  orders: OrderRepository
  fulfillments: FulfillmentRepository
  history: HistoryRepository
  notes: NoteRepository
  outbox: OutboxRepository
  sequences: SequenceRepository
  idempotency: IdempotencyRepository
  /** POS sync jobs: written in the transaction of the change that causes them. */
  syncJobs: SyncJobRepository
  /** Aggregates for `dashboard.summary`. */
  dashboard: DashboardRepository
  transfers: TransferRepository
  counts: CountRepository
  /** Payment operations (capture, void, refund): written in the transaction of the change that asks for them. */
  payments: PaymentRepository
}

export interface TransactionOptions {
  /** A read-only transaction: backends may use a cheaper mode. Default false. */
  readOnly?: boolean
  /**
   * `snapshot`: every read of the transaction sees the same committed state (PostgreSQL: REPEATABLE READ;
   * SQLite and memory transactions are snapshots already). For consistent reports over several tables
   * while writers run. Default: each statement sees what is committed when it runs (READ COMMITTED).
   */
  isolation?: 'snapshot'
}

/** What a backend can do. */
export interface StorageCapabilities {
  /** Several processes may share the data (PostgreSQL, a SQLite file). Default false (memory). */
  multiProcess: boolean
  /** `transaction` may re-run `fn` after a serialization failure or deadlock. Default false. */
  retriesTransactions: boolean
}

/**
 * Where Peak OMS keeps its state. Adapters: `createMemoryStorage()` (core), `createSqliteStorage`,
 * `createPgStorage`.
 *
 * What serialises on what (every adapter must give the same guarantees):
 *
 * - **Holding stock** is one conditional write of the level row (`inventory.applyDeltas` with
 *   `requireAvailable`); concurrent holds on one row queue on that row's write, and no read comes first.
 * - **Everything that changes an existing order or its holds** — every order transition, releasing or
 *   committing a hold, the sweeper — first claims the order (`orders.lock`, or `orders.lockFree` for the
 *   sweeper, which skips orders someone else holds), then reads the order's holds, then writes holds,
 *   then levels (each level once, in canonical item/location order), then the order. Two such commands on
 *   one order therefore run one after the other, each seeing what the other committed; the fixed order
 *   (orders, holds, levels) keeps them from deadlocking with each other.
 * - **Lazy expiry** (a new hold that finds expired holds in its way on a row) changes holds without
 *   claiming their orders: it takes only holds nobody has locked, and a command that finds a hold changed
 *   under it (a missed compare-and-swap) runs again from the start on fresh state.
 * - **Ledger writes** (receive, adjust, set, sales, returns) write the level row and append the movement in
 *   one transaction; the level write is the row's lock.
 * - **Reconcile** reads one consistent snapshot (`isolation: 'snapshot'`) for its report, and repairs a
 *   row only inside `inventory.lockLevel`, recomputing that row from its movements and holds at that moment.
 *
 * PostgreSQL implements the claims as row locks (`SELECT … FOR NO KEY UPDATE`, `SKIP LOCKED` for the
 * sweeper and lazy expiry) under READ COMMITTED, plus REPEATABLE READ for snapshots. SQLite runs one write
 * transaction at a time (`BEGIN IMMEDIATE`), which serialises all of the above by itself; a read
 * transaction there is a snapshot. The in-memory storage runs one transaction at a time.
 */
export interface Storage {
  /**
   * Runs `fn` in one transaction and commits when it resolves, or rolls everything back when it throws
   * (and rethrows). May re-run `fn` on a serialization failure or deadlock, so `fn` must not do network
   * I/O or keep state outside the transaction.
   *
   * What `fn` throws comes back unchanged. Failures of the database itself come back as `StorageError`s
   * (`STORAGE_NOT_MIGRATED`, `STORAGE_CLOSED` after `close()`, `STORAGE_UNAVAILABLE`, `STORAGE_ERROR`),
   * never as raw driver errors.
   */
  transaction<T>(fn: (tx: StorageTx) => Promise<T>, options?: TransactionOptions): Promise<T>
  readonly capabilities: StorageCapabilities
  /** Human name for logs and test titles: `memory`, `sqlite`, `pg`. */
  readonly name: string
  close(): Promise<void>
}
