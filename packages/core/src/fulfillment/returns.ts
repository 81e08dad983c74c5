import { z } from 'zod'
import { toFieldIssues } from '../domain/parse-input'
import { idSchema, type Order, positiveQuantitySchema, type Reservation } from '../domain/schemas'
import { ValidationError } from '../errors/oms-error'
import type { LedgerEntry } from '../inventory/stock-ledger'

/**
 * What the quality check found, per order line, sent as the `data` of `refund.approve`:
 * `restock` puts the units back on hand for sale (`return_restock`); `damaged` and `quarantine` put them
 * back on hand and into that bucket at once, so they count physically but are not available.
 */
export const returnOutcomeSchema = z.strictObject({
  lines: z
    .array(
      z.strictObject({
        orderLineId: idSchema,
        quantity: positiveQuantitySchema,
        outcome: z.enum(['restock', 'damaged', 'quarantine']),
      }),
    )
    .max(500),
})
export type ReturnOutcome = z.input<typeof returnOutcomeSchema>

const BUCKET = { damaged: 'damaged', quarantine: 'quarantine' } as const
const REASON = { damaged: 'damage', quarantine: 'quarantine' } as const

/**
 * The ledger entries of a checked return. Without `lines` in `data`, everything sold is restocked. Each
 * line's units go back to the locations they were sold from (in hold order), never more than was sold of
 * the line; anything else is VALIDATION naming the line.
 */
export function returnEntries(
  order: Pick<Order, 'id' | 'lines'>,
  holds: readonly Reservation[],
  data: Readonly<Record<string, unknown>> | undefined,
): LedgerEntry[] {
  const reference = { kind: 'order' as const, id: order.id }
  if (!data || data.lines === undefined) {
    return holds
      .filter((h) => h.quantityFulfilled > 0)
      .map((h) => ({
        itemId: h.itemId,
        locationId: h.locationId,
        bucket: 'on_hand' as const,
        delta: h.quantityFulfilled,
        reason: 'return_restock' as const,
        reference,
      }))
  }
  const parsed = returnOutcomeSchema.safeParse({ lines: data.lines })
  if (!parsed.success)
    throw new ValidationError(
      'return',
      toFieldIssues(parsed.error).map((i) => ({ ...i, path: `data.${i.path}` })),
    )
  // What is left to return per hold, consumed line by line.
  const left = new Map(holds.map((h) => [h.id, h.quantityFulfilled]))
  const entries: LedgerEntry[] = []
  const problems: Array<{ path: string; message: string }> = []
  for (const [i, line] of parsed.data.lines.entries()) {
    const sold = holds.filter((h) => h.orderLineId === line.orderLineId && (left.get(h.id) ?? 0) > 0)
    const available = sold.reduce((s, h) => s + (left.get(h.id) ?? 0), 0)
    if (!order.lines.some((l) => l.id === line.orderLineId) || line.quantity > available) {
      problems.push({
        path: `data.lines.${i}.quantity`,
        message: `is more than is left to return of line ${line.orderLineId} (${available})`,
      })
      continue
    }
    let q = line.quantity
    for (const h of sold) {
      const part = Math.min(q, left.get(h.id) ?? 0)
      if (part === 0) continue
      left.set(h.id, (left.get(h.id) ?? 0) - part)
      q -= part
      const at = { itemId: h.itemId, locationId: h.locationId, reference }
      entries.push({ ...at, bucket: 'on_hand', delta: part, reason: 'return_restock' })
      if (line.outcome !== 'restock')
        entries.push({ ...at, bucket: BUCKET[line.outcome], delta: part, reason: REASON[line.outcome] })
    }
  }
  if (problems.length) throw new ValidationError('return', problems)
  return entries
}
