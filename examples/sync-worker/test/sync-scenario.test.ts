import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMemoryStorage, type Storage } from '@peak-oms/core'
import { createFakeClock } from '@peak-oms/core/testing'
import { createSqliteStorage } from '@peak-oms/storage-sqlite'
import { afterAll, describe, expect, test } from 'vitest'
import { startFakePoses } from '../src/fake-poses'
import { runSyncScenario } from '../src/sync-scenario'

const dir = mkdtempSync(join(tmpdir(), 'peak-oms-sync-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function sqlite(): Promise<Storage> {
  const storage = createSqliteStorage({
    filename: join(dir, `sync-${Math.random().toString(36).slice(2)}.db`),
  })
  const { error } = await storage.migrateToLatest()
  if (error) throw error
  return storage
}

describe.each([
  ['memory', async () => createMemoryStorage()],
  ['sqlite file', sqlite],
])('sync-worker example on %s', (_name, open) => {
  test('every order appears once at each fake POS through an outage, and the dead letter is retried', async () => {
    const clock = createFakeClock()
    const fakes = await startFakePoses(clock)
    const storage = await open()
    try {
      const lines: string[] = []
      const result = await runSyncScenario(storage, fakes.poses, (l) => lines.push(l), clock)
      const numbers = result.orders.map((o) => o.number)
      for (const pos of ['treez', 'dutchie', 'blaze']) {
        const refs = (result.tickets[pos] ?? []).map((t) => t.reference.match(/ORD-\d{8}-\d+/)?.[0])
        // exactly one ticket per order at each POS, none twice
        expect(refs.sort(), pos).toEqual([...numbers].sort())
      }
      // the order cancelled during the outage is cancelled at every POS once they are back
      const cancelled = result.orders.find((o) => o.status === 'cancelled')?.number as string
      for (const pos of ['treez', 'dutchie', 'blaze']) {
        const ticket = result.tickets[pos]?.find((t) => t.reference.includes(cancelled))
        expect(ticket?.status.toLowerCase(), pos).toMatch(/cancel/)
      }
      expect(result.healthDuring).toEqual({ blaze: 'down', dutchie: 'down', treez: 'down' })
      expect(result.healthAfter).toEqual({ blaze: 'up', dutchie: 'up', treez: 'up' })
      expect(result.drainProgress.at(-1)).toBe(0)
      expect(result.drainProgress.length).toBeGreaterThan(1)
      // BLAZE rejected the unmapped product: dead-lettered, then retried by the operator
      const blazePushes = result.jobs.filter((j) => j.pos === 'blaze' && j.kind === 'push_order')
      const rejected = blazePushes.filter((j) => j.lastError?.code === 'POS_REJECTED')
      expect(rejected).toHaveLength(1)
      // the operator's retry starts the attempts again: it succeeded on the first one after it
      expect(rejected[0]).toMatchObject({ status: 'succeeded', attempts: 1 })
      expect(result.jobs.every((j) => j.status === 'succeeded')).toBe(true)
      expect(lines.some((l) => l.startsWith('dead letter: push_order'))).toBe(true)
      expect(result.table.length).toBeGreaterThan(10)
    } finally {
      await storage.close()
      await fakes.close()
    }
  })
})
