import { type Clock, type PosOrderInput, ValidationError } from '@peak-oms/core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createTreezToken, TREEZ_STATUS_MAP, TREEZ_TICKET_STATUSES } from '../src/index'
import type { FakeTreezServer } from '../src/testing/fake-treez-server'
import productExample from '../src/testing/fixtures/product-list-page.json'
import createResponseExample from '../src/testing/fixtures/ticket-create-response.json'
import { resolveTreezConfig, type TreezConfig } from '../src/treez-config'
import {
  TreezMappingIssue,
  toCancelTicketBody,
  toCreateTicketBody,
  toOrderRef,
  toPosProduct,
  toStockLevels,
  toWholeUnits,
} from '../src/treez-mapper'
import {
  treezProductPageSchema,
  treezStockPageSchema,
  treezTicketByIdSchema,
  treezTicketCreatedSchema,
} from '../src/treez-schemas'
import errorExample from './fixtures/error-400-ticket-format.json'
import stockExample from './fixtures/stock-page.json'
import createRequestExample from './fixtures/ticket-create-request.json'
import {
  CERTIFICATE_ID,
  DISPENSARY,
  harnessOrder,
  ORGANIZATION_ID,
  startTreezHarness,
  testKeys,
} from './treez-harness'

const config = (overrides: Partial<TreezConfig> = {}) =>
  resolveTreezConfig({
    privateKey: testKeys().pem,
    certificateId: CERTIFICATE_ID,
    organizationId: ORGANIZATION_ID,
    dispensary: 'partnersandbox3',
    ...overrides,
  })

describe('treez: mapping the published examples', () => {
  test('product-list-page.json parses and maps to integer cents and mg potency', () => {
    const page = treezProductPageSchema.parse(productExample)
    expect(page.data.product_list).toHaveLength(1)
    const [product] = page.data.product_list
    if (!product) throw new Error('no product')
    expect(toPosProduct(product, config())).toEqual({
      externalId: '6c6ef005-b89d-48dc-ad89-62602d3d5791',
      sku: null,
      name: '100MG TABLETS - INDICA - ELEKTRA ICE - 1000MG PACKAGE',
      category: 'PILL',
      unit: 'each',
      priceMinor: 1850,
      currency: 'USD',
      active: true,
      cannabis: { thc: 0, cbd: 0, potencyUnit: 'mg', strain: null, netWeightMg: null },
      updatedAt: new Date('2026-04-24T08:09:09.508Z'),
    })
  })

  test('stock-page.json maps to one whole-unit level per product and location', () => {
    const page = treezStockPageSchema.parse(stockExample)
    const levels = toStockLevels(page.data.stock, config(), 'data.stock')
    expect(
      levels.map((l) => [l.externalProductId.slice(0, 8), l.externalLocationId, l.quantity, l.unit]),
    ).toEqual([
      ['006051c1', 'DISPLAY CASE 1', 998, 'each'],
      ['00781822', 'DISPLAY CASE 1', 1000, 'each'],
      ['00df1cb5', 'BACK OF HOUSE', 5000, 'each'],
      ['0160bfb5', 'DISPLAY CASE 1', 1000, 'each'],
      ['0238cdfa', 'DISPLAY CASE 1', 999, 'each'],
    ])
    expect(levels[0]?.updatedAt).toEqual(new Date('2025-12-19T09:44:15.000Z'))
  })

  test('stock of weighed categories becomes whole milligrams; location and type filters apply', () => {
    const page = treezStockPageSchema.parse(stockExample)
    const weighed = toStockLevels(page.data.stock, config({ weighedCategories: ['EXTRACT'] }), 'data.stock')
    expect(weighed.find((l) => l.externalProductId.startsWith('0238cdfa'))).toMatchObject({
      quantity: 999_000,
      unit: 'mg',
    })
    const front = toStockLevels(
      page.data.stock,
      config({ sellableLocations: ['BACK OF HOUSE'] }),
      'data.stock',
    )
    expect(front.map((l) => l.externalProductId.slice(0, 8))).toEqual(['00df1cb5'])
    expect(toStockLevels(page.data.stock, config({ inventoryType: 'MEDICAL' }), 'data.stock')).toEqual([])
  })

  test('a fractional count is a mapping issue naming the field; weights are exact to the milligram', () => {
    expect(() =>
      toWholeUnits(2.5, 'each', 'GRAMS', 'data.stock.1.inventory_details.0.sellable_quantity'),
    ).toThrow(TreezMappingIssue)
    try {
      toWholeUnits(2.5, 'each', 'GRAMS', 'data.stock.1.inventory_details.0.sellable_quantity')
    } catch (error) {
      expect((error as TreezMappingIssue).field).toBe('data.stock.1.inventory_details.0.sellable_quantity')
    }
    expect(toWholeUnits(0.1, 'mg', 'GRAMS', 'f')).toBe(100)
    expect(toWholeUnits(453.6, 'mg', 'GRAMS', 'f')).toBe(453_600)
    expect(toWholeUnits(250, 'mg', 'MILLIGRAMS', 'f')).toBe(250)
    expect(() => toWholeUnits(1.0005, 'mg', 'GRAMS', 'f')).toThrow(TreezMappingIssue)
  })

  test('ticket-create-response.json parses and reads as an accepted order', () => {
    const created = treezTicketCreatedSchema.parse(createResponseExample)
    expect(toOrderRef(created.data)).toEqual({
      externalId: '577c8103-617b-4d0d-8904-98a94abb43c1',
      externalNumber: 'A0II1B',
      status: 'accepted',
      raw: 'AWAITING_PROCESSING',
    })
    // The same ticket in get-by-id's `ticketList` wrapper.
    const byId = treezTicketByIdSchema.parse({
      resultCode: 'SUCCESS',
      ticketList: [createResponseExample.data],
    })
    expect(byId.ticketList[0]?.customer_id).toBe(20)
  })

  test('every Treez status maps as the README table says', () => {
    expect(TREEZ_STATUS_MAP).toEqual({
      DRAFT: 'submitted',
      PREVIEW: 'submitted',
      VERIFICATION_PENDING: 'submitted',
      AWAITING_PROCESSING: 'accepted',
      IN_PROCESS: 'in_progress',
      PACKED_READY: 'ready',
      OUT_FOR_DELIVERY: 'out_for_delivery',
      COMPLETED: 'completed',
      CANCELED: 'cancelled',
      REMOVED: 'cancelled',
    })
    expect(Object.keys(TREEZ_STATUS_MAP).sort()).toEqual([...TREEZ_TICKET_STATUSES].sort())
  })
})

describe('treez: request bodies', () => {
  const exampleOrder: PosOrderInput = {
    orderId: 'o1',
    orderNumber: 'ORD-20260714-0001',
    idempotencyKey: 'k1',
    channel: 'ecommerce',
    fulfillment: 'pickup',
    externalCustomerId: '20',
    lines: [
      {
        lineId: 'l1',
        externalProductId: 'c6beed87-febe-409c-82df-d55186663b23',
        externalLocationId: 'FRONT OF HOUSE MED',
        quantity: 3,
        unitPriceMinor: 100,
      },
    ],
    currency: 'USD',
    totalMinor: 300,
    notes: null,
  }

  test('the create body has the fields of ticket-create-request.json plus our order number', () => {
    const body = toCreateTicketBody(
      exampleOrder,
      config({
        ticketTypes: { pickup: 'DRIVE_THRU' },
        revenueSource: 'Treez API Testing',
        orderInventoryType: 'MEDICAL',
      }),
    )
    const { items: exampleItems, ...exampleTop } = createRequestExample
    const { items, ...top } = body
    expect(top).toEqual({ ...exampleTop, external_order_number: 'ORD-20260714-0001' })
    expect(items).toEqual(exampleItems.map(({ apply_automatic_discounts: _, ...item }) => item))
  })

  test('lines Treez cannot take are a ValidationError naming each line field', () => {
    const bad: PosOrderInput = {
      ...exampleOrder,
      lines: [
        { lineId: 'a', externalProductId: 'x', externalLocationId: null, quantity: 1, unitPriceMinor: 1 },
        { lineId: 'b', externalProductId: ' ', externalLocationId: 'FOH', quantity: 1.5, unitPriceMinor: 1 },
      ],
    }
    try {
      toCreateTicketBody(bad, config())
      throw new Error('expected a ValidationError')
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).issues.map((i) => i.path)).toEqual([
        'lines.0.externalLocationId',
        'lines.1.externalProductId',
        'lines.1.quantity',
      ])
    }
    expect(
      toCreateTicketBody(
        bad.lines[0] ? { ...exampleOrder, lines: [bad.lines[0]] } : exampleOrder,
        config({ defaultLocationName: 'FRONT OF HOUSE' }),
      ).items[0]?.location_name,
    ).toBe('FRONT OF HOUSE')
  })

  test('the cancel body resends the ticket as it is, with CANCELED and the reason in the note', () => {
    const ticket = treezTicketCreatedSchema.parse(createResponseExample).data
    expect(toCancelTicketBody(ticket, 'customer changed their mind', config())).toEqual({
      type: 'DRIVE_THRU',
      order_source: 'ECOMMERCE',
      order_status: 'CANCELED',
      revenue_source: 'Treez API Testing',
      customer_id: '20',
      ticket_note: 'Cancelled: customer changed their mind',
      items: [
        {
          size_id: 'c6beed87-febe-409c-82df-d55186663b23',
          quantity: 3,
          inventory_type: 'MEDICAL',
          location_name: 'FRONT OF HOUSE MED',
        },
      ],
    })
  })
})

describe('treez: the fake answers in the shapes of the examples', () => {
  let fake: FakeTreezServer
  let clock: Clock
  let close: () => Promise<void>
  beforeAll(async () => {
    const h = await startTreezHarness()
    fake = h.fake
    clock = h.clock
    close = h.close
  })
  afterAll(async () => {
    await close()
  })

  const call = async (method: string, path: string, body?: unknown) => {
    const url = `${fake.baseUrl}/${DISPENSARY}${path}`
    const response = await fetch(url, {
      method,
      headers: {
        Authorization: createTreezToken({
          privateKey: testKeys().privateKey,
          certificateId: CERTIFICATE_ID,
          organizationId: ORGANIZATION_ID,
          url,
          now: clock.now(),
        }),
        'content-type': 'application/json',
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  }
  const keys = (value: unknown) => Object.keys(value as object).sort()

  test('product_list and getStock use the example envelopes and record keys', async () => {
    const products = await call('GET', '/product/product_list?page=1&pagesize=2')
    expect(keys(products.body)).toEqual(keys(productExample))
    expect(keys(products.body.data)).toEqual(keys(productExample.data))
    const [first] = (products.body.data as { product_list: unknown[] }).product_list
    expect(keys(first)).toEqual(keys(productExample.data.product_list[0]))
    const stock = await call('GET', '/stock/getStock?page=1&page_size=2')
    expect(keys(stock.body.data)).toEqual(keys(stockExample.data))
    expect(keys((stock.body.data as { stock: unknown[] }).stock[0])).toEqual(keys(stockExample.data.stock[0]))
  })

  test('create answers like ticket-create-response.json; a bad size_id like error-400-ticket-format.json', async () => {
    const created = await call(
      'POST',
      '/ticket/detailticket',
      toCreateTicketBody(harnessOrder('ORD-X-1'), config()),
    )
    expect(created.status).toBe(200)
    expect(keys(created.body)).toEqual(keys(createResponseExample))
    expect(keys(created.body.data)).toEqual(keys(createResponseExample.data))
    expect(typeof (created.body.data as { customer_id: unknown }).customer_id).toBe('number')
    const rejected = await call('POST', '/ticket/detailticket', {
      ...createRequestExample,
      customer_id: undefined,
      items: [{ quantity: 1 }],
    })
    expect(rejected.status).toBe(400)
    expect(rejected.body).toEqual(errorExample)
  })

  test('get-by-id wraps the ticket in ticketList; an unknown id is TICKET_NOT_FOUND with ticketList: []', async () => {
    const [ticket] = fake.tickets()
    const found = await call('GET', `/ticket/${ticket?.ticket_id}`)
    expect(found.body.resultCode).toBe('SUCCESS')
    expect((found.body.ticketList as unknown[]).length).toBe(1)
    expect(found.body.data).toBeUndefined()
    const missing = await call('GET', '/ticket/1b847596-53ba-47be-b47d-b0dcd71d56')
    expect(missing).toEqual({
      status: 400,
      body: {
        resultCode: 'FAIL',
        resultReason: 'TICKET_NOT_FOUND',
        resultDetail: 'Cannot find the ticket 1b847596-53ba-47be-b47d-b0dcd71d56',
        ticketList: [],
      },
    })
  })

  test('a page over the limit is 400 RESPONSE_LIMIT_EXCEEDS; a bad active value is the spec 400', async () => {
    const big = await call('GET', '/product/product_list?page=1&pagesize=5000')
    expect(big.status).toBe(400)
    expect(big.body.resultReason).toBe('RESPONSE_LIMIT_EXCEEDS')
    const active = await call('GET', '/product/product_list?active=allz')
    expect(active.body).toEqual({
      resultCode: 'FAIL',
      resultReason: 'INVALID_ACTIVE_PARAMETER',
      resultDetail:
        "'allz' is not a valid value for active parameter. Possible values are: true, false, 1, 0, all",
      data: null,
    })
  })
})
