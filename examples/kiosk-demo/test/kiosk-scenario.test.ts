import { describe, expect, test } from 'vitest'
import { runKioskScenario } from '../src/kiosk-scenario'
import { scenarioStorages } from './storages'

describe.each(scenarioStorages('demo'))('kiosk scenario on %s', (_name, open) => {
  test('ends with one order completed, one cancelled, one expired, and no drift', async () => {
    const lines: string[] = []
    const result = await runKioskScenario(await open(), (l) => lines.push(l))
    expect(result.orders.map((o) => o.status).sort()).toEqual([
      'cancelled',
      'cancelled',
      'completed',
      'confirmed',
    ])
    expect(lines.some((l) => l.includes('refused — INSUFFICIENT_STOCK'))).toBe(true)
    expect(result.levels.at(-1)).toMatch(/, 0 drift\(s\)$/)
    expect(result.levels).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/Denver.*blue-dream-3\.5g\s+on hand\s+3\s+reserved\s+0\s+available\s+3/),
      ]),
    )
    expect(result.timeline.some((l) => l.includes('reservation_expired'))).toBe(true)
    // the budtender's pick: scans, one refused over-scan, the hand-over
    expect(lines.some((l) => l.includes('scanned') && l.includes('850001234567'))).toBe(true)
    expect(lines.some((l) => l.includes('refused — SCAN_REJECTED'))).toBe(true)
    expect(result.timeline.some((l) => l.includes('item_scanned') && l.includes('budtender-sam'))).toBe(true)
    expect(result.timeline.some((l) => /picked_up\s/.test(l) || l.includes('→ picked_up'))).toBe(true)
  })
})
