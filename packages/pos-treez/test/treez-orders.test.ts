import { isPosError, ValidationError } from '@peak-oms/core'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { TREEZ_STATUS_MAP } from '../src/index'
import { CUSTOMER_ID, CUSTOMER_NOTE, P1, P2, startTreezHarness, type TreezHarness } from './treez-harness'

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

describe('treez: orders', () => {
  let h: TreezHarness
  beforeEach(async () => {
    h = await startTreezHarness()
  })
  afterEach(async () => {
    await h.close()
  })

  const posts = () => h.fake.requests.filter((r) => r.method === 'POST')
  const puts = () => h.fake.requests.filter((r) => r.method === 'PUT')

  test('push reads the ticket feed, then creates one ticket carrying our order number', async () => {
    const ref = await h.adapter.pushOrder(h.order('ORD-20261122-0201'))
    expect(h.fake.requests.map((r) => `${r.method} ${r.operation}`)).toEqual([
      'GET findOrder',
      'POST pushOrder',
    ])
    expect(h.fake.requests[0]?.path).toBe(
      '/dispensary/v3/peak-test-store/ticket/lastUpdated/2026-11-21T00:00:00.000+00:00/page/1/pagesize/1000',
    )
    expect(posts()[0]?.body).toEqual({
      type: 'PICKUP',
      order_source: 'ECOMMERCE',
      order_status: 'AWAITING_PROCESSING',
      revenue_source: 'Peak OMS Test',
      external_order_number: 'ORD-20261122-0201',
      customer_id: CUSTOMER_ID,
      ticket_note: CUSTOMER_NOTE,
      items: [
        { size_id: P1, quantity: 1, inventory_type: 'ADULT', location_name: 'FRONT OF HOUSE' },
        { size_id: P2, quantity: 2, inventory_type: 'ADULT', location_name: 'DISPLAY CASE 1' },
      ],
    })
    const [ticket] = h.fake.tickets()
    expect(ref).toEqual({
      externalId: ticket?.ticket_id,
      externalNumber: ticket?.order_number,
      status: 'accepted',
      raw: 'AWAITING_PROCESSING',
    })
    expect(ref.externalNumber).toMatch(/^[A-Z0-9]{6}$/)
  })

  test('channel and fulfilment choose order_source and type; defaultLocationName fills missing locations', async () => {
    const adapter = h.newAdapter({ defaultLocationName: 'DISPLAY CASE 1' })
    const order = h.order('ORD-20261122-0202')
    await adapter.pushOrder({
      ...order,
      channel: 'kiosk',
      fulfillment: 'delivery',
      externalCustomerId: null,
      notes: null,
      lines: order.lines.map((line) => ({ ...line, externalLocationId: null })),
    })
    const body = posts()[0]?.body as Record<string, unknown>
    expect(body.type).toBe('DELIVERY')
    expect(body.order_source).toBe('KIOSK')
    expect(body).not.toHaveProperty('customer_id')
    expect(body).not.toHaveProperty('ticket_note')
    expect((body.items as Array<{ location_name: string }>).map((i) => i.location_name)).toEqual([
      'DISPLAY CASE 1',
      'DISPLAY CASE 1',
    ])
  })

  test('an order Treez cannot take is a ValidationError before any request', async () => {
    const order = h.order('ORD-20261122-0203')
    const error = await rejection(
      h.adapter.pushOrder({ ...order, lines: order.lines.map((l) => ({ ...l, quantity: 0.5 })) }),
    )
    expect(error).toBeInstanceOf(ValidationError)
    expect(h.fake.requests).toHaveLength(0)
  })

  test('a second push of the same order reads the known ticket by id and creates nothing', async () => {
    const first = await h.adapter.pushOrder(h.order('ORD-20261122-0204'))
    h.fake.setTicketStatus(first.externalId, 'IN_PROCESS')
    const second = await h.adapter.pushOrder(h.order('ORD-20261122-0204'))
    expect(second).toMatchObject({ externalId: first.externalId, status: 'in_progress' })
    expect(posts()).toHaveLength(1)
    expect(h.fake.requests.at(-1)?.operation).toBe('getOrderStatus')
  })

  test('after a restart the ticket is found in the feed, so nothing is created twice', async () => {
    const first = await h.adapter.pushOrder(h.order('ORD-20261122-0205'))
    const restarted = h.newAdapter()
    const again = await restarted.pushOrder(h.order('ORD-20261122-0205'))
    expect(again.externalId).toBe(first.externalId)
    expect(posts()).toHaveLength(1)
    expect(h.logger.lines.some((line) => line.includes('already exists'))).toBe(true)
  })

  test('concurrent pushes of one order share one create', async () => {
    const refs = await Promise.all([1, 2, 3].map(() => h.adapter.pushOrder(h.order('ORD-20261122-0206'))))
    expect(new Set(refs.map((r) => r.externalId)).size).toBe(1)
    expect(posts()).toHaveLength(1)
    expect(h.orderCount()).toBe(1)
  })

  test('findOrder pages through the ticket feed; it gives up (null, warning) after findMaxPages', async () => {
    for (const n of [1, 2, 3]) await h.adapter.pushOrder(h.order(`ORD-20261122-030${n}`))
    const small = h.newAdapter({ maxPageSize: 1, pageSize: 1 })
    const before = h.fake.requestCount('findOrder')
    const found = await small.findOrder('ORD-20261122-0303')
    expect(found?.externalId).toBe(h.fake.tickets()[2]?.ticket_id)
    expect(h.fake.requestCount('findOrder') - before).toBe(3)
    const capped = h.newAdapter({ maxPageSize: 1, pageSize: 1, findMaxPages: 2 })
    expect(await capped.findOrder('ORD-20261122-0303')).toBeNull()
    expect(h.logger.lines.some((line) => line.includes('findMaxPages'))).toBe(true)
    expect(await h.newAdapter().findOrder('ORD-20261122-0399')).toBeNull()
  })

  test('an order number without a date is looked up findLookbackMs back', async () => {
    const hourAgo = new Date(h.clock.now().getTime() - 3600_000)
    await h.newAdapter({ findLookbackMs: 3600_000 }).findOrder('WEB-42')
    expect(h.fake.requests.at(-1)?.status).toBe(200)
    expect(h.fake.requests.at(-1)?.path).toContain(
      `/ticket/lastUpdated/${hourAgo.toISOString().replace('Z', '+00:00')}/page/1/`,
    )
  })

  test('getOrderStatus reads every Treez status through the mapping table', async () => {
    const ref = await h.adapter.pushOrder(h.order('ORD-20261122-0207'))
    for (const [raw, status] of Object.entries(TREEZ_STATUS_MAP)) {
      h.fake.setTicketStatus(ref.externalId, raw)
      expect(await h.adapter.getOrderStatus(ref.externalId)).toMatchObject({ status, raw })
    }
  })

  test('an unknown ticket is POS_REJECTED with TICKET_NOT_FOUND', async () => {
    const error = await rejection(h.adapter.getOrderStatus('1b847596-53ba-47be-b47d-b0dcd71d56'))
    expect(isPosError(error) && error.code).toBe('POS_REJECTED')
    expect(isPosError(error) && [error.status, error.details.vendorCode]).toEqual([400, 'TICKET_NOT_FOUND'])
    expect(h.fake.requestCount('getOrderStatus')).toBe(1)
  })

  test('update PUTs the full body with the new lines and keeps the ticket status', async () => {
    const order = h.order('ORD-20261122-0208')
    const ref = await h.adapter.pushOrder(order)
    h.fake.setTicketStatus(ref.externalId, 'IN_PROCESS')
    const [first] = order.lines
    if (!first) throw new Error('no line')
    const updated = await h.adapter.updateOrder(ref.externalId, {
      ...order,
      lines: [{ ...first, quantity: 3 }],
      notes: 'leave at the desk',
    })
    expect(updated).toMatchObject({ externalId: ref.externalId, status: 'in_progress' })
    expect(puts()).toHaveLength(1)
    expect(puts()[0]?.path).toBe(`/dispensary/v3/peak-test-store/ticket/update/${ref.externalId}`)
    expect(puts()[0]?.body).toEqual({
      type: 'PICKUP',
      order_source: 'ECOMMERCE',
      order_status: 'IN_PROCESS',
      revenue_source: 'Peak OMS Test',
      customer_id: CUSTOMER_ID,
      external_order_number: 'ORD-20261122-0208',
      ticket_note: 'leave at the desk',
      items: [{ size_id: P1, quantity: 3, inventory_type: 'ADULT', location_name: 'FRONT OF HOUSE' }],
    })
    const ticket = h.fake.ticket(ref.externalId)
    expect(ticket?.items.map((i) => [i.size_id, i.quantity])).toEqual([[P1, 3]])
    expect(h.orderCount()).toBe(1)
  })

  test('a closed ticket is not updated or cancelled: POS_REJECTED without a PUT', async () => {
    const ref = await h.adapter.pushOrder(h.order('ORD-20261122-0209'))
    h.fake.setTicketStatus(ref.externalId, 'COMPLETED')
    const update = await rejection(h.adapter.updateOrder(ref.externalId, h.order('ORD-20261122-0209')))
    expect(isPosError(update) && [update.code, update.details.vendorCode]).toEqual([
      'POS_REJECTED',
      'INVALID_TICKET_STATUS',
    ])
    const cancel = await rejection(h.adapter.cancelOrder(ref.externalId, 'too late'))
    expect(isPosError(cancel) && cancel.code).toBe('POS_REJECTED')
    expect(puts()).toHaveLength(0)
  })

  test('cancel PUTs CANCELED with the ticket as it is; a second cancel sends nothing', async () => {
    const ref = await h.adapter.pushOrder(h.order('ORD-20261122-0210'))
    const cancelled = await h.adapter.cancelOrder(ref.externalId, 'out of stock')
    expect(cancelled).toMatchObject({ externalId: ref.externalId, status: 'cancelled', raw: 'CANCELED' })
    expect(puts()).toHaveLength(1)
    expect(puts()[0]?.body).toMatchObject({
      order_status: 'CANCELED',
      type: 'PICKUP',
      revenue_source: 'Peak OMS Test',
      customer_id: CUSTOMER_ID,
      external_order_number: 'ORD-20261122-0210',
      ticket_note: `${CUSTOMER_NOTE}\nCancelled: out of stock`,
      items: [
        { size_id: P1, quantity: 1, inventory_type: 'ADULT', location_name: 'FRONT OF HOUSE' },
        { size_id: P2, quantity: 2, inventory_type: 'ADULT', location_name: 'DISPLAY CASE 1' },
      ],
    })
    expect(h.fake.ticket(ref.externalId)?.order_status).toBe('CANCELED')
    expect((await h.adapter.cancelOrder(ref.externalId, 'again')).status).toBe('cancelled')
    expect(puts()).toHaveLength(1)
  })

  test('a cancel whose response was lost is retried, refused as closed, and read back as cancelled', async () => {
    const ref = await h.adapter.pushOrder(h.order('ORD-20261122-0211'))
    h.inject('cancelOrder', { kind: 'lost_response' })
    const cancelled = await h.adapter.cancelOrder(ref.externalId, 'duplicate')
    expect(cancelled.status).toBe('cancelled')
    expect(puts().map((r) => r.status)).toEqual([-1, 400])
  })

  test('a 200 whose resultCode is FAIL is POS_REJECTED: resultCode decides, not the status', async () => {
    h.fake.respondOnce('getOrderStatus', {
      status: 200,
      body: {
        resultCode: 'FAIL',
        resultReason: 'TICKET_NOT_FOUND',
        resultDetail: 'Cannot find the ticket x',
        ticketList: [],
      },
    })
    const error = await rejection(h.adapter.getOrderStatus('x'))
    expect(isPosError(error) && [error.code, error.status, error.details.vendorCode]).toEqual([
      'POS_REJECTED',
      200,
      'TICKET_NOT_FOUND',
    ])
  })
})
