import { AccessPolicy, type Permission } from './access/access-policy'
import { HistoryService } from './audit/history-service'
import { CatalogCache } from './catalog/catalog-cache'
import { DashboardService, type PosHealthProvider } from './dashboard/dashboard-service'
import type { Role } from './domain/enums'
import type { Note } from './domain/schemas'
import { type AllocationStrategy, defaultAllocationStrategy } from './fulfillment/allocation'
import {
  createFulfillmentMachine,
  type FulfillmentContext,
  type FulfillmentEvent,
} from './fulfillment/fulfillment-machine'
import { FulfillmentService } from './fulfillment/fulfillment-service'
import { subscribeLifecycleNotifications } from './fulfillment/lifecycle-notifications'
import { CountService } from './inventory/count-service'
import { InventoryService } from './inventory/inventory-service'
import { ReservationService } from './inventory/reservation-service'
import { TransferService } from './inventory/transfer-service'
import type { MachineExtension } from './machines/machine-definition'
import { NoteService } from './notes/note-service'
import { createOrderMachines, type OrderMachineExtensions } from './order/order-machine'
import { OrderService } from './order/order-service'
import { OutboxRelay } from './outbox/outbox-relay'
import { PaymentService, subscribePayments } from './payments/payment-service'
import { type Clock, systemClock } from './ports/clock'
import { type Logger, silentLogger } from './ports/logger'
import type { Notifier } from './ports/notifier'
import type { Payments } from './ports/payments'
import type { Storage } from './ports/storage'
import { DEFAULT_POLICIES, defaultIds, type OmsContext, type OmsPolicies } from './services/oms-context'
import { resolveSyncOptions, type SyncOptions } from './sync/sync-config'
import { SyncService, syncPosHealthProvider } from './sync/sync-service'

export interface CreateOmsOptions {
  storage: Storage
  /** @default the system clock */
  clock?: Clock
  /** Id generator. @default crypto.randomUUID */
  ids?: () => string
  /** A pino-compatible logger. @default silent */
  logger?: Logger
  policies?: Partial<OmsPolicies>
  /** Host extensions of the machines, validated here (INVALID_MACHINE on a bad graph). */
  machines?: {
    orders?: OrderMachineExtensions
    fulfillment?: MachineExtension<FulfillmentContext, FulfillmentEvent>
  }
  /**
   * Where an order is held when it names no location and its store's default location (the sales floor)
   * does not have it all: a line may then be split over several locations, each becoming a fulfillment of
   * its own. Giving one turns allocation on. @default none (see `policies.allocateAcrossLocations`, which
   * turns on `defaultAllocationStrategy`: the order's store first, then fewest locations, then most stock)
   */
  allocation?: AllocationStrategy
  /** Replace the permissions of a role. */
  roles?: Partial<Record<Role, Iterable<Permission>>>
  /**
   * Sends customer notifications — notes with `notifyCustomer`, and the order's lifecycle (confirmed, ready
   * for pickup, shipped with tracking, delivered, cancelled, refunded); called after commit by the relay.
   */
  notifier?: Notifier
  /**
   * POS connections for `oms.sync`: orders of their stores are queued for them in the transaction that
   * creates or cancels the order. Without it nothing is queued.
   */
  sync?: SyncOptions
  /**
   * Reports the point-of-sale connections for the dashboard's `pos_down` alert. Absent: with `sync`
   * connections, the sync engine's health (a POS `down` is unhealthy); without, no POS alert.
   */
  posHealth?: PosHealthProvider
  /**
   * The payment provider. With one, the payment webhook's `confirmPayment` records an authorisation, and
   * after commit the relay captures it when the goods are handed over (shipped or picked up), voids it when
   * the order is cancelled before, and refunds (per returned line, or everything) when a refund is
   * processed; each operation is recorded (`oms.payments`) and retried until it succeeds or is left for an
   * operator. Without one, payments are the host's (`payment.refund_requested` events).
   */
  payments?: Payments
}

/** The library's grouped services. */
export interface Oms {
  orders: OrderService
  reservations: ReservationService
  inventory: InventoryService
  /** Transfers of stock between locations and stores. */
  transfers: TransferService
  /** Physical counts (reconciliation). */
  counts: CountService
  notes: NoteService
  /** Pick, scan, pack, ship or hand over the goods an order holds, one fulfillment per location. */
  fulfillments: FulfillmentService
  history: HistoryService
  /** Monitoring figures and alerts (`dashboard.summary`). */
  dashboard: DashboardService
  /** Outbox delivery: `events.subscribe(handler)`, `events.drain()`, `events.start()`. */
  events: OutboxRelay
  /** The POS sync engine: workers (`runOnce`, `drain`, `start`, `stop`) and the operator's override. */
  sync: SyncService
  /** Payment operations (capture, void, refund) and the operator's retry. */
  payments: PaymentService
  /** The machines in use (built-in plus host extensions). */
  machines: Pick<OmsContext, 'orderMachines' | 'fulfillmentMachine'>
  /** Stops the relay and the sync worker and closes the storage. */
  close(): Promise<void>
}

/**
 * Builds Peak OMS on a storage.
 *
 * @example
 * ```ts
 * import { createMemoryStorage, createOms } from '@peak-oms/core'
 * const oms = createOms({ storage: createMemoryStorage() })
 * const order = await oms.orders.create({ actor, channel: 'kiosk', flow: 'pickup', storeId: 's1', currency: 'USD', lines })
 * ```
 */
export function createOms(options: CreateOmsOptions): Oms {
  const clock = options.clock ?? systemClock
  const policies = { ...DEFAULT_POLICIES, ...options.policies }
  const ctx: OmsContext = {
    storage: options.storage,
    clock,
    ids: options.ids ?? defaultIds,
    logger: options.logger ?? silentLogger,
    policies,
    orderMachines: createOrderMachines(options.machines?.orders),
    fulfillmentMachine: createFulfillmentMachine(options.machines?.fulfillment),
    allocation: options.allocation ?? (policies.allocateAcrossLocations ? defaultAllocationStrategy : null),
    access: new AccessPolicy(options.roles),
    catalog: new CatalogCache(policies.catalogCacheSeconds, clock),
    sync: resolveSyncOptions(options.sync),
    payments: options.payments ?? null,
  }
  const events = new OutboxRelay(ctx)
  const sync = new SyncService(ctx)
  const oms: Oms = {
    orders: new OrderService(ctx),
    reservations: new ReservationService(ctx),
    inventory: new InventoryService(ctx),
    transfers: new TransferService(ctx),
    counts: new CountService(ctx),
    notes: new NoteService(ctx),
    fulfillments: new FulfillmentService(ctx),
    history: new HistoryService(ctx),
    // Without a provider of its own, the dashboard reads the POS health from the sync engine's jobs.
    dashboard: new DashboardService(
      ctx,
      options.posHealth ?? (ctx.sync.connections.size > 0 ? syncPosHealthProvider(ctx) : undefined),
    ),
    events,
    sync,
    payments: new PaymentService(ctx),
    machines: { orderMachines: ctx.orderMachines, fulfillmentMachine: ctx.fulfillmentMachine },
    async close() {
      await sync.stop()
      await events.stop()
      await ctx.storage.close()
    },
  }
  if (options.payments) subscribePayments(ctx, events, options.payments)
  const notifier = options.notifier
  if (notifier) subscribeLifecycleNotifications(ctx, events, notifier)
  if (notifier) {
    events.subscribe(
      async (event) => {
        const { noteId, orderId, notifyCustomer } = event.payload as {
          noteId: string
          orderId: string
          notifyCustomer: boolean
        }
        if (!notifyCustomer) return
        const found = await ctx.storage.transaction(async (tx) => {
          const note = await tx.notes.get(noteId)
          const order = await tx.orders.get(orderId)
          return note && order && !note.notifiedAt && !note.isInternal ? { note, order } : null
        })
        if (!found) return
        await notifier.notify({
          kind: 'order_note',
          orderId,
          orderNumber: found.order.number,
          customerId: found.order.customerId,
          noteId,
          text: found.note.text,
        })
        await ctx.storage.transaction(async (tx) => {
          const note = await tx.notes.get(noteId)
          if (note && !note.notifiedAt)
            await tx.notes.update({ ...note, notifiedAt: ctx.clock.now() } satisfies Note)
        })
      },
      { types: ['note.added'] },
    )
  }
  return oms
}
