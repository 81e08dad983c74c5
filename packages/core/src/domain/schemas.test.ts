import { describe, expect, test } from 'vitest'
import { isOmsError, type ValidationError } from '../errors/oms-error'
import { addNoteInputSchema, adjustInventoryInputSchema, createOrderInputSchema } from './commands'
import {
  CHANNELS,
  DELIVERY_ORDER_STATUSES,
  FULFILLMENT_STATUSES,
  HISTORY_ACTIONS,
  MOVEMENT_REASONS,
  PICKUP_ORDER_STATUSES,
} from './enums'
import { parseInput } from './parse-input'
import { availableOf, moneySchema, quantitySchema } from './schemas'

const actor = { id: 'u1', roles: ['order_manager'] }
const validOrder = {
  actor,
  channel: 'kiosk',
  flow: 'pickup',
  storeId: 'store-1',
  currency: 'USD',
  lines: [{ itemId: 'item-1', quantity: 2, unitPriceMinor: 1999 }],
}

function validationError(fn: () => unknown): ValidationError {
  try {
    fn()
  } catch (error) {
    if (isOmsError(error) && error.code === 'VALIDATION') return error as ValidationError
    throw error
  }
  throw new Error('expected a VALIDATION error')
}
const paths = (error: ValidationError) => error.issues.map((i) => i.path).sort()

describe('enumerations from the seeds', () => {
  test('history actions include all 18 of the order lifecycle', () => {
    const seed = [
      'created',
      'confirmed',
      'payment_received',
      'processing_started',
      'packed',
      'shipped',
      'delivered',
      'cancelled',
      'refunded',
      'status_changed',
      'note_added',
      'payment_failed',
      'return_requested',
      'returned',
      'edited',
      'assigned',
      'inventory_reserved',
      'inventory_released',
    ]
    for (const action of seed) expect(HISTORY_ACTIONS).toContain(action)
  })
  test('8 fulfillment statuses, 4 channels, statuses of both flows, reason codes', () => {
    expect(FULFILLMENT_STATUSES).toHaveLength(8)
    expect(CHANNELS).toEqual(['kiosk', 'pos', 'ecommerce', 'wholesale'])
    expect(DELIVERY_ORDER_STATUSES).toEqual(
      expect.arrayContaining(['in_transit', 'out_for_delivery', 'quality_check']),
    )
    expect(PICKUP_ORDER_STATUSES).toEqual(expect.arrayContaining(['ready_for_pickup', 'picked_up']))
    expect(MOVEMENT_REASONS).toEqual(
      expect.arrayContaining(['receive', 'transfer_out', 'transfer_in', 'sale', 'pos_sync']),
    )
  })
})

describe('quantities and money are integers', () => {
  test.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, '3', null])(
    'quantity %s is rejected',
    (value) => {
      expect(quantitySchema.safeParse(value).success).toBe(false)
    },
  )
  test.each([0, 1, 1_000_000])('quantity %s is accepted', (value) => {
    expect(quantitySchema.parse(value)).toBe(value)
  })
  test('float money and lower-case currencies are rejected', () => {
    expect(moneySchema.safeParse({ amountMinor: 19.99, currency: 'USD' }).success).toBe(false)
    expect(moneySchema.safeParse({ amountMinor: 1999, currency: 'usd' }).success).toBe(false)
    expect(moneySchema.parse({ amountMinor: 1999, currency: 'USD' })).toEqual({
      amountMinor: 1999,
      currency: 'USD',
    })
  })
  test('available is clamped at zero after a shortage', () => {
    expect(availableOf({ onHand: 3, reserved: 5, damaged: 0, quarantine: 0, safetyStock: 0 })).toBe(0)
    expect(availableOf({ onHand: 10, reserved: 2, damaged: 1, quarantine: 1, safetyStock: 1 })).toBe(5)
  })
})

describe('commands reject bad input with a VALIDATION error naming every bad field', () => {
  test('a valid order parses with defaults', () => {
    const parsed = parseInput(createOrderInputSchema, validOrder, 'order')
    expect(parsed.lines[0]).toMatchObject({ discountMinor: 0, taxMinor: 0 })
    expect(parsed.shippingMinor).toBe(0)
  })

  test('negative, fractional and non-finite quantities, float money, unknown enums, extra fields', () => {
    const error = validationError(() =>
      parseInput(
        createOrderInputSchema,
        {
          ...validOrder,
          channel: 'drone',
          flow: 'teleport',
          lines: [
            { itemId: 'a', quantity: -1, unitPriceMinor: 100 },
            { itemId: 'b', quantity: 1.5, unitPriceMinor: 19.99 },
            { itemId: 'c', quantity: Number.POSITIVE_INFINITY, unitPriceMinor: 100, colour: 'red' },
          ],
          couponCode: 'FREE',
        },
        'order',
      ),
    )
    expect(paths(error)).toEqual(
      [
        'channel',
        'couponCode',
        'flow',
        'lines.0.quantity',
        'lines.1.quantity',
        'lines.1.unitPriceMinor',
        'lines.2.colour',
        'lines.2.quantity',
      ].sort(),
    )
    expect(error.message).toContain('lines.1.quantity')
    expect(error.details.issues).toHaveLength(8)
  })

  test('an actor with no roles or an unknown role is rejected', () => {
    const error = validationError(() =>
      parseInput(createOrderInputSchema, { ...validOrder, actor: { id: 'x', roles: ['wizard'] } }, 'order'),
    )
    expect(paths(error)).toEqual(['actor.roles.0'])
  })

  test.each([
    ['empty', ''],
    ['blank', '   '],
    ['over 5000 characters', 'x'.repeat(5001)],
  ])('a note that is %s is rejected', (_label, text) => {
    const error = validationError(() =>
      parseInput(addNoteInputSchema, { actor, orderId: 'o1', text }, 'note'),
    )
    expect(paths(error)).toEqual(['text'])
  })

  test('a 5000-character note is accepted', () => {
    expect(
      parseInput(addNoteInputSchema, { actor, orderId: 'o1', text: 'x'.repeat(5000) }, 'note').text,
    ).toHaveLength(5000)
  })

  test('an adjustment needs a known reason code and a non-zero whole delta', () => {
    const error = validationError(() =>
      parseInput(
        adjustInventoryInputSchema,
        { actor, itemId: 'i', locationId: 'l', delta: 0, reason: 'vibes' },
        'adjustment',
      ),
    )
    expect(paths(error)).toEqual(['delta', 'reason'])
  })
})
