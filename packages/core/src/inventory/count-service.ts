import type { Permission } from '../access/access-policy'
import {
  type CountRefInput,
  type CountReportInput,
  type CountStepInput,
  countRefInputSchema,
  countReportInputSchema,
  countStepInputSchema,
  type ListCountsInput,
  listCountsInputSchema,
  type OpenCountInput,
  openCountInputSchema,
  type RecordCountInput,
  recordCountInputSchema,
} from '../domain/commands'
import type { CountStatus, HistoryAction } from '../domain/enums'
import { parseInput } from '../domain/parse-input'
import type { ActingActor, Actor, CountLine, StockCount } from '../domain/schemas'
import {
  ConflictError,
  InsufficientStockError,
  InvalidTransitionError,
  NotFoundError,
  StaleStateError,
  ValidationError,
} from '../errors/oms-error'
import type { StorageTx } from '../ports/storage'
import { historyEntry, type OmsContext, outboxEvent, runCommand } from '../services/oms-context'
import { requireLocation, viewReach } from './location-access'
import { recordMovements } from './stock-ledger'

/** What a counter sees of a counted line: no expected quantity (the count is blind). */
export interface CountedLine {
  itemId: string
  packageId: string | null
  counted: number
  countedBy: string
  countedAt: Date
}

/** A count as counters see it. */
export interface CountView extends StockCount {
  lines: CountedLine[]
}

/** One line of the discrepancy report. */
export interface DiscrepancyLine {
  itemId: string
  /** The package the line counted; null: the item as a whole. */
  packageId: string | null
  sku: string | null
  name: string | null
  /** On-hand when the line was counted. */
  expected: number
  counted: number
  /** `counted − expected`: negative is missing stock. */
  difference: number
  /** `difference × unit cost` in minor units, when a cost was given for the item; else null. */
  valueMinor: number | null
  countedBy: string
  countedAt: Date
}

export interface DiscrepancyReport {
  count: StockCount
  /** Every counted line, discrepancies and matches alike, in item order. */
  lines: DiscrepancyLine[]
  /** Lines whose count differs from what was expected. */
  discrepancies: number
  /** Sum of the differences. */
  netDifference: number
  /** Sum of the valued differences (lines without a cost left out). */
  netValueMinor: number
  /**
   * Items the count covers that nobody counted: for a cycle count, listed items; for a full count, items
   * with stock at the location. Approval leaves them unchanged.
   */
  uncounted: string[]
}

/** How many lines an approval corrects per pass (one transaction). */
const APPROVE_BATCH = 5_000

/**
 * Physical counts (reconciliation): `open` a count of a location (every item, or a list of items for a
 * cycle count); counters `record` quantities blind — they never see what the system expects; the
 * expected quantity is taken from on-hand at the moment each line is counted, so sales while the count
 * runs never show as discrepancies; `report` lists each line with expected, counted, difference and value;
 * `approve` writes a `count_correction` movement of each difference; `cancel` drops it. A correction
 * below what is reserved is a recorded shortage, as for any adjustment.
 */
export class CountService {
  readonly #ctx: OmsContext

  constructor(ctx: OmsContext) {
    this.#ctx = ctx
  }

  /**
   * Opens a count of a location: a full count, or a cycle count of `itemIds`. CONFLICT while another open
   * count of that location covers any of the same items (both would correct the same difference).
   */
  async open(input: OpenCountInput): Promise<StockCount> {
    const cmd = parseInput(openCountInputSchema, input, 'count')
    const ctx = this.#ctx
    return runCommand(
      ctx,
      'counts.open',
      cmd,
      async (tx, now) => {
        const location = await requireLocation(this.#ctx, tx, cmd.actor, cmd.locationId)
        const itemIds = cmd.itemIds ? [...new Set(cmd.itemIds)].sort() : null
        if (itemIds) await requireItems(ctx, tx, itemIds)
        // Two open counts of the same item would each correct the same difference on approval.
        const overlapping = (await tx.counts.list({ locationId: location.id, status: 'open' })).find(
          (other) => !other.itemIds || !itemIds || other.itemIds.some((id) => itemIds.includes(id)),
        )
        if (overlapping)
          throw new ConflictError(
            `count ${overlapping.id} of ${location.id} is still open and covers some of the same items: approve or cancel it first`,
            { countId: overlapping.id, locationId: location.id },
          )
        const count: StockCount = {
          id: ctx.ids(),
          locationId: location.id,
          storeId: location.storeId,
          kind: itemIds ? 'cycle' : 'full',
          itemIds,
          status: 'open',
          note: cmd.note ?? null,
          version: 1,
          openedBy: cmd.actor.id,
          approvedBy: null,
          createdAt: now,
          approvedAt: null,
          cancelledAt: null,
          updatedAt: now,
        }
        await tx.counts.insert(count)
        await this.#audit(tx, cmd.actor, now, count, null, 'count_opened', {})
        return count
      },
      async (tx, result) => {
        await this.#requireCount(tx, cmd.actor, result.id, 'inventory.write', false)
      },
    )
  }

  /**
   * Records counted quantities (several counters may record at once). Each line's expected quantity is
   * the on-hand at this moment; counting an item again replaces its line. The answer shows no expected
   * quantity. An item outside a cycle count's list is VALIDATION.
   */
  async record(input: RecordCountInput): Promise<CountedLine[]> {
    const cmd = parseInput(recordCountInputSchema, input, 'count record')
    const ctx = this.#ctx
    return this.#step('record', cmd, async (tx, now, count) => {
      const itemIds = [...new Set(cmd.lines.map((l) => l.itemId))]
      if (count.itemIds) {
        const listed = new Set(count.itemIds)
        const issues = cmd.lines.flatMap((l, i) =>
          listed.has(l.itemId) ? [] : [{ path: `lines.${i}.itemId`, message: 'is not in this cycle count' }],
        )
        if (issues.length) throw new ValidationError('count record', issues)
      } else await requireItems(ctx, tx, itemIds)
      // An item is counted as a whole or per package, never both (each would correct the other).
      const earlier = await tx.counts.listLines(count.id)
      const tagged = new Map<string, boolean>()
      const issues = []
      for (const [i, l] of [...earlier, ...cmd.lines].entries()) {
        const isTagged = l.packageId !== undefined && l.packageId !== null
        if (tagged.get(l.itemId) === !isTagged)
          issues.push({
            path: `lines.${i - earlier.length}.packageId`,
            message: 'this item is counted both as a whole and per package in this count',
          })
        tagged.set(l.itemId, isTagged)
      }
      if (issues.length) throw new ValidationError('count record', issues)
      const onHand = new Map<string, number>()
      for (const level of await tx.inventory.listLevels({ locationId: count.locationId, itemIds }))
        onHand.set(level.itemId, level.onHand)
      for (const itemId of itemIds.filter((id) => tagged.get(id)))
        for (const p of await tx.inventory.listPackages({ itemId, locationId: count.locationId }))
          onHand.set(`${itemId}\u0000${p.packageId}`, p.onHand)
      const lines: CountLine[] = cmd.lines.map((l) => ({
        countId: count.id,
        itemId: l.itemId,
        packageId: l.packageId ?? null,
        expected: onHand.get(l.packageId ? `${l.itemId}\u0000${l.packageId}` : l.itemId) ?? 0,
        counted: l.quantity,
        countedBy: cmd.actor.id,
        countedAt: now,
      }))
      await tx.counts.upsertLines(lines)
      await this.#touch(tx, count, now)
      await tx.history.appendMany([
        historyEntry(ctx, cmd.actor, now, {
          entityType: 'count',
          entityId: count.id,
          storeId: count.storeId,
          action: 'count_recorded',
          description: `counted ${lines.length} line(s) of count ${count.id}`,
          additionalData: {
            lines: lines.map((l) => ({ itemId: l.itemId, packageId: l.packageId, counted: l.counted })),
          },
        }),
      ])
      return lines.map(blind)
    })
  }

  /** Counts of the stores the actor reaches (of one location, in one status), newest first. */
  async list(input: ListCountsInput): Promise<StockCount[]> {
    const { actor, ...filter } = parseInput(listCountsInputSchema, input, 'counts read')
    const reach = viewReach(this.#ctx, actor, 'counts')
    return this.#ctx.storage.transaction(
      (tx) =>
        tx.counts.list({
          ...reach,
          ...(filter.locationId ? { locationId: filter.locationId } : {}),
          ...(filter.status ? { status: filter.status } : {}),
          limit: filter.limit,
          offset: filter.offset,
        }),
      { readOnly: true },
    )
  }

  /** The count and what has been counted, blind (no expected quantities). */
  async get(input: CountRefInput): Promise<CountView> {
    const { actor, countId } = parseInput(countRefInputSchema, input, 'count read')
    return this.#ctx.storage.transaction(
      async (tx) => {
        const count = await this.#requireCount(tx, actor, countId, 'inventory.view', false)
        return { ...count, lines: (await tx.counts.listLines(count.id)).map(blind) }
      },
      { readOnly: true },
    )
  }

  /** The discrepancy report: each counted line with expected, counted, difference and value. */
  async report(input: CountReportInput): Promise<DiscrepancyReport> {
    const { actor, countId, unitCostsMinor } = parseInput(countReportInputSchema, input, 'count report')
    const ctx = this.#ctx
    return ctx.storage.transaction(
      async (tx) => {
        const count = await this.#requireCount(tx, actor, countId, 'inventory.view', false)
        const counted = await tx.counts.listLines(count.id)
        const items = new Map(
          (
            await ctx.catalog.items(
              tx,
              counted.map((l) => l.itemId),
            )
          ).map((i) => [i.id, i]),
        )
        const lines = counted.map((l): DiscrepancyLine => {
          const difference = l.counted - l.expected
          const cost = unitCostsMinor?.[l.itemId]
          return {
            itemId: l.itemId,
            packageId: l.packageId,
            sku: items.get(l.itemId)?.sku ?? null,
            name: items.get(l.itemId)?.name ?? null,
            expected: l.expected,
            counted: l.counted,
            difference,
            valueMinor: cost === undefined ? null : difference * cost,
            countedBy: l.countedBy,
            countedAt: l.countedAt,
          }
        })
        const seen = new Set(counted.map((l) => l.itemId))
        const covered =
          count.itemIds ??
          (await tx.inventory.listLevels({ locationId: count.locationId }))
            .filter((l) => l.onHand > 0)
            .map((l) => l.itemId)
        return {
          count,
          lines,
          discrepancies: lines.filter((l) => l.difference !== 0).length,
          netDifference: lines.reduce((s, l) => s + l.difference, 0),
          netValueMinor: lines.reduce((s, l) => s + (l.valueMinor ?? 0), 0),
          uncounted: covered.filter((id) => !seen.has(id)),
        }
      },
      { readOnly: true, isolation: 'snapshot' },
    )
  }

  /**
   * Approves an open count: each counted line's difference (counted − expected) becomes a
   * `count_correction` movement referencing the count, so sales since the line was counted stay. A
   * correction never takes on-hand below zero (it is clamped, and the report still shows the count).
   * On-hand below what is reserved afterwards is a recorded shortage (`inventory.shortage`).
   */
  async approve(input: CountStepInput): Promise<StockCount> {
    const cmd = parseInput(countStepInputSchema, input, 'count approval')
    const ctx = this.#ctx
    return this.#step('approve', cmd, async (tx, now, count) => {
      const lines = (await tx.counts.listLines(count.id)).filter((l) => l.counted !== l.expected)
      let corrected = 0
      let net = 0
      for (let i = 0; i < lines.length; i += APPROVE_BATCH) {
        const batch = lines.slice(i, i + APPROVE_BATCH)
        const onHand = new Map(
          (
            await tx.inventory.listLevels({
              locationId: count.locationId,
              itemIds: batch.map((l) => l.itemId),
            })
          ).map((l) => [l.itemId, l.onHand]),
        )
        for (const itemId of new Set(batch.filter((l) => l.packageId).map((l) => l.itemId)))
          for (const p of await tx.inventory.listPackages({ itemId, locationId: count.locationId }))
            onHand.set(`${itemId}\u0000${p.packageId}`, p.onHand)
        const entries = batch.flatMap((l) => {
          // Never below zero: not the item's on-hand, nor the counted package's.
          const own = l.packageId ? `${l.itemId}\u0000${l.packageId}` : l.itemId
          const floor = -Math.min(onHand.get(l.itemId) ?? 0, onHand.get(own) ?? 0)
          const delta = Math.max(l.counted - l.expected, floor)
          if (delta === 0) return []
          net += delta
          onHand.set(l.itemId, (onHand.get(l.itemId) ?? 0) + delta)
          return [
            {
              itemId: l.itemId,
              locationId: count.locationId,
              bucket: 'on_hand' as const,
              delta,
              reason: 'count_correction' as const,
              packageId: l.packageId,
              reference: { kind: 'count' as const, id: count.id },
            },
          ]
        })
        corrected += entries.length
        try {
          await recordMovements(ctx, tx, now, cmd.actor, entries, {
            storeId: count.storeId,
            action: 'inventory_counted',
            description: `count ${count.id}: ${entries.length} correction(s)`,
          })
        } catch (error) {
          // On-hand fell between the read above and the write (a sale committed meanwhile): run again.
          if (error instanceof InsufficientStockError) throw new StaleStateError(`count ${count.id}`)
          throw error
        }
      }
      return this.#finish(
        tx,
        now,
        cmd.actor,
        count,
        {
          status: 'approved',
          approvedBy: cmd.actor.id,
          approvedAt: now,
        },
        'count_approved',
        { corrected, net },
      )
    })
  }

  /** Cancels an open count: nothing is corrected. */
  async cancel(input: CountStepInput): Promise<StockCount> {
    const cmd = parseInput(countStepInputSchema, input, 'count cancellation')
    return this.#step('cancel', cmd, (tx, now, count) =>
      this.#finish(
        tx,
        now,
        cmd.actor,
        count,
        { status: 'cancelled', cancelledAt: now },
        'count_cancelled',
        {},
      ),
    )
  }

  /** One step of an open count, as a command: claims the count, and re-authorises a replay. */
  #step<T>(
    step: 'record' | 'approve' | 'cancel',
    cmd: { actor: Actor; idempotencyKey?: string | undefined; countId: string },
    body: (tx: StorageTx, now: Date, count: StockCount) => Promise<T>,
  ): Promise<T> {
    return runCommand(
      this.#ctx,
      `counts.${step}`,
      cmd,
      async (tx, now) => body(tx, now, await this.#openCount(tx, cmd.actor, cmd.countId, step)),
      async (tx) => {
        await this.#requireCount(tx, cmd.actor, cmd.countId, 'inventory.write', false)
      },
    )
  }

  /** Ends an open count (approved or cancelled): compare-and-swap on its version, history and event. */
  async #finish(
    tx: StorageTx,
    now: Date,
    actor: ActingActor,
    count: StockCount,
    patch: Pick<StockCount, 'status'> & Partial<StockCount>,
    action: HistoryAction,
    data: Record<string, unknown>,
  ): Promise<StockCount> {
    const ended: StockCount = { ...count, ...patch, version: count.version + 1, updatedAt: now }
    if (!(await tx.counts.update(ended, count.version))) throw new StaleStateError(`count ${count.id}`)
    await this.#audit(tx, actor, now, ended, 'open', action, data)
    return ended
  }

  /** Claims an open count for a step (INVALID_TRANSITION once approved or cancelled). */
  async #openCount(tx: StorageTx, actor: Actor, id: string, step: string): Promise<StockCount> {
    const count = await this.#requireCount(tx, actor, id, 'inventory.write', true)
    if (count.status !== 'open')
      throw new InvalidTransitionError('count', count.status, step, { allowed: [] })
    return count
  }

  /** Bumps the count's version, so an approval that read it before this record runs again. */
  async #touch(tx: StorageTx, count: StockCount, now: Date): Promise<void> {
    const next = { ...count, version: count.version + 1, updatedAt: now }
    if (!(await tx.counts.update(next, count.version))) throw new StaleStateError(`count ${count.id}`)
  }

  async #audit(
    tx: StorageTx,
    actor: ActingActor,
    now: Date,
    count: StockCount,
    from: CountStatus | null,
    action: HistoryAction,
    data: Record<string, unknown>,
  ): Promise<void> {
    await tx.append({
      history: [
        historyEntry(this.#ctx, actor, now, {
          entityType: 'count',
          entityId: count.id,
          storeId: count.storeId,
          action,
          oldStatus: from,
          newStatus: count.status,
          description: `${count.kind} count ${count.id} of ${count.locationId}: ${count.status}`,
          additionalData: { locationId: count.locationId, ...data },
        }),
      ],
      outbox: [
        outboxEvent(this.#ctx, now, 'count.status_changed', `count:${count.id}`, {
          countId: count.id,
          locationId: count.locationId,
          from,
          to: count.status,
          ...data,
        }),
      ],
    })
  }

  async #requireCount(
    tx: StorageTx,
    actor: Actor,
    id: string,
    permission: Permission,
    lock: boolean,
  ): Promise<StockCount> {
    const access = this.#ctx.access
    const count = lock ? await tx.counts.lock(id) : await tx.counts.get(id)
    if (!count) return access.missing(actor, permission, 'count', id)
    if (!access.canReachStore(actor, permission, count.storeId)) throw access.denied(permission, 'count', id)
    return count
  }
}

const blind = (l: CountLine): CountedLine => ({
  itemId: l.itemId,
  packageId: l.packageId,
  counted: l.counted,
  countedBy: l.countedBy,
  countedAt: l.countedAt,
})

async function requireItems(ctx: OmsContext, tx: StorageTx, itemIds: readonly string[]): Promise<void> {
  const found = new Set((await ctx.catalog.items(tx, itemIds)).map((i) => i.id))
  const missing = itemIds.find((id) => !found.has(id))
  if (missing) throw new NotFoundError('item', missing)
}
