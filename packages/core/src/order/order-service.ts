import type { z } from 'zod'
import { type Permission, permissionForEvent } from '../access/access-policy'
import {
  type AssignOrderInput,
  assignOrderInputSchema,
  type BulkAssignInput,
  type BulkStatusInput,
  bulkAssignInputSchema,
  bulkStatusInputSchema,
  type CreateOrderInput,
  createOrderInputSchema,
  type EditOrderInput,
  editOrderInputSchema,
  type ListOrdersInput,
  listOrdersInputSchema,
  type OrderByNumberInput,
  type OrderCommandInput,
  type OrderEventInput,
  type OrderRefInput,
  orderByNumberInputSchema,
  orderCommandInputSchema,
  orderEventInputSchema,
  orderRefInputSchema,
  type SearchOrdersInput,
  searchOrdersInputSchema,
} from '../domain/commands'
import type { HistoryAction, OrderFlow } from '../domain/enums'
import { parseInput } from '../domain/parse-input'
import {
  type ActingActor,
  type HistoryEntry,
  type Location,
  type Order,
  type OrderLine,
  type Reservation,
  remainingOf,
} from '../domain/schemas'
import {
  ConflictError,
  ForbiddenError,
  InvalidTransitionError,
  isOmsError,
  ReservationExpiredError,
  StaleStateError,
  ValidationError,
} from '../errors/oms-error'
import { allocate } from '../fulfillment/allocation'
import {
  closeFulfillmentsOfCancelledOrder,
  createFulfillments,
  OPEN_STATUSES as OPEN_FULFILLMENT_STATUSES,
} from '../fulfillment/fulfillment-records'
import { returnEntries } from '../fulfillment/returns'
import {
  commitHolds,
  type FreedRows,
  giveBackRows,
  type HoldRequest,
  isLive,
  releaseHolds,
  takeHolds,
} from '../inventory/holds'
import { isShortage, levelRowKey, recordMovements } from '../inventory/stock-ledger'
import type { TransitionResult } from '../machines/status-machine'
import { requestCapture, requestRefund, returnedLinesOf } from '../payments/payment-records'
import type { NewOutboxEvent, OrderFilter, OrderSearchFilter, StorageTx } from '../ports/storage'
import {
  historyEntry,
  type OmsContext,
  orderHistoryEntry,
  outboxEvent,
  runCommand,
} from '../services/oms-context'
import { enqueueOrderSync } from '../sync/sync-enqueue'
import {
  ASSIGN_PERMISSION,
  assignOrder,
  type OrderBulkProgress,
  type OrderBulkResult,
  runBulk,
} from './bulk-operations'
import { editOrder } from './order-edit'
import type { OrderContext } from './order-machine'
import { decodeCursor, encodeCursor, searchWords } from './order-search'

/** A page of `orders.search`. */
export interface OrderSearchResult {
  orders: Order[]
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null
  /** Every order that matches (with `includeTotal`). */
  total?: number
}

/** Audit action recorded for the status change an event causes. */
const EVENT_ACTIONS: Readonly<Record<string, HistoryAction>> = {
  'order.checkout': 'inventory_reserved',
  'payment.succeeded': 'payment_received',
  'order.confirm': 'confirmed',
  'payment.failed': 'payment_failed',
  'reservation.expired': 'reservation_expired',
  'order.cancel': 'cancelled',
  'order.no_show': 'cancelled',
  'order.start_processing': 'processing_started',
  'order.pack': 'packed',
  'order.ready': 'packed',
  'order.ship': 'shipped',
  'order.ship_partially': 'shipped',
  'order.deliver_partially': 'delivered',
  'order.deliver': 'delivered',
  'order.pick_up': 'delivered',
  'return.request': 'return_requested',
  'return.receive': 'returned',
  'refund.process': 'refunded',
}

const pad = (n: number) => String(n).padStart(4, '0')
const yyyymmdd = (d: Date) => d.toISOString().slice(0, 10).replaceAll('-', '')

/** The `ORD-YYYYMMDD-NNNN` number from the day's sequence (UTC day). */
export async function nextNumber(tx: StorageTx, prefix: 'ORD' | 'FUL', now: Date): Promise<string> {
  const day = yyyymmdd(now)
  return `${prefix}-${day}-${pad(await tx.sequences.next(`${prefix}-${day}`))}`
}

/** The guards' view of a stored order; `orderContextOf` adds what needs its holds. */
export const toOrderContext = (
  order: Order,
  fromHolds: Pick<OrderContext, 'soldQuantity' | 'stockShort' | 'partlyShipped'> = {
    soldQuantity: 0,
    stockShort: false,
    partlyShipped: false,
  },
): OrderContext => ({
  flow: order.flow,
  channel: order.channel,
  paymentStatus: order.paymentStatus,
  packedQuantity: order.packedQuantity,
  attributes: order.attributes,
  ...fromHolds,
})

/** Orders: create (with holds), every transition of both flows, reads. */
export class OrderService {
  readonly #ctx: OmsContext

  constructor(ctx: OmsContext) {
    this.#ctx = ctx
  }

  /**
   * Validates, numbers and stores an order and holds stock for every line (all or nothing), leaving it in
   * `payment_pending`. Throws INSUFFICIENT_STOCK (nothing written) when any line cannot be held.
   */
  async create(input: CreateOrderInput): Promise<Order> {
    const cmd = parseInput(createOrderInputSchema, input, 'order')
    const ctx = this.#ctx
    // Staff create orders in the stores they reach, for anyone; a customer creates its own orders.
    const reach = ctx.access.reach(cmd.actor, 'order.create')
    const inStore = reach !== null && (reach.all || reach.storeIds.includes(cmd.storeId))
    const customerId = cmd.customerId ?? (inStore ? null : (reach?.customerId ?? null))
    if (!inStore && (reach?.customerId == null || customerId !== reach.customerId))
      throw new ForbiddenError('create this order', { permission: 'order.create' })
    const machine = ctx.orderMachines[cmd.flow]
    const lineAmounts = safeLineAmounts(cmd)

    return runCommand(
      ctx,
      'orders.create',
      cmd,
      async (tx, now) => {
        const locationId = cmd.locationId ?? (await defaultLocation(tx, cmd.storeId))
        const location = await ctx.catalog.location(tx, locationId)
        // A location that is missing and one of another store get the same answer: nothing is revealed.
        if (!location || location.storeId !== cmd.storeId) {
          throw new ValidationError('order', [
            { path: 'locationId', message: `is not a location of store ${cmd.storeId}` },
          ])
        }
        const itemIds = [...new Set(cmd.lines.map((l) => l.itemId))]
        const items = new Map((await ctx.catalog.items(tx, itemIds)).map((i) => [i.id, i]))
        const missing = itemIds.filter((id) => !items.has(id))
        if (missing.length) {
          throw new ValidationError(
            'order',
            cmd.lines.flatMap((l, i) =>
              items.has(l.itemId)
                ? []
                : [{ path: `lines.${i}.itemId`, message: `item ${l.itemId} does not exist` }],
            ),
          )
        }
        const lines = cmd.lines.map((l, i) =>
          toOrderLine(ctx, l, items.get(l.itemId), lineAmounts.lines[i] as number),
        )
        const { subtotal, discount, tax, total } = lineAmounts
        const order: Order = {
          id: ctx.ids(),
          number: await nextNumber(tx, 'ORD', now),
          channel: cmd.channel,
          flow: cmd.flow,
          storeId: cmd.storeId,
          locationId,
          customerId,
          lines,
          totals: {
            subtotalMinor: subtotal,
            discountMinor: discount,
            taxMinor: tax,
            shippingMinor: cmd.shippingMinor,
            totalMinor: total,
            currency: cmd.currency,
          },
          paymentStatus: 'unpaid',
          status: machine.definition.initial,
          cancellationReason: null,
          packedQuantity: 0,
          assigneeId: null,
          posSyncState: null,
          version: 1,
          externalIds: {},
          attributes: cmd.attributes,
          idempotencyKey: cmd.idempotencyKey ?? null,
          createdAt: now,
          updatedAt: now,
        }
        const checkout = machine.transition(order.status, toOrderContext(order), { type: 'order.checkout' })
        const holdSeconds =
          cmd.holdSeconds ?? ctx.policies.holdSecondsByChannel[cmd.channel] ?? ctx.policies.holdSeconds
        const expiresAt = new Date(now.getTime() + holdSeconds * 1000)
        const holds = checkout.actions.includes('reserveInventory')
          ? await takeHolds(
              ctx,
              tx,
              now,
              order,
              await holdRequests(
                ctx,
                tx,
                now,
                cmd.locationId === undefined ? cmd.flow : null,
                location,
                lines,
              ),
              expiresAt,
            )
          : []
        const created = { ...order, status: checkout.status }
        // Holds, order, audit and event in one append (one round trip where the backend can).
        await tx.append({
          reservations: holds,
          orders: [created],
          history: [
            orderHistoryEntry(ctx, cmd.actor, now, order, {
              action: 'created',
              oldStatus: null,
              newStatus: order.status,
              description: `order ${order.number} created (${order.channel}, ${order.flow})`,
              additionalData: {
                number: order.number,
                totalMinor: order.totals.totalMinor,
                currency: order.totals.currency,
              },
            }),
            orderHistoryEntry(ctx, cmd.actor, now, order, {
              action: 'inventory_reserved',
              oldStatus: order.status,
              newStatus: created.status,
              description: `held ${holds.reduce((s, h) => s + h.quantityReserved, 0)} unit(s) until ${expiresAt.toISOString()}`,
              additionalData: { reservationIds: holds.map((h) => h.id), expiresAt: expiresAt.toISOString() },
            }),
          ],
          outbox: [
            outboxEvent(ctx, now, 'order.created', order.id, {
              orderId: order.id,
              number: order.number,
              status: created.status,
              storeId: order.storeId,
              channel: order.channel,
              totalMinor: order.totals.totalMinor,
              expiresAt: expiresAt.toISOString(),
            }),
          ],
        })
        await enqueueOrderSync(ctx, tx, created, 'push_order', now)
        return created
      },
      (tx, order) => recheckOrder(ctx, tx, cmd.actor, order.id, 'order.view'),
    )
  }

  /** Sends any event of the order's machine (e.g. `order.start_processing`); see `allowedEvents`. */
  async send(input: OrderEventInput): Promise<Order> {
    return this.#send(parseInput(orderEventInputSchema, input, 'order event'))
  }

  /** Payment succeeded: `payment_pending` → `confirmed`; holds stop expiring. RESERVATION_EXPIRED if they already did. */
  async confirmPayment(input: OrderCommandInput): Promise<Order> {
    return this.#sendAs('payment.succeeded', input)
  }

  /** Payment failed: the order is cancelled and its holds released. */
  async failPayment(input: OrderCommandInput): Promise<Order> {
    return this.#sendAs('payment.failed', input)
  }

  /** Cancels under the cancellation rules (pending/confirmed yes; processing only while nothing is packed; shipped never). */
  async cancel(input: OrderCommandInput): Promise<Order> {
    return this.#sendAs('order.cancel', input)
  }

  #sendAs(type: string, input: OrderCommandInput): Promise<Order> {
    return this.#send({ ...parseInput(orderCommandInputSchema, input, 'order event'), type })
  }

  #send(cmd: z.output<typeof orderEventInputSchema>): Promise<Order> {
    const ctx = this.#ctx
    return runCommand(
      ctx,
      'orders.event',
      cmd,
      (tx, now) =>
        applyOrderEvent(ctx, tx, now, cmd.actor, cmd.orderId, {
          type: cmd.type,
          reason: cmd.reason,
          data: cmd.data,
        }),
      (tx, order) => recheckOrder(ctx, tx, cmd.actor, order.id, permissionForEvent(cmd.type)),
    )
  }

  /**
   * Changes the lines of an order that has not started processing (`set` quantities, 0 removing a line;
   * `add` lines). Holds change by the difference only, with the same conditional write as at creation
   * (INSUFFICIENT_STOCK writes nothing); released, committed or expired holds are never touched again;
   * totals are recomputed. One `edited` audit row with the lines and totals before and after, and an
   * `order.edited` event for the host and a POS sync. Needs `order.edit`. An order past `confirmed` is
   * INVALID_TRANSITION; one whose hold expired is RESERVATION_EXPIRED. The payment is the host's: the event
   * carries the total before and after.
   */
  async edit(input: EditOrderInput): Promise<Order> {
    const cmd = parseInput(editOrderInputSchema, input, 'order edit')
    const ctx = this.#ctx
    return runCommand(
      ctx,
      'orders.edit',
      cmd,
      (tx, now) => editOrder(ctx, tx, now, cmd),
      (tx, order) => recheckOrder(ctx, tx, cmd.actor, order.id, 'order.edit'),
    )
  }

  /**
   * Assigns the order to a staff member (null: to nobody), with an `assigned` audit row and an
   * `order.assigned` event. Needs `fulfillment.manage` on the order. Assigning the current assignee
   * changes nothing.
   */
  async assign(input: AssignOrderInput): Promise<Order> {
    const cmd = parseInput(assignOrderInputSchema, input, 'assignment')
    const ctx = this.#ctx
    return runCommand(
      ctx,
      'orders.assign',
      cmd,
      (tx, now) => assignOrder(ctx, tx, now, cmd),
      (tx, order) => recheckOrder(ctx, tx, cmd.actor, order.id, ASSIGN_PERMISSION),
    )
  }

  /**
   * Assigns up to 1,000 orders at once. Each order is applied or refused on its own (its own
   * transaction, its own typed result: FORBIDDEN out of reach, …) and `onProgress` hears after each. With
   * an idempotency key, repeating the call answers as the first one did and changes nothing again.
   */
  async bulkAssign(
    input: BulkAssignInput,
    onProgress?: (progress: OrderBulkProgress) => void,
  ): Promise<OrderBulkResult> {
    const cmd = parseInput(bulkAssignInputSchema, input, 'bulk assignment')
    const ctx = this.#ctx
    return runBulk(
      ctx,
      'orders.bulkAssign',
      cmd,
      (orderId, key) =>
        runCommand(
          ctx,
          'orders.assign',
          { actor: cmd.actor, orderId, assigneeId: cmd.assigneeId, ...(key ? { idempotencyKey: key } : {}) },
          (tx, now) => assignOrder(ctx, tx, now, { actor: cmd.actor, orderId, assigneeId: cmd.assigneeId }),
          (tx, order) => recheckOrder(ctx, tx, cmd.actor, order.id, ASSIGN_PERMISSION),
        ),
      onProgress,
    )
  }

  /**
   * Sends one event (e.g. `order.start_processing`, `order.cancel`) to up to 1,000 orders: each through
   * its machine, in its own transaction, with the same rules, audit and events as `send`; each applied
   * or refused on its own with a typed result (INVALID_TRANSITION for an order in the wrong status, …),
   * `onProgress` after each. With an idempotency key, repeating the call changes nothing again.
   */
  async bulkStatus(
    input: BulkStatusInput,
    onProgress?: (progress: OrderBulkProgress) => void,
  ): Promise<OrderBulkResult> {
    const cmd = parseInput(bulkStatusInputSchema, input, 'bulk status change')
    const ctx = this.#ctx
    const event = { type: cmd.type, reason: cmd.reason }
    return runBulk(
      ctx,
      'orders.bulkStatus',
      cmd,
      (orderId, key) =>
        runCommand(
          ctx,
          'orders.event',
          { actor: cmd.actor, orderId, ...event, ...(key ? { idempotencyKey: key } : {}) },
          (tx, now) => applyOrderEvent(ctx, tx, now, cmd.actor, orderId, event),
          (tx, order) => recheckOrder(ctx, tx, cmd.actor, order.id, permissionForEvent(cmd.type)),
        ),
      onProgress,
    )
  }

  /**
   * Finds orders by text, status, channel, flow, store, location, dates, customer, amount, payment and
   * fulfillment status, assignee, notes and POS sync state, sorted by created, updated, total or number in
   * either direction, a page at a time. Paging is by cursor (the position after the last order of the
   * page), so orders inserted meanwhile never shift a page: no order is seen twice or skipped. Sorting by
   * `updated` follows each order's last change, so an order changed while paging may move. The actor's
   * reach is part of the query: its stores, or its own orders as a customer.
   */
  async search(input: SearchOrdersInput): Promise<OrderSearchResult> {
    const cmd = parseInput(searchOrdersInputSchema, input, 'order search')
    const reach = this.#ctx.access.reach(cmd.actor, 'order.view')
    if (!reach) throw new ForbiddenError('view orders', { permission: 'order.view' })
    const words = cmd.text ? searchWords(cmd.text) : []
    if (words.length > 8)
      throw new ValidationError('order search', [{ path: 'text', message: 'has more than 8 words' }])
    const after = cmd.cursor ? decodeCursor(cmd.cursor, cmd.sort) : undefined
    const filter: OrderSearchFilter = {
      ...(reach.all ? {} : { reach: { storeIds: reach.storeIds, customerId: reach.customerId } }),
      ...(words.length ? { words } : {}),
      ...pickDefined(cmd, [
        'statuses',
        'channels',
        'flows',
        'storeIds',
        'locationIds',
        'customerId',
        'createdFrom',
        'createdTo',
        'updatedFrom',
        'updatedTo',
        'totalMin',
        'totalMax',
        'paymentStatuses',
        'fulfillmentStatuses',
        'assigneeId',
        'hasNotes',
        'posSyncStates',
      ]),
    }
    return this.#ctx.storage.transaction(
      async (tx) => {
        // One more than a page tells whether another page follows.
        const rows = await tx.orders.search(filter, {
          sort: cmd.sort,
          ...(after ? { after } : {}),
          limit: cmd.limit + 1,
        })
        const orders = rows.slice(0, cmd.limit)
        const last = orders[orders.length - 1]
        const result: OrderSearchResult = {
          orders,
          nextCursor: rows.length > cmd.limit && last ? encodeCursor(cmd.sort, last) : null,
        }
        if (cmd.includeTotal) result.total = await tx.orders.count(filter)
        return result
      },
      { readOnly: true, isolation: 'snapshot' },
    )
  }

  /** The order with this number (`ORD-YYYYMMDD-NNNN`). A missing one and one out of reach answer alike. */
  async getByNumber(input: OrderByNumberInput): Promise<Order> {
    const { actor, number } = parseInput(orderByNumberInputSchema, input, 'order read')
    const ctx = this.#ctx
    return ctx.storage.transaction(
      async (tx) => {
        const order = await tx.orders.getByNumber(number)
        if (!order) return ctx.access.missing(actor, 'order.view', 'order', number)
        if (!ctx.access.canReachOrder(actor, 'order.view', order))
          throw ctx.access.denied('order.view', 'order', number)
        return order
      },
      { readOnly: true },
    )
  }

  async get(input: OrderRefInput): Promise<Order> {
    const { actor, orderId } = parseInput(orderRefInputSchema, input, 'order read')
    return this.#ctx.storage.transaction(
      async (tx) => loadOrder(this.#ctx, tx, actor, orderId, 'order.view'),
      { readOnly: true },
    )
  }

  /** The events the actor may send now: what a UI shows as buttons. */
  async allowedEvents(input: OrderRefInput): Promise<string[]> {
    const { actor, orderId } = parseInput(orderRefInputSchema, input, 'order read')
    const ctx = this.#ctx
    return ctx.storage.transaction(
      async (tx) => {
        const order = await loadOrder(ctx, tx, actor, orderId, 'order.view')
        const context = await orderContextOf(ctx, tx, order, await tx.reservations.listByOrder(order.id))
        return ctx.orderMachines[order.flow]
          .allowedEvents(order.status, context)
          .filter((type) => ctx.access.canReachOrder(actor, permissionForEvent(type), order))
      },
      { readOnly: true },
    )
  }

  /**
   * Orders the actor can see, newest first, a page at a time (`limit` 50 by default, at most 500). The
   * actor's reach is part of the query: its stores, or its own orders as a customer.
   */
  async list(input: ListOrdersInput): Promise<Order[]> {
    const { actor, ...filter } = parseInput(listOrdersInputSchema, input, 'order list')
    const reach = this.#ctx.access.reach(actor, 'order.view')
    if (!reach) throw new ForbiddenError('view orders', { permission: 'order.view' })
    const scoped: OrderFilter = {
      ...filter,
      ...(reach.all ? {} : { reach: { storeIds: reach.storeIds, customerId: reach.customerId } }),
    }
    return this.#ctx.storage.transaction((tx) => tx.orders.list(scoped), { readOnly: true })
  }
}

/** A replayed command's result is returned only if the actor may still act on (or see) its order now. */
export async function recheckOrder(
  ctx: OmsContext,
  tx: StorageTx,
  actor: ActingActor,
  orderId: string,
  permission: Permission,
): Promise<void> {
  await loadOrder(ctx, tx, actor, orderId, permission)
}

/** An order line from a caller's line: its id (or a new one), sku and name (or the item's), its total. */
export function toOrderLine(
  ctx: OmsContext,
  l: z.output<typeof createOrderInputSchema>['lines'][number],
  item: { sku: string; name: string } | undefined,
  totalMinor: number,
): OrderLine {
  return {
    id: l.id ?? ctx.ids(),
    itemId: l.itemId,
    sku: l.sku ?? item?.sku ?? null,
    name: l.name ?? item?.name ?? null,
    quantity: l.quantity,
    unitPriceMinor: l.unitPriceMinor,
    discountMinor: l.discountMinor,
    taxMinor: l.taxMinor,
    totalMinor,
  }
}

/** The fields of `source` named in `keys` that are set (an absent criterion does not narrow). */
function pickDefined<T extends object, K extends keyof T>(
  source: T,
  keys: readonly K[],
): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {}
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key]
  return out
}

/**
 * Where each line is held: at the location the caller named; otherwise at the store's default location
 * when it has everything, else where the allocation strategy puts it (a line may be split).
 */
async function holdRequests(
  ctx: OmsContext,
  tx: StorageTx,
  now: Date,
  /** The order's flow when the strategy may place it (no location named), else null. */
  allocating: OrderFlow | null,
  location: Location,
  lines: readonly OrderLine[],
): Promise<HoldRequest[]> {
  const requests = lines.map((l, lineIndex) => ({
    orderLineId: l.id,
    itemId: l.itemId,
    locationId: location.id,
    quantity: l.quantity,
    lineIndex,
    sku: l.sku,
  }))
  if (!allocating || !ctx.allocation) return requests
  return allocate(
    tx,
    now,
    ctx.allocation,
    { storeId: location.storeId, flow: allocating, preferred: location },
    requests,
    async (ids) => {
      const found: Location[] = []
      for (const id of ids) {
        const l = await ctx.catalog.location(tx, id)
        if (l) found.push(l)
      }
      return found
    },
  )
}

async function defaultLocation(tx: StorageTx, storeId: string): Promise<string> {
  const locations = await tx.locations.list({ storeId })
  const pick =
    locations.find((l) => l.kind === 'sales_floor') ??
    locations.find((l) => l.kind === 'store') ??
    locations[0]
  if (!pick)
    throw new ValidationError('order', [{ path: 'storeId', message: 'has no location to hold stock at' }])
  return pick.id
}

const safe = (n: number) => Number.isSafeInteger(n)

/**
 * Every amount of an order, in integer minor units, each checked to stay a safe integer (an amount above
 * 2^53 would silently lose cents): the line totals, subtotal, discount, tax and total. A line whose
 * discount exceeds its amount, or any amount out of range, is VALIDATION naming the field.
 */
export function safeLineAmounts(
  cmd: {
    lines: ReadonlyArray<{
      quantity: number
      unitPriceMinor: number
      discountMinor: number
      taxMinor: number
    }>
    shippingMinor: number
  },
  what = 'order',
) {
  const tooLarge = (path: string): never => {
    throw new ValidationError(what, [{ path, message: 'makes an amount too large to count exactly' }])
  }
  const lines: number[] = []
  let subtotal = 0
  let discount = 0
  let tax = 0
  for (const [i, l] of cmd.lines.entries()) {
    const gross = l.quantity * l.unitPriceMinor
    if (!safe(gross)) tooLarge(`lines.${i}.unitPriceMinor`)
    if (l.discountMinor > gross) {
      throw new ValidationError(what, [
        { path: `lines.${i}.discountMinor`, message: `exceeds the line amount ${gross}` },
      ])
    }
    const total = gross - l.discountMinor + l.taxMinor
    if (!safe(total)) tooLarge(`lines.${i}.taxMinor`)
    lines.push(total)
    subtotal += gross
    discount += l.discountMinor
    tax += l.taxMinor
    if (!safe(subtotal) || !safe(tax)) tooLarge(`lines.${i}`)
  }
  const total = subtotal - discount + tax + cmd.shippingMinor
  if (!safe(total)) tooLarge('shippingMinor')
  return { lines, subtotal, discount, tax, total }
}

/**
 * Loads an order for an actor. For an actor whose reach is limited, a missing order and one out of reach
 * give the same FORBIDDEN, so nothing is revealed. With `lock`, the order is claimed for the transaction
 * (`orders.lock`): every command that changes an order or its holds claims it before reading its holds,
 * so such commands on one order run one after another, each on what the previous one committed.
 */
export async function loadOrder(
  ctx: OmsContext,
  tx: StorageTx,
  actor: ActingActor,
  orderId: string,
  permission: Permission,
  options: { lock?: boolean } = {},
): Promise<Order> {
  const order = options.lock ? await tx.orders.lock(orderId) : await tx.orders.get(orderId)
  if (!order) return ctx.access.missing(actor, permission, 'order', orderId)
  ctx.access.requireOrder(actor, permission, order)
  return order
}

/** Whether some of the order's fulfillments have shipped (or been handed over) and some are still open. */
async function partlyShipped(tx: StorageTx, orderId: string): Promise<boolean> {
  const fulfillments = await tx.fulfillments.listByOrder(orderId)
  const gone = (status: string) => ['shipped', 'partially_fulfilled', 'fulfilled'].includes(status)
  return (
    fulfillments.some((f) => gone(f.status)) &&
    fulfillments.some((f) => f.status !== 'cancelled' && !gone(f.status))
  )
}

/** Whether some row the holds hold stock on has a recorded shortage (on hand below what is set aside). */
async function stockShortUnder(tx: StorageTx, holds: readonly Reservation[]): Promise<boolean> {
  const rows = new Map<string, { itemId: string; locationId: string }>()
  for (const h of holds)
    if (h.status === 'active' && remainingOf(h) > 0) rows.set(levelRowKey(h.itemId, h.locationId), h)
  for (const row of rows.values()) {
    const level = await tx.inventory.getLevel(row.itemId, row.locationId)
    if (level && isShortage(level)) return true
  }
  return false
}

/**
 * The guards' view of an order: the stored order, what its holds have sold, and — only where the
 * order's state has a transition that asks — whether its stock went short.
 */
export async function orderContextOf(
  ctx: OmsContext,
  tx: StorageTx,
  order: Order,
  holds: readonly Reservation[],
): Promise<OrderContext> {
  const machine = ctx.orderMachines[order.flow]
  return toOrderContext(order, {
    soldQuantity: holds.reduce((sum, h) => sum + h.quantityFulfilled, 0),
    stockShort: machine.usesGuard(order.status, 'stockShort') ? await stockShortUnder(tx, holds) : false,
    partlyShipped: machine.usesGuard(order.status, 'partlyShipped')
      ? await partlyShipped(tx, order.id)
      : false,
  })
}

/** One event for one order, for `applyOrderEvents`. */
export interface OrderEventItem {
  order: Order
  event: { type: string; reason?: string | undefined; data?: Readonly<Record<string, unknown>> | undefined }
  /** Extra audit data for the status entry (e.g. the holds that expired). */
  audit?: Record<string, unknown>
}

/**
 * Applies one event to one order inside the caller's transaction: claims the order, checks access and
 * the machine, applies the effect intents, writes the status, one history entry and the outbox.
 */
export async function applyOrderEvent(
  ctx: OmsContext,
  tx: StorageTx,
  now: Date,
  actor: ActingActor,
  orderId: string,
  event: OrderEventItem['event'],
): Promise<Order> {
  const order = await loadOrder(ctx, tx, actor, orderId, permissionForEvent(event.type), { lock: true })
  const [next] = await applyOrderEvents(ctx, tx, now, actor, [{ order, event }], { direct: true })
  return next as Order
}

/**
 * Order events that pack or hand over goods: the order's fulfillments send them as they go. Sent
 * directly (or any event that sells from the holds) while a fulfillment is open, they are refused.
 */
const HAND_OVER_EVENTS: ReadonlySet<string> = new Set([
  'order.pack',
  'order.ready',
  'order.ship',
  'order.ship_partially',
  'order.pick_up',
])

/**
 * While an order has an open fulfillment, its goods leave through it: a direct hand-over (or a direct
 * sale from its holds) would sell what the fulfillment is still picking without a scan, and leave the
 * fulfillment open on goods that are gone. INVALID_TRANSITION naming the open fulfillments.
 */
export async function refuseBypassOfFulfillments(
  ctx: OmsContext,
  tx: StorageTx,
  order: Order,
  event: string,
): Promise<void> {
  const open = (await tx.fulfillments.listByOrder(order.id)).filter((f) =>
    OPEN_FULFILLMENT_STATUSES.includes(f.status),
  )
  if (open.length === 0) return
  throw new InvalidTransitionError(ctx.orderMachines[order.flow].id, order.status, event, {
    hint: `the goods are in open fulfillment(s) ${open.map((f) => f.number).join(', ')}: pack and ship or hand them over through the fulfillment, or cancel it first`,
  })
}

/** Holds that can no longer be committed or kept: expired, or past their expiry while still active. */
const expiredHolds = (holds: readonly Reservation[], now: Date) =>
  holds.filter((h) => h.status === 'expired' || (h.status === 'active' && !isLive(h, now)))

/**
 * A refused event, answered with what really happened: a payment for an order whose hold expired (and
 * was cancelled for it) is `RESERVATION_EXPIRED`, so a payment webhook knows to refund; anything else is
 * the machine's `INVALID_TRANSITION`, naming the status the order is in now.
 */
function refusal(
  error: unknown,
  order: Order,
  event: OrderEventItem['event'],
  holds: readonly Reservation[],
) {
  const paying = event.type === 'payment.succeeded' || event.type === 'order.confirm'
  if (paying && isOmsError(error) && error.code === 'INVALID_TRANSITION' && order.status === 'cancelled') {
    const expired = holds.filter((h) => h.status === 'expired').map((h) => h.id)
    if (expired.length) return new ReservationExpiredError(order.id, expired)
  }
  return error
}

/**
 * The same for many orders at once, with set-based writes: one query for their holds, one release pass,
 * every level once in canonical order, one compare-and-swap statement for all the orders, one insert each
 * for history and outbox (the sweeper). The orders must have been claimed (`orders.lock` / `lockFree`) by
 * this transaction. `freed` adds stock the caller freed (holds it expired) to the same level pass. Throws
 * (the caller's transaction rolls back) on the first illegal transition; a lost compare-and-swap is a
 * `StaleStateError`, so the command runs again on fresh state.
 */
export async function applyOrderEvents(
  ctx: OmsContext,
  tx: StorageTx,
  now: Date,
  actor: ActingActor,
  items: readonly OrderEventItem[],
  options: {
    freed?: FreedRows
    /** A caller's own event (not one the order's fulfillments send): refused where it bypasses them. */
    direct?: boolean
  } = {},
): Promise<Order[]> {
  const holdsOf = new Map<string, Reservation[]>()
  for (const h of await tx.reservations.listByOrders(items.map((i) => i.order.id)))
    holdsOf.set(h.orderId, [...(holdsOf.get(h.orderId) ?? []), h])
  const results: Array<OrderEventItem & { result: TransitionResult; holds: Reservation[] }> = []
  for (const item of items) {
    const { order, event } = item
    ctx.access.requireOrder(actor, permissionForEvent(event.type), order)
    const holds = holdsOf.get(order.id) ?? []
    const context = await orderContextOf(ctx, tx, order, holds)
    let result: TransitionResult
    try {
      result = ctx.orderMachines[order.flow].transition(order.status, context, {
        type: event.type,
        ...(event.reason ? { reason: event.reason } : {}),
        ...(event.data ? { data: event.data } : {}),
      })
    } catch (error) {
      throw refusal(error, order, event, holds)
    }
    if (options.direct && (HAND_OVER_EVENTS.has(event.type) || result.actions.includes('commitHolds')))
      await refuseBypassOfFulfillments(ctx, tx, order, event.type)
    results.push({ ...item, result, holds })
  }
  const events: NewOutboxEvent[] = []
  const history: HistoryEntry[] = []
  const freed: FreedRows = [...(options.freed ?? [])]

  // Releases first, for every order that asks, into one level pass at the end.
  const releasing = results.filter((r) => r.result.actions.includes('releaseHolds'))
  const active = releasing.flatMap((r) => r.holds.filter((h) => h.status === 'active'))
  if (active.length) {
    const released = await releaseHolds(
      tx,
      now,
      active.map((hold) => ({ hold })),
      'released',
      freed,
    )
    const byOrder = new Map<string, string[]>()
    for (const h of released) byOrder.set(h.orderId, [...(byOrder.get(h.orderId) ?? []), h.id])
    const storeOf = new Map(items.map((i) => [i.order.id, i.order.storeId]))
    for (const [orderId, ids] of byOrder) {
      history.push(
        historyEntry(ctx, actor, now, {
          entityType: 'reservation',
          entityId: orderId,
          orderId,
          storeId: storeOf.get(orderId) ?? null,
          action: 'inventory_released',
          description: `released ${ids.length} hold(s)`,
          additionalData: { reservationIds: ids },
        }),
      )
    }
  }
  await giveBackRows(tx, now, freed)

  const nextOrders: Order[] = []
  for (const { order, event, audit, result, holds } of results) {
    let next: Order = { ...order, status: result.status, version: order.version + 1, updatedAt: now }
    for (const action of result.actions) {
      switch (action) {
        case 'releaseHolds':
          break
        case 'extendHolds': {
          const stale = expiredHolds(holds, now)
          if (stale.length)
            throw new ReservationExpiredError(
              order.id,
              stale.map((h) => h.id),
            )
          const expiresAt =
            ctx.policies.confirmedHoldSeconds === null
              ? null
              : new Date(now.getTime() + ctx.policies.confirmedHoldSeconds * 1000)
          const live = holds.filter((h) => h.status === 'active')
          const changed = await tx.reservations.update(
            live.map((h) => ({ id: h.id, expected: h, patch: { expiresAt, updatedAt: now } })),
          )
          if (changed.length !== live.length)
            throw new StaleStateError(`the holds of order ${order.id}`, { orderId: order.id })
          break
        }
        case 'commitHolds': {
          const stale = expiredHolds(holds, now)
          if (stale.length)
            throw new ReservationExpiredError(
              order.id,
              stale.map((h) => h.id),
            )
          const open = holds.filter((h) => h.status === 'active' && remainingOf(h) > 0)
          if (open.length === 0 && !holds.some((h) => h.quantityFulfilled > 0)) {
            throw new InvalidTransitionError(ctx.orderMachines[order.flow].id, order.status, event.type, {
              hint: 'nothing is held or sold for this order, so there is nothing to hand over: cancel it',
            })
          }
          await commitHolds(
            ctx,
            tx,
            now,
            actor,
            order,
            open.map((hold) => ({ hold })),
          )
          // The goods are handed over: the authorised payment is captured (after commit).
          await requestCapture(ctx, tx, now, order, events)
          break
        }
        case 'markPaid':
          // With a payment provider, the webhook reports an authorisation: captured at hand-over.
          next = { ...next, paymentStatus: ctx.payments ? 'authorized' : 'paid' }
          break
        case 'markPaymentFailed':
          next = { ...next, paymentStatus: 'failed' }
          break
        case 'refundPayment':
          if (ctx.payments) {
            // Recorded here, carried out by the provider after commit (void, or a refund of the lines).
            const returned =
              event.type === 'refund.process' ? await returnedLinesOf(tx, order, event.data) : undefined
            const op = await requestRefund(ctx, tx, now, order, holds, returned, events)
            if (op?.kind === 'refund')
              events.push(
                outboxEvent(ctx, now, 'payment.refund_requested', order.id, {
                  orderId: order.id,
                  number: order.number,
                  amountMinor: op.amountMinor,
                  currency: op.currency,
                  paymentId: op.id,
                }),
              )
          } else if (order.paymentStatus === 'paid' || order.paymentStatus === 'authorized') {
            events.push(
              outboxEvent(ctx, now, 'payment.refund_requested', order.id, {
                orderId: order.id,
                number: order.number,
                amountMinor: order.totals.totalMinor,
                currency: order.totals.currency,
              }),
            )
          }
          break
        case 'markRefunded':
          // With a payment provider, the payment status follows the refund once the provider confirms it.
          if (!ctx.payments) next = { ...next, paymentStatus: 'refunded' }
          break
        case 'restockReturn': {
          // What the quality check found, per line (`data.lines`), or everything sold back on hand.
          const entries = returnEntries(order, holds, event.data)
          if (entries.length) {
            await recordMovements(ctx, tx, now, actor, entries, {
              orderId: order.id,
              storeId: order.storeId,
              action: 'returned',
              description: 'returned goods checked and put back',
            })
          }
          break
        }
        case 'reserveInventory':
          throw new ConflictError(`order ${order.id}: inventory is reserved when the order is created`)
        default:
          // A host's own effect intent: published for the host to act on after commit.
          events.push(
            outboxEvent(ctx, now, 'order.action_requested', order.id, {
              orderId: order.id,
              action,
              event: event.type,
            }),
          )
      }
    }
    if (result.status === 'cancelled') next = { ...next, cancellationReason: event.reason ?? event.type }
    nextOrders.push(next)
    history.push(
      orderHistoryEntry(ctx, actor, now, order, {
        action: EVENT_ACTIONS[event.type] ?? 'status_changed',
        oldStatus: order.status,
        newStatus: next.status,
        description: `${event.type}: ${order.status} → ${next.status}${event.reason ? ` (${event.reason})` : ''}`,
        additionalData: { event: event.type, ...(event.data ? { data: event.data } : {}), ...audit },
      }),
    )
    events.push(
      outboxEvent(ctx, now, 'order.status_changed', order.id, {
        orderId: order.id,
        number: order.number,
        from: order.status,
        to: next.status,
        event: event.type,
      }),
    )
  }

  // The orders are claimed by this transaction, so the version compare-and-swap can only miss when a
  // writer skipped the claim; that is retried on fresh state like any lost compare-and-swap.
  const written =
    nextOrders.length === 1
      ? Number(await tx.orders.update(nextOrders[0] as Order, (items[0] as OrderEventItem).order.version))
      : await tx.orders.updateMany(
          nextOrders.map((order, i) => ({
            order,
            expectedVersion: (items[i] as OrderEventItem).order.version,
          })),
        )
  if (written !== nextOrders.length)
    throw new StaleStateError(items.length === 1 ? `order ${items[0]?.order.id}` : 'some of the orders', {
      orderIds: items.map((i) => i.order.id),
    })
  // Fulfillments follow the order: a cancel closes them; a confirm may create them (policy).
  for (const [i, next] of nextOrders.entries()) {
    const before = (items[i] as OrderEventItem).order.status
    if (next.status === 'cancelled' && before !== 'pending' && before !== 'payment_pending')
      await closeFulfillmentsOfCancelledOrder(ctx, tx, now, actor, next)
    if (next.status === 'confirmed' && before !== 'confirmed' && ctx.policies.autoCreateFulfillments)
      await createFulfillments(ctx, tx, now, actor, next, { quiet: true })
  }
  // The release entries come before the status entry of the same order only in time, not in the chain.
  // Per order: the status change first, then what it caused (refund request, host actions).
  events.sort((a, b) =>
    a.aggregateId === b.aggregateId
      ? a.type === 'order.status_changed'
        ? -1
        : b.type === 'order.status_changed'
          ? 1
          : 0
      : 0,
  )
  await tx.append({ history, outbox: events })
  // The POSs that have (or will have) the order hear of its cancellation, after its push.
  for (const [i, next] of nextOrders.entries()) {
    if (next.status === 'cancelled' && (items[i] as OrderEventItem).order.status !== 'cancelled')
      await enqueueOrderSync(ctx, tx, next, 'cancel_order', now)
  }
  return nextOrders
}
