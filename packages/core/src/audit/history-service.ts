import { parseInput } from '../domain/parse-input'
import { type Actor, actorSchema, type HistoryEntry, idSchema } from '../domain/schemas'
import { loadOrder } from '../order/order-service'
import type { OmsContext } from '../services/oms-context'

/** The audit trail (append-only; written by the other services in their transactions). */
export class HistoryService {
  readonly #ctx: OmsContext

  constructor(ctx: OmsContext) {
    this.#ctx = ctx
  }

  /** An order's timeline, oldest first. */
  async forOrder(input: { actor: Actor; orderId: string }): Promise<HistoryEntry[]> {
    const actor = parseInput(actorSchema, input.actor, 'actor')
    const orderId = parseInput(idSchema, input.orderId, 'order id')
    return this.#ctx.storage.transaction(
      async (tx) => {
        await loadOrder(this.#ctx, tx, actor, orderId, 'history.view')
        return tx.history.list({ orderId })
      },
      { readOnly: true },
    )
  }

  /** Audit rows by entity or action (inventory actions included), oldest first. */
  async list(input: {
    actor: Actor
    entityId?: string
    action?: string
    limit?: number
  }): Promise<HistoryEntry[]> {
    const actor = parseInput(actorSchema, input.actor, 'actor')
    this.#ctx.access.require(actor, 'history.view', 'view history')
    this.#ctx.access.require(actor, 'inventory.view', 'view history')
    const { actor: _a, ...filter } = input
    return this.#ctx.storage.transaction((tx) => tx.history.list(filter), { readOnly: true })
  }
}
