import { createMemoryStorage } from '@peak-oms/core'
import { expect, test } from 'vitest'
import { runKioskScenario } from '../src/kiosk-scenario'

test('the kiosk scenario ends with one order completed, one cancelled, one expired and no drift', async () => {
  const lines: string[] = []
  const result = await runKioskScenario(createMemoryStorage(), (l) => lines.push(l))
  expect(result.orders.map((o) => o.status).sort()).toEqual([
    'cancelled',
    'cancelled',
    'completed',
    'confirmed',
  ])
  expect(lines.some((l) => l.includes('refused — INSUFFICIENT_STOCK'))).toBe(true)
  expect(result.levels.at(-1)).toMatch(/0 drift\(s\)$/)
  expect(result.levels).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/Denver.*blue-dream-3\.5g\s+on hand\s+3\s+reserved\s+0\s+available\s+3/),
    ]),
  )
  expect(result.timeline.some((l) => l.includes('reservation_expired'))).toBe(true)
})
