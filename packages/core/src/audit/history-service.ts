import {
  type HistoryForOrderInput,
  historyForOrderInputSchema,
  type ListHistoryInput,
  listHistoryInputSchema,
  type RecordHistoryInput,
  recordHistoryInputSchema,
  type SearchHistoryInput,
  searchHistoryInputSchema,
} from '../domain/commands'
import { parseInput } from '../domain/parse-input'
import type { HistoryEntry } from '../domain/schemas'
import { ForbiddenError, ValidationError } from '../errors/oms-error'
import { loadOrder } from '../order/order-service'
import { type OmsContext, orderHistoryEntry, runCommand } from '../services/oms-context'

/** A page of `history.search`. */
export interface HistorySearchResult {
  /** Newest first. */
  entries: HistoryEntry[]
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null
}

const CURSOR_PREFIX = 'h'

/** The audit trail (append-only; written by the other services in their transactions). */
export class HistoryService {
  readonly #ctx: OmsContext

  constructor(ctx: OmsContext) {
    this.#ctx = ctx
  }

  /** An order's timeline, oldest first (`limit` 500 by default, at most 5000). */
  async forOrder(input: HistoryForOrderInput): Promise<HistoryEntry[]> {
    const { actor, orderId, limit } = parseInput(historyForOrderInputSchema, input, 'history read')
    return this.#ctx.storage.transaction(
      async (tx) => {
        await loadOrder(this.#ctx, tx, actor, orderId, 'history.view')
        return tx.history.list({ orderId, limit })
      },
      { readOnly: true },
    )
  }

  /**
   * Audit rows across orders (inventory rows included), newest first, by action, actor, entity, order and
   * date range, a page at a time. The cursor is the position in the append order, so rows written while
   * the caller pages never shift a page. Limited in the query to what the actor reaches, as `list`.
   */
  async search(input: SearchHistoryInput): Promise<HistorySearchResult> {
    const { actor, cursor, ...filter } = parseInput(searchHistoryInputSchema, input, 'history search')
    const reach = this.#ctx.access.reach(actor, 'history.view')
    if (!reach) throw new ForbiddenError('view history', { permission: 'history.view' })
    let beforeSeq: number | undefined
    if (cursor !== undefined) {
      const seq = cursor.startsWith(CURSOR_PREFIX) ? Number(cursor.slice(CURSOR_PREFIX.length)) : Number.NaN
      if (!Number.isSafeInteger(seq) || seq < 1)
        throw new ValidationError('history search', [
          { path: 'cursor', message: 'is not a cursor this search returned' },
        ])
      beforeSeq = seq
    }
    return this.#ctx.storage.transaction(
      async (tx) => {
        const rows = await tx.history.search({
          ...Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined)),
          ...(reach.all ? {} : { reach: { storeIds: reach.storeIds, customerId: reach.customerId } }),
          ...(beforeSeq !== undefined ? { beforeSeq } : {}),
          limit: filter.limit + 1,
        })
        const page = rows.slice(0, filter.limit)
        const last = page[page.length - 1]
        return {
          entries: page.map((r) => r.entry),
          nextCursor: rows.length > filter.limit && last ? `${CURSOR_PREFIX}${last.seq}` : null,
        }
      },
      { readOnly: true },
    )
  }

  /**
   * Writes a host's own audit row on an order (`edited`, `assigned`, …) with its description and data,
   * as the actor; the row is marked `additionalData.source = 'host'`. Needs `history.write` on the order.
   */
  async record(input: RecordHistoryInput): Promise<HistoryEntry> {
    const cmd = parseInput(recordHistoryInputSchema, input, 'history entry')
    const ctx = this.#ctx
    return runCommand(
      ctx,
      'history.record',
      cmd,
      async (tx, now) => {
        const order = await loadOrder(ctx, tx, cmd.actor, cmd.orderId, 'history.write')
        const entry = orderHistoryEntry(ctx, cmd.actor, now, order, {
          action: cmd.action,
          oldStatus: order.status,
          newStatus: order.status,
          description: cmd.description,
          additionalData: { ...cmd.data, source: 'host' },
        })
        await tx.history.appendMany([entry])
        return entry
      },
      async (tx) => void (await loadOrder(ctx, tx, cmd.actor, cmd.orderId, 'history.write')),
    )
  }

  /**
   * Audit rows by entity or action (inventory actions included), oldest first, limited in the query to
   * what the actor reaches: rows of its stores (global rows, such as the catalog's, for unscoped staff
   * only). `limit` 100 by default, at most 1000.
   */
  async list(input: ListHistoryInput): Promise<HistoryEntry[]> {
    const { actor, ...filter } = parseInput(listHistoryInputSchema, input, 'history read')
    const reach = this.#ctx.access.reach(actor, 'history.view')
    if (!reach) throw new ForbiddenError('view history', { permission: 'history.view' })
    return this.#ctx.storage.transaction(
      (tx) =>
        tx.history.list({
          ...filter,
          ...(reach.all ? {} : { reach: { storeIds: reach.storeIds, customerId: reach.customerId } }),
        }),
      { readOnly: true },
    )
  }
}
