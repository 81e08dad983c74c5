import { isPosError } from '@peak-oms/core'
import type { PosFault } from '@peak-oms/core/testing/vitest'
import { afterEach, describe, expect, test } from 'vitest'
import { createDutchieAdapter } from '../src/index'
import {
  capturingLogger,
  type DutchieTestRig,
  harnessOrder,
  LOCATION_KEY,
  SECRETS,
  startRig,
} from './dutchie-harness'

let rig: DutchieTestRig | undefined
afterEach(async () => {
  await rig?.close()
  rig = undefined
})

const assertClean = (error: unknown, lines: string[]) => {
  const e = error as Error
  expect(e.cause).toBeUndefined()
  const text = `${e.message}\n${e.stack ?? ''}\n${JSON.stringify(e)}\n${lines.join('\n')}`
  for (const secret of SECRETS) expect(text).not.toContain(secret)
}

async function failure(promise: Promise<unknown>): Promise<Error & { code?: string; status?: number }> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a failure')
}

const submitFaults: Array<[string, PosFault]> = [
  ['429 without Retry-After', { kind: 'rate_limit' }],
  ['429 with Retry-After', { kind: 'rate_limit', retryAfterSeconds: 0 }],
  ['500', { kind: 'server_error', status: 500 }],
  ['502', { kind: 'server_error', status: 502 }],
  ['503', { kind: 'server_error', status: 503 }],
  ['504', { kind: 'server_error', status: 504 }],
  ['a connection reset', { kind: 'reset' }],
  ['a response slower than the timeout (committed)', { kind: 'timeout' }],
  ['a lost response (committed)', { kind: 'lost_response' }],
]

describe('dutchie: submit faults, with a ConsumerKey', () => {
  for (const [label, fault] of submitFaults) {
    test(`${label} twice ends in exactly one pre-order`, async () => {
      rig = await startRig()
      rig.fake.inject('submit', fault, 2)
      const ref = await rig.adapter.pushOrder(harnessOrder('ORD-20261122-0400'))
      expect(rig.fake.orders.size).toBe(1)
      expect(ref.externalId).toBe('48213')
      const again = await rig.adapter.pushOrder(harnessOrder('ORD-20261122-0400'))
      expect(again.externalId).toBe(ref.externalId)
      expect(rig.fake.orders.size).toBe(1)
      for (const line of rig.logger.lines) for (const secret of SECRETS) expect(line).not.toContain(secret)
    })
  }
})

describe('dutchie: without a ConsumerKey', () => {
  test('pushOrder refuses with CONFIGURATION and submits nothing (Dutchie would not dedupe a retry)', async () => {
    rig = await startRig({ adapter: { consumerKey: undefined } })
    rig.fake.inject('submit', { kind: 'lost_response' }, 2)
    const error = await failure(rig.adapter.pushOrder(harnessOrder('ORD-20261122-0401')))
    expect(error).toMatchObject({ code: 'CONFIGURATION' })
    expect(error.message).toContain('consumerKey')
    expect(rig.fake.orders.size).toBe(0)
    expect(rig.fake.count('submit')).toBe(0)
    // pulls still work
    await rig.adapter.pullProducts()
  })
})

describe('dutchie: faults on reads', () => {
  test('429 with Retry-After waits that long before retrying', async () => {
    rig = await startRig()
    rig.fake.inject('products', { kind: 'rate_limit', retryAfterSeconds: 1 })
    const started = performance.now()
    await rig.adapter.pullProducts()
    // A lower bound only (a busy machine just takes longer); the margin covers Node timers measuring
    // from the event loop's cached time, which can run a little behind performance.now().
    expect(performance.now() - started).toBeGreaterThanOrEqual(900)
    expect(rig.logger.lines.some((line) => line.includes('"retryAfterMs":1000'))).toBe(true)
    expect(rig.fake.count('products')).toBe(2)
  })

  test('a Retry-After longer than maxRetryAfterMs is capped', async () => {
    rig = await startRig({
      adapter: { retry: { retries: 2, minTimeout: 5, maxTimeout: 10, maxRetryAfterMs: 100 } },
    })
    // Uncapped, this would wait an hour and the test would time out instead of passing.
    rig.fake.inject('products', { kind: 'rate_limit', retryAfterSeconds: 3600 })
    await rig.adapter.pullProducts()
    expect(rig.logger.lines.some((line) => line.includes('"retryAfterMs":3600000'))).toBe(true)
    expect(rig.fake.count('products')).toBe(2)
  })

  test('429 without Retry-After backs off exponentially and gives up as POS_UNAVAILABLE', async () => {
    rig = await startRig({ adapter: { retry: { retries: 3, minTimeout: 40, maxTimeout: 1000 } } })
    rig.fake.inject('inventory', { kind: 'rate_limit' }, 10)
    const started = performance.now()
    const error = await failure(rig.adapter.pullInventory())
    // 40 + 80 + 160 ms at least (jitter only lengthens). A lower bound only, with a margin for Node
    // timers measuring from the event loop's cached time.
    expect(performance.now() - started).toBeGreaterThanOrEqual(250)
    expect(isPosError(error) && [error.code, error.status]).toEqual(['POS_UNAVAILABLE', 429])
    expect(rig.fake.count('inventory')).toBe(4)
    assertClean(error, rig.logger.lines)
  })

  test('the last 429 error carries retryAfterMs', async () => {
    rig = await startRig({ adapter: { retry: { retries: 0 } } })
    rig.fake.inject('products', { kind: 'rate_limit', retryAfterSeconds: 7 })
    const error = await failure(rig.adapter.pullProducts())
    expect(isPosError(error) && error.retryAfterMs).toBe(7000)
  })

  test('a POS that stays at 503 ends in POS_UNAVAILABLE after retries+1 attempts', async () => {
    rig = await startRig()
    rig.fake.inject('products', { kind: 'server_error', status: 503 }, 100)
    const error = await failure(rig.adapter.pullProducts())
    expect(isPosError(error) && [error.code, error.status]).toEqual(['POS_UNAVAILABLE', 503])
    expect(error.message).toBe('dutchie pullProducts (GET /products): HTTP 503')
    expect(rig.fake.count('products')).toBe(4)
    assertClean(error, rig.logger.lines)
  })

  test('a response slower than the timeout is POS_UNAVAILABLE after retries+1 attempts', async () => {
    rig = await startRig({ adapter: { retry: { retries: 1, minTimeout: 5, maxTimeout: 5 } } })
    rig.fake.inject('status', { kind: 'timeout' }, 5)
    const ref = await rig.adapter.pushOrder(harnessOrder('ORD-20261122-0401'))
    const error = await failure(rig.adapter.getOrderStatus(ref.externalId))
    expect(rig.fake.count('status')).toBe(2)
    expect(isPosError(error) && error.code).toBe('POS_UNAVAILABLE')
    expect(error.message).toContain('no response within the timeout')
    assertClean(error, rig.logger.lines)
  })

  test('connection refused is POS_UNAVAILABLE', async () => {
    rig = await startRig()
    const baseUrl = rig.fake.baseUrl
    await rig.close()
    const logger = capturingLogger()
    const adapter = createDutchieAdapter({
      baseUrl,
      locationKey: LOCATION_KEY,
      timeoutMs: 200,
      retry: { retries: 1, minTimeout: 5, maxTimeout: 5 },
      logger,
    })
    const error = await failure(adapter.pullProducts())
    expect(isPosError(error) && error.code).toBe('POS_UNAVAILABLE')
    expect(error.message).toContain('ECONNREFUSED')
    assertClean(error, logger.lines)
  })

  test('malformed JSON is POS_INVALID_RESPONSE at once, never retried', async () => {
    rig = await startRig()
    const ref = await rig.adapter.pushOrder(harnessOrder('ORD-20261122-0402'))
    rig.fake.inject('status', { kind: 'malformed_json' })
    const error = await failure(rig.adapter.getOrderStatus(ref.externalId))
    expect(isPosError(error) && error.code).toBe('POS_INVALID_RESPONSE')
    expect(error.message).toContain('dutchie')
    expect(rig.fake.count('status')).toBe(1)
    assertClean(error, rig.logger.lines)
  })

  test('wrong types list every bad field path, the message names the first', async () => {
    rig = await startRig()
    rig.fake.inject('products', { kind: 'wrong_types' })
    const error = await failure(rig.adapter.pullProducts())
    expect(isPosError(error) && error.code).toBe('POS_INVALID_RESPONSE')
    const fields = (error as unknown as { details: { fields: string[] } }).details.fields
    expect(fields).toEqual(['0.recPrice', '1.recPrice', '2.recPrice', '3.recPrice'])
    expect(error.message).toContain('at 0.recPrice')
    expect(rig.fake.count('products')).toBe(1)
  })

  test('wrong types in a submit answer are POS_INVALID_RESPONSE, and a later push still finds the one pre-order', async () => {
    rig = await startRig()
    rig.fake.inject('submit', { kind: 'wrong_types' })
    const error = await failure(rig.adapter.pushOrder(harnessOrder('ORD-20261122-0403')))
    expect(isPosError(error) && error.code).toBe('POS_INVALID_RESPONSE')
    expect((error as unknown as { details: { fields: string[] } }).details.fields).toEqual(['(root)'])
    const ref = await rig.adapter.pushOrder(harnessOrder('ORD-20261122-0403'))
    expect(ref.externalId).toBe('48213')
    expect(rig.fake.orders.size).toBe(1)
  })

  test('a fractional count in the stock snapshot is POS_INVALID_RESPONSE, never a rounded quantity', async () => {
    const fake = { inventory: [{ productId: 1184920, quantityAvailable: 2.5, quantityUnits: 'Qty' }] }
    rig = await startRig({ fake })
    const error = await failure(rig.adapter.pullInventory())
    expect(isPosError(error) && error.code).toBe('POS_INVALID_RESPONSE')
    expect(error.message).toContain('0.quantityAvailable')
  })
})
