import type { MachineDefinition, MachineExtension } from '../machines/machine-definition'
import { StatusMachine } from '../machines/status-machine'

export interface FulfillmentContext {
  /** Whether the order is being cancelled too (then goods return to open stock, not to the order's holds). */
  orderCancelled: boolean
  attributes: Readonly<Record<string, unknown>>
}

export interface FulfillmentEvent {
  type: string
  reason?: string
  data?: Readonly<Record<string, unknown>>
}

/** Effect intents of fulfillment transitions; each stamps the timestamp of its step. */
export const FULFILLMENT_ACTIONS = [
  'stampPickingStarted',
  'stampPickingCompleted',
  'stampPackingStarted',
  'stampPackingCompleted',
  'stampShipped',
  'stampFulfilled',
  /** Consume the holds of the lines fulfilled (partial keeps the remainder held). */
  'commitLines',
  /** Give the lines' goods back to the order's holds (or to open stock when the order is cancelled). */
  'returnLinesToHolds',
  'stampCancelled',
] as const

const cancel = { target: 'cancelled', actions: ['returnLinesToHolds', 'stampCancelled'] }
const complete = { target: 'fulfilled', actions: ['commitLines', 'stampFulfilled'] }
const completePartially = { target: 'partially_fulfilled', actions: ['commitLines'] }

/** Fulfillment flow: pending → picking → packing → ready_to_ship → shipped → fulfilled. */
export const fulfillmentDefinition: MachineDefinition = {
  id: 'fulfillment',
  initial: 'pending',
  states: {
    pending: {
      on: {
        'fulfillment.start_picking': { target: 'picking', actions: ['stampPickingStarted'] },
        'fulfillment.cancel': cancel,
      },
    },
    picking: {
      on: {
        'fulfillment.start_packing': {
          target: 'packing',
          actions: ['stampPickingCompleted', 'stampPackingStarted'],
        },
        'fulfillment.cancel': cancel,
      },
    },
    packing: {
      on: {
        'fulfillment.complete_packing': { target: 'ready_to_ship', actions: ['stampPackingCompleted'] },
        'fulfillment.cancel': cancel,
      },
    },
    ready_to_ship: {
      on: {
        // Handed to the carrier: the sale happens here (the goods leave the building).
        'fulfillment.ship': { target: 'shipped', actions: ['commitLines', 'stampShipped'] },
        // Handed over at the counter (pickup): no shipping step.
        'fulfillment.complete': complete,
        'fulfillment.complete_partially': completePartially,
        'fulfillment.cancel': cancel,
      },
    },
    shipped: {
      on: {
        'fulfillment.complete': complete,
        'fulfillment.complete_partially': completePartially,
      },
      hints: { 'fulfillment.cancel': 'the fulfillment has shipped: handle it as a return' },
    },
    partially_fulfilled: {
      on: {
        'fulfillment.complete': complete,
        // The rest will not come: what was not fulfilled goes back.
        'fulfillment.cancel': cancel,
      },
    },
    fulfilled: { type: 'final' },
    cancelled: { type: 'final' },
  },
}

export type FulfillmentMachine = StatusMachine<FulfillmentContext, FulfillmentEvent>

export function createFulfillmentMachine(
  extension?: MachineExtension<FulfillmentContext, FulfillmentEvent>,
): FulfillmentMachine {
  return new StatusMachine(fulfillmentDefinition, { guards: {}, actions: FULFILLMENT_ACTIONS }, extension)
}
