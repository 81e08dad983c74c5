import { isOmsError, isPosError, ValidationError } from '@peak-oms/core'
import { afterEach, describe, expect, test } from 'vitest'
import { dutchieAuthorization } from '../src/dutchie-auth'
import { createDutchieAdapter } from '../src/index'
import {
  CONSUMER_KEY,
  type DutchieTestRig,
  harnessOrder,
  INTEGRATOR_KEY,
  LOCATION_KEY,
  SECRETS,
  startRig,
} from './dutchie-harness'

let rig: DutchieTestRig | undefined
afterEach(async () => {
  await rig?.close()
  rig = undefined
})

const assertClean = (text: string) => {
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

describe('dutchie: auth', () => {
  test('the header is HTTP Basic with the location key as user and the integrator key (or nothing) as password', () => {
    const decode = (header: string) => Buffer.from(header.replace(/^Basic /, ''), 'base64').toString('utf8')
    expect(dutchieAuthorization('loc-key')).toMatch(/^Basic [A-Za-z0-9+/=]+$/)
    expect(decode(dutchieAuthorization('loc-key'))).toBe('loc-key:')
    expect(decode(dutchieAuthorization('loc-key', 'int-key'))).toBe('loc-key:int-key')
  })

  test('every request carries the Basic header; only submit carries the ConsumerKey', async () => {
    rig = await startRig()
    await rig.adapter.pullInventory()
    await rig.adapter.pushOrder(harnessOrder('ORD-20261122-0100'))
    const expected = dutchieAuthorization(LOCATION_KEY, INTEGRATOR_KEY)
    expect(rig.fake.requests.length).toBeGreaterThanOrEqual(3)
    for (const request of rig.fake.requests) {
      expect(request.authorization).toBe(expected)
      expect(request.consumerKey).toBe(request.route === 'submit' ? CONSUMER_KEY : undefined)
    }
  })

  test('the fake accepts an empty password too', async () => {
    rig = await startRig({ adapter: { integratorKey: undefined } })
    const page = await rig.adapter.pullProducts()
    expect(page.items).toHaveLength(4)
    expect(rig.fake.requests[0]?.authorization).toBe(dutchieAuthorization(LOCATION_KEY))
  })

  test('a wrong key is a 401 POS_REJECTED, asked once, and the key is not in the error', async () => {
    rig = await startRig({ adapter: { locationKey: 'lk_wrong_key_3d9a7' } })
    const error = await failure(rig.adapter.pullProducts())
    expect(isPosError(error) && error.code).toBe('POS_REJECTED')
    expect(error.status).toBe(401)
    expect(rig.fake.count('products')).toBe(1)
    expect(`${error.message} ${JSON.stringify(error)}`).not.toContain('lk_wrong_key_3d9a7')
    expect(error.message).toBe('dutchie pullProducts (GET /products): HTTP 401: invalid or missing API key')
  })

  test('a key without the PreOrder role gets 403 POS_REJECTED on pre-order calls, not retried', async () => {
    rig = await startRig({ fake: { preOrderRole: false } })
    const error = await failure(rig.adapter.pushOrder(harnessOrder('ORD-20261122-0101')))
    expect(isPosError(error) && error.code).toBe('POS_REJECTED')
    expect(error.status).toBe(403)
    expect(rig.fake.count('submit')).toBe(1)
    expect(rig.fake.orders.size).toBe(0)
    // Catalog calls still work with the same key.
    expect((await rig.adapter.pullProducts()).items).toHaveLength(4)
    assertClean(`${error.message}\n${error.stack}\n${JSON.stringify(error)}\n${rig.logger.lines.join('\n')}`)
  })
})

describe('dutchie: config', () => {
  test('a bad config is one ValidationError listing every bad field, without echoing values', () => {
    let error: unknown
    try {
      createDutchieAdapter({
        locationKey: '',
        baseUrl: 'not a url',
        consumerKey: 'not-a-guid-secretish',
        timeoutMs: -5,
        retry: { retries: 1.5 },
        rateLimit: { requests: 0 },
        currency: 'usd',
        stockLocations: 'warehouse' as 'rooms',
      })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ValidationError)
    const issues = (error as ValidationError).issues.map((issue) => issue.path).sort()
    expect(issues).toEqual([
      'baseUrl',
      'consumerKey',
      'currency',
      'locationKey',
      'rateLimit.requests',
      'retry.retries',
      'stockLocations',
      'timeoutMs',
    ])
    expect(isOmsError(error) && error.code).toBe('VALIDATION')
    expect((error as Error).message).not.toContain('not-a-guid-secretish')
    expect((error as Error).cause).toBeUndefined()
  })

  test('defaults follow the brief', () => {
    const adapter = createDutchieAdapter({ locationKey: 'k', consumerKey: CONSUMER_KEY })
    expect(adapter.vendor).toBe('dutchie')
    expect(adapter.capabilities).toEqual({
      incrementalProducts: true,
      incrementalInventory: false,
      idempotentCreate: true,
      updateOrder: true,
    })
    expect(createDutchieAdapter({ locationKey: 'k' }).capabilities.idempotentCreate).toBe(false)
  })
})
