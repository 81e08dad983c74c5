import { pullAllPages } from '@peak-oms/core'
import { afterEach, describe, expect, test } from 'vitest'
import {
  expectedLocationInventory,
  expectedProducts,
  expectedRoomInventory,
  fixtureProducts,
} from '../src/testing/dutchie-fixtures'
import { type DutchieTestRig, startRig } from './dutchie-harness'

let rig: DutchieTestRig | undefined
afterEach(async () => {
  await rig?.close()
  rig = undefined
})

const byId = <T extends { externalId: string }>(items: T[]) =>
  [...items].sort((a, b) => a.externalId.localeCompare(b.externalId))
const byLevel = <T extends { externalProductId: string; externalLocationId: string }>(items: T[]) =>
  [...items].sort((a, b) =>
    `${a.externalProductId}@${a.externalLocationId}`.localeCompare(
      `${b.externalProductId}@${b.externalLocationId}`,
    ),
  )

describe('dutchie: pulls', () => {
  test('a full product pull is one page with no cursor, whatever the page size', async () => {
    rig = await startRig()
    const page = await rig.adapter.pullProducts({ pageSize: 1 })
    expect(page.nextCursor).toBeNull()
    expect(byId(page.items)).toEqual(byId(expectedProducts))
    const query = rig.fake.requests[0]?.query
    expect(query).toEqual({})
  })

  test('a large catalog arrives whole in one page ([3P] offset/limit are neither sent nor needed)', async () => {
    const template = fixtureProducts[0] ?? {}
    const many = Array.from({ length: 2500 }, (_, i) => ({ ...template, productId: 2_000_000 + i }))
    // This test is about paging, not timeouts: a 2,500-product body on a busy machine may take a while.
    rig = await startRig({ fake: { products: many }, adapter: { timeoutMs: 30_000 } })
    const pages: number[] = []
    for await (const items of pullAllPages((o) => rig!.adapter.pullProducts(o), { pageSize: 100 })) {
      pages.push(items.length)
    }
    expect(pages).toEqual([2500])
    expect(rig.fake.count('products')).toBe(1)
  })

  test('an incremental pull asks from `since` minus 60 s and returns what changed', async () => {
    rig = await startRig()
    const since = new Date('2026-03-03T00:00:00.000Z')
    const page = await rig.adapter.pullProducts({ since })
    expect(rig.fake.requests[0]?.query).toEqual({ fromLastModifiedDateUTC: '2026-03-02T23:59:00.000Z' })
    expect(page.items.map((p) => p.externalId).sort()).toEqual(['1185377', '1190001'])
    expect(page.nextCursor).toBeNull()
  })

  test('the overlap is configurable, and the 60 s overlap catches an edit just before `since`', async () => {
    rig = await startRig({ adapter: { incrementalOverlapMs: 0 } })
    const since = new Date('2026-03-02T18:23:00.000Z') // Blue Dream changed 19 s earlier
    expect((await rig.adapter.pullProducts({ since })).items.map((p) => p.externalId)).not.toContain(
      '1184920',
    )
    await rig.close()
    rig = await startRig()
    expect((await rig.adapter.pullProducts({ since })).items.map((p) => p.externalId)).toContain('1184920')
  })

  test('activeOnly sends isActive=true', async () => {
    rig = await startRig({ adapter: { activeOnly: true } })
    const page = await rig.adapter.pullProducts()
    expect(rig.fake.requests[0]?.query).toEqual({ isActive: 'true' })
    expect(page.items.every((p) => p.active)).toBe(true)
    expect(page.items).toHaveLength(3)
  })

  test('inventory: one level per product at the location from /whoami, asked once', async () => {
    rig = await startRig()
    const first = await rig.adapter.pullInventory({ since: rig.clock.now() })
    const second = await rig.adapter.pullInventory()
    expect(first.nextCursor).toBeNull()
    expect(byLevel(first.items)).toEqual(byLevel(expectedLocationInventory()))
    expect(second.items).toEqual(first.items)
    expect(rig.fake.count('whoami')).toBe(1)
    expect(rig.fake.requests.find((r) => r.route === 'inventory')?.query).toEqual({
      includeRoomQuantities: 'true',
    })
  })

  test('a PascalCase /whoami ([3P]) is read too', async () => {
    rig = await startRig({ fake: { whoamiPascalCase: true } })
    const page = await rig.adapter.pullInventory()
    expect(page.items.every((l) => l.externalLocationId === '4412')).toBe(true)
  })

  test('a configured externalLocationId skips /whoami', async () => {
    rig = await startRig({ adapter: { externalLocationId: 'downtown' } })
    const page = await rig.adapter.pullInventory()
    expect(byLevel(page.items)).toEqual(byLevel(expectedLocationInventory('downtown')))
    expect(rig.fake.count('whoami')).toBe(0)
  })

  test('a failed /whoami is asked again on the next pull', async () => {
    rig = await startRig({ adapter: { retry: { retries: 0 } } })
    rig.fake.inject('whoami', { kind: 'server_error', status: 503 })
    await expect(rig.adapter.pullInventory()).rejects.toMatchObject({ code: 'POS_UNAVAILABLE' })
    expect((await rig.adapter.pullInventory()).items).toHaveLength(4)
    expect(rig.fake.count('whoami')).toBe(2)
  })

  test('rooms mode: one level per product and room, with an optional allow-list', async () => {
    rig = await startRig({ adapter: { stockLocations: 'rooms' } })
    expect(byLevel((await rig.adapter.pullInventory()).items)).toEqual(byLevel(expectedRoomInventory))
    expect(rig.fake.count('whoami')).toBe(0)
    await rig.close()
    rig = await startRig({ adapter: { stockLocations: 'rooms', rooms: ['Sales Floor'] } })
    const levels = (await rig.adapter.pullInventory()).items
    expect(levels.map((l) => l.externalLocationId).every((room) => room === 'Sales Floor')).toBe(true)
    expect(levels).toHaveLength(3)
  })
})
