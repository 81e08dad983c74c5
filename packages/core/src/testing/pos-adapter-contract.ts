import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createOms } from '../create-oms'
import { isOmsError } from '../errors/oms-error'
import { isPosError, type PosOperation } from '../errors/pos-error'
import { createMemoryStorage } from '../memory/memory-storage'
import { type Clock, systemClock } from '../ports/clock'
import {
  type PosAdapter,
  type PosOrderInput,
  type PosOrderRef,
  type PosProduct,
  type PosSale,
  type PosStockLevel,
  type PosUnit,
  pullAllPages,
} from '../ports/pos-adapter'
import type { FakeClock } from './fake-clock'
import { actors } from './fixtures'

import type { PosFault } from './pos-fault'

export type { PosFault }

/** One live fake POS with an adapter configured against it. */
export interface PosContractHarness {
  /**
   * Configured with short backoff so fault tests run fast, and a timeout of about a second: far above
   * what the fake needs on a loaded machine, far below how long the fake stalls on a `timeout` fault.
   */
  adapter: PosAdapter
  /**
   * The clock the adapter and the fake share, when the harness injects one (recommended: a stopped clock
   * from `createFakeClock`, so no test depends on today's date). @default systemClock
   */
  clock?: Clock
  /** What a full pull must yield, as the adapter maps it (order does not matter). */
  expected: { products: PosProduct[]; inventory: PosStockLevel[] }
  /** Builds a valid order for two products the fake stocks; `orderNumber` makes it unique. */
  order(orderNumber: string): PosOrderInput
  /** An order the POS refuses (e.g. an unknown product): `pushOrder` must throw `POS_REJECTED`. */
  invalidOrder(orderNumber: string): PosOrderInput
  /** Makes the next `times` (default 1) requests that serve `operation` fail with `fault`. */
  inject(operation: PosOperation, fault: PosFault, times?: number): void
  /**
   * How many requests the fake has received that serve `operation`. For `pushOrder` this counts only the
   * request that creates or submits the order (not the read-backs the adapter makes around it).
   */
  requestCount(operation: PosOperation): number
  /** How many orders (tickets, pre-orders, carts placed) the fake holds. */
  orderCount(): number
  /** Credentials and customer details configured into the adapter and fake: none may appear in errors or logs. */
  secrets: string[]
  /** Everything the adapter logged, serialised. */
  logLines(): string[]
  /** Required when the target declares `sales: true`: drives the fake's sales feed. */
  sales?: PosSalesHarness
  close(): Promise<void>
}

/** Drives a fake POS's sales so the contract can check `pullSales`. */
export interface PosSalesHarness {
  /** The clock the adapter and the fake share (the fake stamps sales with it). */
  clock: FakeClock
  /** A product and location the fake stocks, as the adapter maps them into a sale line. */
  line: { externalProductId: string; externalLocationId: string; unit: PosUnit }
  /** Rings up a completed sale of `quantity` of `line` at the counter; returns the id `pullSales` reports. */
  sellAtCounter(quantity: number): Promise<string>
  /** Rings up a counter sale and voids (cancels) it. */
  sellAndVoid(quantity: number): Promise<void>
  /** Refunds a counter sale rung up by `sellAtCounter`. */
  refund(saleId: string): Promise<void>
  /** The POS completes an order we pushed (the customer paid and picked it up at the counter). */
  completeOrder(ref: PosOrderRef, order: PosOrderInput): Promise<void>
}

export interface PosAdapterContractTarget {
  /** Prefixes every test name: "treez: POS adapter contract › …". */
  name: string
  /** A fresh fake server (its own state) and an adapter pointed at it. */
  setup(): Promise<PosContractHarness>
  /** The adapter has `pullSales`, and the harness gives `sales`: the sales-feed contract runs too. */
  sales?: boolean
}

const sortProducts = (products: PosProduct[]) =>
  [...products].sort((a, b) => a.externalId.localeCompare(b.externalId))
const levelKey = (level: PosStockLevel) => `${level.externalProductId}@${level.externalLocationId}`
const sortLevels = (levels: PosStockLevel[]) =>
  [...levels].sort((a, b) => levelKey(a).localeCompare(levelKey(b)))

async function collect<T>(pages: AsyncGenerator<T[]>): Promise<{ items: T[]; pages: number }> {
  const items: T[] = []
  let pages_ = 0
  for await (const page of pages) {
    items.push(...page)
    pages_ += 1
  }
  return { items, pages: pages_ }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected the call to fail, but it succeeded')
}

/**
 * The contract every `PosAdapter` must keep, run against the adapter's own fake server. An integrator
 * writing a new adapter calls this from one test file with a harness for their fake.
 *
 * @example
 * ```ts
 * runPosAdapterContract({ name: 'treez', setup: () => startTreezHarness() })
 * ```
 */
export function runPosAdapterContract(target: PosAdapterContractTarget): void {
  describe(`${target.name}: POS adapter contract`, () => {
    let h: PosContractHarness
    beforeEach(async () => {
      h = await target.setup()
    })
    afterEach(async () => {
      await h.close()
    })

    const assertNoSecrets = (text: string) => {
      for (const secret of h.secrets) expect(text).not.toContain(secret)
    }
    const assertErrorClean = (error: unknown) => {
      expect(error).toBeInstanceOf(Error)
      const e = error as Error
      assertNoSecrets(`${e.message}\n${e.stack ?? ''}\n${JSON.stringify(e)}`)
      expect((e as { cause?: unknown }).cause).toBeUndefined()
      for (const line of h.logLines()) assertNoSecrets(line)
    }

    test('a full product pull over several pages yields every product, mapped to integers', async () => {
      const { items, pages } = await collect(pullAllPages((o) => h.adapter.pullProducts(o), { pageSize: 2 }))
      expect(sortProducts(items)).toEqual(sortProducts(h.expected.products))
      for (const p of items) {
        if (p.priceMinor !== null) expect(Number.isInteger(p.priceMinor)).toBe(true)
      }
      if (h.expected.products.length > 2 && pages === 1) {
        // A POS with no paging (Dutchie) returns one page; every other one must page.
        expect(h.adapter.vendor).toBe('dutchie')
      }
    })

    test('a full inventory pull yields every level as whole units', async () => {
      const { items } = await collect(pullAllPages((o) => h.adapter.pullInventory(o), { pageSize: 2 }))
      expect(sortLevels(items)).toEqual(sortLevels(h.expected.inventory))
      for (const level of items) {
        expect(Number.isInteger(level.quantity)).toBe(true)
        expect(level.quantity).toBeGreaterThanOrEqual(0)
      }
    })

    test('an incremental product pull returns a subset of the full pull', async () => {
      const since = new Date((h.clock ?? systemClock).now().getTime() - 24 * 3600 * 1000)
      const { items } = await collect(pullAllPages((o) => h.adapter.pullProducts(o), { since, pageSize: 2 }))
      const ids = new Set(h.expected.products.map((p) => p.externalId))
      for (const p of items) expect(ids.has(p.externalId)).toBe(true)
    })

    test('push creates one order whose status reads back; find locates it by our number', async () => {
      const ref = await h.adapter.pushOrder(h.order('ORD-20261122-0001'))
      expect(ref.externalId).toBeTruthy()
      expect(h.orderCount()).toBe(1)
      const status = await h.adapter.getOrderStatus(ref.externalId)
      expect(status.externalId).toBe(ref.externalId)
      expect(['submitted', 'accepted', 'in_progress']).toContain(status.status)
      const found = await h.adapter.findOrder('ORD-20261122-0001')
      expect(found?.externalId).toBe(ref.externalId)
      expect(await h.adapter.findOrder('ORD-20261122-9999')).toBeNull()
    })

    test('pushing the same order twice never creates a second ticket', async () => {
      const first = await h.adapter.pushOrder(h.order('ORD-20261122-0002'))
      const second = await h.adapter.pushOrder(h.order('ORD-20261122-0002'))
      expect(second.externalId).toBe(first.externalId)
      expect(h.orderCount()).toBe(1)
    })

    test('a create that succeeded on the server but lost its response is not duplicated', async () => {
      h.inject('pushOrder', { kind: 'lost_response' })
      const ref = await h.adapter.pushOrder(h.order('ORD-20261122-0003'))
      expect(ref.externalId).toBeTruthy()
      expect(h.orderCount()).toBe(1)
      const again = await h.adapter.pushOrder(h.order('ORD-20261122-0003'))
      expect(again.externalId).toBe(ref.externalId)
      expect(h.orderCount()).toBe(1)
    })

    test('a create that timed out but succeeded on the server is not duplicated', async () => {
      h.inject('pushOrder', { kind: 'timeout' })
      const ref = await h.adapter.pushOrder(h.order('ORD-20261122-0004'))
      expect(ref.externalId).toBeTruthy()
      expect(h.orderCount()).toBe(1)
    })

    const transient: Array<[string, () => PosFault]> = [
      ['429 without Retry-After', () => ({ kind: 'rate_limit' })],
      ['429 with Retry-After', () => ({ kind: 'rate_limit', retryAfterSeconds: 1 })],
      ['500', () => ({ kind: 'server_error', status: 500 })],
      ['503', () => ({ kind: 'server_error', status: 503 })],
      ['a connection reset', () => ({ kind: 'reset' })],
      ['a response slower than the timeout', () => ({ kind: 'timeout' })],
    ]
    for (const [label, fault] of transient) {
      test(`a pull retried after ${label} succeeds`, async () => {
        h.inject('pullInventory', fault(), 2)
        const { items } = await collect(pullAllPages((o) => h.adapter.pullInventory(o), { pageSize: 100 }))
        expect(sortLevels(items)).toEqual(sortLevels(h.expected.inventory))
        expect(h.requestCount('pullInventory')).toBeGreaterThanOrEqual(3)
      })
    }

    test('a POS that stays down ends in POS_UNAVAILABLE, not a crash or a hang', async () => {
      h.inject('getOrderStatus', { kind: 'server_error', status: 503 }, 1000)
      const ref = await h.adapter.pushOrder(h.order('ORD-20261122-0005'))
      const error = await rejection(h.adapter.getOrderStatus(ref.externalId))
      expect(isPosError(error) && error.code).toBe('POS_UNAVAILABLE')
      assertErrorClean(error)
    })

    test('malformed JSON becomes POS_INVALID_RESPONSE naming the POS', async () => {
      h.inject('pullProducts', { kind: 'malformed_json' }, 1000)
      const error = await rejection(h.adapter.pullProducts({ pageSize: 2 }))
      expect(isOmsError(error) && error.code).toBe('POS_INVALID_RESPONSE')
      expect((error as Error).message).toContain(h.adapter.vendor)
      assertErrorClean(error)
    })

    test('wrong field types become POS_INVALID_RESPONSE naming the field, never a wrong quantity', async () => {
      h.inject('pullInventory', { kind: 'wrong_types' }, 1000)
      const error = await rejection(h.adapter.pullInventory({ pageSize: 100 }))
      expect(isOmsError(error) && error.code).toBe('POS_INVALID_RESPONSE')
      const fields = (error as { details: { fields?: string[] } }).details.fields ?? []
      expect(fields.length).toBeGreaterThan(0)
      expect((error as Error).message).toContain(fields[0])
      assertErrorClean(error)
    })

    test('a validation error is POS_REJECTED at once, never retried, and leaks nothing', async () => {
      const before = h.requestCount('pushOrder')
      const error = await rejection(h.adapter.pushOrder(h.invalidOrder('ORD-20261122-0006')))
      expect(isPosError(error) && error.code).toBe('POS_REJECTED')
      expect(h.orderCount()).toBe(0)
      // One create attempt: a 4xx is never retried.
      expect(h.requestCount('pushOrder') - before).toBe(1)
      assertErrorClean(error)
    })

    test('cancel moves the order to cancelled, and cancelling again is harmless', async () => {
      const ref = await h.adapter.pushOrder(h.order('ORD-20261122-0007'))
      const cancelled = await h.adapter.cancelOrder(ref.externalId, 'customer changed their mind')
      expect(cancelled.status).toBe('cancelled')
      expect((await h.adapter.getOrderStatus(ref.externalId)).status).toBe('cancelled')
      const again = await h.adapter.cancelOrder(ref.externalId, 'customer changed their mind')
      expect(again.status).toBe('cancelled')
    })

    test('update replaces the lines of an open order where the POS supports it', async (ctx) => {
      if (!h.adapter.capabilities.updateOrder) ctx.skip()
      const order = h.order('ORD-20261122-0008')
      const ref = await h.adapter.pushOrder(order)
      const first = order.lines[0]
      if (!first) throw new Error('harness order has no lines')
      const updated = await h.adapter.updateOrder(ref.externalId, {
        ...order,
        lines: [{ ...first, quantity: first.quantity + 1 }],
        totalMinor: (first.quantity + 1) * first.unitPriceMinor,
      })
      expect(updated.externalId).toBe(ref.externalId)
      expect(h.orderCount()).toBe(1)
    })

    test('status of an unknown order is POS_REJECTED', async () => {
      const error = await rejection(h.adapter.getOrderStatus('does-not-exist-000000000000'))
      expect(isPosError(error) && error.code).toBe('POS_REJECTED')
      assertErrorClean(error)
    })

    if (target.sales) runSalesContract(() => h)
  })
}

const DAY_MS = 24 * 3600 * 1000

function runSalesContract(harness: () => PosContractHarness): void {
  const setup = () => {
    const h = harness()
    const sales = h.sales
    const pull = h.adapter.pullSales?.bind(h.adapter)
    if (!sales || !pull)
      throw new Error('a target with sales: true needs adapter.pullSales and harness.sales')
    const all = async (options: { since?: Date; pageSize?: number } = {}) =>
      (await collect(pullAllPages(pull, options))).items
    return { h, sales, pull, all }
  }
  const counterIds = (list: PosSale[]) =>
    list
      .filter((s) => s.orderNumber === null)
      .map((s) => s.externalId)
      .sort()

  test('pullSales pages through the completed counter sales, each once, as whole units', async () => {
    const { sales, pull, all } = setup()
    const ids = [await sales.sellAtCounter(1), await sales.sellAtCounter(2), await sales.sellAtCounter(3)]
    const { items } = await collect(pullAllPages(pull, { pageSize: 2 }))
    expect(counterIds(items)).toEqual([...ids].sort())
    for (const [index, id] of ids.entries()) {
      const sale = items.find((s) => s.externalId === id)
      expect(sale?.lines).toEqual([{ ...sales.line, quantity: index + 1 }])
    }
    expect(counterIds(await all())).toEqual([...ids].sort())
  })

  test('pullSales with since returns the sales made after it, not the older ones', async () => {
    const { sales, all } = setup()
    const old = await sales.sellAtCounter(1)
    sales.clock.advance(2 * DAY_MS)
    const since = sales.clock.now()
    sales.clock.advance(3600 * 1000)
    const fresh = await sales.sellAtCounter(2)
    const ids = counterIds(await all({ since }))
    expect(ids).toContain(fresh)
    expect(ids).not.toContain(old)
  })

  test('a ticket we pushed is never reported as a counter sale', async () => {
    const { h, sales, all } = setup()
    const order = h.order('ORD-20261122-0031')
    const ref = await h.adapter.pushOrder(order)
    await sales.completeOrder(ref, order)
    const counter = await sales.sellAtCounter(1)
    const list = await all()
    expect(counterIds(list)).toEqual([counter])
    for (const sale of list.filter((s) => s.orderNumber !== null))
      expect(sale.orderNumber).toBe(order.orderNumber)
  })

  test('void and refunded sales are not sales', async () => {
    const { sales, all } = setup()
    await sales.sellAndVoid(1)
    const refunded = await sales.sellAtCounter(2)
    await sales.refund(refunded)
    const kept = await sales.sellAtCounter(3)
    expect(counterIds(await all())).toEqual([kept])
  })

  test('the sync engine records a counter sale once, as a sale movement, across two pulls', async () => {
    const { h, sales } = setup()
    const storage = createMemoryStorage()
    const oms = createOms({
      storage,
      clock: sales.clock,
      sync: { connections: [{ pos: h.adapter.vendor, adapter: h.adapter }] },
    })
    const actor = actors.manager
    await oms.inventory.defineLocation({
      actor,
      location: {
        id: 'floor',
        storeId: 'store',
        name: 'Sales floor',
        kind: 'sales_floor',
        externalIds: { [h.adapter.vendor]: sales.line.externalLocationId },
      },
    })
    await oms.inventory.defineItem({
      actor,
      item: {
        id: 'item',
        sku: 'ITEM',
        name: 'Counter item',
        unit: sales.line.unit,
        externalIds: { [h.adapter.vendor]: sales.line.externalProductId },
      },
    })
    await oms.inventory.receive({ actor, itemId: 'item', locationId: 'floor', quantity: 10_000 })
    const first = await sales.sellAtCounter(2)
    const pullOnce = async () => {
      await oms.sync.requestPull({ actor, kind: 'pull_sales' })
      await oms.sync.drain()
      sales.clock.advance(60_000)
    }
    await pullOnce()
    const second = await sales.sellAtCounter(1)
    await pullOnce()
    await pullOnce()
    const jobs = await oms.sync.listJobs({ actor, kind: 'pull_sales' })
    expect(jobs.map((j) => j.status)).toEqual(['succeeded', 'succeeded', 'succeeded'])
    const movements = await storage.transaction((tx) => tx.inventory.listMovements({ itemId: 'item' }))
    expect(movements.map((m) => [m.reason, m.delta, m.reference?.id ?? null])).toEqual([
      ['receive', 10_000, null],
      ['sale', -2, `${h.adapter.vendor}:${first}`],
      ['sale', -1, `${h.adapter.vendor}:${second}`],
    ])
    const level = await oms.inventory.level({ actor, itemId: 'item', locationId: 'floor' })
    expect(level.onHand).toBe(10_000 - 3)
  })
}
