import { createOrderMachines, isOmsError, type OrderContext } from '@peak-oms/core'

// Walks a kiosk (pickup) order through its machine, printing what a kiosk UI would offer at each step.
const { pickup } = createOrderMachines()
const context: OrderContext = {
  flow: 'pickup',
  channel: 'kiosk',
  paymentStatus: 'unpaid',
  packedQuantity: 0,
  attributes: {},
}

let status = pickup.definition.initial
const steps = [
  'order.checkout',
  'payment.succeeded',
  'order.start_processing',
  'order.ready',
  'order.pick_up',
  'order.complete',
]
console.log(`kiosk order starts as ${status}; allowed: ${pickup.allowedEvents(status, context).join(', ')}`)
for (const type of steps) {
  const result = pickup.transition(status, context, { type })
  console.log(
    `${type.padEnd(24)} ${result.from} → ${result.status}  effects: ${result.actions.join(', ') || '—'}`,
  )
  status = result.status
}
try {
  pickup.transition(status, context, { type: 'order.cancel' })
} catch (error) {
  if (isOmsError(error)) console.log(`cancel after completion is refused: ${error.code} (${error.message})`)
}
