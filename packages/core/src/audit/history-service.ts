import {
  type HistoryForOrderInput,
  historyForOrderInputSchema,
  type ListHistoryInput,
  listHistoryInputSchema,
} from '../domain/commands'
import { parseInput } from '../domain/parse-input'
import type { HistoryEntry } from '../domain/schemas'
import { ForbiddenError } from '../errors/oms-error'
import { loadOrder } from '../order/order-service'
import type { OmsContext } from '../services/oms-context'

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
