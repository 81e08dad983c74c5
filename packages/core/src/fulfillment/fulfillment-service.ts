import type { Permission } from '../access/access-policy'
import {
  type AssignFulfillmentInput,
  assignFulfillmentInputSchema,
  type CancelFulfillmentInput,
  type CompletePickingInput,
  type CreateFulfillmentsInput,
  cancelFulfillmentInputSchema,
  completePickingInputSchema,
  createFulfillmentsInputSchema,
  type FulfillmentCommandInput,
  type FulfillmentRefInput,
  fulfillmentCommandInputSchema,
  fulfillmentRefInputSchema,
  type ListFulfillmentsInput,
  listFulfillmentsInputSchema,
  type OrderRefInput,
  orderRefInputSchema,
  type PackFulfillmentInput,
  packFulfillmentInputSchema,
  type ScanInput,
  type ShipFulfillmentInput,
  scanInputSchema,
  shipFulfillmentInputSchema,
} from '../domain/commands'
import type { FulfillmentStatus, HistoryAction } from '../domain/enums'
import { parseInput } from '../domain/parse-input'
import type { ActingActor, Fulfillment, Order } from '../domain/schemas'
import {
  ForbiddenError,
  InvalidTransitionError,
  isOmsError,
  ScanRejectedError,
  StaleStateError,
  ValidationError,
} from '../errors/oms-error'
import { applyOrderEvents, loadOrder } from '../order/order-service'
import type { StorageTx } from '../ports/storage'
import { type OmsContext, orderHistoryEntry, outboxEvent, runCommand } from '../services/oms-context'
import {
  commitFulfillmentLines,
  createFulfillments,
  DONE_STATUSES,
  fulfillmentHistory,
  OPEN_STATUSES,
  PACKED_STATUSES,
  releaseUnpicked,
  SHIPPED_STATUSES,
  uncoveredGoods,
  writeFulfillment,
} from './fulfillment-records'
import {
  type FulfillmentStatistics,
  type FulfillmentStatisticsInput,
  fulfillmentStatistics,
} from './fulfillment-statistics'

/** One line of a pick list: what to take, from where, and how much is scanned so far. */
export interface PickListLine {
  orderLineId: string
  itemId: string
  sku: string | null
  barcode: string | null
  name: string | null
  quantity: number
  quantityPicked: number
  /** The location to pick from (its name is the bin / warehouse area the picker walks to). */
  locationId: string
  locationName: string | null
}

export interface PickList {
  fulfillmentId: string
  number: string
  orderId: string
  status: FulfillmentStatus
  assignedToId: string | null
  lines: PickListLine[]
}

/** Audit action per fulfillment event. */
const EVENT_ACTIONS: Readonly<Record<string, HistoryAction>> = {
  'fulfillment.start_packing': 'status_changed',
  'fulfillment.complete_packing': 'packed',
  'fulfillment.ship': 'shipped',
  'fulfillment.complete': 'delivered',
  'fulfillment.complete_partially': 'delivered',
  'fulfillment.cancel': 'cancelled',
}

/** What a customer sees of a fulfillment: status, timestamps and tracking, never staff notes or staff. */
function customerView(f: Fulfillment): Fulfillment {
  return { ...f, assignedToId: null, pickingNotes: null, packingNotes: null }
}

/**
 * Fulfillment: the goods an order holds at one location, picked (scan by scan), packed, and shipped or
 * handed over. Each step claims the order first, so steps on one order run one after another; the order's
 * status follows its fulfillments in the same transaction.
 */
export class FulfillmentService {
  readonly #ctx: OmsContext

  constructor(ctx: OmsContext) {
    this.#ctx = ctx
  }

  /**
   * Puts what the order holds and no open fulfillment covers yet into fulfillments, one per location
   * (only `locationId`'s when given), optionally assigned. The order must be confirmed (paid) and not yet
   * handed over; INVALID_TRANSITION when it is not or nothing is left to fulfil.
   */
  async create(input: CreateFulfillmentsInput): Promise<Fulfillment[]> {
    const cmd = parseInput(createFulfillmentsInputSchema, input, 'fulfillment')
    const ctx = this.#ctx
    return runCommand(
      ctx,
      'fulfillments.create',
      cmd,
      async (tx, now) => {
        const order = await loadOrder(ctx, tx, cmd.actor, cmd.orderId, 'fulfillment.manage', { lock: true })
        return createFulfillments(ctx, tx, now, cmd.actor, order, cmd)
      },
      async (tx, created) => {
        for (const f of created) await this.#load(tx, cmd.actor, f.id, 'fulfillment.manage')
      },
    )
  }

  /** Assigns (or with null unassigns) a staff member; history `assigned`. */
  async assign(input: AssignFulfillmentInput): Promise<Fulfillment> {
    const cmd = parseInput(assignFulfillmentInputSchema, input, 'fulfillment assignment')
    return this.#step('fulfillments.assign', cmd, async (tx, now, order, f) => {
      if (!OPEN_STATUSES.includes(f.status)) {
        throw new InvalidTransitionError(this.#ctx.fulfillmentMachine.id, f.status, 'fulfillment.assign', {
          hint: 'the fulfillment is finished: there is nothing left to assign',
        })
      }
      const next: Fulfillment = {
        ...f,
        assignedToId: cmd.assignedToId,
        assignedAt: cmd.assignedToId ? now : null,
        version: f.version + 1,
        updatedAt: now,
      }
      await writeFulfillment(tx, next, f.version)
      await tx.append({
        history: [
          fulfillmentHistory(this.#ctx, cmd.actor, now, f, {
            action: 'assigned',
            description: cmd.assignedToId
              ? `fulfillment ${f.number} assigned to ${cmd.assignedToId}${f.assignedToId ? ` (was ${f.assignedToId})` : ''}`
              : `fulfillment ${f.number} unassigned`,
            additionalData: { assignedToId: cmd.assignedToId, previous: f.assignedToId },
          }),
        ],
        outbox: [
          outboxEvent(this.#ctx, now, 'fulfillment.assigned', order.id, {
            orderId: order.id,
            fulfillmentId: f.id,
            assignedToId: cmd.assignedToId,
          }),
        ],
      })
      return next
    })
  }

  /** The pick list: per line the item (sku, barcode, name), quantity, what is scanned, and where to pick it. */
  async pickList(input: FulfillmentRefInput): Promise<PickList> {
    const { actor, fulfillmentId } = parseInput(fulfillmentRefInputSchema, input, 'pick list')
    const ctx = this.#ctx
    return ctx.storage.transaction(
      async (tx) => {
        const { f } = await this.#load(tx, actor, fulfillmentId, 'fulfillment.manage')
        const items = new Map(
          (
            await ctx.catalog.items(
              tx,
              f.lines.map((l) => l.itemId),
            )
          ).map((i) => [i.id, i]),
        )
        const location = await ctx.catalog.location(tx, f.locationId)
        return {
          fulfillmentId: f.id,
          number: f.number,
          orderId: f.orderId,
          status: f.status,
          assignedToId: f.assignedToId,
          lines: f.lines.map((l) => {
            const item = items.get(l.itemId)
            return {
              orderLineId: l.orderLineId,
              itemId: l.itemId,
              sku: item?.sku ?? l.sku,
              barcode: item?.barcode ?? null,
              name: item?.name ?? null,
              quantity: l.quantity,
              quantityPicked: l.quantityPicked,
              locationId: f.locationId,
              locationName: location?.name ?? null,
            }
          }),
        }
      },
      { readOnly: true },
    )
  }

  /** pending → picking (stamps `pickingStartedAt`); the first scan does it too. */
  async startPicking(input: FulfillmentCommandInput): Promise<Fulfillment> {
    const cmd = parseInput(fulfillmentCommandInputSchema, input, 'fulfillment event')
    return this.#step('fulfillments.startPicking', cmd, (tx, now, order, f) =>
      this.#transition(tx, now, cmd.actor, order, f, 'fulfillment.start_picking'),
    )
  }

  /**
   * Scans `quantity` units of the item whose sku or barcode is `code` into the fulfillment (starting
   * picking if needed). A code of no line of the fulfillment, or more than the line still needs, is
   * SCAN_REJECTED (`details.reason` `wrong_item` / `over_scan`): nothing is picked, and the refusal is
   * counted on the fulfillment (`scansRejected`) and audited (`scan_rejected`).
   */
  async scan(input: ScanInput): Promise<Fulfillment> {
    const cmd = parseInput(scanInputSchema, input, 'scan')
    const ctx = this.#ctx
    try {
      return await this.#step('fulfillments.scan', cmd, async (tx, now, order, current) => {
        let f = current
        if (f.status === 'pending')
          f = await this.#transition(tx, now, cmd.actor, order, f, 'fulfillment.start_picking')
        if (f.status !== 'picking') {
          throw new InvalidTransitionError(ctx.fulfillmentMachine.id, f.status, 'fulfillment.scan', {
            hint: 'items are scanned while picking',
          })
        }
        const items = await ctx.catalog.items(
          tx,
          f.lines.map((l) => l.itemId),
        )
        const code = cmd.code.toLowerCase()
        const item = items.find((i) => i.sku.toLowerCase() === code || i.barcode?.toLowerCase() === code)
        const index = item
          ? f.lines.findIndex((l) => l.itemId === item.id && l.quantityPicked < l.quantity)
          : -1
        if (!item) throw new ScanRejectedError(f.id, cmd.code, 'wrong_item')
        if (index < 0) {
          const lines = f.lines.filter((l) => l.itemId === item.id)
          throw new ScanRejectedError(f.id, cmd.code, 'over_scan', {
            itemId: item.id,
            picked: lines.reduce((s, l) => s + l.quantityPicked, 0),
            planned: lines.reduce((s, l) => s + l.quantity, 0),
          })
        }
        // Several lines of one item fill in order; a scan never spills past what the lines need.
        let left = cmd.quantity
        const lines = f.lines.map((l) => {
          if (l.itemId !== item.id || left === 0) return l
          const q = Math.min(left, l.quantity - l.quantityPicked)
          left -= q
          return { ...l, quantityPicked: l.quantityPicked + q }
        })
        if (left > 0) {
          throw new ScanRejectedError(f.id, cmd.code, 'over_scan', {
            itemId: item.id,
            picked: f.lines.filter((l) => l.itemId === item.id).reduce((s, l) => s + l.quantityPicked, 0),
            planned: f.lines.filter((l) => l.itemId === item.id).reduce((s, l) => s + l.quantity, 0),
            scanned: cmd.quantity,
          })
        }
        const next: Fulfillment = {
          ...f,
          lines,
          scansAccepted: f.scansAccepted + 1,
          version: f.version + 1,
          updatedAt: now,
        }
        await writeFulfillment(tx, next, f.version)
        await tx.append({
          history: [
            fulfillmentHistory(ctx, cmd.actor, now, f, {
              action: 'item_scanned',
              description: `scanned ${cmd.quantity} × ${item.sku}`,
              additionalData: { itemId: item.id, quantity: cmd.quantity },
            }),
          ],
        })
        return next
      })
    } catch (error) {
      // The refusal is what the caller gets, even if counting it failed (that is only logged).
      if (isOmsError(error) && error instanceof ScanRejectedError)
        await this.#countRejection(cmd, error).catch((failure: unknown) =>
          ctx.logger.warn(
            { fulfillmentId: cmd.fulfillmentId, code: isOmsError(failure) ? failure.code : 'INTERNAL' },
            'peak-oms: a refused scan could not be counted',
          ),
        )
      throw error
    }
  }

  /** A refused scan is written down in a transaction of its own (the scan's own one rolled back). */
  async #countRejection(
    cmd: { actor: ActingActor; fulfillmentId: string; code: string },
    error: ScanRejectedError,
  ) {
    const ctx = this.#ctx
    await runCommand(
      ctx,
      'fulfillments.scanRejected',
      { actor: cmd.actor, fulfillmentId: cmd.fulfillmentId },
      async (tx, now) => {
        const { f } = await this.#claim(tx, cmd.actor, cmd.fulfillmentId, 'fulfillment.manage')
        await writeFulfillment(
          tx,
          { ...f, scansRejected: f.scansRejected + 1, version: f.version + 1, updatedAt: now },
          f.version,
        )
        await tx.append({
          history: [
            fulfillmentHistory(ctx, cmd.actor, now, f, {
              action: 'scan_rejected',
              description: error.message,
              additionalData: { code: cmd.code, reason: error.details.reason },
            }),
          ],
        })
      },
      async () => {},
    )
  }

  /**
   * picking → packing. Every line must be scanned in full, unless `shortPick`: then the fulfillment goes
   * on with what was picked (it ends partially fulfilled) and what was not found is released from the
   * order's holds back to open stock. A short pick of nothing is refused: cancel the fulfillment instead.
   */
  async completePicking(input: CompletePickingInput): Promise<Fulfillment> {
    const cmd = parseInput(completePickingInputSchema, input, 'picking')
    const ctx = this.#ctx
    return this.#step('fulfillments.completePicking', cmd, async (tx, now, order, f) => {
      const missing = f.lines.filter((l) => l.quantityPicked < l.quantity)
      const picked = f.lines.reduce((s, l) => s + l.quantityPicked, 0)
      if (missing.length && !cmd.shortPick) {
        throw new InvalidTransitionError(ctx.fulfillmentMachine.id, f.status, 'fulfillment.start_packing', {
          hint: `${missing.length} line(s) are not fully scanned (${missing.map((l) => l.sku ?? l.itemId).join(', ')}): scan them, or complete with shortPick`,
        })
      }
      if (cmd.shortPick && picked === 0) {
        throw new ValidationError('picking', [
          { path: 'shortPick', message: 'nothing was picked: cancel the fulfillment instead' },
        ])
      }
      const next = await this.#transition(tx, now, cmd.actor, order, f, 'fulfillment.start_packing', {
        shortPicked: missing.length > 0,
        ...(cmd.notes ? { pickingNotes: cmd.notes } : {}),
      })
      if (missing.length) {
        const released = await releaseUnpicked(ctx, tx, now, cmd.actor, order, f)
        await tx.outbox.append([
          outboxEvent(ctx, now, 'fulfillment.short_picked', order.id, {
            orderId: order.id,
            fulfillmentId: f.id,
            released,
            lines: missing.map((l) => ({
              orderLineId: l.orderLineId,
              itemId: l.itemId,
              missing: l.quantity - l.quantityPicked,
            })),
          }),
        ])
      }
      return next
    })
  }

  /** packing → ready_to_ship with box size, weight and materials; the picked units count as packed. */
  async pack(input: PackFulfillmentInput): Promise<Fulfillment> {
    const cmd = parseInput(packFulfillmentInputSchema, input, 'packing')
    return this.#step('fulfillments.pack', cmd, (tx, now, order, f) =>
      this.#transition(tx, now, cmd.actor, order, f, 'fulfillment.complete_packing', {
        boxSize: cmd.boxSize,
        weightGrams: cmd.weightGrams,
        packingMaterials: cmd.packingMaterials,
        ...(cmd.notes ? { packingNotes: cmd.notes } : {}),
      }),
    )
  }

  /**
   * ready_to_ship → shipped with carrier and tracking number: sells exactly what this fulfillment picked
   * from the order's holds at its location (sale movements), nothing else.
   */
  async ship(input: ShipFulfillmentInput): Promise<Fulfillment> {
    const cmd = parseInput(shipFulfillmentInputSchema, input, 'shipment')
    return this.#step('fulfillments.ship', cmd, (tx, now, order, f) =>
      this.#transition(tx, now, cmd.actor, order, f, 'fulfillment.ship', {
        carrier: cmd.carrier,
        trackingNumber: cmd.trackingNumber,
      }),
    )
  }

  /** shipped → fulfilled (partially_fulfilled after a short pick): the carrier delivered it. */
  async deliver(input: FulfillmentCommandInput): Promise<Fulfillment> {
    return this.#finish('fulfillments.deliver', input, 'shipped')
  }

  /**
   * ready_to_ship → fulfilled (partially_fulfilled after a short pick) at the counter, no carrier: the
   * pickup flow's hand-over, which sells the picked goods from the holds. A pickup order's fulfillments
   * are handed over only once all of them are packed (the order is ready for pickup); before that,
   * INVALID_TRANSITION.
   */
  async handOver(input: FulfillmentCommandInput): Promise<Fulfillment> {
    return this.#finish('fulfillments.handOver', input, 'ready_to_ship')
  }

  #finish(scope: string, input: FulfillmentCommandInput, from: FulfillmentStatus) {
    const cmd = parseInput(fulfillmentCommandInputSchema, input, 'fulfillment event')
    return this.#step(scope, cmd, (tx, now, order, f) => {
      const type = f.shortPicked ? 'fulfillment.complete_partially' : 'fulfillment.complete'
      if (f.status !== from) {
        throw new InvalidTransitionError(this.#ctx.fulfillmentMachine.id, f.status, type, {
          hint:
            from === 'shipped'
              ? 'only a shipped fulfillment can be delivered'
              : 'hand over a packed fulfillment',
        })
      }
      // A pickup customer collects the whole order at once: its fulfillments are handed over only once
      // all of them are packed (the order is ready for pickup), never one while another is still open.
      if (from === 'ready_to_ship' && order.flow === 'pickup' && order.status !== 'ready_for_pickup') {
        throw new InvalidTransitionError(this.#ctx.fulfillmentMachine.id, f.status, type, {
          hint: 'a pickup order is handed over once all its goods are packed and the order is ready for pickup',
        })
      }
      return this.#transition(tx, now, cmd.actor, order, f, type)
    })
  }

  /**
   * Cancels a fulfillment that has not shipped: its goods go back to the order's holds (not to open
   * stock) and can be put into a new fulfillment; they return to open stock only when the order is
   * cancelled.
   */
  async cancel(input: CancelFulfillmentInput): Promise<Fulfillment> {
    const cmd = parseInput(cancelFulfillmentInputSchema, input, 'fulfillment cancellation')
    return this.#step('fulfillments.cancel', cmd, (tx, now, order, f) =>
      this.#transition(tx, now, cmd.actor, order, f, 'fulfillment.cancel', {}, cmd.reason),
    )
  }

  async get(input: FulfillmentRefInput): Promise<Fulfillment> {
    const { actor, fulfillmentId } = parseInput(fulfillmentRefInputSchema, input, 'fulfillment read')
    return this.#ctx.storage.transaction(
      async (tx) => {
        const { order, f } = await this.#load(tx, actor, fulfillmentId, 'order.view')
        return this.#view(actor, order, f)
      },
      { readOnly: true },
    )
  }

  /** The fulfillments of an order, oldest first. */
  async listByOrder(input: OrderRefInput): Promise<Fulfillment[]> {
    const { actor, orderId } = parseInput(orderRefInputSchema, input, 'fulfillment read')
    const ctx = this.#ctx
    return ctx.storage.transaction(
      async (tx) => {
        const order = await loadOrder(ctx, tx, actor, orderId, 'order.view')
        return (await tx.fulfillments.listByOrder(order.id)).map((f) => this.#view(actor, order, f))
      },
      { readOnly: true },
    )
  }

  /**
   * Fulfillments the actor reaches (its stores; a customer its own orders'), oldest first, by status,
   * assignee and location, a page at a time (`limit` 50 by default, at most 500).
   */
  async list(input: ListFulfillmentsInput): Promise<Fulfillment[]> {
    const { actor, ...filter } = parseInput(listFulfillmentsInputSchema, input, 'fulfillment list')
    const ctx = this.#ctx
    const reach = ctx.access.reach(actor, 'order.view')
    if (!reach) throw new ForbiddenError('view fulfillments', { permission: 'order.view' })
    const rows = await ctx.storage.transaction(
      (tx) =>
        tx.fulfillments.list({
          ...filter,
          ...(reach.all ? {} : { reach: { storeIds: reach.storeIds, customerId: reach.customerId } }),
        }),
      { readOnly: true },
    )
    return rows.map((f) => this.#view(actor, f, f))
  }

  /**
   * Statistics of a window (the last 24 hours by default, at most 366 days) over some stores or every
   * store the actor reaches: fulfillments by status, cycle time from order to goods leaving (average,
   * p50, p90, max), picking accuracy (refused scans of all scans) and the open backlog, overall, per store
   * and per assignee. Every figure is an aggregate query in the database. Needs `fulfillment.manage`;
   * store-scoped staff see their stores only, customers none.
   */
  statistics(input: FulfillmentStatisticsInput): Promise<FulfillmentStatistics> {
    return fulfillmentStatistics(this.#ctx, input)
  }

  /** The events the actor may send now (what a UI shows as buttons); none for a reader. */
  async allowedEvents(input: FulfillmentRefInput): Promise<string[]> {
    const { actor, fulfillmentId } = parseInput(fulfillmentRefInputSchema, input, 'fulfillment read')
    const ctx = this.#ctx
    return ctx.storage.transaction(
      async (tx) => {
        const { order, f } = await this.#load(tx, actor, fulfillmentId, 'order.view')
        if (!ctx.access.canReachOrder(actor, 'fulfillment.manage', order)) return []
        return ctx.fulfillmentMachine.allowedEvents(f.status, {
          orderCancelled: order.status === 'cancelled',
          attributes: order.attributes,
        })
      },
      { readOnly: true },
    )
  }

  /** Staff notes and assignee only for staff who work or support the order; a customer sees the rest. */
  #view(actor: ActingActor, order: Pick<Order, 'storeId' | 'customerId'>, f: Fulfillment): Fulfillment {
    const access = this.#ctx.access
    const staff =
      access.canReachOrder(actor, 'fulfillment.manage', order) ||
      access.canReachOrder(actor, 'note.view_internal', order)
    return staff ? f : customerView(f)
  }

  /**
   * A fulfillment and its order for an actor: a missing fulfillment and one out of reach answer alike
   * (FORBIDDEN for a limited actor).
   */
  async #load(tx: StorageTx, actor: ActingActor, id: string, permission: Permission, lock = false) {
    const ctx = this.#ctx
    const found = await tx.fulfillments.get(id)
    if (!found) return ctx.access.missing(actor, permission, 'fulfillment', id)
    const order = await tx.orders.get(found.orderId)
    if (!order || !ctx.access.canReachOrder(actor, permission, order))
      throw ctx.access.denied(permission, 'fulfillment', id)
    if (!lock) return { order, f: found }
    // Claim the order before touching the fulfillment or its holds; read the fulfillment again after.
    const claimed = (await tx.orders.lock(order.id)) as Order
    const f = (await tx.fulfillments.get(id)) as Fulfillment
    return { order: claimed, f }
  }

  #claim(tx: StorageTx, actor: ActingActor, id: string, permission: Permission) {
    return this.#load(tx, actor, id, permission, true)
  }

  /** A mutating step: claims the order, runs `fn`, then lets the order's status follow. */
  #step(
    scope: string,
    cmd: { actor: ActingActor; fulfillmentId: string; idempotencyKey?: string | undefined } & Record<
      string,
      unknown
    >,
    fn: (tx: StorageTx, now: Date, order: Order, f: Fulfillment) => Promise<Fulfillment>,
  ): Promise<Fulfillment> {
    const ctx = this.#ctx
    return runCommand(
      ctx,
      scope,
      cmd,
      async (tx, now) => {
        const { order, f } = await this.#claim(tx, cmd.actor, cmd.fulfillmentId, 'fulfillment.manage')
        const next = await fn(tx, now, order, f)
        await followFulfillments(ctx, tx, now, cmd.actor, order)
        return next
      },
      async (tx, f) => {
        await this.#load(tx, cmd.actor, f.id, 'fulfillment.manage')
      },
    )
  }

  /** One machine event: status, the step's timestamps, its effects, history and outbox. */
  async #transition(
    tx: StorageTx,
    now: Date,
    actor: ActingActor,
    order: Order,
    f: Fulfillment,
    type: string,
    patch: Partial<Fulfillment> = {},
    reason?: string,
  ): Promise<Fulfillment> {
    const ctx = this.#ctx
    const result = ctx.fulfillmentMachine.transition(
      f.status,
      { orderCancelled: order.status === 'cancelled', attributes: order.attributes },
      { type, ...(reason ? { reason } : {}) },
    )
    let next: Fulfillment = {
      ...f,
      ...patch,
      status: result.status as FulfillmentStatus,
      version: f.version + 1,
      updatedAt: now,
    }
    for (const action of result.actions) {
      switch (action) {
        case 'stampPickingStarted':
          next.pickingStartedAt = now
          break
        case 'stampPickingCompleted':
          next.pickingCompletedAt = now
          break
        case 'stampPackingStarted':
          next.packingStartedAt = now
          break
        case 'stampPackingCompleted':
          next.packingCompletedAt = now
          break
        case 'stampShipped':
          next.shippedAt = now
          break
        case 'stampFulfilled':
          next.fulfilledAt = now
          break
        case 'stampCancelled':
          next.cancelledAt = now
          break
        case 'commitLines':
          next = { ...next, lines: await commitFulfillmentLines(ctx, tx, now, actor, order, next) }
          break
        case 'returnLinesToHolds':
          // The goods stay in the order's holds (nothing to write): no open fulfillment covers them now,
          // so a new fulfillment can take them; they go back to open stock only with the order's cancel.
          break
        default:
          await tx.outbox.append([
            outboxEvent(ctx, now, 'fulfillment.action_requested', order.id, {
              orderId: order.id,
              fulfillmentId: f.id,
              action,
              event: type,
            }),
          ])
      }
    }
    // A partial completion stamps its end too.
    if (next.status === 'partially_fulfilled' && next.fulfilledAt === null) next.fulfilledAt = now
    await writeFulfillment(tx, next, f.version)
    await tx.append({
      history: [
        fulfillmentHistory(ctx, actor, now, f, {
          action:
            type === 'fulfillment.start_picking'
              ? 'status_changed'
              : (EVENT_ACTIONS[type] ?? 'status_changed'),
          oldStatus: f.status,
          newStatus: next.status,
          description: `fulfillment ${f.number}: ${type}: ${f.status} → ${next.status}${reason ? ` (${reason})` : ''}`,
          additionalData: {
            event: type,
            ...(next.trackingNumber && type === 'fulfillment.ship'
              ? { carrier: next.carrier, trackingNumber: next.trackingNumber }
              : {}),
          },
        }),
      ],
      outbox: [
        outboxEvent(ctx, now, 'fulfillment.status_changed', order.id, {
          orderId: order.id,
          fulfillmentId: f.id,
          number: f.number,
          from: f.status,
          to: next.status,
          event: type,
          ...(type === 'fulfillment.ship'
            ? { carrier: next.carrier, trackingNumber: next.trackingNumber }
            : {}),
        }),
      ],
    })
    return next
  }
}

const all = (fs: readonly Fulfillment[], statuses: readonly FulfillmentStatus[]) =>
  fs.length > 0 && fs.every((f) => statuses.includes(f.status))

/**
 * The order follows its fulfillments, in the caller's transaction (the order is claimed): its packed
 * quantity is what its packed fulfillments picked; it starts processing when picking starts; partially
 * shipped while some (not all of its goods) have shipped, partially delivered while some (not all) have arrived; once
 * every unit it holds is in a fulfillment, it is packed (delivery) or ready for pickup when all are
 * packed, shipped when all have shipped, delivered when all are delivered, picked up when all are handed
 * over. Cancelled fulfillments do not count.
 */
export async function followFulfillments(
  ctx: OmsContext,
  tx: StorageTx,
  now: Date,
  actor: ActingActor,
  claimed: Order,
): Promise<Order> {
  let order = (await tx.orders.get(claimed.id)) as Order
  const fulfillments = (await tx.fulfillments.listByOrder(order.id)).filter((f) => f.status !== 'cancelled')
  const packed = fulfillments
    .filter((f) => PACKED_STATUSES.includes(f.status))
    .reduce((s, f) => s + f.lines.reduce((n, l) => n + l.quantityPicked, 0), 0)
  if (packed !== order.packedQuantity) {
    const next = { ...order, packedQuantity: packed, version: order.version + 1, updatedAt: now }
    // The order is claimed by this transaction: a miss means a writer skipped the claim; run again.
    if (!(await tx.orders.update(next, order.version)))
      throw new StaleStateError(`order ${order.id}`, { orderId: order.id })
    // Every version of an order has its entry in the order's status chain (same status, new figure).
    await tx.history.appendMany([
      orderHistoryEntry(ctx, actor, now, order, {
        action: 'packed',
        oldStatus: order.status,
        newStatus: order.status,
        description: `packed quantity ${order.packedQuantity} → ${packed}`,
        additionalData: { packedQuantity: packed, previous: order.packedQuantity },
      }),
    ])
    order = next
  }
  const covered = uncoveredGoods(await tx.reservations.listByOrder(order.id), fulfillments).length === 0
  const some = (statuses: readonly FulfillmentStatus[]) =>
    fulfillments.some((f) => statuses.includes(f.status))
  const every = (statuses: readonly FulfillmentStatus[]) => covered && all(fulfillments, statuses)
  const nextEvent = ({ status, flow }: Order): string | null => {
    if (status === 'confirmed' && fulfillments.some((f) => f.status !== 'pending'))
      return 'order.start_processing'
    if (flow === 'pickup') {
      if (status === 'processing' && every(PACKED_STATUSES)) return 'order.ready'
      if (status === 'ready_for_pickup' && every(DONE_STATUSES)) return 'order.pick_up'
      return null
    }
    const shippedAll = every(SHIPPED_STATUSES)
    const doneAll = every(DONE_STATUSES)
    // Some have gone, others are still being worked on or wait for a new fulfillment (the order's
    // `partlyShipped`).
    const rest = some(OPEN_STATUSES) || !covered
    if ((status === 'processing' || status === 'packed') && some(SHIPPED_STATUSES) && rest)
      return 'order.ship_partially'
    if (status === 'processing' && every(PACKED_STATUSES)) return 'order.pack'
    if ((status === 'packed' || status === 'partially_shipped') && shippedAll) return 'order.ship'
    const onTheWay = status === 'shipped' || status === 'in_transit' || status === 'out_for_delivery'
    if (onTheWay && some(DONE_STATUSES) && !doneAll) return 'order.deliver_partially'
    if (doneAll) {
      if (status === 'shipped') return 'order.in_transit'
      if (status === 'in_transit') return 'order.out_for_delivery'
      if (status === 'out_for_delivery' || status === 'partially_delivered') return 'order.deliver'
    }
    return null
  }
  // Each step moves the order on; a host machine that loops is cut off after a few.
  for (let step = 0, type = nextEvent(order); type !== null && step < 8; step++, type = nextEvent(order)) {
    const [next] = await applyOrderEvents(ctx, tx, now, actor, [{ order, event: { type } }])
    order = next as Order
  }
  return order
}
