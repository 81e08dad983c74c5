import {
  type ExpireDueInput,
  expireDueInputSchema,
  type ReservationQuantityInput,
  reservationQuantityInputSchema,
} from '../domain/commands'
import { parseInput } from '../domain/parse-input'
import { type Actor, actorSchema, idSchema, type Reservation, remainingOf } from '../domain/schemas'
import { ConflictError, ForbiddenError, isOmsError, NotFoundError } from '../errors/oms-error'
import { applyOrderEvents, loadOrder, toOrderContext } from '../order/order-service'
import type { StorageTx } from '../ports/storage'
import { historyEntry, type OmsContext, runCommand, SYSTEM_ACTOR } from '../services/oms-context'
import { commitHolds, type FreedRows, giveBackRows, releaseHolds } from './holds'

export interface ExpireDueResult {
  /** Holds marked expired by this run (lazily expired ones found on orders are not counted again). */
  expiredHolds: number
  /** Orders moved on (e.g. payment_pending → cancelled). */
  ordersMoved: number
  /** Orders another instance moved first, or whose machine takes no `reservation.expired` now. */
  ordersSkipped: number
}

/** Holds: read, release and commit single holds, and the expiry sweeper. */
export class ReservationService {
  readonly #ctx: OmsContext

  constructor(ctx: OmsContext) {
    this.#ctx = ctx
  }

  async listByOrder(input: { actor: Actor; orderId: string }): Promise<Reservation[]> {
    const actor = parseInput(actorSchema, input.actor, 'actor')
    const orderId = parseInput(idSchema, input.orderId, 'order id')
    return this.#ctx.storage.transaction(
      async (tx) => {
        await loadOrder(this.#ctx, tx, actor, orderId, 'order.view')
        return tx.reservations.listByOrder(orderId)
      },
      { readOnly: true },
    )
  }

  /** Releases part or all of one hold; exactly that quantity becomes available again. */
  async release(input: ReservationQuantityInput): Promise<Reservation> {
    const cmd = parseInput(reservationQuantityInputSchema, input, 'release')
    return runCommand(this.#ctx, 'reservations.release', cmd, async (tx, now) => {
      const hold = await this.#loadActive(tx, cmd.actor, cmd.reservationId, cmd.quantity)
      const [changed] = await releaseHolds(tx, now, [
        { hold, ...(cmd.quantity ? { quantity: cmd.quantity } : {}) },
      ])
      if (!changed) throw new ConflictError(`reservation ${hold.id} changed concurrently; retry`)
      await tx.history.appendMany([
        historyEntry(this.#ctx, cmd.actor, now, {
          entityType: 'reservation',
          entityId: hold.id,
          orderId: hold.orderId,
          action: 'inventory_released',
          description: `released ${changed.quantityReleased - hold.quantityReleased} of hold ${hold.id}${cmd.reason ? ` (${cmd.reason})` : ''}`,
          additionalData: {
            reservationId: hold.id,
            quantity: changed.quantityReleased - hold.quantityReleased,
          },
        }),
      ])
      return changed
    })
  }

  /** Commits part or all of one hold as a sale; a partial commit keeps the remainder held. */
  async commit(input: ReservationQuantityInput): Promise<Reservation> {
    const cmd = parseInput(reservationQuantityInputSchema, input, 'commit')
    return runCommand(this.#ctx, 'reservations.commit', cmd, async (tx, now) => {
      const hold = await this.#loadActive(tx, cmd.actor, cmd.reservationId, cmd.quantity)
      const [changed] = await commitHolds(this.#ctx, tx, now, cmd.actor, hold.orderId, [
        { hold, ...(cmd.quantity ? { quantity: cmd.quantity } : {}) },
      ])
      if (!changed) throw new ConflictError(`reservation ${hold.id} changed concurrently; retry`)
      return changed
    })
  }

  async #loadActive(
    tx: StorageTx,
    actor: Actor,
    id: string,
    quantity: number | undefined,
  ): Promise<Reservation> {
    const hold = await tx.reservations.get(id)
    if (!hold) {
      if (this.#ctx.access.isScoped(actor))
        throw new ForbiddenError(`reservation.manage on reservation ${id}`)
      this.#ctx.access.require(actor, 'reservation.manage')
      throw new NotFoundError('reservation', id)
    }
    await loadOrder(this.#ctx, tx, actor, hold.orderId, 'reservation.manage')
    if (hold.status !== 'active') {
      throw new ConflictError(`reservation ${id} is ${hold.status}, not active`, {
        reservationId: id,
        status: hold.status,
      })
    }
    if (quantity !== undefined && quantity > remainingOf(hold)) {
      throw new ConflictError(`reservation ${id} holds ${remainingOf(hold)}, fewer than ${quantity}`, {
        reservationId: id,
        remaining: remainingOf(hold),
      })
    }
    return hold
  }

  /**
   * The sweeper: expires due holds, gives their stock back, and moves their orders on through the
   * machine (`reservation.expired`), with audit and events. Safe to run concurrently on every instance:
   * each hold and each order change is a compare-and-swap, and an order another sweeper moved is skipped.
   * Correctness never depends on it running: expired holds are not counted by any read or write.
   */
  async expireDue(
    input: ExpireDueInput = {},
    onProgress?: (p: ExpireDueResult) => void,
  ): Promise<ExpireDueResult> {
    const cmd = parseInput(expireDueInputSchema, input, 'expireDue')
    const actor = cmd.actor ?? SYSTEM_ACTOR
    this.#ctx.access.require(actor, 'reservation.manage', 'expire reservations')
    const batch = cmd.batchSize ?? this.#ctx.policies.expiryBatchSize
    const expirable = this.#expirableStatuses()
    const total: ExpireDueResult = { expiredHolds: 0, ordersMoved: 0, ordersSkipped: 0 }
    const seen = new Set<string>()
    // First the holds that are due, batch by batch; then the orders whose holds were expired lazily (by a
    // reserve on the same row) and still wait to be moved on.
    for (const mode of ['due', 'lazy'] as const) {
      for (;;) {
        if (cmd.maxHolds !== undefined && total.expiredHolds >= cmd.maxHolds) break
        const step = await this.#sweepBatch(actor, mode, batch, expirable, seen)
        total.expiredHolds += step.result.expiredHolds
        total.ordersMoved += step.result.ordersMoved
        total.ordersSkipped += step.result.ordersSkipped
        for (const id of step.orderIds) seen.add(id)
        onProgress?.({ ...total })
        if (step.done) break
      }
    }
    return total
  }

  /**
   * One batch in one transaction, set-based: the due holds are marked expired in one conditional write
   * (each to one sweeper only), their stock goes back per row, and their orders move on together through
   * the machine (`applyOrderEvents`: one compare-and-swap statement for all of them). An order another
   * sweeper moved first makes the batch run again on fresh reads (nothing of the failed attempt is kept).
   */
  async #sweepBatch(
    actor: Actor,
    mode: 'due' | 'lazy',
    batch: number,
    expirable: string[],
    seen: ReadonlySet<string>,
  ): Promise<{ result: ExpireDueResult; orderIds: string[]; done: boolean }> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#ctx.storage.transaction(async (tx) => {
          const now = this.#ctx.clock.now()
          const expired = mode === 'due' ? await tx.reservations.expireDue(now, batch) : []
          const candidates =
            mode === 'due'
              ? expired.map((h) => h.orderId)
              : await tx.reservations.listOrdersWithExpiredHolds(expirable, batch + seen.size)
          // Due holds are each handed out once, so their orders need no filter; lazily expired orders that a
          // host guard keeps from moving would come back every time, so those are tried once per run.
          const orderIds = [...new Set(candidates)]
            .filter((id) => mode === 'due' || !seen.has(id))
            .slice(0, batch)
          const orders = await tx.orders.getMany(orderIds)
          const movers = orders.filter((o) =>
            this.#ctx.orderMachines[o.flow].can(o.status, toOrderContext(o), { type: 'reservation.expired' }),
          )
          const byOrder = new Map<string, string[]>()
          for (const h of expired) byOrder.set(h.orderId, [...(byOrder.get(h.orderId) ?? []), h.id])
          // Holds first (the movers' other active holds are released here), then every level once in
          // canonical order, then the orders: the lock order every other writer uses.
          const freed: FreedRows = expired.map((h) => ({
            itemId: h.itemId,
            locationId: h.locationId,
            quantity: remainingOf(h),
          }))
          const releasedByOrder = new Map<string, string[]>()
          if (movers.length) {
            const others = (await tx.reservations.listByOrders(movers.map((o) => o.id))).filter(
              (h) => h.status === 'active',
            )
            for (const h of others)
              releasedByOrder.set(h.orderId, [...(releasedByOrder.get(h.orderId) ?? []), h.id])
            await releaseHolds(
              tx,
              now,
              others.map((hold) => ({ hold })),
              'released',
              freed,
            )
          }
          await giveBackRows(tx, now, freed)
          // The status entry of each order (action reservation_expired) names the holds that expired.
          await applyOrderEvents(
            this.#ctx,
            tx,
            now,
            actor,
            movers.map((order) => ({
              order,
              event: { type: 'reservation.expired', reason: 'hold expired' },
              audit: {
                expiredReservationIds: byOrder.get(order.id) ?? [],
                releasedReservationIds: releasedByOrder.get(order.id) ?? [],
              },
            })),
          )
          // Holds that expired on orders that do not move (a host state) are audited on their own.
          const moved = new Set(movers.map((m) => m.id))
          const stayed = [...byOrder].filter(([orderId]) => !moved.has(orderId))
          if (stayed.length) {
            await tx.history.appendMany(
              stayed.map(([orderId, ids]) =>
                historyEntry(this.#ctx, actor, now, {
                  entityType: 'reservation',
                  entityId: orderId,
                  orderId,
                  action: 'reservation_expired',
                  description: `${ids.length} hold(s) expired`,
                  additionalData: { reservationIds: ids },
                }),
              ),
            )
          }
          return {
            result: {
              expiredHolds: expired.length,
              ordersMoved: movers.length,
              ordersSkipped: orders.length - movers.length,
            },
            orderIds,
            done: mode === 'due' ? expired.length === 0 : orderIds.length === 0,
          }
        })
      } catch (error) {
        if (!isOmsError(error) || error.code !== 'CONFLICT' || attempt >= 5) throw error
      }
    }
  }

  /** Order statuses in which `reservation.expired` is a legal event (for any flow). */
  #expirableStatuses(): string[] {
    const statuses = new Set<string>()
    for (const machine of Object.values(this.#ctx.orderMachines)) {
      for (const [name, state] of Object.entries(machine.definition.states)) {
        if (state.on && Object.hasOwn(state.on, 'reservation.expired')) statuses.add(name)
      }
    }
    return [...statuses]
  }
}
