import { generateKeyPairSync, verify } from 'node:crypto'
import { isPosError } from '@peak-oms/core'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTreezToken, TREEZ_TOKEN_TTL_MS } from '../src/index'
import { TREEZ_401_BODY } from '../src/testing/fake-treez-server'
import {
  CERTIFICATE_ID,
  DISPENSARY,
  ORGANIZATION_ID,
  startTreezHarness,
  type TreezHarness,
  testKeys,
} from './treez-harness'

const decodeClaims = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

describe('treez: self-signed token', () => {
  test('is two parts: base64url claims and a base64 RSA-SHA256 signature, no JOSE header', () => {
    const { privateKey, publicKey } = testKeys()
    const now = new Date('2026-11-22T10:00:00.000Z')
    const url = 'https://api-prod.treez.io/dispensary/v3/store/product/product_list?page=1&pagesize=10'
    const token = createTreezToken({
      privateKey,
      certificateId: CERTIFICATE_ID,
      organizationId: ORGANIZATION_ID,
      url,
      now,
      jti: 'fixed-jti',
    })
    const parts = token.split('.')
    expect(parts).toHaveLength(2)
    const [payload = '', signature = ''] = parts
    expect(payload).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(signature).toMatch(/^[A-Za-z0-9+/]+={0,2}$/)
    expect(decodeClaims(token)).toEqual({
      aud: url,
      iss: CERTIFICATE_ID,
      oid: ORGANIZATION_ID,
      iat: now.getTime(),
      exp: now.getTime() + 30_000,
      jti: 'fixed-jti',
    })
    expect(TREEZ_TOKEN_TTL_MS).toBe(30_000)
    expect(verify('RSA-SHA256', Buffer.from(payload), publicKey, Buffer.from(signature, 'base64'))).toBe(true)
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey
    expect(verify('RSA-SHA256', Buffer.from(payload), other, Buffer.from(signature, 'base64'))).toBe(false)
  })

  test('gets a fresh jti each time', () => {
    const { privateKey } = testKeys()
    const input = { privateKey, certificateId: 'c', organizationId: 'o', url: 'https://x.test/a' }
    expect(decodeClaims(createTreezToken(input)).jti).not.toBe(decodeClaims(createTreezToken(input)).jti)
  })
})

describe('treez: Authorization on the wire', () => {
  let h: TreezHarness
  beforeEach(async () => {
    h = await startTreezHarness()
  })
  afterEach(async () => {
    await h.close()
  })

  test('every request carries its own token (no Bearer) whose aud is the exact URL called', async () => {
    await h.adapter.pullProducts({ pageSize: 2 })
    await h.adapter.pullInventory({ pageSize: 2, since: new Date('2026-11-01T00:00:00Z') })
    await h.adapter.pushOrder(h.order('ORD-20261122-0100'))
    expect(h.fake.requests.length).toBeGreaterThanOrEqual(4)
    const jtis = new Set<unknown>()
    for (const request of h.fake.requests) {
      const token = request.authorization ?? ''
      expect(token.startsWith('Bearer')).toBe(false)
      const claims = decodeClaims(token)
      const search = request.query.toString()
      expect(claims.aud).toBe(`${h.fake.origin}${request.path}${search ? `?${search}` : ''}`)
      expect(claims.iss).toBe(CERTIFICATE_ID)
      expect(claims.oid).toBe(ORGANIZATION_ID)
      expect(Number(claims.exp) - Number(claims.iat)).toBe(30_000)
      expect(claims.iat).toBe(h.clock.now().getTime())
      expect(request.status).toBe(200)
      jtis.add(claims.jti)
    }
    expect(jtis.size).toBe(h.fake.requests.length)
  })

  const stockUrl = () => `${h.fake.baseUrl}/${DISPENSARY}/stock/getStock?page=1&page_size=5`
  const sign = (url: string, overrides: { now?: Date } = {}) =>
    createTreezToken({
      privateKey: testKeys().privateKey,
      certificateId: CERTIFICATE_ID,
      organizationId: ORGANIZATION_ID,
      url,
      now: h.clock.now(),
      ...overrides,
    })

  test('the fake accepts a good token and answers 401 with the spec body without one', async () => {
    const good = await fetch(stockUrl(), { headers: { Authorization: sign(stockUrl()) } })
    expect(good.status).toBe(200)
    const missing = await fetch(stockUrl())
    expect(missing.status).toBe(401)
    expect(await missing.json()).toEqual(TREEZ_401_BODY)
    const bearer = await fetch(stockUrl(), { headers: { Authorization: `Bearer ${sign(stockUrl())}` } })
    expect(bearer.status).toBe(401)
  })

  test('the fake refuses a bad signature, a token for another URL and an expired token with 401', async () => {
    const token = sign(stockUrl())
    const [payload, signature = ''] = token.split('.')
    const flipped = `${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`
    const forged = await fetch(stockUrl(), { headers: { Authorization: flipped } })
    expect(forged.status).toBe(401)

    const otherUrl = await fetch(stockUrl(), { headers: { Authorization: sign(`${stockUrl()}&x=1`) } })
    expect(otherUrl.status).toBe(401)

    const expired = await fetch(stockUrl(), {
      headers: { Authorization: sign(stockUrl(), { now: new Date(h.clock.now().getTime() - 31_000) }) },
    })
    expect(expired.status).toBe(401)
    expect(await expired.json()).toEqual(TREEZ_401_BODY)
  })

  test('the fake answers 400 (not 401) to a TTL other than 30 000 ms', async () => {
    const { privateKey } = testKeys()
    const { sign: rsaSign } = await import('node:crypto')
    const iat = h.clock.now().getTime()
    const claims = {
      aud: stockUrl(),
      iss: CERTIFICATE_ID,
      oid: ORGANIZATION_ID,
      iat,
      exp: iat + 60_000,
      jti: 'x',
    }
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url')
    const signature = rsaSign('RSA-SHA256', Buffer.from(payload), privateKey).toString('base64')
    const response = await fetch(stockUrl(), { headers: { Authorization: `${payload}.${signature}` } })
    expect(response.status).toBe(400)
    expect(((await response.json()) as { resultCode: string }).resultCode).toBe('FAIL')
  })

  test('an adapter whose clock is off sends expired tokens: POS_REJECTED 401, not retried', async () => {
    const skewed = h.newAdapter({ now: () => new Date(h.clock.now().getTime() - 5 * 60_000) })
    const error = await rejection(skewed.pullInventory({ pageSize: 5 }))
    expect(isPosError(error) && error.code).toBe('POS_REJECTED')
    expect(isPosError(error) && error.status).toBe(401)
    expect(h.fake.requestCount('pullInventory')).toBe(1)
  })

  test('an adapter with a key Treez does not know is refused with 401', async () => {
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
    const error = await rejection(h.newAdapter({ privateKey: stranger }).pullProducts())
    expect(isPosError(error) && error.code).toBe('POS_REJECTED')
    expect(isPosError(error) && error.status).toBe(401)
  })
})
