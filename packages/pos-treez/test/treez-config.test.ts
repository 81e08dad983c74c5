import { generateKeyPairSync } from 'node:crypto'
import { isOmsError, ValidationError } from '@peak-oms/core'
import { describe, expect, test } from 'vitest'
import { createTreezAdapter, TreezAdapter, type TreezConfig } from '../src/index'
import { resolveTreezConfig } from '../src/treez-config'
import { CERTIFICATE_ID, ORGANIZATION_ID, testKeys } from './treez-harness'

const minimal = (): TreezConfig => ({
  privateKey: testKeys().pem,
  certificateId: CERTIFICATE_ID,
  organizationId: ORGANIZATION_ID,
  dispensary: 'partnersandbox3',
})

function validationError(fn: () => unknown): ValidationError {
  try {
    fn()
  } catch (error) {
    if (error instanceof ValidationError) return error
    throw error
  }
  throw new Error('expected a ValidationError')
}

describe('treez: config', () => {
  test('a minimal config gets the documented defaults', () => {
    const c = resolveTreezConfig(minimal())
    expect(c.baseUrl).toBe('https://api-prod.treez.io/dispensary/v3')
    expect(c.timeoutMs).toBe(10_000)
    expect(c.retry).toEqual({ retries: 3, minTimeout: 500, maxTimeout: 10_000, maxRetryAfterMs: 30_000 })
    expect(c.rateLimit).toEqual({ requests: 30, windowMs: 60_000 })
    expect(c.inventoryType).toBe('ADULT')
    expect(c.orderInventoryType).toBe('ADULT')
    expect(c.sellableLocations).toBeNull()
    expect(c.revenueSource).toBe('Peak OMS')
    expect(c.initialOrderStatus).toBe('AWAITING_PROCESSING')
    expect(c.ticketTypes).toEqual({ pickup: 'PICKUP', delivery: 'DELIVERY' })
    expect(c.orderSources).toEqual({
      kiosk: 'KIOSK',
      pos: 'IN_STORE',
      ecommerce: 'ECOMMERCE',
      wholesale: 'IN_STORE',
    })
    expect(c.currency).toBe('USD')
    expect(c.pageSize).toBe(500)
    expect(c.maxPageSize).toBe(1000)
    expect(c.incrementalOverlapMs).toBe(60_000)
    expect(c.findLookbackMs).toBe(14 * 24 * 3600 * 1000)
    expect(c.findMaxPages).toBe(20)
    expect(c.privateKey.asymmetricKeyType).toBe('rsa')
  })

  test('the factory returns the adapter with the Treez capabilities', () => {
    const adapter = createTreezAdapter(minimal())
    expect(adapter).toBeInstanceOf(TreezAdapter)
    expect(adapter.vendor).toBe('treez')
    expect(adapter.capabilities).toEqual({
      incrementalProducts: true,
      incrementalInventory: true,
      idempotentCreate: false,
      updateOrder: true,
    })
  })

  test('a KeyObject works as well as a PEM string; a trailing slash on baseUrl is dropped', () => {
    const c = resolveTreezConfig({
      ...minimal(),
      privateKey: testKeys().privateKey,
      baseUrl: 'http://127.0.0.1:1/x/',
    })
    expect(c.baseUrl).toBe('http://127.0.0.1:1/x')
    expect(resolveTreezConfig({ ...minimal(), inventoryType: 'MEDICAL' }).orderInventoryType).toBe('MEDICAL')
  })

  test('a bad config is one ValidationError listing every bad field, without the key text', () => {
    const pemLine = testKeys().pem.split('\n')[3] ?? ''
    const bad = {
      privateKey: `${testKeys().pem.slice(0, 200)}broken`,
      certificateId: '',
      organizationId: 42,
      dispensary: 'no spaces allowed',
      baseUrl: 'ftp://example.com',
      timeoutMs: -1,
      retry: { retries: 1.5, minTimeout: -5 },
      rateLimit: { requests: 0 },
      logger: { info: () => {} },
      inventoryType: 'RECREATIONAL',
      currency: 'usd',
    } as unknown as TreezConfig
    const error = validationError(() => createTreezAdapter(bad))
    expect(isOmsError(error) && error.code).toBe('VALIDATION')
    expect(error.issues.map((issue) => issue.path).sort()).toEqual(
      [
        'privateKey',
        'certificateId',
        'organizationId',
        'dispensary',
        'baseUrl',
        'timeoutMs',
        'retry.retries',
        'retry.minTimeout',
        'rateLimit.requests',
        'logger',
        'inventoryType',
        'currency',
      ].sort(),
    )
    expect(error.message).not.toContain(pemLine)
    expect(JSON.stringify(error)).not.toContain(pemLine)
    expect(error.cause).toBeUndefined()
  })

  test('keys that are not RSA private keys of at least 2048 bits are refused', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 })
    for (const privateKey of [ec.privateKey, small.privateKey, testKeys().publicKey, 'not a pem']) {
      const error = validationError(() => resolveTreezConfig({ ...minimal(), privateKey }))
      expect(error.issues.map((issue) => issue.path)).toEqual(['privateKey'])
    }
  })

  test('pageSize may not exceed maxPageSize', () => {
    const error = validationError(() => resolveTreezConfig({ ...minimal(), pageSize: 2000 }))
    expect(error.issues).toEqual([{ path: 'pageSize', message: 'must not exceed maxPageSize (1000)' }])
  })
})
