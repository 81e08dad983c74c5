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
import { emptyLevel, remainingOf } from '../domain/schemas'
import { StaleStateError } from '../errors/oms-error'
import { StorageClosedError } from '../errors/storage-error'
import { isLow } from '../inventory/low-stock'
import { compareForSort, isAfter, searchTermsOf } from '../order/order-search'
import type { PaymentOperation } from '../ports/payments'
import type {
  DashboardFigures,
  IdempotencyRecord,
  LevelDeltas,
  OrderFilter,
  OrderSearchFilter,
  OutboxEvent,
  Storage,
  StorageTx,
  TransactionOptions,
} from '../ports/storage'
import { BLOCKING_SYNC_STATUSES, type SyncJob, type SyncJobSummaryRow } from '../sync/sync-job'
import { fulfillmentStatisticsOf } from './fulfillment-statistics'

const clone = <T>(value: T): T => structuredClone(value)
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
const levelKey = (itemId: string, locationId: string) => `${itemId}\u0000${locationId}`

class State {
  locations = new Map<string, Location>()
  items = new Map<string, Item>()
  levels = new Map<string, InventoryLevel>()
  movements: Movement[] = []
  reservations = new Map<string, Reservation>()
  orders = new Map<string, Order>()
  orderNumbers = new Map<string, string>()
  fulfillments = new Map<string, Fulfillment>()
  history: HistoryEntry[] = []
  notes = new Map<string, Note>()
  outbox: OutboxEvent[] = []
  outboxSeq = 0
  sequences = new Map<string, number>()
  idempotency = new Map<string, IdempotencyRecord>()
  syncJobs: SyncJob[] = []
  syncSeq = 0
  transfers = new Map<string, Transfer>()
  counts = new Map<string, StockCount>()
  countLines = new Map<string, CountLine>()
  packages = new Map<string, PackageLevel>()
  payments = new Map<string, PaymentOperation>()
}

/**
 * insert / get / lock / update (compare-and-swap on `version`) of documents kept by id. One transaction
 * runs at a time, so `lock` is a read.
 */
function versioned<T extends { id: string; version: number }>(map: Map<string, T>, log: UndoLog) {
  const get = async (id: string) => {
    const value = map.get(id)
    return value ? clone(value) : null
  }
  return {
    async insert(value: T) {
      log.set(map, value.id, clone(value))
    },
    get,
    lock: get,
    async update(value: T, expectedVersion: number) {
      const current = map.get(value.id)
      if (!current || current.version !== expectedVersion) return false
      log.set(map, value.id, clone(value))
      return true
    },
  }
}

const availableRaw = (l: InventoryLevel) => l.onHand - l.reserved - l.damaged - l.quarantine - l.safetyStock
const byArrival = (a: PackageLevel, b: PackageLevel) =>
  a.receivedAt.getTime() - b.receivedAt.getTime() || cmp(a.packageId, b.packageId)

/** Records how to undo each write of a transaction, so a throw rolls everything back. */
class UndoLog {
  #steps: Array<() => void> = []
  set<K, V>(map: Map<K, V>, key: K, value: V): void {
    const had = map.has(key)
    const old = map.get(key)
    map.set(key, value)
    this.#steps.push(() => (had ? map.set(key, old as V) : map.delete(key)))
  }
  delete<K, V>(map: Map<K, V>, key: K): boolean {
    if (!map.has(key)) return false
    const old = map.get(key) as V
    map.delete(key)
    this.#steps.push(() => map.set(key, old))
    return true
  }
  push<T>(array: T[], ...values: T[]): void {
    const length = array.length
    array.push(...values)
    this.#steps.push(() => {
      array.length = length
    })
  }
  replace<T>(array: T[], index: number, value: T): void {
    const old = array[index] as T
    array[index] = value
    this.#steps.push(() => {
      array[index] = old
    })
  }
  field<O extends object, K extends keyof O>(target: O, key: K, value: O[K]): void {
    const old = target[key]
    target[key] = value
    this.#steps.push(() => {
      target[key] = old
    })
  }
  rollback(): void {
    for (let i = this.#steps.length - 1; i >= 0; i--) this.#steps[i]?.()
    this.#steps = []
  }
}

const matchesOrder = (order: Order, f: OrderFilter) =>
  (!f.reach ||
    f.reach.storeIds.includes(order.storeId) ||
    (f.reach.customerId !== null && order.customerId === f.reach.customerId)) &&
  (!f.storeIds || f.storeIds.includes(order.storeId)) &&
  (!f.statuses || f.statuses.includes(order.status)) &&
  (!f.channel || order.channel === f.channel) &&
  (!f.customerId || order.customerId === f.customerId) &&
  (!f.createdFrom || order.createdAt >= f.createdFrom) &&
  (!f.createdTo || order.createdAt < f.createdTo)

const within = <T>(list: readonly T[] | undefined, value: T) => !list || list.includes(value)

function matchesSearch(s: State, order: Order, f: OrderSearchFilter): boolean {
  if (
    f.reach &&
    !f.reach.storeIds.includes(order.storeId) &&
    !(f.reach.customerId !== null && order.customerId === f.reach.customerId)
  )
    return false
  if (
    !within(f.storeIds, order.storeId) ||
    !within(f.locationIds, order.locationId) ||
    !within(f.statuses, order.status) ||
    !within(f.channels, order.channel) ||
    !within(f.flows, order.flow) ||
    !within(f.paymentStatuses, order.paymentStatus) ||
    !within(f.posSyncStates, order.posSyncState)
  )
    return false
  if (f.customerId !== undefined && order.customerId !== f.customerId) return false
  if (f.assigneeId !== undefined && order.assigneeId !== f.assigneeId) return false
  if (f.createdFrom && order.createdAt < f.createdFrom) return false
  if (f.createdTo && order.createdAt >= f.createdTo) return false
  if (f.updatedFrom && order.updatedAt < f.updatedFrom) return false
  if (f.updatedTo && order.updatedAt >= f.updatedTo) return false
  if (f.totalMin !== undefined && order.totals.totalMinor < f.totalMin) return false
  if (f.totalMax !== undefined && order.totals.totalMinor > f.totalMax) return false
  if (f.words?.length) {
    const terms = searchTermsOf(order)
    if (!f.words.every((w) => terms.some((t) => t.startsWith(w)))) return false
  }
  if (f.hasNotes !== undefined) {
    const has = [...s.notes.values()].some((n) => n.orderId === order.id)
    if (has !== f.hasNotes) return false
  }
  if (f.fulfillmentStatuses) {
    const statuses = f.fulfillmentStatuses
    if (![...s.fulfillments.values()].some((x) => x.orderId === order.id && statuses.includes(x.status)))
      return false
  }
  return true
}

function createTx(s: State, log: UndoLog): StorageTx {
  const tx: StorageTx = {
    async append(batch) {
      if (batch.reservations?.length) await tx.reservations.insertMany(batch.reservations)
      for (const order of batch.orders ?? []) await tx.orders.insert(order)
      if (batch.movements?.length) await tx.inventory.insertMovements(batch.movements)
      if (batch.history?.length) await tx.history.appendMany(batch.history)
      if (batch.outbox?.length) await tx.outbox.append(batch.outbox)
    },
    locations: {
      async upsert(location) {
        log.set(s.locations, location.id, clone(location))
      },
      async get(id) {
        const l = s.locations.get(id)
        return l ? clone(l) : null
      },
      async lock(id) {
        const l = s.locations.get(id)
        return l ? clone(l) : null
      },
      async list(filter = {}) {
        return [...s.locations.values()]
          .filter((l) => !filter.storeId || l.storeId === filter.storeId)
          .map(clone)
      },
    },
    items: {
      async upsert(item) {
        log.set(s.items, item.id, clone(item))
      },
      async get(id) {
        const i = s.items.get(id)
        return i ? clone(i) : null
      },
      async getMany(ids) {
        return ids.flatMap((id) => {
          const i = s.items.get(id)
          return i ? [clone(i)] : []
        })
      },
      async findByExternalIds(system, externalIds) {
        const wanted = new Set(externalIds)
        return [...s.items.values()]
          .filter((i) => {
            const id = i.externalIds[system]
            return id !== undefined && wanted.has(id)
          })
          .map(clone)
      },
    },
    inventory: {
      async getLevel(itemId, locationId) {
        const l = s.levels.get(levelKey(itemId, locationId))
        return l ? clone(l) : null
      },
      // One transaction at a time: every row is locked already.
      lockLevel: (itemId, locationId) => tx.inventory.getLevel(itemId, locationId),
      async listLevels(filter = {}) {
        return [...s.levels.values()]
          .filter(
            (l) =>
              (!filter.itemId || l.itemId === filter.itemId) &&
              (!filter.locationId || l.locationId === filter.locationId) &&
              (!filter.itemIds || filter.itemIds.includes(l.itemId)) &&
              (!filter.storeIds || filter.storeIds.includes(s.locations.get(l.locationId)?.storeId ?? '')),
          )
          .sort((a, b) => (a.itemId === b.itemId ? cmp(a.locationId, b.locationId) : cmp(a.itemId, b.itemId)))
          .slice(
            filter.offset ?? 0,
            filter.limit === undefined ? undefined : (filter.offset ?? 0) + filter.limit,
          )
          .map(clone)
      },
      async applyDeltas(itemId, locationId, deltas: LevelDeltas, options) {
        const key = levelKey(itemId, locationId)
        const current: InventoryLevel = s.levels.get(key) ?? emptyLevel(itemId, locationId, options.now)
        if (options.requireAvailable !== undefined) {
          const raw =
            current.onHand - current.reserved - current.damaged - current.quarantine - current.safetyStock
          if (raw < options.requireAvailable) return null
        }
        const next: InventoryLevel = {
          ...current,
          onHand: current.onHand + (deltas.onHand ?? 0),
          reserved: current.reserved + (deltas.reserved ?? 0),
          damaged: current.damaged + (deltas.damaged ?? 0),
          quarantine: current.quarantine + (deltas.quarantine ?? 0),
          incoming: current.incoming + (deltas.incoming ?? 0),
          version: current.version + 1,
          updatedAt: options.now,
        }
        if (
          next.onHand < 0 ||
          next.reserved < 0 ||
          next.damaged < 0 ||
          next.quarantine < 0 ||
          next.incoming < 0
        ) {
          return null
        }
        if (options.expectOnHand !== undefined && current.onHand !== options.expectOnHand) return null
        log.set(s.levels, key, next)
        return clone(next)
      },
      async ensureLevels(rows, now) {
        for (const r of rows) {
          const key = levelKey(r.itemId, r.locationId)
          if (!s.levels.has(key)) log.set(s.levels, key, emptyLevel(r.itemId, r.locationId, now))
        }
      },
      async setSafetyStock(itemId, locationId, safetyStock, now) {
        const key = levelKey(itemId, locationId)
        const current = s.levels.get(key)
        if (!current) return null
        const next = { ...current, safetyStock, version: current.version + 1, updatedAt: now }
        log.set(s.levels, key, next)
        return clone(next)
      },
      async setReorderPoint(itemId, locationId, reorderPoint, now) {
        const key = levelKey(itemId, locationId)
        const current = s.levels.get(key)
        if (!current) return null
        const next = { ...current, reorderPoint, version: current.version + 1, updatedAt: now }
        log.set(s.levels, key, next)
        return clone(next)
      },
      async listLow(filter) {
        return tx.inventory
          .listLevels({
            ...(filter.locationId ? { locationId: filter.locationId } : {}),
            ...(filter.storeIds ? { storeIds: filter.storeIds } : {}),
          })
          .then((rows) =>
            rows
              .filter(isLow)
              .slice(
                filter.offset ?? 0,
                filter.limit === undefined ? undefined : (filter.offset ?? 0) + filter.limit,
              ),
          )
      },
      async applyPackageDelta(itemId, locationId, packageId, delta, now) {
        const key = `${levelKey(itemId, locationId)}\u0000${packageId}`
        const current = s.packages.get(key) ?? {
          packageId,
          itemId,
          locationId,
          onHand: 0,
          receivedAt: now,
          updatedAt: now,
        }
        if (current.onHand + delta < 0) return null
        const next = { ...current, onHand: current.onHand + delta, updatedAt: now }
        log.set(s.packages, key, next)
        return clone(next)
      },
      async listPackages(filter) {
        const wanted = (p: PackageLevel) =>
          'packageId' in filter
            ? p.packageId === filter.packageId
            : p.itemId === filter.itemId && p.locationId === filter.locationId
        return [...s.packages.values()]
          .filter((p) => p.onHand > 0 && wanted(p))
          .sort(byArrival)
          .map(clone)
      },
      async listAllPackages() {
        return [...s.packages.values()].map(clone)
      },
      async insertMovements(movements) {
        log.push(s.movements, ...movements.map(clone))
      },
      async listMovements(filter) {
        const rows = s.movements.filter(
          (m) =>
            (!filter.itemId || m.itemId === filter.itemId) &&
            (!filter.locationId || m.locationId === filter.locationId) &&
            (!filter.referenceId || m.reference?.id === filter.referenceId) &&
            (!filter.packageId || m.packageId === filter.packageId) &&
            (!filter.storeIds || filter.storeIds.includes(s.locations.get(m.locationId)?.storeId ?? '')),
        )
        return (filter.limit ? rows.slice(-filter.limit) : rows).map(clone)
      },
      async sumMovements(only) {
        const sums = new Map<
          string,
          { itemId: string; locationId: string; bucket: StockBucket; total: number }
        >()
        for (const m of s.movements) {
          if (only && (m.itemId !== only.itemId || m.locationId !== only.locationId)) continue
          const key = `${levelKey(m.itemId, m.locationId)}\u0000${m.bucket}`
          const row = sums.get(key) ?? {
            itemId: m.itemId,
            locationId: m.locationId,
            bucket: m.bucket,
            total: 0,
          }
          row.total += m.delta
          sums.set(key, row)
        }
        return [...sums.values()]
      },
      async overwriteLevel(level) {
        log.set(s.levels, levelKey(level.itemId, level.locationId), clone(level))
      },
    },
    reservations: {
      async insertMany(reservations) {
        for (const r of reservations) log.set(s.reservations, r.id, clone(r))
      },
      async get(id) {
        const r = s.reservations.get(id)
        return r ? clone(r) : null
      },
      async listByOrder(orderId) {
        return [...s.reservations.values()].filter((r) => r.orderId === orderId).map(clone)
      },
      async listByOrders(orderIds) {
        const wanted = new Set(orderIds)
        return [...s.reservations.values()].filter((r) => wanted.has(r.orderId)).map(clone)
      },
      async listActive(filter = {}) {
        return [...s.reservations.values()]
          .filter(
            (r) =>
              r.status === 'active' &&
              (!filter.itemId || r.itemId === filter.itemId) &&
              (!filter.locationId || r.locationId === filter.locationId),
          )
          .map(clone)
      },
      async update(changes) {
        const changed: Reservation[] = []
        for (const c of changes) {
          const r = s.reservations.get(c.id)
          if (
            !r ||
            r.status !== c.expected.status ||
            r.quantityFulfilled !== c.expected.quantityFulfilled ||
            r.quantityReleased !== c.expected.quantityReleased
          ) {
            continue
          }
          const next = { ...r, ...c.patch }
          log.set(s.reservations, r.id, next)
          changed.push(clone(next))
        }
        return changed
      },
      async expireDue(now, limit, filter) {
        const due: Reservation[] = []
        for (const r of s.reservations.values()) {
          if (due.length >= limit) break
          if (r.status !== 'active' || r.expiresAt === null || r.expiresAt > now) continue
          if (filter && 'orderIds' in filter && !filter.orderIds.includes(r.orderId)) continue
          if (
            filter &&
            'itemId' in filter &&
            (r.itemId !== filter.itemId || r.locationId !== filter.locationId)
          )
            continue
          due.push(clone(r))
          log.set(s.reservations, r.id, {
            ...r,
            status: 'expired',
            quantityReleased: r.quantityReserved - r.quantityFulfilled,
            releasedAt: now,
            updatedAt: now,
          })
        }
        return due
      },
      async search(f) {
        const reaches = (r: Reservation) => {
          if (!f.reach) return true
          const o = s.orders.get(r.orderId)
          return (
            !!o &&
            (f.reach.storeIds.includes(o.storeId) ||
              (f.reach.customerId !== null && o.customerId === f.reach.customerId))
          )
        }
        const newestFirst = (a: Reservation, b: Reservation) =>
          b.createdAt.getTime() - a.createdAt.getTime() || cmp(b.id, a.id)
        const after = f.after
        return [...s.reservations.values()]
          .filter(
            (r) =>
              reaches(r) &&
              within(f.statuses, r.status) &&
              (f.itemId === undefined || r.itemId === f.itemId) &&
              (f.locationId === undefined || r.locationId === f.locationId) &&
              (f.orderId === undefined || r.orderId === f.orderId) &&
              (!after || newestFirst(r, { createdAt: after.createdAt, id: after.id } as Reservation) > 0),
          )
          .sort(newestFirst)
          .slice(0, f.limit)
          .map(clone)
      },
      async listDueOrderIds(now, limit) {
        const due = [...s.reservations.values()]
          .filter((r) => r.status === 'active' && r.expiresAt !== null && r.expiresAt <= now)
          .sort((a, b) => (a.expiresAt?.getTime() ?? 0) - (b.expiresAt?.getTime() ?? 0))
        return [...new Set(due.map((r) => r.orderId))].slice(0, limit)
      },
      async sumActive(only) {
        const sums = new Map<string, { itemId: string; locationId: string; total: number }>()
        for (const r of s.reservations.values()) {
          if (r.status !== 'active') continue
          if (only && (r.itemId !== only.itemId || r.locationId !== only.locationId)) continue
          const key = levelKey(r.itemId, r.locationId)
          const row = sums.get(key) ?? { itemId: r.itemId, locationId: r.locationId, total: 0 }
          row.total += remainingOf(r)
          sums.set(key, row)
        }
        return [...sums.values()]
      },
      async listOrdersWithExpiredHolds(statuses, limit) {
        const ids = new Set<string>()
        for (const r of s.reservations.values()) {
          if (ids.size >= limit) break
          if (r.status === 'expired' && statuses.includes(s.orders.get(r.orderId)?.status ?? ''))
            ids.add(r.orderId)
        }
        return [...ids]
      },
    },
    orders: {
      async insert(order) {
        if (s.orders.has(order.id) || s.orderNumbers.has(order.number)) {
          throw new Error(`memory storage: duplicate order ${order.id} / ${order.number}`)
        }
        log.set(s.orders, order.id, clone(order))
        log.set(s.orderNumbers, order.number, order.id)
      },
      async get(id) {
        const o = s.orders.get(id)
        return o ? clone(o) : null
      },
      // One transaction at a time: the order is this transaction's already.
      lock: (id) => tx.orders.get(id),
      lockFree: (ids) => tx.orders.getMany([...ids].sort()),
      async getByNumber(number) {
        const id = s.orderNumbers.get(number)
        const o = id ? s.orders.get(id) : undefined
        return o ? clone(o) : null
      },
      async getMany(ids) {
        return ids.flatMap((id) => {
          const o = s.orders.get(id)
          return o ? [clone(o)] : []
        })
      },
      async update(order, expectedVersion) {
        const current = s.orders.get(order.id)
        if (!current || current.version !== expectedVersion) return false
        log.set(s.orders, order.id, clone(order))
        return true
      },
      async updateMany(updates) {
        let written = 0
        for (const { order, expectedVersion } of updates) {
          const current = s.orders.get(order.id)
          if (!current || current.version !== expectedVersion) continue
          log.set(s.orders, order.id, clone(order))
          written += 1
        }
        return written
      },
      async list(filter) {
        const rows = [...s.orders.values()]
          .filter((o) => matchesOrder(o, filter))
          .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.number.localeCompare(a.number))
        const offset = filter.offset ?? 0
        return rows.slice(offset, filter.limit === undefined ? undefined : offset + filter.limit).map(clone)
      },
      async search(filter, page) {
        const { after, sort } = page
        return [...s.orders.values()]
          .filter((o) => matchesSearch(s, o, filter) && (!after || isAfter(o, after, sort)))
          .sort((a, b) => compareForSort(a, b, sort))
          .slice(0, page.limit)
          .map(clone)
      },
      async count(filter) {
        let n = 0
        for (const o of s.orders.values()) if (matchesSearch(s, o, filter)) n += 1
        return n
      },
      async countByStatus(filter) {
        const counts: Record<string, number> = {}
        for (const o of s.orders.values()) {
          if (matchesOrder(o, filter)) counts[o.status] = (counts[o.status] ?? 0) + 1
        }
        return counts
      },
    },
    fulfillments: {
      async insert(f) {
        log.set(s.fulfillments, f.id, clone(f))
      },
      async get(id) {
        const f = s.fulfillments.get(id)
        return f ? clone(f) : null
      },
      async listByOrder(orderId) {
        return [...s.fulfillments.values()].filter((f) => f.orderId === orderId).map(clone)
      },
      async update(f, expectedVersion) {
        const current = s.fulfillments.get(f.id)
        if (!current || current.version !== expectedVersion) return false
        log.set(s.fulfillments, f.id, clone(f))
        return true
      },
      async list(filter) {
        const { reach } = filter
        const rows = [...s.fulfillments.values()]
          .filter(
            (f) =>
              (!reach ||
                reach.storeIds.includes(f.storeId) ||
                (reach.customerId !== null && f.customerId === reach.customerId)) &&
              (!filter.statuses || filter.statuses.includes(f.status)) &&
              (filter.assignedToId === undefined || f.assignedToId === filter.assignedToId) &&
              (filter.locationId === undefined || f.locationId === filter.locationId),
          )
          .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.number.localeCompare(b.number))
        const offset = filter.offset ?? 0
        return rows.slice(offset, offset + (filter.limit ?? 50)).map(clone)
      },
      async statistics(filter) {
        return fulfillmentStatisticsOf(s.fulfillments.values(), s.orders, filter)
      },
    },
    history: {
      async appendMany(entries) {
        log.push(s.history, ...entries.map(clone))
      },
      async search(f) {
        const reach = f.reach
        const out: Array<{ seq: number; entry: HistoryEntry }> = []
        const start = Math.min(s.history.length, (f.beforeSeq ?? Number.MAX_SAFE_INTEGER) - 1)
        for (let i = start - 1; i >= 0 && out.length < f.limit; i--) {
          const h = s.history[i] as HistoryEntry
          if (
            reach &&
            !(h.storeId !== null && reach.storeIds.includes(h.storeId)) &&
            !(
              reach.customerId !== null &&
              h.orderId !== null &&
              s.orders.get(h.orderId)?.customerId === reach.customerId
            )
          )
            continue
          if (f.orderId !== undefined && h.orderId !== f.orderId) continue
          if (f.entityType !== undefined && h.entityType !== f.entityType) continue
          if (f.entityId !== undefined && h.entityId !== f.entityId) continue
          if (f.actorId !== undefined && h.actorId !== f.actorId) continue
          if (!within(f.actions, h.action)) continue
          if (f.from && h.createdAt < f.from) continue
          if (f.to && h.createdAt >= f.to) continue
          out.push({ seq: i + 1, entry: clone(h) })
        }
        return out
      },
      async list(filter) {
        const reach = filter.reach
        const reaches = (h: HistoryEntry) =>
          !reach ||
          (h.storeId !== null && reach.storeIds.includes(h.storeId)) ||
          (reach.customerId !== null &&
            h.orderId !== null &&
            s.orders.get(h.orderId)?.customerId === reach.customerId)
        const rows = s.history.filter(
          (h) =>
            reaches(h) &&
            (!filter.orderId || h.orderId === filter.orderId) &&
            (!filter.entityId || h.entityId === filter.entityId) &&
            (!filter.action || h.action === filter.action),
        )
        return (filter.limit ? rows.slice(0, filter.limit) : rows).map(clone)
      },
    },
    payments: {
      async insert(operations) {
        for (const op of operations) {
          const clash = [...s.payments.values()].some(
            (p) =>
              p.idempotencyKey === op.idempotencyKey ||
              (p.orderId === op.orderId && p.sequence === op.sequence),
          )
          if (clash || s.payments.has(op.id))
            throw new StaleStateError(`the payment operations of order ${op.orderId}`, {
              orderId: op.orderId,
            })
          log.set(s.payments, op.id, clone(op))
        }
      },
      async get(id) {
        const p = s.payments.get(id)
        return p ? clone(p) : null
      },
      async listByOrder(orderId) {
        return [...s.payments.values()]
          .filter((p) => p.orderId === orderId)
          .sort((a, b) => a.sequence - b.sequence)
          .map(clone)
      },
      async update(operation, expectedVersion) {
        const current = s.payments.get(operation.id)
        if (!current || current.version !== expectedVersion) return false
        log.set(s.payments, operation.id, clone(operation))
        return true
      },
    },
    notes: {
      async insert(note) {
        log.set(s.notes, note.id, clone(note))
      },
      async get(id) {
        const n = s.notes.get(id)
        return n ? clone(n) : null
      },
      async update(note) {
        log.set(s.notes, note.id, clone(note))
      },
      async delete(id) {
        return log.delete(s.notes, id)
      },
      async listByOrder(orderId, options) {
        return [...s.notes.values()]
          .filter((n) => n.orderId === orderId && (options.includeInternal || !n.isInternal))
          .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
          .map(clone)
      },
    },
    outbox: {
      async append(events) {
        let seq = s.outboxSeq
        const rows = events.map((e) => {
          seq += 1
          return {
            ...clone(e),
            seq,
            attempts: 0,
            availableAt: e.createdAt,
            lastError: null,
            deliveredAt: null,
            leaseOwner: null,
            leaseUntil: null,
          }
        })
        log.push(s.outbox, ...rows)
        log.field(s, 'outboxSeq', seq)
      },
      async claim({ owner, limit, leaseMs, now }) {
        const blocked = new Set<string>()
        const claimed: OutboxEvent[] = []
        for (let i = 0; i < s.outbox.length && claimed.length < limit; i++) {
          const e = s.outbox[i] as OutboxEvent
          if (e.deliveredAt) continue
          if (blocked.has(e.aggregateId)) continue
          blocked.add(e.aggregateId)
          const leased = e.leaseUntil !== null && e.leaseUntil > now
          if (leased || e.availableAt > now) continue
          const next = {
            ...e,
            leaseOwner: owner,
            leaseUntil: new Date(now.getTime() + leaseMs),
            attempts: e.attempts + 1,
          }
          log.replace(s.outbox, i, next)
          claimed.push(clone(next))
        }
        return claimed
      },
      async markDelivered(seqs, owner, now) {
        const wanted = new Set(seqs)
        s.outbox.forEach((e, i) => {
          if (wanted.has(e.seq) && e.leaseOwner === owner && !e.deliveredAt) {
            log.replace(s.outbox, i, { ...e, deliveredAt: now, leaseOwner: null, leaseUntil: null })
          }
        })
      },
      async markFailed(seq, owner, error, availableAt) {
        const i = s.outbox.findIndex((e) => e.seq === seq)
        const e = s.outbox[i]
        if (!e || e.leaseOwner !== owner) return
        log.replace(s.outbox, i, { ...e, lastError: error, availableAt, leaseOwner: null, leaseUntil: null })
      },
      async list(filter) {
        const rows = s.outbox.filter(
          (e) =>
            (filter.delivered === undefined || (e.deliveredAt !== null) === filter.delivered) &&
            (!filter.aggregateId || e.aggregateId === filter.aggregateId),
        )
        return (filter.limit ? rows.slice(0, filter.limit) : rows).map(clone)
      },
    },
    sequences: {
      async next(name) {
        const value = (s.sequences.get(name) ?? 0) + 1
        log.set(s.sequences, name, value)
        return value
      },
    },
    transfers: {
      ...versioned(s.transfers, log),
      async list(filter) {
        const rows = [...s.transfers.values()]
          .filter(
            (t) =>
              (!filter.storeIds ||
                filter.storeIds.includes(t.fromStoreId) ||
                filter.storeIds.includes(t.toStoreId)) &&
              (!filter.locationId ||
                t.fromLocationId === filter.locationId ||
                t.toLocationId === filter.locationId) &&
              (!filter.status || t.status === filter.status),
          )
          .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || cmp(b.id, a.id))
        const offset = filter.offset ?? 0
        return rows.slice(offset, filter.limit === undefined ? undefined : offset + filter.limit).map(clone)
      },
    },
    counts: {
      ...versioned(s.counts, log),
      async list(filter) {
        const rows = [...s.counts.values()]
          .filter(
            (c) =>
              (!filter.storeIds || filter.storeIds.includes(c.storeId)) &&
              (!filter.locationId || c.locationId === filter.locationId) &&
              (!filter.status || c.status === filter.status),
          )
          .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || cmp(b.id, a.id))
        const offset = filter.offset ?? 0
        return rows.slice(offset, filter.limit === undefined ? undefined : offset + filter.limit).map(clone)
      },
      async upsertLines(lines) {
        for (const l of lines)
          log.set(s.countLines, `${l.countId}\u0000${l.itemId}\u0000${l.packageId ?? ''}`, clone(l))
      },
      async listLines(countId) {
        return [...s.countLines.values()]
          .filter((l) => l.countId === countId)
          .sort((a, b) => cmp(a.itemId, b.itemId) || cmp(a.packageId ?? '', b.packageId ?? ''))
          .map(clone)
      },
    },
    idempotency: {
      async claim(scope, key, requestHash, now) {
        const id = `${scope}\u0000${key}`
        const existing = s.idempotency.get(id)
        if (existing) return clone(existing)
        log.set(s.idempotency, id, { scope, key, requestHash, result: null, createdAt: now })
        return null
      },
      async complete(scope, key, result) {
        const id = `${scope}\u0000${key}`
        const existing = s.idempotency.get(id)
        if (existing) log.set(s.idempotency, id, { ...existing, result })
      },
    },
    syncJobs: {
      async enqueue(jobs) {
        let seq = s.syncSeq
        for (const j of jobs) {
          const pending = s.syncJobs.some(
            (x) =>
              x.status === 'pending' && x.pos === j.pos && x.kind === j.kind && x.entityId === j.entityId,
          )
          if (pending) continue
          seq += 1
          log.push(s.syncJobs, {
            ...clone(j),
            seq,
            status: 'pending',
            attempts: 0,
            nextAttemptAt: j.nextAttemptAt ?? j.createdAt,
            lastError: null,
            lastFailedAt: null,
            leaseOwner: null,
            leaseUntil: null,
            note: null,
            updatedAt: j.createdAt,
            finishedAt: null,
          })
        }
        log.field(s, 'syncSeq', seq)
      },
      async claim({ owner, limit, leaseMs, now, pos }) {
        const blocked = new Set<string>()
        const claimed: SyncJob[] = []
        for (let i = 0; i < s.syncJobs.length && claimed.length < limit; i++) {
          const j = s.syncJobs[i] as SyncJob
          if (!BLOCKING_SYNC_STATUSES.includes(j.status)) continue
          const key = `${j.pos}\u0000${j.entityId}`
          if (blocked.has(key)) continue
          blocked.add(key)
          if (pos && !pos.includes(j.pos)) continue
          const due =
            (j.status === 'pending' && j.nextAttemptAt <= now) ||
            (j.status === 'running' && j.leaseUntil !== null && j.leaseUntil <= now)
          if (!due) continue
          const next: SyncJob = {
            ...j,
            status: 'running',
            leaseOwner: owner,
            leaseUntil: new Date(now.getTime() + leaseMs),
            attempts: j.attempts + 1,
            updatedAt: now,
          }
          log.replace(s.syncJobs, i, next)
          claimed.push(clone(next))
        }
        return claimed
      },
      async finish(id, owner, outcome, now) {
        const i = s.syncJobs.findIndex((j) => j.id === id)
        const j = s.syncJobs[i]
        if (j?.status !== 'running' || j.leaseOwner !== owner) return false
        const base = { ...j, status: outcome.status, leaseOwner: null, leaseUntil: null, updatedAt: now }
        const next: SyncJob =
          outcome.status === 'succeeded'
            ? { ...base, note: outcome.note ?? j.note, finishedAt: now }
            : outcome.status === 'pending'
              ? { ...base, nextAttemptAt: outcome.nextAttemptAt, lastError: outcome.error, lastFailedAt: now }
              : { ...base, lastError: outcome.error, lastFailedAt: now, finishedAt: now }
        log.replace(s.syncJobs, i, next)
        return true
      },
      async update(id, expected, patch) {
        const i = s.syncJobs.findIndex((j) => j.id === id)
        const j = s.syncJobs[i]
        if (!j || !expected.includes(j.status)) return null
        const next: SyncJob = {
          ...j,
          status: patch.status,
          attempts: patch.attempts ?? j.attempts,
          nextAttemptAt: patch.nextAttemptAt ?? j.nextAttemptAt,
          note: patch.note === undefined ? j.note : patch.note,
          updatedAt: patch.updatedAt,
          finishedAt: patch.finishedAt === undefined ? j.finishedAt : patch.finishedAt,
          leaseOwner: null,
          leaseUntil: null,
        }
        log.replace(s.syncJobs, i, next)
        return clone(next)
      },
      async get(id) {
        const j = s.syncJobs.find((x) => x.id === id)
        return j ? clone(j) : null
      },
      async list(f) {
        const rows = s.syncJobs.filter(
          (j) =>
            (!f.statuses || f.statuses.includes(j.status)) &&
            (!f.pos || j.pos === f.pos) &&
            (!f.kind || j.kind === f.kind) &&
            (!f.entityId || j.entityId === f.entityId) &&
            (!f.storeIds || (j.storeId !== null && f.storeIds.includes(j.storeId))),
        )
        if (f.newestFirst) rows.reverse()
        const from = f.offset ?? 0
        return rows.slice(from, f.limit === undefined ? undefined : from + f.limit).map(clone)
      },
      async summary() {
        const rows = new Map<string, SyncJobSummaryRow>()
        const max = (a: Date | null, b: Date | null) => (a === null ? b : b === null || a >= b ? a : b)
        for (const j of s.syncJobs) {
          const key = `${j.pos}\u0000${j.status}`
          const row = rows.get(key) ?? {
            pos: j.pos,
            status: j.status,
            count: 0,
            oldestCreatedAt: null,
            latestFinishedAt: null,
            latestFailedAt: null,
          }
          rows.set(key, {
            ...row,
            count: row.count + 1,
            oldestCreatedAt:
              row.oldestCreatedAt === null || j.createdAt < row.oldestCreatedAt
                ? j.createdAt
                : row.oldestCreatedAt,
            latestFinishedAt: max(row.latestFinishedAt, j.finishedAt),
            latestFailedAt: max(row.latestFailedAt, j.lastFailedAt),
          })
        }
        return [...rows.values()].map(clone)
      },
    },
    dashboard: {
      async figures(f) {
        const inStores = (storeId: string | null | undefined) =>
          !f.storeIds || (storeId != null && f.storeIds.includes(storeId))
        const inWindow = (d: Date) => d >= f.from && d < f.to
        const groups = new Map<string, DashboardFigures['groups'][number]>()
        const backlog: Record<string, number> = {}
        for (const o of s.orders.values()) {
          if (!inStores(o.storeId)) continue
          if (f.backlogStatuses.includes(o.status)) backlog[o.status] = (backlog[o.status] ?? 0) + 1
          if (!inWindow(o.createdAt)) continue
          const hourStart = Math.floor(o.createdAt.getTime() / 3_600_000) * 3_600_000
          const key = `${o.status}\u0000${o.totals.currency}\u0000${hourStart}`
          const g = groups.get(key) ?? {
            status: o.status,
            currency: o.totals.currency,
            hourStart,
            orders: 0,
            totalMinor: 0,
          }
          g.orders += 1
          g.totalMinor += o.totals.totalMinor
          groups.set(key, g)
        }
        const holds = { taken: 0, expired: 0 }
        for (const r of s.reservations.values()) {
          if (!inWindow(r.createdAt) || !inStores(s.locations.get(r.locationId)?.storeId)) continue
          holds.taken += 1
          if (r.status === 'expired') holds.expired += 1
        }
        const shortages = new Set(
          s.history
            .filter((h) => h.action === 'inventory_shortage' && inWindow(h.createdAt) && inStores(h.storeId))
            .map((h) => h.entityId),
        ).size
        const low = [...s.levels.values()]
          .filter((l) => isLow(l) && inStores(s.locations.get(l.locationId)?.storeId))
          .map((l) => ({
            itemId: l.itemId,
            locationId: l.locationId,
            available: availableRaw(l),
            reorderPoint: l.reorderPoint as number,
          }))
          .sort(
            (a, b) => a.available - b.available || cmp(a.itemId, b.itemId) || cmp(a.locationId, b.locationId),
          )
        return {
          groups: [...groups.values()],
          backlog,
          holds,
          shortages,
          lowStock: { rows: low.length, lowest: low.slice(0, f.lowStockSample) },
        }
      },
    },
  }
  return tx
}

/**
 * In-process storage with the same semantics as the SQL adapters: one transaction at a time, and a
 * throw inside `transaction` rolls every write back. For tests, demos and quick starts; it keeps nothing
 * when the process ends.
 *
 * @example
 * ```ts
 * const oms = createOms({ storage: createMemoryStorage() })
 * ```
 */
export class MemoryStorage implements Storage {
  readonly name = 'memory'
  readonly capabilities = { multiProcess: false, retriesTransactions: false }
  #state = new State()
  #queue: Promise<unknown> = Promise.resolve()
  #closed = false

  transaction<T>(fn: (tx: StorageTx) => Promise<T>, _options?: TransactionOptions): Promise<T> {
    if (this.#closed)
      return Promise.reject(new StorageClosedError({ storage: this.name, operation: 'transaction' }))
    const run = async () => {
      const log = new UndoLog()
      try {
        return await fn(createTx(this.#state, log))
      } catch (error) {
        log.rollback()
        throw error
      }
    }
    const result = this.#queue.then(run, run)
    this.#queue = result.catch(() => undefined)
    return result
  }

  async close(): Promise<void> {
    this.#closed = true
  }
}

export const createMemoryStorage = (): MemoryStorage => new MemoryStorage()
