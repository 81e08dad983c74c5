import {
  type AdjustInventoryInput,
  type AvailableAcrossInput,
  adjustInventoryInputSchema,
  availableAcrossInputSchema,
  type BulkUpdateInput,
  type DefineItemInput,
  type DefineLocationInput,
  defineItemInputSchema,
  defineLocationInputSchema,
  type LevelInput,
  type LevelsInput,
  type LowStockInput,
  levelInputSchema,
  levelsInputSchema,
  lowStockInputSchema,
  type MovementsInput,
  movementsInputSchema,
  type PackageHistoryInput,
  type PackagesInput,
  packageHistoryInputSchema,
  packagesInputSchema,
  type ReceiveInventoryInput,
  type ReconcileInput,
  type ReleaseFromBucketInput,
  receiveInventoryInputSchema,
  reconcileInputSchema,
  releaseFromBucketInputSchema,
  type SetAsideInput,
  type SetInventoryInput,
  type SetReorderPointInput,
  type SetSafetyStockInput,
  setAsideInputSchema,
  setInventoryInputSchema,
  setReorderPointInputSchema,
  setSafetyStockInputSchema,
} from '../domain/commands'
import type { HistoryAction } from '../domain/enums'
import { parseInput } from '../domain/parse-input'
import {
  type Actor,
  emptyLevel,
  type InventoryLevel,
  type Item,
  type Location,
  type Movement,
  type PackageLevel,
} from '../domain/schemas'
import { NotFoundError } from '../errors/oms-error'
import type { StorageTx } from '../ports/storage'
import { historyEntry, type OmsContext, retryOnStale, runCommand } from '../services/oms-context'
import { type BulkUpdateOptions, type BulkUpdateResult, bulkUpdate } from './bulk-update'
import { isLive } from './holds'
import { viewReach } from './location-access'
import { isLow, lowStockEvent } from './low-stock'
import { type LedgerEntry, levelRowKey, onHandConflict, REASON_BUCKET, recordMovements } from './stock-ledger'

/** A level as a reader sees it: holds past their expiry are not counted, and `available` is derived. */
export interface StockView extends InventoryLevel {
  /** Held by live holds (expired ones not yet swept are left out). */
  heldLive: number
  /** `onHand − heldLive − damaged − quarantine − safetyStock`, clamped at 0. */
  available: number
  /** How far on-hand is below what is reserved or set aside (0 when none). */
  shortage: number
}

/** Where a package is and everything that happened to it. */
export interface PackageHistory {
  packageId: string
  /** Its stock per location now (locations with stock only). */
  levels: PackageLevel[]
  /** Every movement naming it, oldest first. */
  movements: Movement[]
}

export interface Drift {
  itemId: string
  locationId: string
  field: 'onHand' | 'reserved' | 'damaged' | 'quarantine' | 'incoming'
  stored: number
  expected: number
}

export interface ReconcileResult {
  /** Levels compared. */
  checked: number
  drifts: Drift[]
  /** Whether the drifts were written back (`repair: true`). */
  repaired: boolean
}

/** Catalog (locations, items) and the stock ledger: receive, adjust, set, read, reconcile. */
export class InventoryService {
  readonly #ctx: OmsContext

  constructor(ctx: OmsContext) {
    this.#ctx = ctx
  }

  /**
   * Creates or updates a location (a store, warehouse, vault or sales floor). A store-scoped actor may
   * define locations only in its stores, and may not move a location out of another store.
   */
  async defineLocation(input: DefineLocationInput): Promise<Location> {
    const cmd = parseInput(defineLocationInputSchema, input, 'location')
    const ctx = this.#ctx
    const { location } = cmd
    const check = async (tx: StorageTx) => {
      ctx.access.requireStore(
        cmd.actor,
        'inventory.write',
        location.storeId,
        `define locations in store ${location.storeId}`,
      )
      const existing = await tx.locations.get(location.id)
      if (existing && !ctx.access.canReachStore(cmd.actor, 'inventory.write', existing.storeId))
        throw ctx.access.denied('inventory.write', 'location', location.id)
    }
    const defined = await runCommand(
      ctx,
      'inventory.defineLocation',
      cmd,
      async (tx) => {
        await check(tx)
        await tx.locations.upsert(location)
        return location
      },
      check,
    )
    ctx.catalog.forget('location', location.id)
    return defined
  }

  /** Creates or updates an item (a sellable variant / SKU). The catalog is shared: unscoped staff only. */
  async defineItem(input: DefineItemInput): Promise<Item> {
    const cmd = parseInput(defineItemInputSchema, input, 'item')
    const ctx = this.#ctx
    const check = async () => ctx.access.requireGlobal(cmd.actor, 'catalog.write', 'define items')
    const defined = await runCommand(
      ctx,
      'inventory.defineItem',
      cmd,
      async (tx) => {
        await check()
        await tx.items.upsert(cmd.item)
        return cmd.item
      },
      check,
    )
    ctx.catalog.forget('item', cmd.item.id)
    return defined
  }

  /** Goods arrive: on-hand goes up by `quantity`, recorded as a `receive` movement. */
  async receive(input: ReceiveInventoryInput): Promise<StockView> {
    const cmd = parseInput(receiveInventoryInputSchema, input, 'receipt')
    return this.#move(
      'inventory.receive',
      cmd,
      { bucket: 'on_hand', delta: cmd.quantity, reason: 'receive' },
      {
        action: 'inventory_received',
        description: `received ${cmd.quantity} of ${cmd.itemId} at ${cmd.locationId}`,
      },
    )
  }

  /**
   * Adjusts by a signed delta with a reason code. May take on-hand below what is reserved (a real count
   * found less): that is a recorded shortage (`inventory.shortage`), and no new hold succeeds until it
   * is resolved. On-hand never goes below zero (INSUFFICIENT_STOCK).
   */
  async adjust(input: AdjustInventoryInput): Promise<StockView> {
    const cmd = parseInput(adjustInventoryInputSchema, input, 'adjustment')
    return this.#move(
      'inventory.adjust',
      cmd,
      { bucket: REASON_BUCKET[cmd.reason] ?? 'on_hand', delta: cmd.delta, reason: cmd.reason },
      {
        action: 'inventory_adjusted',
        description: `adjusted ${cmd.itemId} at ${cmd.locationId} by ${cmd.delta} (${cmd.reason})`,
      },
    )
  }

  /**
   * Sets on-hand to `quantity` if it is still `expected` (compare-and-swap in one write); otherwise
   * CONFLICT with the current value. Recorded as a movement of the difference.
   */
  async set(input: SetInventoryInput): Promise<StockView> {
    const cmd = parseInput(setInventoryInputSchema, input, 'set-quantity')
    return this.#move(
      'inventory.set',
      cmd,
      {
        bucket: 'on_hand',
        delta: cmd.quantity - cmd.expected,
        reason: cmd.reason,
        expectOnHand: cmd.expected,
      },
      {
        action: 'inventory_set',
        description: `set ${cmd.itemId} at ${cmd.locationId} from ${cmd.expected} to ${cmd.quantity}`,
      },
    )
  }

  /** One movement through the ledger for one (item, location), as a command: access, idempotency, audit. */
  #move(
    scope: string,
    cmd: {
      actor: Actor
      idempotencyKey?: string | undefined
      itemId: string
      locationId: string
      packageId?: string | undefined
      reference?: Movement['reference'] | undefined
      note?: string | undefined
    },
    entry:
      | Pick<LedgerEntry, 'bucket' | 'delta' | 'reason' | 'expectOnHand' | 'requireAvailable'>
      | ReadonlyArray<Pick<LedgerEntry, 'bucket' | 'delta' | 'reason' | 'requireAvailable'>>,
    audit: { action: HistoryAction; description: string },
  ): Promise<StockView> {
    const entries = Array.isArray(entry) ? entry : [entry as Pick<LedgerEntry, 'bucket' | 'delta' | 'reason'>]
    const first = entries[0] as Pick<LedgerEntry, 'delta' | 'expectOnHand'>
    return runCommand(
      this.#ctx,
      scope,
      cmd,
      async (tx, now) => {
        const location = await this.#requireWrite(tx, cmd.actor, cmd.locationId, cmd.itemId)
        if (entries.length === 1 && first.delta === 0) {
          // Nothing moves (a set to the value it already has): no movement, just the check and the level.
          const current =
            (await tx.inventory.getLevel(cmd.itemId, cmd.locationId)) ??
            emptyLevel(cmd.itemId, cmd.locationId, now)
          if (first.expectOnHand !== undefined && current.onHand !== first.expectOnHand) {
            throw onHandConflict(cmd.itemId, cmd.locationId, first.expectOnHand, current.onHand)
          }
          return this.#view(tx, current, now)
        }
        const levels = await recordMovements(
          this.#ctx,
          tx,
          now,
          cmd.actor,
          entries.map((e) => ({
            ...e,
            itemId: cmd.itemId,
            locationId: cmd.locationId,
            packageId: cmd.packageId ?? null,
            reference: cmd.reference ?? null,
            note: cmd.note ?? null,
          })),
          { ...audit, storeId: location.storeId },
        )
        return this.#view(tx, levels[levels.length - 1] as InventoryLevel, now)
      },
      async (tx) => {
        await this.#requireWrite(tx, cmd.actor, cmd.locationId, cmd.itemId)
      },
    )
  }

  /**
   * Sets stock aside into `damaged` or `quarantine` (a QC hold), with a reason: it stays on hand but is no
   * longer available to sell. Only available stock can be set aside (the same conditional write as a
   * hold), else INSUFFICIENT_STOCK.
   */
  async setAside(input: SetAsideInput): Promise<StockView> {
    const cmd = parseInput(setAsideInputSchema, input, 'set-aside')
    return this.#move(
      'inventory.setAside',
      { ...cmd, note: cmd.reason },
      {
        bucket: cmd.bucket,
        delta: cmd.quantity,
        reason: cmd.bucket === 'damaged' ? 'damage' : 'quarantine',
        requireAvailable: cmd.quantity,
      },
      {
        action: 'inventory_bucket_moved',
        description: `set ${cmd.quantity} of ${cmd.itemId} at ${cmd.locationId} aside as ${cmd.bucket}: ${cmd.reason}`,
      },
    )
  }

  /**
   * Takes stock out of `damaged` or `quarantine`, with a reason: `restock` makes it available again,
   * `write_off` destroys it (on-hand goes down as well, an `adjust_destruction` movement). More than the
   * bucket holds is INSUFFICIENT_STOCK.
   */
  async releaseFromBucket(input: ReleaseFromBucketInput): Promise<StockView> {
    const cmd = parseInput(releaseFromBucketInputSchema, input, 'bucket release')
    const release = {
      bucket: cmd.bucket,
      delta: -cmd.quantity,
      reason: cmd.bucket === 'damaged' ? ('damage_release' as const) : ('quarantine_release' as const),
    }
    return this.#move(
      'inventory.releaseFromBucket',
      { ...cmd, note: cmd.reason },
      cmd.disposition === 'restock'
        ? release
        : [release, { bucket: 'on_hand', delta: -cmd.quantity, reason: 'adjust_destruction' }],
      {
        action: 'inventory_bucket_moved',
        description: `${cmd.disposition === 'restock' ? 'restocked' : 'wrote off'} ${cmd.quantity} of ${cmd.itemId} at ${cmd.locationId} from ${cmd.bucket}: ${cmd.reason}`,
      },
    )
  }

  /**
   * Receives, adjusts or sets up to 10,000 rows in one call, each row applied or refused on its own (a
   * per-row result: applied with the new on-hand, or the error code and message), never half of one row.
   * `options.onProgress` is told after each batch. See the package README for the CSV form.
   */
  async bulkUpdate(input: BulkUpdateInput, options: BulkUpdateOptions = {}): Promise<BulkUpdateResult> {
    return bulkUpdate(this.#ctx, input, options)
  }

  /**
   * Sets the reorder point of an (item, location): when available falls to or below it,
   * `inventory.low_stock` is emitted once (again only after it has risen above and crossed again).
   * Setting it above what is available now counts as a crossing. Null stops watching the row.
   */
  async setReorderPoint(input: SetReorderPointInput): Promise<StockView> {
    const cmd = parseInput(setReorderPointInputSchema, input, 'reorder point')
    const ctx = this.#ctx
    return runCommand(
      ctx,
      'inventory.setReorderPoint',
      cmd,
      async (tx, now) => {
        const location = await this.#requireWrite(tx, cmd.actor, cmd.locationId, cmd.itemId)
        const before =
          (await tx.inventory.lockLevel(cmd.itemId, cmd.locationId)) ??
          (await tx.inventory.applyDeltas(cmd.itemId, cmd.locationId, {}, { now }))
        const level = (await tx.inventory.setReorderPoint(
          cmd.itemId,
          cmd.locationId,
          cmd.reorderPoint,
          now,
        )) as InventoryLevel
        const low = isLow(level) && !(before && isLow(before))
        await tx.append({
          history: [
            historyEntry(ctx, cmd.actor, now, {
              entityType: 'inventory',
              entityId: `${cmd.itemId}@${cmd.locationId}`,
              storeId: location.storeId,
              action: 'reorder_point_set',
              description: `reorder point of ${cmd.itemId} at ${cmd.locationId} set to ${cmd.reorderPoint ?? 'none'}`,
              additionalData: {
                itemId: cmd.itemId,
                locationId: cmd.locationId,
                reorderPoint: cmd.reorderPoint,
              },
            }),
          ],
          outbox: low ? [lowStockEvent(ctx, now, level)] : [],
        })
        return this.#view(tx, level, now)
      },
      async (tx) => {
        await this.#requireWrite(tx, cmd.actor, cmd.locationId, cmd.itemId)
      },
    )
  }

  /** Levels at or below their reorder point, in the stores the actor reaches (a page at a time). */
  async lowStock(input: LowStockInput): Promise<StockView[]> {
    const { actor, ...filter } = parseInput(lowStockInputSchema, input, 'low stock read')
    const storeIds = this.#inventoryReach(actor)
    return this.#ctx.storage.transaction(
      async (tx) => {
        const now = this.#ctx.clock.now()
        const rows = await tx.inventory.listLow({ ...filter, ...(storeIds ? { storeIds } : {}) })
        const views: StockView[] = []
        for (const l of rows) views.push(await this.#view(tx, l, now))
        return views
      },
      { readOnly: true },
    )
  }

  /**
   * Stock per package (traceability tag) of an item at a location, oldest arrival first (the order sales
   * take them in). Their sum is at most the item's on-hand; the rest is untagged stock.
   */
  async packages(input: PackagesInput): Promise<PackageLevel[]> {
    const { actor, itemId, locationId } = parseInput(packagesInputSchema, input, 'packages read')
    return this.#ctx.storage.transaction(
      async (tx) => {
        await this.#requireView(tx, actor, locationId)
        return tx.inventory.listPackages({ itemId, locationId })
      },
      { readOnly: true },
    )
  }

  /**
   * A package's full history in one call: where it has stock now, and every movement that names it
   * (received, shipped, received by a transfer, sold, adjusted, counted), oldest first — limited to the
   * stores the actor reaches.
   */
  async packageHistory(input: PackageHistoryInput): Promise<PackageHistory> {
    const { actor, packageId, limit } = parseInput(packageHistoryInputSchema, input, 'package history')
    const storeIds = this.#inventoryReach(actor)
    return this.#ctx.storage.transaction(
      async (tx) => {
        const movements = await tx.inventory.listMovements({
          packageId,
          limit,
          ...(storeIds ? { storeIds } : {}),
        })
        const levels = []
        for (const p of await tx.inventory.listPackages({ packageId })) {
          const store = (await this.#ctx.catalog.location(tx, p.locationId))?.storeId
          if (!storeIds || (store !== undefined && storeIds.includes(store))) levels.push(p)
        }
        return { packageId, levels, movements }
      },
      { readOnly: true, isolation: 'snapshot' },
    )
  }

  /** Safety stock is kept out of `available`. */
  async setSafetyStock(input: SetSafetyStockInput): Promise<StockView> {
    const cmd = parseInput(setSafetyStockInputSchema, input, 'safety stock')
    return runCommand(
      this.#ctx,
      'inventory.setSafetyStock',
      cmd,
      async (tx, now) => {
        await this.#requireWrite(tx, cmd.actor, cmd.locationId, cmd.itemId)
        const level =
          (await tx.inventory.setSafetyStock(cmd.itemId, cmd.locationId, cmd.safetyStock, now)) ??
          (await (async () => {
            await tx.inventory.applyDeltas(cmd.itemId, cmd.locationId, {}, { now })
            return tx.inventory.setSafetyStock(cmd.itemId, cmd.locationId, cmd.safetyStock, now)
          })())
        return this.#view(tx, level as InventoryLevel, now)
      },
      async (tx) => {
        await this.#requireWrite(tx, cmd.actor, cmd.locationId, cmd.itemId)
      },
    )
  }

  /** The level of one item at one location (zeros when it never had stock). */
  async level(input: LevelInput): Promise<StockView> {
    const { actor, itemId, locationId } = parseInput(levelInputSchema, input, 'level read')
    return this.#ctx.storage.transaction(
      async (tx) => {
        const now = this.#ctx.clock.now()
        await this.#requireView(tx, actor, locationId)
        const level = (await tx.inventory.getLevel(itemId, locationId)) ?? emptyLevel(itemId, locationId, now)
        return this.#view(tx, level, now)
      },
      { readOnly: true },
    )
  }

  /**
   * Levels of an item across locations (or of a location), each with its live availability, limited in
   * the query to the stores the actor reaches; a page at a time (`limit` 200 by default, at most 2000).
   */
  async levels(input: LevelsInput): Promise<StockView[]> {
    const { actor, ...filter } = parseInput(levelsInputSchema, input, 'levels read')
    return this.#levels(actor, filter)
  }

  /** Available to sell across locations: each location clamped at 0 before summing. */
  async availableAcross(input: AvailableAcrossInput): Promise<number> {
    const { actor, itemId, locationIds } = parseInput(availableAcrossInputSchema, input, 'availability read')
    const views = await this.#levels(actor, { itemId, limit: 10_000, offset: 0 })
    return views
      .filter((v) => !locationIds || locationIds.includes(v.locationId))
      .reduce((sum, v) => sum + v.available, 0)
  }

  async #levels(
    actor: Actor,
    filter: { itemId?: string | undefined; locationId?: string | undefined; limit: number; offset: number },
  ): Promise<StockView[]> {
    const storeIds = this.#inventoryReach(actor)
    return this.#ctx.storage.transaction(
      async (tx) => {
        const now = this.#ctx.clock.now()
        const levels = await tx.inventory.listLevels({
          ...(filter.itemId ? { itemId: filter.itemId } : {}),
          ...(filter.locationId ? { locationId: filter.locationId } : {}),
          ...(storeIds ? { storeIds } : {}),
          limit: filter.limit,
          offset: filter.offset,
        })
        const views: StockView[] = []
        for (const l of levels) views.push(await this.#view(tx, l, now))
        return views
      },
      { readOnly: true },
    )
  }

  /**
   * Movements (the ledger), the most recent `limit` (100 by default, at most 1000), oldest first, limited
   * in the query to the stores the actor reaches.
   */
  async movements(input: MovementsInput): Promise<Movement[]> {
    const { actor, ...filter } = parseInput(movementsInputSchema, input, 'movements read')
    const storeIds = this.#inventoryReach(actor)
    return this.#ctx.storage.transaction(
      (tx) => tx.inventory.listMovements({ ...filter, ...(storeIds ? { storeIds } : {}) }),
      { readOnly: true },
    )
  }

  /**
   * Recomputes every level from the ledger (on-hand and buckets = sum of movements) and from the holds
   * (reserved = what active holds still hold), and reports each difference. The report reads one
   * consistent snapshot, so traffic running meanwhile never shows as drift. With `repair`, each drifted
   * row is then corrected on its own: under that row's lock, against the row's ledger and holds as they
   * are at that moment (never the snapshot's figures), so a repair is safe while traffic runs. It spans
   * every store: unscoped staff only. A healthy system reports no drift.
   */
  async reconcileProjections(input: ReconcileInput): Promise<ReconcileResult> {
    const { actor, repair } = parseInput(reconcileInputSchema, input, 'reconcile')
    const ctx = this.#ctx
    ctx.access.requireGlobal(actor, 'maintenance.run', 'reconcile inventory')
    const report = await ctx.storage.transaction((tx) => reconcile(tx, false, ctx.clock.now()), {
      readOnly: true,
      isolation: 'snapshot',
    })
    if (!repair || report.drifts.length === 0) return report
    const rows = new Map(report.drifts.map((d) => [levelRowKey(d.itemId, d.locationId), d]))
    let repaired = false
    for (const row of rows.values()) {
      const fixed = await retryOnStale(() =>
        ctx.storage.transaction((tx) => repairRow(tx, row, ctx.clock.now())),
      )
      repaired ||= fixed
    }
    return { ...report, repaired }
  }

  /** The stores `inventory.view` reaches for this actor (undefined: all); FORBIDDEN without it. */
  #inventoryReach(actor: Actor): readonly string[] | undefined {
    return viewReach(this.#ctx, actor, 'inventory').storeIds
  }

  async #view(tx: StorageTx, level: InventoryLevel, now: Date): Promise<StockView> {
    const holds =
      level.reserved > 0
        ? await tx.reservations.listActive({ itemId: level.itemId, locationId: level.locationId })
        : []
    const stale = holds
      .filter((h) => !isLive(h, now))
      .reduce((s, h) => s + (h.quantityReserved - h.quantityFulfilled - h.quantityReleased), 0)
    const heldLive = level.reserved - stale
    return {
      ...level,
      heldLive,
      available: Math.max(0, level.onHand - heldLive - level.damaged - level.quarantine - level.safetyStock),
      shortage: Math.max(0, level.reserved + level.damaged + level.quarantine - level.onHand),
    }
  }

  /** A location the actor may read stock at; missing and out of reach answer alike for a limited actor. */
  async #requireView(tx: StorageTx, actor: Actor, locationId: string): Promise<Location> {
    const access = this.#ctx.access
    const location = await tx.locations.get(locationId)
    if (!location) return access.missing(actor, 'inventory.view', 'location', locationId)
    if (!access.canReachStore(actor, 'inventory.view', location.storeId))
      throw access.denied('inventory.view', 'location', locationId)
    return location
  }

  /**
   * A location the actor may change stock at, and an item that exists. The location is checked first, so
   * a limited actor learns nothing about a location out of its reach, missing or not.
   */
  async #requireWrite(tx: StorageTx, actor: Actor, locationId: string, itemId: string): Promise<Location> {
    const access = this.#ctx.access
    const location = await tx.locations.get(locationId)
    if (!location) return access.missing(actor, 'inventory.write', 'location', locationId)
    if (!access.canReachStore(actor, 'inventory.write', location.storeId))
      throw access.denied('inventory.write', 'location', locationId)
    if (!(await tx.items.get(itemId))) throw new NotFoundError('item', itemId)
    return location
  }
}

/** The reconciliation report, shared by the service and the conformance suite's invariant checks. */
export async function reconcile(tx: StorageTx, repair: boolean, now: Date): Promise<ReconcileResult> {
  const levels = await tx.inventory.listLevels()
  const expected = expectedLevels(await tx.inventory.sumMovements(), await tx.reservations.sumActive(), now)
  const stored = new Map(levels.map((l) => [levelRowKey(l.itemId, l.locationId), l]))
  const drifts: Drift[] = []
  for (const key of new Set([...stored.keys(), ...expected.keys()])) {
    drifts.push(...driftsOf(stored.get(key), expected.get(key)))
  }
  if (repair) {
    for (const key of new Set(drifts.map((d) => levelRowKey(d.itemId, d.locationId)))) {
      await tx.inventory.overwriteLevel(corrected(stored.get(key), expected.get(key), now))
    }
  }
  return {
    checked: new Set([...stored.keys(), ...expected.keys()]).size,
    drifts,
    repaired: repair && drifts.length > 0,
  }
}

const FIELDS = ['onHand', 'reserved', 'damaged', 'quarantine', 'incoming'] as const
const BUCKET_FIELD = {
  on_hand: 'onHand',
  damaged: 'damaged',
  quarantine: 'quarantine',
  incoming: 'incoming',
} as const

/** What each level must be: its buckets from the ledger sums, `reserved` from the active holds. */
function expectedLevels(
  movements: Awaited<ReturnType<StorageTx['inventory']['sumMovements']>>,
  holds: Awaited<ReturnType<StorageTx['reservations']['sumActive']>>,
  now: Date,
): Map<string, InventoryLevel> {
  const expected = new Map<string, InventoryLevel>()
  const get = (itemId: string, locationId: string) => {
    const key = levelRowKey(itemId, locationId)
    let row = expected.get(key)
    if (!row) {
      row = emptyLevel(itemId, locationId, now)
      expected.set(key, row)
    }
    return row
  }
  for (const m of movements) get(m.itemId, m.locationId)[BUCKET_FIELD[m.bucket]] += m.total
  for (const r of holds) get(r.itemId, r.locationId).reserved += r.total
  return expected
}

function driftsOf(stored: InventoryLevel | undefined, expected: InventoryLevel | undefined): Drift[] {
  const row = (stored ?? expected) as InventoryLevel
  return FIELDS.flatMap((field) => {
    const a = stored?.[field] ?? 0
    const b = expected?.[field] ?? 0
    return a === b ? [] : [{ itemId: row.itemId, locationId: row.locationId, field, stored: a, expected: b }]
  })
}

function corrected(
  stored: InventoryLevel | undefined,
  expected: InventoryLevel | undefined,
  now: Date,
): InventoryLevel {
  const base = (stored ?? expected) as InventoryLevel
  return {
    ...base,
    onHand: expected?.onHand ?? 0,
    reserved: expected?.reserved ?? 0,
    damaged: expected?.damaged ?? 0,
    quarantine: expected?.quarantine ?? 0,
    incoming: expected?.incoming ?? 0,
    version: (stored?.version ?? 0) + 1,
    updatedAt: now,
  }
}

/**
 * Corrects one level under its lock. Every writer of a level's figures writes the level itself in the same
 * transaction (its own row lock), so once the lock is held no commit can change this row's movements or
 * holds until this transaction ends: the sums read next are exactly what the level must be. Returns
 * whether it wrote anything.
 */
async function repairRow(
  tx: StorageTx,
  row: { itemId: string; locationId: string },
  now: Date,
): Promise<boolean> {
  // A row that has movements or holds but no level yet is created at zero first (taking its lock).
  const level =
    (await tx.inventory.lockLevel(row.itemId, row.locationId)) ??
    (await tx.inventory.applyDeltas(row.itemId, row.locationId, {}, { now }))
  const expected = expectedLevels(
    await tx.inventory.sumMovements(row),
    await tx.reservations.sumActive(row),
    now,
  ).get(levelRowKey(row.itemId, row.locationId))
  const stored = level ?? undefined
  if (driftsOf(stored, expected).length === 0) return false
  await tx.inventory.overwriteLevel(
    corrected(stored, expected ?? emptyLevel(row.itemId, row.locationId, now), now),
  )
  return true
}
