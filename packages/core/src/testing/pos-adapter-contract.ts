import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { isOmsError } from '../errors/oms-error'
import { isPosError, type PosOperation } from '../errors/pos-error'
import { type Clock, systemClock } from '../ports/clock'
import {
  type PosAdapter,
  type PosOrderInput,
  type PosProduct,
  type PosStockLevel,
  pullAllPages,
} from '../ports/pos-adapter'

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
  close(): Promise<void>
}

export interface PosAdapterContractTarget {
  /** Prefixes every test name: "treez: POS adapter contract › …". */
  name: string
  /** A fresh fake server (its own state) and an adapter pointed at it. */
  setup(): Promise<PosContractHarness>
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
  })
}
