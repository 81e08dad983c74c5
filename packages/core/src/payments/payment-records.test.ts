import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import type { OrderLine } from '../domain/schemas'
import { refundLines } from './payment-records'

const lineArb = fc
  .record({
    quantity: fc.integer({ min: 1, max: 50 }),
    unitPriceMinor: fc.integer({ min: 0, max: 1_000_000 }),
    discountShare: fc.double({ min: 0, max: 1, noNaN: true }),
    taxMinor: fc.integer({ min: 0, max: 100_000 }),
  })
  .map(({ quantity, unitPriceMinor, discountShare, taxMinor }): Omit<OrderLine, 'id'> => {
    const gross = quantity * unitPriceMinor
    const discountMinor = Math.floor(gross * discountShare)
    return {
      itemId: 'item',
      sku: null,
      name: null,
      quantity,
      unitPriceMinor,
      discountMinor,
      taxMinor,
      totalMinor: gross - discountMinor + taxMinor,
    }
  })

const orderArb = fc.array(lineArb, { minLength: 1, maxLength: 6 }).chain((raw) => {
  const lines = raw.map((l, i) => ({ ...l, id: `line-${i}` }))
  return fc.record({
    lines: fc.constant(lines),
    // what comes back of each line, in up to three parts
    back: fc.tuple(
      ...lines.map((l) => fc.array(fc.integer({ min: 0, max: l.quantity }), { minLength: 1, maxLength: 3 })),
    ),
  })
})

describe('refund amounts per line', () => {
  test('never more than a line total, a whole line pays back exactly its total, parts never add up to more', () => {
    fc.assert(
      fc.property(orderArb, ({ lines, back }) => {
        const holds = lines.map((l) => ({ orderLineId: l.id, quantityFulfilled: l.quantity }))
        const order = { lines }
        for (const [i, line] of lines.entries()) {
          const whole = refundLines(order, holds, [{ orderLineId: line.id, quantity: line.quantity }])
          expect(whole).toEqual([
            { orderLineId: line.id, quantity: line.quantity, amountMinor: line.totalMinor },
          ])
          // the line's units returned in parts (each part refunded separately) never beat the whole
          let left = line.quantity
          let paid = 0
          for (const part of back[i] as number[]) {
            const q = Math.min(part, left)
            if (q === 0) continue
            left -= q
            const [refund] = refundLines(order, holds, [{ orderLineId: line.id, quantity: q }])
            expect(refund?.amountMinor).toBeGreaterThanOrEqual(0)
            paid += refund?.amountMinor ?? 0
          }
          expect(paid).toBeLessThanOrEqual(line.totalMinor)
        }
        // everything at once: exactly the sum of the line totals
        const all = refundLines(
          order,
          holds,
          lines.map((l) => ({ orderLineId: l.id, quantity: l.quantity })),
        )
        expect(all.reduce((s, r) => s + r.amountMinor, 0)).toBe(lines.reduce((s, l) => s + l.totalMinor, 0))
      }),
      { numRuns: 300 },
    )
  })

  test('refuses more than was sold of a line, an unknown line and a bad shape, naming the field', () => {
    const lines = [
      {
        id: 'a',
        itemId: 'i',
        sku: null,
        name: null,
        quantity: 3,
        unitPriceMinor: 100,
        discountMinor: 0,
        taxMinor: 0,
        totalMinor: 300,
      },
    ]
    const sold = [{ orderLineId: 'a', quantityFulfilled: 2 }]
    expect(() => refundLines({ lines }, sold, [{ orderLineId: 'a', quantity: 3 }])).toThrow(/sold/)
    expect(() => refundLines({ lines }, sold, [{ orderLineId: 'b', quantity: 1 }])).toThrow(/line b/)
    try {
      refundLines({ lines }, sold, [{ orderLineId: 'a', quantity: -1 }])
      expect.unreachable()
    } catch (error) {
      expect(JSON.stringify(error)).toContain('data.lines.0.quantity')
    }
    expect(
      refundLines({ lines }, sold, [
        { orderLineId: 'a', quantity: 1 },
        { orderLineId: 'a', quantity: 1 },
      ]),
    ).toEqual([{ orderLineId: 'a', quantity: 2, amountMinor: 200 }])
  })
})
