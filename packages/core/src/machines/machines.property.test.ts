import { fc, test } from '@fast-check/vitest'
import { describe, expect } from 'vitest'
import { isOmsError } from '../errors/oms-error'
import { createFulfillmentMachine } from '../fulfillment/fulfillment-machine'
import { createOrderMachines, type OrderContext } from '../order/order-machine'
import type { StatusMachine } from './status-machine'

const orderMachines = createOrderMachines()
const all: Array<[string, StatusMachine<object, { type: string }>]> = [
  ['delivery order', orderMachines.delivery as unknown as StatusMachine<object, { type: string }>],
  ['pickup order', orderMachines.pickup as unknown as StatusMachine<object, { type: string }>],
  ['fulfillment', createFulfillmentMachine() as unknown as StatusMachine<object, { type: string }>],
]

const context = (packedQuantity: number): OrderContext & { orderCancelled: boolean } => ({
  flow: 'delivery',
  channel: 'kiosk',
  paymentStatus: 'unpaid',
  packedQuantity,
  soldQuantity: 0,
  stockShort: false,
  partlyShipped: false,
  attributes: {},
  orderCancelled: false,
})

describe.each(all)('%s machine under random event sequences', (_name, machine) => {
  const eventArb = fc.oneof(fc.constantFrom(...machine.events), fc.constant('bogus.event'))
  test.prop([fc.array(fc.tuple(eventArb, fc.nat({ max: 3 })), { maxLength: 60 })], { numRuns: 300 })(
    'always stays in a declared state and never leaves a final one',
    (steps) => {
      let status = machine.definition.initial
      for (const [type, packed] of steps) {
        const wasFinal = machine.isFinal(status)
        try {
          status = machine.transition(status, context(packed), { type }).status
          expect(wasFinal).toBe(false)
        } catch (error) {
          expect(isOmsError(error) && error.code).toBe('INVALID_TRANSITION')
        }
        expect(machine.isState(status)).toBe(true)
        if (wasFinal) expect(machine.isFinal(status)).toBe(true)
      }
    },
  )

  test('every state can be reached from the initial one', () => {
    const seen = new Set([machine.definition.initial])
    const queue = [machine.definition.initial]
    while (queue.length) {
      const s = queue.shift() as string
      // a split order that has partly shipped opens the partial states
      for (const c of [context(0), { ...context(0), partlyShipped: true }]) {
        for (const type of machine.allowedEvents(s, c)) {
          const next = machine.transition(s, c, { type }).status
          if (!seen.has(next)) {
            seen.add(next)
            queue.push(next)
          }
        }
      }
    }
    expect([...seen].sort()).toEqual([...machine.states].sort())
  })
})
