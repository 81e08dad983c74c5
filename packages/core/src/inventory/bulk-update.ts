import { type BulkUpdateInput, bulkRowSchema, bulkUpdateInputSchema } from '../domain/commands'
import type { StockBucket } from '../domain/enums'
import { parseInput, toFieldIssues } from '../domain/parse-input'
import type { Actor, Location } from '../domain/schemas'
import type { OmsErrorCode } from '../errors/error-codes'
import { isOmsError, NotFoundError } from '../errors/oms-error'
import type { StorageTx } from '../ports/storage'
import { type OmsContext, runCommand } from '../services/oms-context'
import { requireLocation } from './location-access'
import {
  type LedgerEntry,
  type LedgerSink,
  onHandConflict,
  REASON_BUCKET,
  recordMovements,
} from './stock-ledger'

/** What became of one row of a bulk update. */
export type BulkRowResult =
  | { index: number; ok: true; itemId: string; locationId: string; onHand: number }
  | {
      index: number
      ok: false
      itemId: string | null
      locationId: string | null
      code: OmsErrorCode
      message: string
    }

export interface BulkUpdateResult {
  /** One result per row, in the order given. */
  rows: BulkRowResult[]
  applied: number
  failed: number
}

export interface BulkProgress {
  /** Rows decided so far (applied or refused). */
  done: number
  total: number
  applied: number
  failed: number
}

export interface BulkUpdateOptions {
  /** Called after each batch of rows is committed. */
  onProgress?: (progress: BulkProgress) => void
}

/** Rows per transaction: each batch commits on its own, so a long import holds no lock for long. */
export const BULK_BATCH = 500

type ParsedRow = { index: number; row: ReturnType<typeof bulkRowSchema.parse> }

/**
 * Applies up to 10,000 receive / adjust / set rows, each on its own: a row is applied whole or refused
 * whole (its error code and message in its result), never half. Rows are committed in batches of
 * `BULK_BATCH`; with an idempotency key, each batch is idempotent on its own, so repeating the call after
 * a crash applies only the batches that had not committed and returns the same results.
 */
export async function bulkUpdate(
  ctx: OmsContext,
  input: BulkUpdateInput,
  options: BulkUpdateOptions = {},
): Promise<BulkUpdateResult> {
  const cmd = parseInput(bulkUpdateInputSchema, input, 'bulk update')
  const results: BulkRowResult[] = []
  const valid: ParsedRow[] = []
  for (const [index, raw] of cmd.rows.entries()) {
    const parsed = bulkRowSchema.safeParse(raw)
    if (parsed.success) valid.push({ index, row: parsed.data })
    else {
      const r = (raw ?? {}) as Partial<Record<'itemId' | 'locationId', unknown>>
      results[index] = {
        index,
        ok: false,
        itemId: typeof r.itemId === 'string' ? r.itemId : null,
        locationId: typeof r.locationId === 'string' ? r.locationId : null,
        code: 'VALIDATION',
        message: toFieldIssues(parsed.error)
          .map((i) => `${i.path || '(row)'}: ${i.message}`)
          .join('; '),
      }
    }
  }
  const total = cmd.rows.length
  const progress = () => {
    const done = results.filter(Boolean)
    const applied = done.filter((r) => r.ok).length
    options.onProgress?.({ done: done.length, total, applied, failed: done.length - applied })
  }
  for (let start = 0; start < valid.length; start += BULK_BATCH) {
    const batch = valid.slice(start, start + BULK_BATCH)
    const batchNo = start / BULK_BATCH
    const decided = await runCommand(
      ctx,
      'inventory.bulkUpdate',
      {
        actor: cmd.actor,
        ...(cmd.idempotencyKey ? { idempotencyKey: `${cmd.idempotencyKey}#${batchNo}` } : {}),
        rows: batch,
      },
      (tx, now) => applyBatch(ctx, tx, now, cmd.actor, batch),
      async (tx, result) => {
        const locations = new Set(result.flatMap((r) => (r.ok ? [r.locationId] : [])))
        for (const id of locations) await requireLocation(ctx, tx, cmd.actor, id)
      },
    )
    for (const r of decided) results[r.index] = r
    progress()
  }
  if (valid.length === 0) progress()
  const applied = results.filter((r) => r.ok).length
  return { rows: results, applied, failed: results.length - applied }
}

async function applyBatch(
  ctx: OmsContext,
  tx: StorageTx,
  now: Date,
  actor: Actor,
  batch: readonly ParsedRow[],
): Promise<BulkRowResult[]> {
  const sink: LedgerSink = { movements: [], history: [], outbox: [] }
  const known = new Set(
    (await ctx.catalog.items(tx, [...new Set(batch.map((b) => b.row.itemId))])).map((i) => i.id),
  )
  const locations = new Map<string, Location | Error>()
  const results: BulkRowResult[] = []
  const refuse = (index: number, row: ParsedRow['row'], error: unknown) => {
    // A row's failure is typed and comes before any write of that row is kept; anything else (the
    // database itself) ends the batch, which rolls back whole.
    if (!isOmsError(error)) throw error
    results.push({
      index,
      ok: false,
      itemId: row.itemId,
      locationId: row.locationId,
      code: error.code,
      message: error.message,
    })
  }
  // Access and the catalog first, for every row; then the new levels of the rows that passed are created
  // in one statement (a row refused here writes nothing at all), then each row is written on its own.
  const passed: Array<ParsedRow & { location: Location }> = []
  for (const { index, row } of batch) {
    try {
      let location = locations.get(row.locationId)
      if (!location) {
        location = await requireLocation(ctx, tx, actor, row.locationId).catch((e: Error) => e)
        locations.set(row.locationId, location)
      }
      if (location instanceof Error) throw location
      if (!known.has(row.itemId)) throw new NotFoundError('item', row.itemId)
      passed.push({ index, row, location })
    } catch (error) {
      refuse(index, row, error)
    }
  }
  // Only rows that could succeed on a new level get one: a refused row leaves no empty level behind.
  const couldStartAtZero = (row: ParsedRow['row']) =>
    row.op === 'receive' || (row.op === 'adjust' && row.delta > 0) || (row.op === 'set' && row.expected === 0)
  await tx.inventory.ensureLevels(
    passed.flatMap(({ row }) => (couldStartAtZero(row) ? [row] : [])),
    now,
  )
  for (const { index, row, location } of passed) {
    const at = { itemId: row.itemId, locationId: row.locationId }
    try {
      const entry = ledgerEntry(row)
      if (entry.delta === 0) {
        // A set to the value it already has: nothing moves; the compare-and-swap still applies.
        const level = await tx.inventory.getLevel(row.itemId, row.locationId)
        const onHand = level?.onHand ?? 0
        if (entry.expectOnHand !== onHand)
          throw onHandConflict(row.itemId, row.locationId, entry.expectOnHand ?? 0, onHand)
        results.push({ index, ok: true, ...at, onHand })
        continue
      }
      const [level] = await recordMovements(
        ctx,
        tx,
        now,
        actor,
        [entry],
        {
          storeId: location.storeId,
          action:
            row.op === 'receive'
              ? 'inventory_received'
              : row.op === 'set'
                ? 'inventory_set'
                : 'inventory_adjusted',
          description: `bulk ${row.op} of ${row.itemId} at ${row.locationId}: ${entry.delta > 0 ? '+' : ''}${entry.delta}`,
        },
        sink,
      )
      results.push({ index, ok: true, ...at, onHand: level?.onHand ?? 0 })
    } catch (error) {
      refuse(index, row, error)
    }
  }
  results.sort((a, b) => a.index - b.index)
  await tx.append(sink)
  return results
}

function ledgerEntry(row: ParsedRow['row']): LedgerEntry {
  const base = {
    itemId: row.itemId,
    locationId: row.locationId,
    bucket: 'on_hand' as StockBucket,
    note: row.note ?? null,
  }
  switch (row.op) {
    case 'receive':
      return { ...base, delta: row.quantity, reason: 'receive', packageId: row.packageId ?? null }
    case 'adjust':
      return {
        ...base,
        bucket: REASON_BUCKET[row.reason] ?? 'on_hand',
        delta: row.delta,
        reason: row.reason,
        packageId: row.packageId ?? null,
      }
    case 'set':
      return {
        ...base,
        delta: row.quantity - row.expected,
        reason: 'count_correction',
        expectOnHand: row.expected,
      }
  }
}
