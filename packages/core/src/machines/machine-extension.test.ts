import { describe, expect, test } from 'vitest'
import { isOmsError } from '../errors/oms-error'
import { createFulfillmentMachine } from '../fulfillment/fulfillment-machine'
import { createOrderMachines, type OrderContext, type OrderMachineExtension } from '../order/order-machine'

const ctx = (attributes: Record<string, unknown> = {}): OrderContext => ({
  flow: 'pickup',
  channel: 'kiosk',
  paymentStatus: 'unpaid',
  packedQuantity: 0,
  soldQuantity: 0,
  stockShort: false,
  partlyShipped: false,
  attributes,
})

function errorOf(fn: () => unknown): Error & { code?: string; details?: Record<string, unknown> } {
  try {
    fn()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a throw')
}

const compliance: OrderMachineExtension = {
  guards: { idVerified: ({ context }) => context.attributes.idVerified === true },
  requireGuards: [
    { from: 'payment_pending', event: 'payment.succeeded', guard: 'idVerified' },
    { from: 'payment_pending', event: 'order.confirm', guard: 'idVerified' },
  ],
  states: {
    payment_pending: { on: { 'compliance.flag': { target: 'compliance_hold' } } },
    compliance_hold: {
      on: {
        'compliance.clear': { target: 'confirmed', actions: ['extendHolds', 'notifyCompliance'] },
        'order.cancel': { target: 'cancelled', actions: ['releaseHolds'] },
      },
    },
  },
  actions: ['notifyCompliance'],
}

describe('host extension', () => {
  test('a compliance guard before confirm blocks until the order is verified', () => {
    const { pickup } = createOrderMachines({ pickup: compliance })
    const blocked = errorOf(() => pickup.transition('payment_pending', ctx(), { type: 'payment.succeeded' }))
    expect(blocked.code).toBe('INVALID_TRANSITION')
    expect(pickup.allowedEvents('payment_pending', ctx())).not.toContain('payment.succeeded')
    const ok = pickup.transition('payment_pending', ctx({ idVerified: true }), { type: 'payment.succeeded' })
    expect(ok.status).toBe('confirmed')
  })

  test('added states and transitions work, with host effect intents', () => {
    const { pickup, delivery } = createOrderMachines({ pickup: compliance })
    expect(pickup.transition('payment_pending', ctx(), { type: 'compliance.flag' }).status).toBe(
      'compliance_hold',
    )
    const cleared = pickup.transition('compliance_hold', ctx(), { type: 'compliance.clear' })
    expect(cleared).toEqual({
      from: 'compliance_hold',
      status: 'confirmed',
      actions: ['extendHolds', 'notifyCompliance'],
    })
    // the other flow is untouched
    expect(delivery.isState('compliance_hold')).toBe(false)
  })

  test('a host transition for an event a state already handles is tried first', () => {
    const { delivery } = createOrderMachines({
      delivery: {
        states: {
          confirmed: { on: { 'order.start_processing': { target: 'awaiting_driver' } } },
          awaiting_driver: { on: { 'driver.assigned': { target: 'processing' } } },
        },
      },
    })
    expect(delivery.transition('confirmed', ctx(), { type: 'order.start_processing' }).status).toBe(
      'awaiting_driver',
    )
  })

  test('an unknown target is rejected at start-up, naming it', () => {
    const error = errorOf(() =>
      createOrderMachines({
        delivery: { states: { delivered: { on: { 'order.archive': { target: 'archived' } } } } },
      }),
    )
    expect(error.code).toBe('INVALID_MACHINE')
    expect(error.message).toContain('unknown state "archived"')
  })

  test('an unreachable state is rejected at start-up, naming it', () => {
    const error = errorOf(() =>
      createOrderMachines({
        pickup: { states: { limbo: { on: { 'order.cancel': { target: 'cancelled' } } } } },
      }),
    )
    expect(error.code).toBe('INVALID_MACHINE')
    expect(error.message).toContain('state "limbo" is unreachable')
  })

  test('an unknown guard or action, and a guard on a missing transition, are rejected', () => {
    const error = errorOf(() =>
      createOrderMachines({
        delivery: {
          requireGuards: [{ from: 'shipped', event: 'order.cancel', guard: 'never' }],
          states: {
            delivered: {
              on: { 'order.archive': { target: 'completed', guard: 'ghost', actions: ['launch'] } },
            },
          },
        },
      }),
    )
    expect(isOmsError(error)).toBe(true)
    expect(error.message).toContain('unknown guard "ghost"')
    expect(error.message).toContain('unknown action "launch"')
    expect(error.message).toContain('shipped')
  })

  test('transitions out of a final state are rejected', () => {
    const error = errorOf(() =>
      createFulfillmentMachine({
        states: { fulfilled: { on: { 'fulfillment.reopen': { target: 'pending' } } } },
      }),
    )
    expect(error.code).toBe('INVALID_MACHINE')
    expect(error.message).toContain('final state "fulfilled"')
  })
})
