import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import {
  blazeMemo,
  cartMatchesOrderNumber,
  mapBlazeCartStatus,
  mapBlazeProduct,
  mapBlazeStockLevels,
  toBlazeCartItems,
  toBlazeOrderRef,
  toUnitQuantity,
} from '../src/blaze-mapper'
import {
  blazeConsumerCartSchema,
  blazeErrorSchema,
  blazeListSchema,
  blazeProductSchema,
} from '../src/blaze-schemas'

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'))

const productList = blazeListSchema(blazeProductSchema)

describe('blaze: mapper', () => {
  test('maps the example products page to integer cents and whole units', () => {
    const page = productList.parse(fixture('products-page.json'))
    expect(page.total).toBe(2)
    expect(page.limit).toBe(100)
    const [blueDream, gummies] = page.items.map((p) => mapBlazeProduct(p, 'USD'))
    expect(blueDream).toEqual({
      externalId: '65f1c0a2e4b0a1b2c3d4e5f6',
      sku: 'BD35',
      name: 'Blue Dream 3.5g',
      category: 'Flower',
      unit: 'each',
      priceMinor: 3500,
      currency: 'USD',
      active: true,
      cannabis: { thc: 21.4, cbd: 0.1, potencyUnit: '%', strain: 'Hybrid', netWeightMg: null },
      updatedAt: new Date(1709856000000),
    })
    expect(gummies?.priceMinor).toBe(2000)
    expect(gummies?.cannabis.strain).toBeNull()
    expect(gummies?.updatedAt?.toISOString()).toBe('2024-03-07T00:00:00.000Z')
  })

  test('derives one stock level per inventory from the example quantities', () => {
    const page = productList.parse(fixture('products-page.json'))
    const levels = page.items.flatMap((p) =>
      mapBlazeStockLevels(p, { quantitySource: 'quantities', locations: undefined }),
    )
    expect(levels.map((l) => [l.externalProductId, l.externalLocationId, l.quantity, l.unit])).toEqual([
      ['65f1c0a2e4b0a1b2c3d4e5f6', '5d26ca35002ec407fccc9e39', 30, 'each'],
      ['65f1c0a2e4b0a1b2c3d4e5f6', '5d72f55b0964cc083b14fce8', 12, 'each'],
      ['65f1c0a2e4b0a1b2c3d4e7a0', '5d26ca35002ec407fccc9e39', 118, 'each'],
    ])
  })

  test('sellableQuantities and a location map change which levels are reported', () => {
    const page = productList.parse(fixture('products-page.json'))
    const blueDream = page.items[0]
    if (!blueDream) throw new Error('fixture has no products')
    const sellable = mapBlazeStockLevels(blueDream, {
      quantitySource: 'sellableQuantities',
      locations: undefined,
    })
    expect(sellable.map((l) => [l.externalLocationId, l.quantity])).toEqual([
      ['5d26ca35002ec407fccc9e39', 30],
    ])
    const mapped = mapBlazeStockLevels(blueDream, {
      quantitySource: 'quantities',
      locations: { '5d72f55b0964cc083b14fce8': 'back-safe', '000000000000000000000000': 'annex' },
    })
    expect(mapped.map((l) => [l.externalLocationId, l.quantity])).toEqual([
      ['back-safe', 12],
      ['annex', 0],
    ])
  })

  test('weighed (grams) products count in whole milligrams', () => {
    const product = blazeProductSchema.parse({
      id: 'p1',
      name: 'Bulk',
      category: { name: 'Flower', unitType: 'grams' },
      unitPrice: 9.5,
      quantities: [{ inventoryId: 'inv', quantity: 3.5 }],
    })
    expect(mapBlazeProduct(product, 'USD').unit).toBe('mg')
    expect(
      mapBlazeStockLevels(product, { quantitySource: 'quantities', locations: undefined })[0]?.quantity,
    ).toBe(3500)
    expect(toUnitQuantity(0.001, 'mg')).toBe(1)
    expect(toUnitQuantity(-4, 'each')).toBe(0)
  })

  test('a fractional quantity of a counted product fails validation at its path, never rounded', () => {
    const result = productList.safeParse({
      values: [
        {
          id: 'p1',
          name: 'Gummies',
          category: { name: 'Edibles', unitType: 'units' },
          quantities: [
            { inventoryId: 'a', quantity: 2 },
            { inventoryId: 'b', quantity: 2.5 },
          ],
        },
      ],
      total: 1,
    })
    expect(result.success).toBe(false)
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual(['values.0.quantities.1.quantity'])
  })

  test('accepts the searchResult and results list wrappers', () => {
    const item = { id: 'p1', name: 'X' }
    expect(productList.parse({ count: 1, total: 1, searchResult: [item] }).items).toHaveLength(1)
    expect(productList.parse({ count: 1, cursor: 'abc', results: [item] }).items).toHaveLength(1)
    expect(productList.safeParse({ total: 1 }).success).toBe(false)
  })

  test('reads the example submit response as a submitted order with its number', () => {
    const cart = blazeConsumerCartSchema.parse(fixture('cart-submit-response.json'))
    expect(toBlazeOrderRef(cart)).toEqual({
      externalId: '65f3a9d1e4b0a1b2c3d4f001',
      externalNumber: '10452',
      status: 'submitted',
      raw: 'Placed',
    })
    expect(cart.cart?.items?.map((i) => [i.productId, i.quantity])).toEqual([
      ['65f1c0a2e4b0a1b2c3d4e5f6', 2],
      ['65f1c0a2e4b0a1b2c3d4e7a0', 1],
    ])
  })

  test('the example prepare request parses as an open cart and keeps unknown fields', () => {
    const cart = blazeConsumerCartSchema.parse(fixture('cart-prepare-request.json'))
    expect(cart.cartStatus).toBe('InProgress')
    expect(toBlazeOrderRef(cart).status).toBe('submitted')
    expect(cart.deliveryAddress).toEqual(expect.objectContaining({ zipCode: '90012' }))
  })

  test('the example error body parses', () => {
    expect(blazeErrorSchema.parse(fixture('error-400-invalid-argument.json'))).toEqual({
      error: 'Invalid argument',
      message: 'Date range cannot exceed 7 days',
      status: 400,
    })
  })

  test.each([
    ['InProgress', {}, 'submitted'],
    ['Placed', {}, 'submitted'],
    ['Accepted', {}, 'accepted'],
    ['Accepted', { packaged: true }, 'ready'],
    ['Accepted', { packaged: true, onTheWay: true }, 'out_for_delivery'],
    ['Placed', { packaged: true }, 'ready'],
    ['Accepted', { completed: true }, 'completed'],
    ['Completed', {}, 'completed'],
    ['Declined', { packaged: true }, 'rejected'],
    ['CanceledByConsumer', {}, 'cancelled'],
    ['CanceledByDispensary', { onTheWay: true }, 'cancelled'],
  ] as const)('cartStatus %s with %o reads as %s', (cartStatus, flags, expected) => {
    expect(mapBlazeCartStatus({ cartStatus, ...flags })).toBe(expected)
  })

  test('an unknown cartStatus is a contract violation, not a guess', () => {
    const result = blazeConsumerCartSchema.safeParse({
      id: '65f3a9d1e4b0a1b2c3d4f001',
      cartStatus: 'Shipped',
    })
    expect(result.error?.issues[0]?.path).toEqual(['cartStatus'])
  })

  test('finds our order number in externalId or as a whole word of the memo', () => {
    expect(cartMatchesOrderNumber({ externalId: 'ORD-20261122-0001' }, 'ORD-20261122-0001')).toBe(true)
    expect(
      cartMatchesOrderNumber({ memo: blazeMemo('ORD-20261122-0001', 'leave at door') }, 'ORD-20261122-0001'),
    ).toBe(true)
    expect(cartMatchesOrderNumber({ memo: 'Peak OMS ORD-20261122-00010' }, 'ORD-20261122-0001')).toBe(false)
    expect(cartMatchesOrderNumber({ memo: null, externalId: null }, 'ORD-20261122-0001')).toBe(false)
  })

  test('cart items send weighed quantities back in grams', () => {
    const lines = [
      {
        lineId: '1',
        externalProductId: 'bulk',
        externalLocationId: null,
        quantity: 3500,
        unitPriceMinor: 950,
      },
      { lineId: '2', externalProductId: 'gum', externalLocationId: null, quantity: 2, unitPriceMinor: 2000 },
    ]
    expect(toBlazeCartItems(lines, (id) => (id === 'bulk' ? 'mg' : undefined))).toEqual([
      { productId: 'bulk', quantity: 3.5 },
      { productId: 'gum', quantity: 2 },
    ])
  })
})
