import { describe, expect, test } from 'vitest'
import { isOmsError } from '../errors/oms-error'
import { createOrderMachines, type OrderContext, type OrderMachine } from './order-machine'

/**
 * Expected tables, written out by hand from the order lifecycle (the state diagram, the cancellation rules
 * and the return process) — not derived from the machine. Each entry: event → [target, effects], for an
 * order with nothing packed, nothing sold and no short stock. Every (state, event) pair missing here must
 * be refused with INVALID_TRANSITION.
 */
type Table = Record<string, Record<string, [string, string[]]>>

const checkout: Table = {
  pending: {
    'order.checkout': ['payment_pending', ['reserveInventory']],
    'order.cancel': ['cancelled', []],
  },
}
const paymentPending = {
  'payment.succeeded': ['confirmed', ['markPaid', 'extendHolds']],
  'payment.failed': ['cancelled', ['markPaymentFailed', 'releaseHolds']],
  'reservation.expired': ['cancelled', ['releaseHolds']],
  'order.cancel': ['cancelled', ['releaseHolds']],
} satisfies Record<string, [string, string[]]>

const deliveryTable: Table = {
  ...checkout,
  payment_pending: paymentPending,
  confirmed: {
    'order.start_processing': ['processing', []],
    'order.cancel': ['cancelled', ['releaseHolds', 'refundPayment']],
  },
  processing: {
    'order.pack': ['packed', []],
    'order.cancel': ['cancelled', ['releaseHolds', 'refundPayment']],
  },
  packed: { 'order.ship': ['shipped', ['commitHolds']] },
  partially_shipped: { 'order.ship': ['shipped', ['commitHolds']] },
  shipped: { 'order.in_transit': ['in_transit', []], 'order.deliver_partially': ['partially_delivered', []] },
  in_transit: {
    'order.out_for_delivery': ['out_for_delivery', []],
    'order.deliver_partially': ['partially_delivered', []],
  },
  out_for_delivery: {
    'order.deliver': ['delivered', []],
    'order.deliver_partially': ['partially_delivered', []],
  },
  partially_delivered: { 'order.deliver': ['delivered', []] },
  delivered: {
    'order.complete': ['completed', []],
    'return.request': ['return_requested', []],
  },
  completed: {},
  cancelled: {},
  return_requested: {
    'return.review': ['under_review', []],
    'return.approve': ['return_approved', []],
    'return.reject': ['return_rejected', []],
  },
  under_review: {
    'return.approve': ['return_approved', []],
    'return.reject': ['return_rejected', []],
  },
  return_approved: {
    'refund.process': ['refunded', ['refundPayment', 'markRefunded']],
    'return.ship_back': ['return_shipped', []],
  },
  return_rejected: { 'return.keep': ['delivered', []] },
  return_shipped: { 'return.receive': ['return_received', []] },
  return_received: { 'return.inspect': ['quality_check', []] },
  quality_check: {
    'refund.approve': ['refund_approved', ['restockReturn']],
    'refund.reject': ['refund_rejected', []],
  },
  refund_approved: { 'refund.process': ['refunded', ['refundPayment', 'markRefunded']] },
  refund_rejected: {},
  refunded: {},
}

const pickupTable: Table = {
  ...checkout,
  payment_pending: { ...paymentPending, 'order.confirm': ['confirmed', ['extendHolds']] },
  confirmed: {
    'order.start_processing': ['processing', []],
    'order.cancel': ['cancelled', ['releaseHolds', 'refundPayment']],
  },
  processing: {
    'order.ready': ['ready_for_pickup', []],
    'order.cancel': ['cancelled', ['releaseHolds', 'refundPayment']],
  },
  ready_for_pickup: {
    'order.pick_up': ['picked_up', ['commitHolds']],
    'order.no_show': ['cancelled', ['releaseHolds', 'refundPayment']],
  },
  picked_up: { 'order.complete': ['completed', []], 'return.request': ['return_requested', []] },
  completed: {},
  cancelled: {},
  return_requested: deliveryTable.return_requested as Table[string],
  under_review: deliveryTable.under_review as Table[string],
  return_approved: deliveryTable.return_approved as Table[string],
  return_rejected: { 'return.keep': ['picked_up', []] },
  return_shipped: deliveryTable.return_shipped as Table[string],
  return_received: deliveryTable.return_received as Table[string],
  quality_check: deliveryTable.quality_check as Table[string],
  refund_approved: deliveryTable.refund_approved as Table[string],
  refund_rejected: {},
  refunded: {},
}

/** Every event either flow knows, plus one neither does. */
const ALL_EVENTS = [
  'order.checkout',
  'order.cancel',
  'order.confirm',
  'payment.succeeded',
  'payment.failed',
  'reservation.expired',
  'order.start_processing',
  'order.pack',
  'order.ship',
  'order.ship_partially',
  'order.deliver_partially',
  'order.in_transit',
  'order.out_for_delivery',
  'order.deliver',
  'order.complete',
  'order.ready',
  'order.pick_up',
  'order.no_show',
  'return.request',
  'return.review',
  'return.approve',
  'return.reject',
  'return.keep',
  'return.ship_back',
  'return.receive',
  'return.inspect',
  'refund.approve',
  'refund.reject',
  'refund.process',
  'order.teleport',
]

const ctx = (over: Partial<OrderContext> = {}): OrderContext => ({
  flow: 'delivery',
  channel: 'ecommerce',
  paymentStatus: 'unpaid',
  packedQuantity: 0,
  soldQuantity: 0,
  stockShort: false,
  partlyShipped: false,
  attributes: {},
  ...over,
})

function errorOf(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}

const machines = createOrderMachines()

describe.each([
  ['delivery', machines.delivery, deliveryTable],
  ['pickup', machines.pickup, pickupTable],
] as Array<[string, OrderMachine, Table]>)('%s order machine', (_flow, machine, table) => {
  test('declares exactly the states of the table', () => {
    expect([...machine.states].sort()).toEqual(Object.keys(table).sort())
  })

  test('knows exactly the events of the table', () => {
    const events = new Set(Object.values(table).flatMap((row) => Object.keys(row)))
    // legal only once a split order has partly shipped (see 'split orders')
    if (table === deliveryTable) events.add('order.ship_partially')
    expect([...machine.events].sort()).toEqual([...events].sort())
  })

  const cells = Object.keys(table).flatMap((state) => ALL_EVENTS.map((event) => [state, event] as const))
  test.each(cells)('%s × %s', (state, event) => {
    const expected = table[state]?.[event]
    if (expected) {
      const result = machine.transition(state, ctx(), { type: event })
      expect(result.status).toBe(expected[0])
      expect(result.actions).toEqual(expected[1])
    } else {
      const error = errorOf(() => machine.transition(state, ctx(), { type: event }))
      expect(isOmsError(error) && error.code).toBe('INVALID_TRANSITION')
    }
  })

  test.each(Object.keys(table))('allowedEvents(%s) lists exactly the legal events', (state) => {
    expect(machine.allowedEvents(state, ctx()).sort()).toEqual(Object.keys(table[state] ?? {}).sort())
  })

  test('final states are exactly those with no way out', () => {
    for (const state of machine.states) {
      expect(machine.isFinal(state)).toBe(Object.keys(table[state] ?? {}).length === 0)
    }
  })
})

describe('cancellation rules', () => {
  test.each(['delivery', 'pickup'] as const)('%s: pending and confirmed may cancel', (flow) => {
    expect(machines[flow].transition('pending', ctx(), { type: 'order.cancel' }).status).toBe('cancelled')
    expect(machines[flow].transition('confirmed', ctx(), { type: 'order.cancel' }).status).toBe('cancelled')
  })

  test.each(['delivery', 'pickup'] as const)(
    '%s: processing may cancel only while nothing is packed',
    (flow) => {
      const machine = machines[flow]
      expect(
        machine.transition('processing', ctx({ packedQuantity: 0 }), { type: 'order.cancel' }).status,
      ).toBe('cancelled')
      const error = errorOf(() =>
        machine.transition('processing', ctx({ packedQuantity: 2 }), { type: 'order.cancel' }),
      )
      expect(isOmsError(error) && error.code).toBe('INVALID_TRANSITION')
      expect((error as Error).message).toMatch(/already packed/)
      expect(machine.allowedEvents('processing', ctx({ packedQuantity: 2 }))).not.toContain('order.cancel')
    },
  )

  test.each(['packed', 'shipped', 'in_transit', 'out_for_delivery', 'delivered'])(
    'delivery: %s may not cancel, and the error says what to do instead',
    (state) => {
      const error = errorOf(() => machines.delivery.transition(state, ctx(), { type: 'order.cancel' }))
      expect(isOmsError(error) && error.code).toBe('INVALID_TRANSITION')
      expect((error as Error).message).toMatch(/return/)
    },
  )

  test('delivery: a packed order may cancel only while its stock is short and nothing of it was sold', () => {
    const machine = machines.delivery
    const cancel = { type: 'order.cancel' }
    expect(machine.transition('packed', ctx({ stockShort: true }), cancel)).toEqual({
      from: 'packed',
      status: 'cancelled',
      actions: ['releaseHolds', 'refundPayment'],
    })
    expect(machine.allowedEvents('packed', ctx({ stockShort: true })).sort()).toEqual([
      'order.cancel',
      'order.ship',
    ])
    for (const refused of [ctx(), ctx({ stockShort: true, soldQuantity: 1 })]) {
      const error = errorOf(() => machine.transition('packed', refused, cancel))
      expect(isOmsError(error) && error.code).toBe('INVALID_TRANSITION')
      expect((error as Error).message).toMatch(/stock is short/)
    }
  })

  test('pickup: a no-show is refused once part of the bag was handed over (sold)', () => {
    const machine = machines.pickup
    expect(machine.transition('ready_for_pickup', ctx(), { type: 'order.no_show' }).status).toBe('cancelled')
    const error = errorOf(() =>
      machine.transition('ready_for_pickup', ctx({ soldQuantity: 1 }), { type: 'order.no_show' }),
    )
    expect(isOmsError(error) && error.code).toBe('INVALID_TRANSITION')
    expect((error as Error).message).toMatch(/handed over/)
    expect(machine.allowedEvents('ready_for_pickup', ctx({ soldQuantity: 1 }))).toEqual(['order.pick_up'])
  })

  test('an unknown status is refused, not crashed on', () => {
    const error = errorOf(() =>
      machines.delivery.transition('lost_in_space', ctx(), { type: 'order.cancel' }),
    )
    expect(isOmsError(error) && error.code).toBe('INVALID_TRANSITION')
  })
})

describe('split orders', () => {
  test('processing or packed becomes partially shipped only while some fulfillments have shipped and others not', () => {
    const m = machines.delivery
    for (const from of ['processing', 'packed']) {
      expect(m.can(from, ctx({ soldQuantity: 1 }), { type: 'order.ship_partially' })).toBe(false)
      expect(m.transition(from, ctx({ partlyShipped: true }), { type: 'order.ship_partially' }).status).toBe(
        'partially_shipped',
      )
    }
    expect(
      isOmsError(errorOf(() => m.transition('partially_shipped', ctx(), { type: 'order.cancel' }))),
    ).toBe(true)
  })
})
