import { isPosError } from '@peak-oms/core'
import { describe, expect, test } from 'vitest'
import type { DutchieCallContext } from '../src/dutchie-http'
import {
  dutchieIdempotencyKey,
  mapInventory,
  mapOrderStatus,
  mapPreOrderRef,
  mapProduct,
  notesMatch,
  orderNotes,
  parseDutchieId,
  preOrderItems,
  productUnit,
  wholeQuantity,
} from '../src/dutchie-mapper'
import {
  badRequestSchema,
  parseDutchieDate,
  preOrderStatusSchema,
  productListSchema,
  reportingInventorySchema,
  submitResponseSchema,
} from '../src/dutchie-schemas'
import { expectedProducts } from '../src/testing/dutchie-fixtures'
import productsExample from '../src/testing/fixtures/products-page.json'
import inventoryExample from '../src/testing/fixtures/reporting-inventory-page.json'
import badRequestExample from './fixtures/error-400-bad-request.json'
import statusExample from './fixtures/preorder-status-response.json'
import submitRequestExample from './fixtures/preorder-submit-request.json'
import { component, validateAgainst } from './openapi-check'

const inventoryCtx: DutchieCallContext = {
  operation: 'pullInventory',
  method: 'GET',
  path: '/reporting/inventory',
}
const statusCtx: DutchieCallContext = { operation: 'getOrderStatus', method: 'GET', path: '/preorder/Status' }
const mapping = { pricing: 'recreational', currency: 'USD' } as const

const invalidFields = (fn: () => unknown): string[] => {
  try {
    fn()
  } catch (error) {
    if (isPosError(error) && error.code === 'POS_INVALID_RESPONSE') {
      return (error.details.fields as string[] | undefined) ?? []
    }
    throw error
  }
  throw new Error('expected POS_INVALID_RESPONSE')
}

describe('dutchie: mapper against the example payloads', () => {
  test('the examples and our spec checker agree (the checker can fail)', () => {
    expect(validateAgainst({ type: 'array', items: component('ProductDetail') }, productsExample)).toEqual([])
    expect(
      validateAgainst({ type: 'array', items: component('ReportingInventoryItem') }, inventoryExample),
    ).toEqual([])
    expect(validateAgainst(component('PreOrderStatus'), statusExample)).toEqual([])
    expect(validateAgainst(component('CreatePreOrderRequest'), submitRequestExample)).toEqual([])
    expect(validateAgainst(component('BadRequestResponse'), badRequestExample)).toEqual([])
    expect(validateAgainst(component('PreOrderStatus'), { ...statusExample, preOrderId: '48213' })).toEqual([
      '$.preOrderId: expected integer',
    ])
    expect(validateAgainst(component('PreOrderStatus'), { ...statusExample, notes: 'x' })).toEqual([
      '$.notes: not in the schema',
    ])
  })

  test('products-page.json maps to integer cents, whole milligrams and core units', () => {
    const products = productListSchema.parse(productsExample).map((p) => mapProduct(p, mapping))
    expect(products).toEqual(expectedProducts.slice(0, 2))
  })

  test('medical pricing uses medPrice, falling back to price', () => {
    const [blueDream] = productListSchema.parse(productsExample)
    if (!blueDream) throw new Error('example has no products')
    expect(mapProduct(blueDream, { ...mapping, pricing: 'medical' }).priceMinor).toBe(3200)
    expect(
      mapProduct({ ...blueDream, medPrice: null, price: 30.005 }, { ...mapping, pricing: 'medical' })
        .priceMinor,
    ).toBe(3001)
    expect(mapProduct({ ...blueDream, recPrice: null, price: null }, mapping).priceMinor).toBeNull()
  })

  test('a CBD figure in another unit than THC is dropped rather than mislabelled', () => {
    const [blueDream] = productListSchema.parse(productsExample)
    if (!blueDream) throw new Error('example has no products')
    const mapped = mapProduct({ ...blueDream, cbdContent: 5, cbdContentUnit: 'mg' }, mapping)
    expect(mapped.cannabis).toMatchObject({ thc: 21.4, cbd: null, potencyUnit: '%' })
  })

  test('product units: Qty is each, Grams is whole milligrams', () => {
    expect(productUnit('Qty')).toBe('each')
    expect(productUnit('Grams')).toBe('mg')
    expect(productUnit('g')).toBe('mg')
    expect(productUnit(null)).toBe('each')
  })

  test('reporting-inventory-page.json sums packages per product at the location', () => {
    const rows = reportingInventorySchema.parse(inventoryExample)
    const { levels } = mapInventory(
      rows,
      { mode: 'location', locationId: '4412', roomKey: 'name' },
      inventoryCtx,
    )
    expect(levels).toEqual([
      {
        externalProductId: '1184920',
        externalLocationId: '4412',
        quantity: 42,
        unit: 'each',
        updatedAt: new Date('2026-03-06T15:41:19.000Z'),
      },
      {
        externalProductId: '1185377',
        externalLocationId: '4412',
        quantity: 118,
        unit: 'each',
        updatedAt: new Date('2026-03-06T15:41:19.000Z'),
      },
    ])
  })

  test('rooms mode reports roomQuantities per room, by name or id, filtered by the allow-list', () => {
    const rows = reportingInventorySchema.parse(inventoryExample)
    const byName = mapInventory(rows, { mode: 'rooms', locationId: '', roomKey: 'name' }, inventoryCtx)
    expect(byName.levels.map((l) => [l.externalProductId, l.externalLocationId, l.quantity])).toEqual([
      ['1184920', 'Sales Floor', 30],
      ['1184920', 'Vault', 12],
      ['1185377', 'Sales Floor', 118],
    ])
    const byId = mapInventory(
      rows,
      { mode: 'rooms', locationId: '', roomKey: 'id', rooms: ['302'] },
      inventoryCtx,
    )
    expect(byId.levels.map((l) => [l.externalProductId, l.externalLocationId, l.quantity])).toEqual([
      ['1184920', '302', 12],
    ])
    const noRooms = mapInventory(
      rows.map((row) => ({ ...row, roomQuantities: null })),
      { mode: 'rooms', locationId: '', roomKey: 'name' },
      inventoryCtx,
    )
    expect(noRooms).toEqual({ levels: [], rowsWithoutRooms: 2 })
  })

  test('grams become whole milligrams; a fractional count or a sub-milligram weight is never rounded', () => {
    expect(wholeQuantity(27.5, 'grams')).toEqual({ quantity: 27500, unit: 'mg' })
    expect(wholeQuantity(0.1 + 0.2, 'grams')).toEqual({ quantity: 300, unit: 'mg' })
    expect(wholeQuantity(3, 'count')).toEqual({ quantity: 3, unit: 'each' })
    expect(wholeQuantity(2.5, 'count')).toBeNull()
    expect(wholeQuantity(1.0005, 'grams')).toBeNull()
    expect(wholeQuantity(12.5, 'milligrams')).toBeNull()

    const rows = reportingInventorySchema.parse(inventoryExample)
    const fractional = rows.map((row, index) => (index === 1 ? { ...row, quantityAvailable: 117.5 } : row))
    expect(
      invalidFields(() =>
        mapInventory(fractional, { mode: 'location', locationId: 'x', roomKey: 'name' }, inventoryCtx),
      ),
    ).toEqual(['1.quantityAvailable'])
    const roomFraction = rows.map((row, index) =>
      index === 0 ? { ...row, roomQuantities: [{ roomId: 1, room: 'A', quantityAvailable: 0.5 }] } : row,
    )
    expect(
      invalidFields(() =>
        mapInventory(roomFraction, { mode: 'rooms', locationId: '', roomKey: 'name' }, inventoryCtx),
      ),
    ).toEqual(['0.roomQuantities.0.quantityAvailable'])
  })

  test('packages of one product that disagree on the unit are invalid; negative stock reads as 0', () => {
    const rows = reportingInventorySchema.parse(inventoryExample)
    const [first] = rows
    if (!first) throw new Error('example has no rows')
    const mixed = [first, { ...first, quantityUnits: 'g', quantityAvailable: 1.5 }]
    expect(
      invalidFields(() =>
        mapInventory(mixed, { mode: 'location', locationId: 'x', roomKey: 'name' }, inventoryCtx),
      ),
    ).toEqual(['1.quantityUnits'])
    const negative = [{ ...first, quantityAvailable: -3 }]
    expect(
      mapInventory(negative, { mode: 'location', locationId: 'x', roomKey: 'name' }, inventoryCtx).levels[0]
        ?.quantity,
    ).toBe(0)
  })

  test('wrong types in an inventory row are reported by dotted path', () => {
    const result = reportingInventorySchema.safeParse(
      inventoryExample.map((row, index) => (index === 1 ? { ...row, quantityAvailable: '118' } : row)),
    )
    expect(result.success).toBe(false)
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['1.quantityAvailable'])
  })

  test('preorder-status-response.json maps to a ref, and customer names are not even parsed', () => {
    const parsed = preOrderStatusSchema.parse(statusExample)
    expect(JSON.stringify(parsed)).not.toContain('Jane')
    expect(mapPreOrderRef(parsed, statusCtx)).toEqual({
      externalId: '48213',
      externalNumber: null,
      status: 'submitted',
      raw: 'Submitted',
    })
    expect(invalidFields(() => mapPreOrderRef({ ...parsed, status: 'Teleported' }, statusCtx))).toEqual([
      'status',
    ])
  })

  test('status mapping follows the brief', () => {
    expect(
      ['Submitted', 'Processing', 'Filled', 'Complete', 'Cancelled', 'Canceled'].map((raw) =>
        mapOrderStatus(raw),
      ),
    ).toEqual(['submitted', 'in_progress', 'ready', 'completed', 'cancelled', 'cancelled'])
    expect(mapOrderStatus('Unheard')).toBeNull()
  })

  test('error-400-bad-request.json parses; submit answers an int32 id', () => {
    expect(badRequestSchema.parse(badRequestExample).propertyErrors?.[0]?.propertyName).toBe(
      'Items[0].Quantity',
    )
    expect(submitResponseSchema.parse(48213)).toBe(48213)
    expect(submitResponseSchema.parse({ orderId: 7 })).toBe(7)
    expect(submitResponseSchema.safeParse('48213').success).toBe(false)
  })

  test('dates without an offset are UTC; garbage is no date', () => {
    expect(parseDutchieDate('2026-03-04T12:00:00')?.toISOString()).toBe('2026-03-04T12:00:00.000Z')
    expect(parseDutchieDate('2026-03-04T12:00:00-07:00')?.toISOString()).toBe('2026-03-04T19:00:00.000Z')
    expect(parseDutchieDate('yesterday')).toBeNull()
  })
})

describe('dutchie: order helpers', () => {
  test('idempotency keys fit in 36 characters, deterministically', () => {
    expect(dutchieIdempotencyKey('5b0e7c1a-2f4d-4e8a-9c61-0d3f2a7b9e14')).toBe(
      '5b0e7c1a-2f4d-4e8a-9c61-0d3f2a7b9e14',
    )
    const long = 'peak-oms/order/ORD-20261122-0001/push/attempt-independent'
    const key = dutchieIdempotencyKey(long)
    expect(key).toHaveLength(36)
    expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    expect(dutchieIdempotencyKey(long)).toBe(key)
    expect(dutchieIdempotencyKey(`${long}x`)).not.toBe(key)
  })

  test('notes carry our order number; matching never confuses a longer number', () => {
    const notes = orderNotes('Peak OMS', 'ORD-20261122-0001', 'ring the bell')
    expect(notes).toBe('Peak OMS ORD-20261122-0001\nring the bell')
    expect(notesMatch('Peak OMS', 'ORD-20261122-0001', notes)).toBe(true)
    expect(notesMatch('Peak OMS', 'ORD-20261122-0001', 'Peak OMS ORD-20261122-00012')).toBe(false)
    expect(notesMatch('Peak OMS', 'ORD-20261122-000', notes)).toBe(false)
    expect(notesMatch('Peak OMS', 'ORD-20261122-0001', 'Online order WEB-100045')).toBe(false)
    expect(notesMatch('Peak OMS', 'ORD-20261122-0001', null)).toBe(false)
  })

  test('order lines become pre-order items; weighed lines go from mg to grams', () => {
    const lines = [
      {
        lineId: 'a',
        externalProductId: '1184920',
        externalLocationId: null,
        quantity: 2,
        unitPriceMinor: 3500,
      },
      {
        lineId: 'b',
        externalProductId: '1190001',
        externalLocationId: null,
        quantity: 3500,
        unitPriceMinor: 999,
      },
    ]
    const { items, issues } = preOrderItems(lines, (id) => (id === 1190001 ? 'mg' : 'each'))
    expect(issues).toEqual([])
    expect(items).toEqual([
      { productId: 1184920, quantity: 2 },
      { productId: 1190001, quantity: 3.5 },
    ])
    // The assembled request has exactly the CreatePreOrderRequest shape of the example.
    const body = { customerId: 6603318, items, isDelivery: false, idempotencyKey: 'k', notes: 'n' }
    expect(validateAgainst(component('CreatePreOrderRequest'), body)).toEqual([])
  })

  test('bad lines are reported as field issues', () => {
    const { issues } = preOrderItems(
      [
        { lineId: 'a', externalProductId: 'abc', externalLocationId: null, quantity: 1, unitPriceMinor: 1 },
        { lineId: 'b', externalProductId: '12', externalLocationId: null, quantity: 1.5, unitPriceMinor: 1 },
        { lineId: 'c', externalProductId: '13', externalLocationId: null, quantity: 0, unitPriceMinor: 1 },
      ],
      () => 'each',
    )
    expect(issues.map((issue) => issue.path)).toEqual([
      'lines.0.externalProductId',
      'lines.1.quantity',
      'lines.2.quantity',
    ])
    expect(preOrderItems([], () => 'each').issues.map((issue) => issue.path)).toEqual(['lines'])
  })

  test('Dutchie ids are positive int32', () => {
    expect(parseDutchieId('48213')).toBe(48213)
    expect(parseDutchieId('0')).toBeNull()
    expect(parseDutchieId('2147483648')).toBeNull()
    expect(parseDutchieId('does-not-exist')).toBeNull()
    expect(parseDutchieId(null)).toBeNull()
  })
})
