import { isOmsError, isPosError, ValidationError } from '@peak-oms/core'
import { afterEach, describe, expect, test } from 'vitest'
import { blazeAuthHeaders, redactVendorText } from '../src/blaze-auth'
import { BLAZE_DEFAULT_BASE_URL, resolveBlazeConfig } from '../src/blaze-config'
import { createBlazeAdapter } from '../src/index'
import { type BlazeHarness, startBlazeHarness } from './blaze-harness'

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a rejection')
}

describe('blaze: auth and config', () => {
  let h: BlazeHarness | undefined
  afterEach(async () => {
    await h?.close()
    h = undefined
  })

  test('auth headers are the partner key in x-api-key and the raw developer key in Authorization', () => {
    expect(blazeAuthHeaders({ partnerKey: 'pk', developerKey: 'dk', partnerKeyHeader: 'x-api-key' })).toEqual(
      {
        'x-api-key': 'pk',
        Authorization: 'dk',
      },
    )
    expect(
      blazeAuthHeaders({ partnerKey: 'pk', developerKey: 'dk', partnerKeyHeader: 'partner_key' }),
    ).toEqual({
      partner_key: 'pk',
      Authorization: 'dk',
    })
  })

  test('every request carries both keys, with no scheme on Authorization', async () => {
    h = await startBlazeHarness()
    await h.adapter.pullProducts({ pageSize: 2 })
    const request = h.fake.requests[0]
    expect(request?.headers['x-api-key']).toBe(h.fake.partnerKey)
    expect(request?.headers.authorization).toBe(h.fake.developerKey)
    expect(request?.headers.authorization).not.toMatch(/^(Bearer|Basic) /)
  })

  test('the older partner_key header is accepted as well', async () => {
    h = await startBlazeHarness({ adapter: { partnerKeyHeader: 'partner_key' } })
    const page = await h.adapter.pullProducts({ pageSize: 2 })
    expect(page.items).toHaveLength(2)
    expect(h.fake.requests[0]?.headers.partner_key).toBe(h.fake.partnerKey)
    expect(h.fake.requests[0]?.headers['x-api-key']).toBeUndefined()
  })

  test('a bad developer key is POS_REJECTED (401) at once, without retries or leaked keys', async () => {
    h = await startBlazeHarness({ adapter: { developerKey: 'dk_wrong_value_93f1' } })
    const error = await rejection(h.adapter.pullProducts())
    expect(isPosError(error) && error.code).toBe('POS_REJECTED')
    expect(isPosError(error) && error.status).toBe(401)
    expect(error.message).toContain('401')
    expect(h.fake.requests).toHaveLength(1)
    const text = `${error.message} ${JSON.stringify(error)} ${h.logger.lines.join('\n')}`
    for (const secret of ['dk_wrong_value_93f1', h.fake.partnerKey, h.fake.developerKey]) {
      expect(text).not.toContain(secret)
    }
  })

  test('a missing partner permission is POS_REJECTED (403), not retried', async () => {
    h = await startBlazeHarness({ fake: { forbidden: ['pullInventory'] } })
    const error = await rejection(h.adapter.pullInventory())
    expect(isPosError(error) && error.code).toBe('POS_REJECTED')
    expect(isPosError(error) && error.status).toBe(403)
    expect(h.fake.requestCount('pullInventory')).toBe(1)
  })

  test('defaults are filled in', () => {
    const config = resolveBlazeConfig({ partnerKey: 'pk', developerKey: 'dk' })
    expect(config).toMatchObject({
      baseUrl: BLAZE_DEFAULT_BASE_URL,
      partnerKeyHeader: 'x-api-key',
      timeoutMs: 10_000,
      retry: { retries: 3, minTimeout: 500, maxTimeout: 10_000, factor: 2, maxRetryAfterMs: 30_000 },
      rateLimit: { requests: 10, windowMs: 1000 },
      pageSize: 100,
      quantitySource: 'sellableQuantities',
      currency: 'USD',
      historyPageSize: 100,
      maxHistoryPages: 10,
    })
    expect(config.cuid).toBeUndefined()
    expect(
      resolveBlazeConfig({ partnerKey: 'pk', developerKey: 'dk', baseUrl: 'http://x.test/api/' }).baseUrl,
    ).toBe('http://x.test/api')
  })

  test('a bad config is a ValidationError naming every bad field and no secret', () => {
    let error: unknown
    try {
      createBlazeAdapter({
        partnerKey: '',
        developerKey: 'dk_secret_value_1',
        baseUrl: 'not a url',
        timeoutMs: -1,
        retry: { retries: 1.5 },
        rateLimit: { requests: 0 },
        currency: 'usd',
        logger: {} as never,
      })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ValidationError)
    const issues = (error as ValidationError).issues.map((i) => i.path)
    expect(issues).toEqual(
      expect.arrayContaining([
        'baseUrl',
        'partnerKey',
        'timeoutMs',
        'retry.retries',
        'rateLimit.requests',
        'currency',
        'logger',
      ]),
    )
    expect(isOmsError(error) && error.code).toBe('VALIDATION')
    expect((error as Error).message).not.toContain('dk_secret_value_1')
  })

  test('vendor text in errors is stripped of secrets, e-mails and phone numbers', () => {
    const text = redactVendorText('Key pk_123 for jane.doe@example.com at +1 (555) 010-2233 is bad', [
      'pk_123',
    ])
    expect(text).toBe('Key [redacted] for [email] at [phone] is bad')
    expect(redactVendorText('x'.repeat(500), []).length).toBeLessThanOrEqual(201)
  })
})
