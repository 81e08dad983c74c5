import type { Channel, OrderFlow, PaymentStatus } from '../domain/enums'
import type { MachineDefinition, MachineExtension, StateDefinition } from '../machines/machine-definition'
import { StatusMachine } from '../machines/status-machine'

/** What order guards can read. Built from the stored order; never persisted as JSON. */
export interface OrderContext {
  flow: OrderFlow
  channel: Channel
  paymentStatus: PaymentStatus
  /** Units already packed; `processing` may only cancel while this is 0. */
  packedQuantity: number
  /** Units already sold from the order's holds (a partial hand-over); a cancel would have to undo a sale. */
  soldQuantity: number
  /**
   * Whether a row the order holds stock on has less on hand than is held there (a count found less), so
   * the order cannot be handed over as held. Computed only for states with a transition that asks.
   */
  stockShort: boolean
  /**
   * Whether some fulfillment of the order has shipped while others have not (an order split over
   * locations). Computed only for states with a transition that asks.
   */
  partlyShipped: boolean
  /** Host data (compliance flags…), for host guards. */
  attributes: Readonly<Record<string, unknown>>
}

/** An order event: a dot-namespaced command such as `order.cancel`, with optional reason and data. */
export interface OrderEvent {
  type: string
  reason?: string
  data?: Readonly<Record<string, unknown>>
}

/**
 * Effect intents an order transition may ask for. The order service applies them in the same
 * storage transaction as the status change.
 */
export const ORDER_ACTIONS = [
  /** Hold stock for every line (all or nothing). */
  'reserveInventory',
  /** Release every active hold of the order. */
  'releaseHolds',
  /** Holds stop expiring once the order is confirmed. */
  'extendHolds',
  /** Consume the holds: on-hand and reserved go down together (the sale). */
  'commitHolds',
  'markPaid',
  'markPaymentFailed',
  /** Ask the payment port to refund what was paid. */
  'refundPayment',
  /** Put returned goods back into stock (or quarantine, after a failed check). */
  'restockReturn',
  'markRefunded',
] as const
export type OrderAction = (typeof ORDER_ACTIONS)[number]

const SHIPPED_HINT =
  'the order has shipped and can no longer be cancelled: request a return once it is delivered'
const PACKED_HINT =
  'the order is already packed and can no longer be cancelled: ship it, then request a return (a packed order may be cancelled only while its stock is short, e.g. after a count found less)'
const SOLD_HINT =
  'part of the order was already handed over (a sale): complete the hand-over, or record a return'

const cancel = (actions: readonly string[]) => ({ target: 'cancelled', actions })

/** pending → payment_pending, with the three ways out of payment_pending. Shared by both flows. */
const checkoutStates = (extra: StateDefinition['on'] = {}): Record<string, StateDefinition> => ({
  pending: {
    on: {
      'order.checkout': { target: 'payment_pending', actions: ['reserveInventory'] },
      'order.cancel': cancel([]),
    },
  },
  payment_pending: {
    on: {
      'payment.succeeded': { target: 'confirmed', actions: ['markPaid', 'extendHolds'] },
      'payment.failed': { target: 'cancelled', actions: ['markPaymentFailed', 'releaseHolds'] },
      'reservation.expired': { target: 'cancelled', actions: ['releaseHolds'] },
      'order.cancel': cancel(['releaseHolds']),
      ...extra,
    },
  },
})

/**
 * The detailed return process. The short path of the main diagram (approve → refund) and the
 * detailed one (review, ship back, receive, quality check, refund approved/rejected) are both legal.
 */
export const returnStates: Record<string, StateDefinition> = {
  return_requested: {
    on: {
      'return.review': { target: 'under_review' },
      'return.approve': { target: 'return_approved' },
      'return.reject': { target: 'return_rejected' },
    },
  },
  under_review: {
    on: {
      'return.approve': { target: 'return_approved' },
      'return.reject': { target: 'return_rejected' },
    },
  },
  return_approved: {
    on: {
      'refund.process': { target: 'refunded', actions: ['refundPayment', 'markRefunded'] },
      'return.ship_back': { target: 'return_shipped' },
    },
  },
  return_rejected: {
    on: { 'return.keep': { target: 'delivered' } },
  },
  return_shipped: {
    on: { 'return.receive': { target: 'return_received' } },
  },
  return_received: {
    on: { 'return.inspect': { target: 'quality_check' } },
  },
  quality_check: {
    on: {
      'refund.approve': { target: 'refund_approved', actions: ['restockReturn'] },
      'refund.reject': { target: 'refund_rejected' },
    },
  },
  refund_approved: {
    on: { 'refund.process': { target: 'refunded', actions: ['refundPayment', 'markRefunded'] } },
  },
  refund_rejected: { type: 'final' },
  refunded: { type: 'final' },
}

/** Delivery flow, with its cancellation rules and the return process. */
export const deliveryOrderDefinition: MachineDefinition = {
  id: 'order.delivery',
  initial: 'pending',
  states: {
    ...checkoutStates(),
    confirmed: {
      on: {
        'order.start_processing': { target: 'processing' },
        'order.cancel': cancel(['releaseHolds', 'refundPayment']),
      },
    },
    processing: {
      on: {
        'order.pack': { target: 'packed' },
        // Some of its fulfillments have shipped (sold from the holds), others not yet: a split order.
        'order.ship_partially': { target: 'partially_shipped', guard: 'partlyShipped' },
        'order.cancel': { ...cancel(['releaseHolds', 'refundPayment']), guard: 'nothingPacked' },
      },
      hints: { 'order.cancel': 'part of the order is already packed, so it can no longer be cancelled' },
    },
    packed: {
      on: {
        'order.ship': { target: 'shipped', actions: ['commitHolds'] },
        'order.ship_partially': { target: 'partially_shipped', guard: 'partlyShipped' },
        // The way out when the stock went short under a packed order: it cannot ship as held.
        'order.cancel': {
          ...cancel(['releaseHolds', 'refundPayment']),
          guard: ['stockShort', 'nothingSold'],
        },
      },
      hints: { 'order.cancel': PACKED_HINT },
    },
    partially_shipped: {
      on: { 'order.ship': { target: 'shipped', actions: ['commitHolds'] } },
      hints: { 'order.cancel': SHIPPED_HINT },
    },
    shipped: {
      on: {
        'order.in_transit': { target: 'in_transit' },
        'order.deliver_partially': { target: 'partially_delivered' },
      },
      hints: { 'order.cancel': SHIPPED_HINT },
    },
    in_transit: {
      on: {
        'order.out_for_delivery': { target: 'out_for_delivery' },
        'order.deliver_partially': { target: 'partially_delivered' },
      },
      hints: { 'order.cancel': SHIPPED_HINT },
    },
    out_for_delivery: {
      on: {
        'order.deliver': { target: 'delivered' },
        'order.deliver_partially': { target: 'partially_delivered' },
      },
      hints: { 'order.cancel': SHIPPED_HINT },
    },
    // Some of its shipments have arrived, others are still on the way.
    partially_delivered: {
      on: { 'order.deliver': { target: 'delivered' } },
      hints: { 'order.cancel': SHIPPED_HINT },
    },
    delivered: {
      on: {
        'order.complete': { target: 'completed' },
        'return.request': { target: 'return_requested' },
      },
      hints: { 'order.cancel': 'the order was delivered: request a return instead' },
    },
    completed: { type: 'final' },
    cancelled: { type: 'final' },
    ...returnStates,
  },
}

/** Pickup flow (kiosk and in-store): pay online or at the counter, the budtender picks, the customer collects. */
export const pickupOrderDefinition: MachineDefinition = {
  id: 'order.pickup',
  initial: 'pending',
  states: {
    ...checkoutStates({
      // Pay at the counter: the order is confirmed (holds kept) without an online payment.
      'order.confirm': { target: 'confirmed', actions: ['extendHolds'] },
    }),
    confirmed: {
      on: {
        'order.start_processing': { target: 'processing' },
        'order.cancel': cancel(['releaseHolds', 'refundPayment']),
      },
    },
    processing: {
      on: {
        'order.ready': { target: 'ready_for_pickup' },
        'order.cancel': { ...cancel(['releaseHolds', 'refundPayment']), guard: 'nothingPacked' },
      },
      hints: { 'order.cancel': 'part of the order is already packed, so it can no longer be cancelled' },
    },
    ready_for_pickup: {
      on: {
        'order.pick_up': { target: 'picked_up', actions: ['commitHolds'] },
        // The customer never came: the bag goes back on the shelf.
        'order.no_show': {
          target: 'cancelled',
          actions: ['releaseHolds', 'refundPayment'],
          guard: 'nothingSold',
        },
      },
      hints: {
        'order.cancel': 'the order is bagged for pickup: use order.no_show if the customer does not come',
        'order.no_show': SOLD_HINT,
      },
    },
    picked_up: {
      on: {
        'order.complete': { target: 'completed' },
        'return.request': { target: 'return_requested' },
      },
      hints: { 'order.cancel': 'the customer has the goods: request a return instead' },
    },
    completed: { type: 'final' },
    cancelled: { type: 'final' },
    // The same return process; a rejected return leaves the goods with the customer (picked up).
    ...returnStates,
    return_rejected: { on: { 'return.keep': { target: 'picked_up' } } },
  },
}

export const orderGuards = {
  nothingPacked: ({ context }: { context: OrderContext }) => context.packedQuantity === 0,
  nothingSold: ({ context }: { context: OrderContext }) => context.soldQuantity === 0,
  partlyShipped: ({ context }: { context: OrderContext }) => context.partlyShipped,
  stockShort: ({ context }: { context: OrderContext }) => context.stockShort,
}

export type OrderMachine = StatusMachine<OrderContext, OrderEvent>
export type OrderMachineExtension = MachineExtension<OrderContext, OrderEvent>

/** Host extensions, one per flow. */
export interface OrderMachineExtensions {
  delivery?: OrderMachineExtension
  pickup?: OrderMachineExtension
}

/**
 * Builds and validates both order machines. Throws `InvalidMachineError` naming every problem of an
 * extension (unknown target, unreachable state, unknown guard).
 */
export function createOrderMachines(
  extensions: OrderMachineExtensions = {},
): Record<OrderFlow, OrderMachine> {
  const builtIn = { guards: orderGuards, actions: ORDER_ACTIONS }
  return {
    delivery: new StatusMachine(deliveryOrderDefinition, builtIn, extensions.delivery),
    pickup: new StatusMachine(pickupOrderDefinition, builtIn, extensions.pickup),
  }
}
