import type { BulkUpdateResult } from './bulk-update'

/** The columns of a bulk-update CSV, in this order; empty cells are left out of the row. */
export const BULK_CSV_COLUMNS = [
  'op',
  'itemId',
  'locationId',
  'quantity',
  'delta',
  'expected',
  'reason',
  'packageId',
  'note',
] as const

const NUMERIC = new Set(['quantity', 'delta', 'expected'])

/** Splits CSV text into records (RFC 4180: quoted fields, doubled quotes, CRLF or LF). */
function records(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"'
        i++
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      row.push(field)
      field = ''
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++
      row.push(field)
      rows.push(row)
      row = []
      field = ''
    } else field += c
  }
  if (field !== '' || row.length) {
    row.push(field)
    rows.push(row)
  }
  return rows.filter((r) => r.some((f) => f.trim() !== ''))
}

/**
 * Reads a bulk-update CSV (a header row naming some of `BULK_CSV_COLUMNS`, in any order) into rows for
 * `inventory.bulkUpdate`. Numbers are converted; anything else is passed as written, so a bad cell is
 * reported on its own row by the update (VALIDATION), never here.
 */
export function parseBulkCsv(text: string): Array<Record<string, unknown>> {
  const [header, ...body] = records(text)
  if (!header) return []
  const names = header.map((h) => h.trim())
  return body.map((cells) => {
    const row: Record<string, unknown> = {}
    names.forEach((name, i) => {
      const cell = (cells[i] ?? '').trim()
      if (cell === '' || name === '') return
      row[name] = NUMERIC.has(name) && /^-?\d+$/.test(cell) ? Number(cell) : cell
    })
    return row
  })
}

const quote = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)

/** The per-row results of a bulk update as CSV: `row,status,itemId,locationId,onHand,code,message`. */
export function bulkResultCsv(result: BulkUpdateResult): string {
  const lines = ['row,status,itemId,locationId,onHand,code,message']
  for (const r of result.rows) {
    const cells = r.ok
      ? [String(r.index + 1), 'ok', r.itemId, r.locationId, String(r.onHand), '', '']
      : [String(r.index + 1), 'error', r.itemId ?? '', r.locationId ?? '', '', r.code, r.message]
    lines.push(cells.map(quote).join(','))
  }
  return `${lines.join('\n')}\n`
}
