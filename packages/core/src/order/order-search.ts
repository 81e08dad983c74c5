import type { Order } from '../domain/schemas'
import { ValidationError } from '../errors/oms-error'
import type { OrderSort, OrderSortField } from '../ports/storage'

/** Longest search term kept per value (longer values are cut, so a prefix of them still finds them). */
export const MAX_TERM_LENGTH = 64

const normalise = (value: string) => value.trim().toLowerCase().slice(0, MAX_TERM_LENGTH)

/**
 * The words an order is found by in a text search, lowercased: its number, its customer reference, every
 * line's sku, each word of every line's item name, and every external (POS) id. A search word matches an
 * order when it is the beginning of one of these terms. (A search word has no spaces, so the beginning of
 * a whole item name is the beginning of its first word: the words alone find the same orders.) Every storage keeps exactly these
 * (SQL in a term table, kept in step with the order's writes), so a search finds the same orders on each.
 */
export function searchTermsOf(
  order: Pick<Order, 'number' | 'customerId' | 'lines' | 'externalIds'>,
): string[] {
  const terms = new Set<string>()
  const add = (value: string | null | undefined) => {
    if (!value) return
    const term = normalise(value)
    if (term) terms.add(term)
  }
  add(order.number)
  add(order.customerId)
  for (const line of order.lines) {
    add(line.sku)
    for (const word of (line.name ?? '').split(/\s+/)) add(word)
  }
  for (const id of Object.values(order.externalIds)) add(id)
  return [...terms].sort()
}

/** The words of a search text, lowercased: each must begin some term of an order for it to match. */
export function searchWords(text: string): string[] {
  return [
    ...new Set(
      text
        .split(/\s+/)
        .map(normalise)
        .filter((w) => w.length > 0),
    ),
  ]
}

/** The value an order is sorted by: epoch milliseconds for dates, the amount, or the number. */
export function sortValueOf(order: Order, field: OrderSortField): number | string {
  switch (field) {
    case 'created':
      return order.createdAt.getTime()
    case 'updated':
      return order.updatedAt.getTime()
    case 'total':
      return order.totals.totalMinor
    case 'number':
      return order.number
  }
}

/** Where a page ended: the sort value and id of its last order. */
export interface SearchPosition {
  value: number | string
  id: string
}

/** An opaque cursor for the page after `last`, bound to the sort it was made for. */
export function encodeCursor(sort: OrderSort, last: Order): string {
  const payload = [sort.field, sort.direction, sortValueOf(last, sort.field), last.id]
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url')
}

/** Reads a cursor back; VALIDATION when it is not one of ours or was made for another sort. */
export function decodeCursor(cursor: string, sort: OrderSort, what = 'order search'): SearchPosition {
  const bad = (message: string): never => {
    throw new ValidationError(what, [{ path: 'cursor', message }])
  }
  let payload: unknown
  try {
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    return bad('is not a cursor this search returned')
  }
  if (!Array.isArray(payload) || payload.length !== 4) return bad('is not a cursor this search returned')
  const [field, direction, value, id] = payload as unknown[]
  if (field !== sort.field || direction !== sort.direction)
    return bad(`was made for another sort (${String(field)} ${String(direction)})`)
  const numeric = field !== 'number'
  if (numeric ? !Number.isSafeInteger(value) : typeof value !== 'string')
    return bad('is not a cursor this search returned')
  if (typeof id !== 'string' || id.length === 0 || id.length > 128)
    return bad('is not a cursor this search returned')
  return { value: value as number | string, id }
}

/** Compares two orders in a sort (ties broken by id, in the same direction): the page order. */
export function compareForSort(a: Order, b: Order, sort: OrderSort): number {
  const va = sortValueOf(a, sort.field)
  const vb = sortValueOf(b, sort.field)
  const byValue = va < vb ? -1 : va > vb ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0
  return sort.direction === 'asc' ? byValue : -byValue
}

/** Whether `order` comes after the position in the sort (strictly): what the next page holds. */
export function isAfter(order: Order, position: SearchPosition, sort: OrderSort): boolean {
  const v = sortValueOf(order, sort.field)
  const cmp =
    v < position.value
      ? -1
      : v > position.value
        ? 1
        : order.id < position.id
          ? -1
          : order.id > position.id
            ? 1
            : 0
  return sort.direction === 'asc' ? cmp > 0 : cmp < 0
}
