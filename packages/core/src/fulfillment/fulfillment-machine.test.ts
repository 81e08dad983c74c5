import { describe, expect, test } from 'vitest'
import { isOmsError } from '../errors/oms-error'
import { createFulfillmentMachine, type FulfillmentContext } from './fulfillment-machine'

/** Written by hand from the fulfillment workflow (its statuses, steps and their timestamps). */
const table: Record<string, Record<string, [string, string[]]>> = {
  pending: {
    'fulfillment.start_picking': ['picking', ['stampPickingStarted']],
    'fulfillment.cancel': ['cancelled', ['returnLinesToHolds', 'stampCancelled']],
  },
  picking: {
    'fulfillment.start_packing': ['packing', ['stampPickingCompleted', 'stampPackingStarted']],
    'fulfillment.cancel': ['cancelled', ['returnLinesToHolds', 'stampCancelled']],
  },
  packing: {
    'fulfillment.complete_packing': ['ready_to_ship', ['stampPackingCompleted']],
    'fulfillment.cancel': ['cancelled', ['returnLinesToHolds', 'stampCancelled']],
  },
  ready_to_ship: {
    'fulfillment.ship': ['shipped', ['commitLines', 'stampShipped']],
    'fulfillment.complete': ['fulfilled', ['commitLines', 'stampFulfilled']],
    'fulfillment.complete_partially': ['partially_fulfilled', ['commitLines']],
    'fulfillment.cancel': ['cancelled', ['returnLinesToHolds', 'stampCancelled']],
  },
  shipped: {
    'fulfillment.complete': ['fulfilled', ['commitLines', 'stampFulfilled']],
    'fulfillment.complete_partially': ['partially_fulfilled', ['commitLines']],
  },
  partially_fulfilled: {
    'fulfillment.complete': ['fulfilled', ['commitLines', 'stampFulfilled']],
    'fulfillment.cancel': ['cancelled', ['returnLinesToHolds', 'stampCancelled']],
  },
  fulfilled: {},
  cancelled: {},
}

const EVENTS = [
  'fulfillment.start_picking',
  'fulfillment.start_packing',
  'fulfillment.complete_packing',
  'fulfillment.ship',
  'fulfillment.complete',
  'fulfillment.complete_partially',
  'fulfillment.cancel',
  'fulfillment.assign',
  'order.cancel',
]

const ctx: FulfillmentContext = { orderCancelled: false, attributes: {} }
const machine = createFulfillmentMachine()

describe('fulfillment machine', () => {
  test('declares the 8 fulfillment statuses', () => {
    expect([...machine.states].sort()).toEqual(Object.keys(table).sort())
    expect(machine.states).toHaveLength(8)
  })

  test('knows exactly the events of the table', () => {
    const events = new Set(Object.values(table).flatMap((row) => Object.keys(row)))
    expect([...machine.events].sort()).toEqual([...events].sort())
  })

  const cells = Object.keys(table).flatMap((state) => EVENTS.map((event) => [state, event] as const))
  test.each(cells)('%s × %s', (state, event) => {
    const expected = table[state]?.[event]
    if (expected) {
      const result = machine.transition(state, ctx, { type: event })
      expect([result.status, result.actions]).toEqual(expected)
    } else {
      let error: unknown
      try {
        machine.transition(state, ctx, { type: event })
      } catch (e) {
        error = e
      }
      expect(isOmsError(error) && error.code).toBe('INVALID_TRANSITION')
    }
  })

  test.each(Object.keys(table))('allowedEvents(%s)', (state) => {
    expect(machine.allowedEvents(state, ctx).sort()).toEqual(Object.keys(table[state] ?? {}).sort())
  })
})
