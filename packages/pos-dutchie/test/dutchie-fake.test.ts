import { createFakeClock } from '@peak-oms/core/testing'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { dutchieAuthorization } from '../src/dutchie-auth'
import {
  FIXTURE_LOCATION,
  fixtureCustomers,
  fixtureInventory,
  fixtureProducts,
} from '../src/testing/dutchie-fixtures'
import { FakeDutchieServer } from '../src/testing/fake-dutchie-server'
import { CONSUMER_KEY, LOCATION_KEY } from './dutchie-harness'
import { component, responseSchema, validateAgainst } from './openapi-check'

let fake: FakeDutchieServer
beforeEach(async () => {
  fake = await FakeDutchieServer.start({
    locationKey: LOCATION_KEY,
    location: FIXTURE_LOCATION,
    products: fixtureProducts,
    inventory: fixtureInventory,
    customers: fixtureCustomers,
    statusNotes: false,
    now: createFakeClock().now,
  })
})
afterEach(async () => {
  await fake.close()
})

async function call(
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${fake.baseUrl}${path}`, {
    method,
    headers: {
      Authorization: dutchieAuthorization(LOCATION_KEY),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await response.text()
  return { status: response.status, text, json: text === '' ? undefined : (JSON.parse(text) as unknown) }
}

const order = {
  customerId: 6603318,
  items: [{ productId: 1184920, quantity: 2 }],
  isDelivery: false,
  notes: 'n',
}

describe('dutchie: the fake follows the spec', () => {
  test('GET /products, /reporting/inventory and /whoami answer spec-shaped bodies; offset/limit are ignored', async () => {
    const products = await call('GET', '/products?offset=1&limit=1')
    expect(validateAgainst(responseSchema('get', '/products'), products.json)).toEqual([])
    expect(products.json).toHaveLength(fixtureProducts.length)
    const inventory = await call('GET', '/reporting/inventory?includeRoomQuantities=true&Skip=1&Take=1')
    expect(validateAgainst(responseSchema('get', '/reporting/inventory'), inventory.json)).toEqual([])
    expect(inventory.json).toHaveLength(fixtureInventory.length)
    const whoami = await call('GET', '/whoami')
    expect(validateAgainst(responseSchema('get', '/whoami'), whoami.json)).toEqual([])
  })

  test('submit answers an int32 and dedupes only on ConsumerKey + idempotencyKey', async () => {
    const keyed = { ...order, idempotencyKey: 'k-1' }
    const first = await call('POST', '/preorder/submit', keyed, { ConsumerKey: CONSUMER_KEY })
    expect(first.status).toBe(200)
    expect(validateAgainst(responseSchema('post', '/preorder/submit'), first.json)).toEqual([])
    const replay = await call('POST', '/preorder/submit', keyed, { ConsumerKey: CONSUMER_KEY })
    expect(replay.json).toBe(first.json)
    const noConsumerKey = await call('POST', '/preorder/submit', keyed)
    expect(noConsumerKey.json).not.toBe(first.json)
    const noIdempotencyKey = await call('POST', '/preorder/submit', order, { ConsumerKey: CONSUMER_KEY })
    expect(noIdempotencyKey.json).not.toBe(first.json)
    expect(fake.orders.size).toBe(3)
  })

  test('submit errors are BadRequestResponse bodies', async () => {
    const bad = await call('POST', '/preorder/submit', {
      customerId: 1,
      items: [{ productId: 1184920, quantity: 0 }],
      idempotencyKey: 'x'.repeat(37),
    })
    expect(bad.status).toBe(400)
    expect(validateAgainst(component('BadRequestResponse'), bad.json)).toEqual([])
    expect(
      (bad.json as { propertyErrors: Array<{ propertyName: string }> }).propertyErrors.map(
        (e) => e.propertyName,
      ),
    ).toEqual(['CustomerId', 'Items[0].Quantity', 'IdempotencyKey'])
    const empty = await call('POST', '/preorder/submit', '')
    expect(empty.json).toEqual({ message: 'A non-empty request body is required.', propertyErrors: null })
  })

  test('Status: one spec-shaped object by id, an array of open orders without; 400 empty for unknown', async () => {
    const created = await call('POST', '/preorder/submit', order)
    const byId = await call('GET', `/preorder/Status?PreOrderId=${created.json}&includeLineItems=true`)
    expect(validateAgainst(responseSchema('get', '/preorder/Status'), byId.json)).toEqual([])
    expect((byId.json as { items: unknown[] }).items).toHaveLength(1)
    const open = await call('GET', '/preorder/Status')
    expect(validateAgainst({ type: 'array', items: component('PreOrderStatus') }, open.json)).toEqual([])
    expect(open.json).toHaveLength(1)
    const unknown = await call('GET', '/preorder/Status?PreOrderId=1')
    expect([unknown.status, unknown.text]).toEqual([400, ''])
  })

  test('update and cancel: 200, then 404 unknown and 400 with an empty body', async () => {
    const created = await call('POST', '/preorder/submit', order)
    const id = created.json as number
    const update = await call('POST', '/preorder/update', {
      orderId: id,
      items: [{ productId: 1185377, quantity: 1 }],
    })
    expect([update.status, update.text]).toEqual([200, ''])
    expect([(await call('POST', '/preorder/update', { orderId: 5, items: [] })).status]).toEqual([404])
    const emptyUpdate = await call('POST', '/preorder/update', '')
    expect([emptyUpdate.status, emptyUpdate.text]).toEqual([400, ''])

    const cancel = await call('POST', '/preorder/cancel', { orderId: id, cancellationReason: 'r' })
    expect([cancel.status, cancel.json]).toEqual([200, id])
    const again = await call('POST', '/preorder/cancel', { orderId: id, cancellationReason: 'r' })
    expect([again.status, again.text]).toEqual([400, ''])
    expect((await call('POST', '/preorder/cancel', { orderId: 5, cancellationReason: 'r' })).status).toBe(404)
    // A cancelled order is no longer open.
    expect((await call('GET', '/preorder/Status')).json).toEqual([])
  })

  test('a bad key is 401 "Invalid or missing API key"', async () => {
    const response = await fetch(`${fake.baseUrl}/products`, {
      headers: { Authorization: dutchieAuthorization('nope') },
    })
    expect([response.status, await response.text()]).toEqual([401, 'Invalid or missing API key'])
    const none = await fetch(`${fake.baseUrl}/products`)
    expect(none.status).toBe(401)
  })
})
