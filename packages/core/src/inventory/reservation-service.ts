import type { z } from 'zod'
import {
  type CommitReservationInput,
  commitReservationInputSchema,
  type ExpireDueInput,
  type ExtendReservationInput,
  expireDueInputSchema,
  extendReservationInputSchema,
  type ListReservationsInput,
  listReservationsInputSchema,
  type OrderRefInput,
  orderRefInputSchema,
  type ReservationQuantityInput,
  type ReservationRefInput,
  reservationQuantityInputSchema,
  reservationRefInputSchema,
} from '../domain/commands'
import { parseInput } from '../domain/parse-input'
import { type ActingActor, type Actor, type Order, type Reservation, remainingOf } from '../domain/schemas'
import {
  ForbiddenError,
  InvalidTransitionError,
  ReservationExpiredError,
  StaleStateError,
  ValidationError,
} from '../errors/oms-error'
import { uncoveredGoods } from '../fulfillment/fulfillment-records'
import { toTransitionList } from '../machines/machine-definition'
import type { OrderContext, OrderMachine } from '../order/order-machine'
import {
  applyOrderEvents,
  loadOrder,
  orderContextOf,
  refuseBypassOfFulfillments,
} from '../order/order-service'
import type { StorageTx } from '../ports/storage'
import {
  historyEntry,
  type OmsContext,
  retryOnStale,
  runCommand,
  SYSTEM_ACTOR,
} from '../services/oms-context'
import { commitHolds, isLive, releaseHolds } from './holds'

/** A page of `reservations.list`. */
export interface ReservationListResult {
  /** Newest first. */
  reservations: Reservation[]
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null
}

const encodeHoldCursor = (r: Reservation) =>
  Buffer.from(JSON.stringify([r.createdAt.getTime(), r.id]), 'utf8').toString('base64url')

function decodeHoldCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [ms, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[]
    if (Number.isSafeInteger(ms) && typeof id === 'string' && id.length > 0 && id.length <= 128)
      return { createdAt: new Date(ms as number), id }
  } catch {
    // falls through to the validation error
  }
  throw new ValidationError('hold list', [{ path: 'cursor', message: 'is not a cursor this list returned' }])
}

type ParsedReservationQuantity = z.output<typeof reservationQuantityInputSchema> & { packageId?: string }

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

  async listByOrder(input: OrderRefInput): Promise<Reservation[]> {
    const { actor, orderId } = parseInput(orderRefInputSchema, input, 'hold read')
    return this.#ctx.storage.transaction(
      async (tx) => {
        await loadOrder(this.#ctx, tx, actor, orderId, 'order.view')
        return tx.reservations.listByOrder(orderId)
      },
      { readOnly: true },
    )
  }

  /** One hold. A missing hold and one whose order is out of reach answer alike. */
  async get(input: ReservationRefInput): Promise<Reservation> {
    const { actor, reservationId } = parseInput(reservationRefInputSchema, input, 'hold read')
    const ctx = this.#ctx
    return ctx.storage.transaction(
      async (tx) => {
        const hold = await tx.reservations.get(reservationId)
        if (!hold) return ctx.access.missing(actor, 'order.view', 'reservation', reservationId)
        const order = await tx.orders.get(hold.orderId)
        if (!order || !ctx.access.canReachOrder(actor, 'order.view', order))
          throw ctx.access.denied('order.view', 'reservation', reservationId)
        return hold
      },
      { readOnly: true },
    )
  }

  /**
   * Holds across orders, newest first, by status (`active`, `expired`, …), item, location and order, a
   * page at a time (cursor paging, stable while holds are taken). Limited in the query to the holds of
   * orders the actor reaches. A hold still `active` past its `expiresAt` is expired by the next sweep or
   * hold on its row; it holds nothing meanwhile.
   */
  async list(input: ListReservationsInput): Promise<ReservationListResult> {
    const { actor, cursor, limit, ...filter } = parseInput(listReservationsInputSchema, input, 'hold list')
    const reach = this.#ctx.access.reach(actor, 'order.view')
    if (!reach) throw new ForbiddenError('view holds', { permission: 'order.view' })
    const after = cursor !== undefined ? decodeHoldCursor(cursor) : undefined
    return this.#ctx.storage.transaction(
      async (tx) => {
        const rows = await tx.reservations.search({
          ...Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined)),
          ...(reach.all ? {} : { reach: { storeIds: reach.storeIds, customerId: reach.customerId } }),
          ...(after ? { after } : {}),
          limit: limit + 1,
        })
        const page = rows.slice(0, limit)
        const last = page[page.length - 1]
        return { reservations: page, nextCursor: rows.length > limit && last ? encodeHoldCursor(last) : null }
      },
      { readOnly: true },
    )
  }

  /**
   * Renews a live, expiring hold: it then expires `seconds` from now, never later than the policy's
   * `maxHoldSeconds` after it was taken (VALIDATION beyond that) and never earlier than it already would.
   * A hold past its expiry is RESERVATION_EXPIRED (take a new one); a hold that is not active, or that
   * does not expire (a confirmed order's), is INVALID_TRANSITION. One audit row on the order.
   */
  async extend(input: ExtendReservationInput): Promise<Reservation> {
    const cmd = parseInput(extendReservationInputSchema, input, 'hold extension')
    const ctx = this.#ctx
    return runCommand(
      ctx,
      'reservations.extend',
      cmd,
      async (tx, now) => {
        const { hold, order } = await this.#claim(tx, cmd.actor, cmd.reservationId, 'reservation.extend')
        if (hold.expiresAt === null)
          throw new InvalidTransitionError('reservation', hold.status, 'reservation.extend', {
            hint: 'the hold does not expire (its order is confirmed): there is nothing to extend',
          })
        if (!isLive(hold, now)) throw new ReservationExpiredError(order.id, [hold.id])
        const limit = hold.reservedAt.getTime() + ctx.policies.maxHoldSeconds * 1000
        const wanted = now.getTime() + cmd.seconds * 1000
        if (wanted > limit)
          throw new ValidationError('hold extension', [
            {
              path: 'seconds',
              message: `would keep the hold past ${new Date(limit).toISOString()}, ${ctx.policies.maxHoldSeconds} s after it was taken`,
            },
          ])
        if (wanted <= hold.expiresAt.getTime()) return hold
        const expiresAt = new Date(wanted)
        const [changed] = await tx.reservations.update([
          { id: hold.id, expected: hold, patch: { expiresAt, updatedAt: now } },
        ])
        if (!changed) throw new StaleStateError(`hold ${hold.id}`, { reservationId: hold.id })
        await tx.history.appendMany([
          historyEntry(ctx, cmd.actor, now, {
            entityType: 'reservation',
            entityId: hold.id,
            orderId: order.id,
            storeId: order.storeId,
            action: 'edited',
            description: `hold ${hold.id} extended to ${expiresAt.toISOString()}`,
            additionalData: {
              reservationId: hold.id,
              from: hold.expiresAt.toISOString(),
              to: expiresAt.toISOString(),
            },
          }),
        ])
        return changed
      },
      (tx) => this.#recheck(tx, cmd.actor, cmd.reservationId),
    )
  }

  /**
   * Releases part or all of one hold; exactly that quantity becomes available again. Allowed while the
   * order could still be cancelled (the same rule decides), and never for the last unit the order holds
   * (cancel the order instead): otherwise INVALID_TRANSITION, saying why.
   */
  async release(input: ReservationQuantityInput): Promise<Reservation> {
    const cmd = parseInput(reservationQuantityInputSchema, input, 'release')
    const ctx = this.#ctx
    return this.#holdCommand(
      cmd,
      'reservation.release',
      async ({ tx, now, hold, order, holds, quantity }) => {
        const machine = ctx.orderMachines[order.flow]
        const context = await orderContextOf(ctx, tx, order, holds)
        if (!machine.can(order.status, context, { type: 'order.cancel' })) {
          throw new InvalidTransitionError(machine.id, order.status, 'reservation.release', {
            hint: 'a hold can be released only while its order could still be cancelled; the goods are being handed over',
          })
        }
        // What an open fulfillment plans to pick stays held: only what none covers may be released.
        const uncovered =
          uncoveredGoods(holds, await tx.fulfillments.listByOrder(order.id)).find(
            (g) => g.orderLineId === hold.orderLineId && g.locationId === hold.locationId,
          )?.quantity ?? 0
        if (quantity > uncovered) {
          throw new InvalidTransitionError(machine.id, order.status, 'reservation.release', {
            hint: `only ${uncovered} unit(s) of this hold are outside an open fulfillment: short-pick or cancel the fulfillment to release the rest`,
          })
        }
        const held = holds.filter((h) => h.status === 'active').reduce((sum, h) => sum + remainingOf(h), 0)
        if (held - quantity <= 0) {
          throw new InvalidTransitionError(machine.id, order.status, 'reservation.release', {
            hint: 'this would release the last unit the order holds: cancel the order instead',
          })
        }
        const [changed] = await releaseHolds(tx, now, [{ hold, quantity }])
        const released = (changed as Reservation).quantityReleased - hold.quantityReleased
        await tx.history.appendMany([
          historyEntry(ctx, cmd.actor, now, {
            entityType: 'reservation',
            entityId: hold.id,
            orderId: hold.orderId,
            storeId: order.storeId,
            action: 'inventory_released',
            description: `released ${released} of hold ${hold.id}${cmd.reason ? ` (${cmd.reason})` : ''}`,
            additionalData: { reservationId: hold.id, quantity: released },
          }),
        ])
        return changed as Reservation
      },
    )
  }

  /**
   * Commits part or all of one hold as a sale (a partial hand-over); a partial commit keeps the remainder
   * held. Allowed only where the order's next step hands goods over (a packed order that ships, a bag
   * ready for pickup): otherwise INVALID_TRANSITION. A hold past its expiry is RESERVATION_EXPIRED.
   * With `packageId` the units come out of that package (INSUFFICIENT_STOCK if it has fewer); without,
   * packages are taken oldest first.
   */
  async commit(input: CommitReservationInput): Promise<Reservation> {
    const cmd = parseInput(commitReservationInputSchema, input, 'commit')
    const ctx = this.#ctx
    return this.#holdCommand(cmd, 'reservation.commit', async ({ tx, now, hold, order, holds, quantity }) => {
      const machine = ctx.orderMachines[order.flow]
      const context = await orderContextOf(ctx, tx, order, holds)
      if (!handsOver(machine, order.status, context)) {
        throw new InvalidTransitionError(machine.id, order.status, 'reservation.commit', {
          hint: 'stock can be sold from a hold only when the order is handed over (packed to ship, or ready for pickup)',
        })
      }
      await refuseBypassOfFulfillments(ctx, tx, order, 'reservation.commit')
      const [changed] = await commitHolds(
        ctx,
        tx,
        now,
        cmd.actor,
        order,
        [{ hold, quantity }],
        cmd.packageId ?? null,
      )
      return changed as Reservation
    })
  }

  /**
   * The shared frame of release and commit: an idempotent command that claims the hold's order, checks the
   * quantity against what the hold still has (all of it by default), and re-authorises a replay.
   */
  #holdCommand(
    cmd: ParsedReservationQuantity,
    event: 'reservation.release' | 'reservation.commit',
    body: (claimed: {
      tx: StorageTx
      now: Date
      hold: Reservation
      order: Order
      holds: Reservation[]
      quantity: number
    }) => Promise<Reservation>,
  ): Promise<Reservation> {
    return runCommand(
      this.#ctx,
      event === 'reservation.release' ? 'reservations.release' : 'reservations.commit',
      cmd,
      async (tx, now) => {
        const claimed = await this.#claim(tx, cmd.actor, cmd.reservationId, event)
        const quantity = cmd.quantity ?? remainingOf(claimed.hold)
        if (quantity > remainingOf(claimed.hold)) throw tooMuch(claimed.hold, quantity)
        return body({ tx, now, ...claimed, quantity })
      },
      (tx) => this.#recheck(tx, cmd.actor, cmd.reservationId),
    )
  }

  /** A replayed hold command answers only if the actor still reaches the hold's order. */
  async #recheck(tx: StorageTx, actor: Actor, id: string): Promise<void> {
    const hold = await tx.reservations.get(id)
    const order = hold ? await tx.orders.get(hold.orderId) : null
    if (!order || !this.#ctx.access.canReachOrder(actor, 'reservation.manage', order))
      throw this.#ctx.access.denied('reservation.manage', 'reservation', id)
  }

  /**
   * Finds a hold and claims its order (so no other command on that order runs meanwhile), then reads the
   * hold and its siblings again as they are now. A hold that is not active is INVALID_TRANSITION.
   */
  async #claim(
    tx: StorageTx,
    actor: Actor,
    id: string,
    event: 'reservation.release' | 'reservation.commit' | 'reservation.extend',
  ): Promise<{ hold: Reservation; order: Order; holds: Reservation[] }> {
    const access = this.#ctx.access
    const found = await tx.reservations.get(id)
    if (!found) return access.missing(actor, 'reservation.manage', 'reservation', id)
    // Out of reach answers exactly like missing: it names the hold asked about, never its order.
    const order = await tx.orders.lock(found.orderId)
    if (!order || !access.canReachOrder(actor, 'reservation.manage', order))
      throw access.denied('reservation.manage', 'reservation', id)
    const holds = await tx.reservations.listByOrder(order.id)
    const hold = holds.find((h) => h.id === id) as Reservation
    if (event === 'reservation.extend' && hold.status === 'expired')
      throw new ReservationExpiredError(order.id, [hold.id])
    if (hold.status !== 'active') {
      throw new InvalidTransitionError('reservation', hold.status, event, {
        hint: `the hold is ${hold.status}: nothing is held by it any more`,
      })
    }
    return { hold, order, holds }
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
    this.#ctx.access.requireGlobal(actor, 'maintenance.run', 'expire reservations')
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
   * One batch in one transaction, set-based. The orders come first: those with due holds (or, in the lazy
   * phase, with holds already expired) are claimed together, skipping any another transaction has claimed
   * (a command on that order, or another sweeper: it is left to them, or to the next batch). Then only the
   * claimed orders' due holds are marked expired (each to one sweeper only), and their orders move on
   * through the machine together (`applyOrderEvents`: one release pass, every level once in canonical
   * order, one compare-and-swap statement for the orders). The lock order — orders, holds, levels — is the
   * one every command uses, so sweepers and commands do not deadlock. A lost compare-and-swap runs the
   * batch again on fresh reads.
   */
  async #sweepBatch(
    actor: ActingActor,
    mode: 'due' | 'lazy',
    batch: number,
    expirable: string[],
    seen: ReadonlySet<string>,
  ): Promise<{ result: ExpireDueResult; orderIds: string[]; done: boolean }> {
    const ctx = this.#ctx
    return retryOnStale(() =>
      ctx.storage.transaction(async (tx) => {
        const now = ctx.clock.now()
        // Due holds are each handed out once, so their orders need no filter; lazily expired orders that a
        // host guard keeps from moving would come back every time, so those are tried once per run.
        const candidates =
          mode === 'due'
            ? await tx.reservations.listDueOrderIds(now, batch)
            : (await tx.reservations.listOrdersWithExpiredHolds(expirable, batch + seen.size))
                .filter((id) => !seen.has(id))
                .slice(0, batch)
        const orders = await tx.orders.lockFree(candidates)
        const claimed = orders.map((o) => o.id)
        const expired =
          mode === 'due'
            ? await tx.reservations.expireDue(now, Number.MAX_SAFE_INTEGER, { orderIds: claimed })
            : []
        const holds = await tx.reservations.listByOrders(claimed)
        const holdsOf = new Map<string, Reservation[]>()
        for (const h of holds) holdsOf.set(h.orderId, [...(holdsOf.get(h.orderId) ?? []), h])
        const movers: Order[] = []
        for (const order of orders) {
          const own = holdsOf.get(order.id) ?? []
          if (!own.some((h) => h.status === 'expired')) continue
          const context = await orderContextOf(ctx, tx, order, own)
          if (ctx.orderMachines[order.flow].can(order.status, context, { type: 'reservation.expired' }))
            movers.push(order)
        }
        const byOrder = new Map<string, string[]>()
        for (const h of expired) byOrder.set(h.orderId, [...(byOrder.get(h.orderId) ?? []), h.id])
        // The status entry of each order (action reservation_expired) names the holds that expired; the
        // stock they held goes back in the same level pass as the movers' other holds.
        await applyOrderEvents(
          ctx,
          tx,
          now,
          actor,
          movers.map((order) => ({
            order,
            event: { type: 'reservation.expired', reason: 'hold expired' },
            audit: {
              expiredReservationIds: byOrder.get(order.id) ?? [],
              releasedReservationIds: (holdsOf.get(order.id) ?? [])
                .filter((h) => h.status === 'active')
                .map((h) => h.id),
            },
          })),
          {
            freed: expired.map((h) => ({
              itemId: h.itemId,
              locationId: h.locationId,
              quantity: remainingOf(h),
            })),
          },
        )
        // Holds that expired on orders that do not move (a host state) are audited on their own.
        const moved = new Set(movers.map((m) => m.id))
        const stayed = [...byOrder].filter(([orderId]) => !moved.has(orderId))
        if (stayed.length) {
          await tx.history.appendMany(
            stayed.map(([orderId, ids]) =>
              historyEntry(ctx, actor, now, {
                entityType: 'reservation',
                entityId: orderId,
                orderId,
                storeId: orders.find((o) => o.id === orderId)?.storeId ?? null,
                action: 'reservation_expired',
                description: `${ids.length} hold(s) expired`,
                additionalData: { reservationIds: ids },
              }),
            ),
          )
        }
        // Done when nothing is left, or nothing could be claimed (others are on it) or moved.
        const progress = expired.length > 0 || movers.length > 0
        return {
          result: {
            expiredHolds: expired.length,
            ordersMoved: movers.length,
            ordersSkipped: candidates.length - movers.length,
          },
          orderIds: candidates,
          done: candidates.length < batch || !progress,
        }
      }),
    )
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

const tooMuch = (hold: Reservation, quantity: number) =>
  new ValidationError('quantity', [
    { path: 'quantity', message: `hold ${hold.id} holds ${remainingOf(hold)}, fewer than ${quantity}` },
  ])

/** Whether the order's next step hands goods over: a transition legal now that commits its holds. */
function handsOver(machine: OrderMachine, status: string, context: OrderContext): boolean {
  return Object.entries(machine.definition.states[status]?.on ?? {}).some(
    ([event, value]) =>
      toTransitionList(value).some((t) => t.actions?.includes('commitHolds')) &&
      machine.can(status, context, { type: event }),
  )
}
