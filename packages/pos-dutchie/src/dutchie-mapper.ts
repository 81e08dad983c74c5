import { createHash } from 'node:crypto'
import {
  decimalToMinor,
  type FieldIssue,
  type PosOrderInput,
  type PosOrderRef,
  type PosOrderStatus,
  type PosProduct,
  type PosStockLevel,
  type PosUnit,
} from '@peak-oms/core'
import { type DutchieCallContext, invalidResponse } from './dutchie-http'
import type { DutchieInventoryItem, DutchiePreOrderStatus, DutchieProduct } from './dutchie-schemas'

/** How a Dutchie unit word reads: a count, grams or milligrams; null when unknown. */
type UnitKind = 'count' | 'grams' | 'milligrams'

const unitKind = (unit: string | null | undefined): UnitKind | null => {
  const word = (unit ?? '').trim().toLowerCase()
  if (['qty', 'ea', 'each', 'unit', 'units', 'count', 'pcs'].includes(word)) return 'count'
  if (['g', 'gram', 'grams', 'gr'].includes(word)) return 'grams'
  if (['mg', 'milligram', 'milligrams'].includes(word)) return 'milligrams'
  return null
}

/**
 * The core unit of a Dutchie product. `unitType` "Qty" is a count (`each`); a product sold by weight
 * ("Grams") is counted in whole milligrams (`mg`), because grams come with decimals. Unknown or missing
 * `unitType` reads as `each`.
 */
export function productUnit(unitType: string | null | undefined): PosUnit {
  const kind = unitKind(unitType)
  return kind === 'grams' || kind === 'milligrams' ? 'mg' : 'each'
}

const MG_PER: Record<string, number> = {
  g: 1000,
  gram: 1000,
  grams: 1000,
  mg: 1,
  milligram: 1,
  milligrams: 1,
  kg: 1_000_000,
  kilograms: 1_000_000,
  oz: 28_349.523125,
  ounce: 28_349.523125,
  ounces: 28_349.523125,
  lb: 453_592.37,
  lbs: 453_592.37,
  pounds: 453_592.37,
}

/** Net weight as whole milligrams (descriptive, so rounded to the milligram); null when unknown. */
export function netWeightMg(product: Pick<DutchieProduct, 'netWeight' | 'netWeightUnit' | 'productGrams'>) {
  if (typeof product.netWeight === 'number' && product.netWeight >= 0) {
    const factor = MG_PER[(product.netWeightUnit ?? '').trim().toLowerCase()]
    if (factor !== undefined) return Math.round(product.netWeight * factor)
  }
  if (typeof product.productGrams === 'number' && product.productGrams >= 0) {
    return Math.round(product.productGrams * 1000)
  }
  return null
}

const potencyUnit = (unit: string | null | undefined): '%' | 'mg' | null => {
  const word = (unit ?? '').trim().toLowerCase()
  if (word === '%' || word === 'percent' || word === 'percentage') return '%'
  if (word === 'mg' || word === 'milligrams') return 'mg'
  return null
}

/** The config choices {@link mapProduct} needs. */
export interface DutchieProductMapping {
  pricing: 'recreational' | 'medical'
  currency: string
}

/** Maps a `ProductDetail` to a core `PosProduct`: dollars become integer cents, weights whole mg. */
export function mapProduct(product: DutchieProduct, options: DutchieProductMapping): PosProduct {
  const preferred = options.pricing === 'medical' ? product.medPrice : product.recPrice
  const price = typeof preferred === 'number' ? preferred : product.price
  const thcUnit = potencyUnit(product.thcContentUnit)
  const cbdUnit = potencyUnit(product.cbdContentUnit)
  const unit = thcUnit ?? cbdUnit
  const name =
    [product.productName, product.onlineTitle, product.internalName].find(
      (candidate): candidate is string => typeof candidate === 'string' && candidate.trim() !== '',
    ) ?? `Dutchie product ${product.productId}`
  return {
    externalId: String(product.productId),
    sku: product.sku ?? null,
    name,
    category: product.category ?? product.masterCategory ?? null,
    unit: productUnit(product.unitType),
    priceMinor: typeof price === 'number' ? decimalToMinor(price) : null,
    currency: options.currency,
    active: product.isActive ?? true,
    cannabis: {
      thc: thcUnit === unit ? (product.thcContent ?? null) : null,
      // A CBD figure in another unit than THC's would be misread, so it is dropped.
      cbd: cbdUnit === unit ? (product.cbdContent ?? null) : null,
      potencyUnit: unit,
      strain: product.strain ?? null,
      netWeightMg: netWeightMg(product),
    },
    updatedAt: product.lastModifiedDateUTC ?? null,
  }
}

const EPSILON = 1e-6

/**
 * A Dutchie quantity as whole units of core: counts must already be whole; grams become whole milligrams.
 * Returns null (the caller reports `POS_INVALID_RESPONSE`) instead of rounding a fractional count or a
 * sub-milligram weight.
 */
export function wholeQuantity(
  value: number,
  kind: UnitKind | null,
): { quantity: number; unit: PosUnit } | null {
  if (!Number.isFinite(value)) return null
  const scaled = kind === 'grams' ? value * 1000 : value
  const rounded = Math.round(scaled)
  if (Math.abs(scaled - rounded) > EPSILON) return null
  return { quantity: rounded, unit: kind === 'grams' || kind === 'milligrams' ? 'mg' : 'each' }
}

/** Where {@link mapInventory} puts stock: the key's location, or each room. */
export interface DutchieInventoryMapping {
  /** `location`: one level per product at `locationId`; `rooms`: one per product and room. */
  mode: 'location' | 'rooms'
  locationId: string
  roomKey: 'name' | 'id'
  rooms?: readonly string[] | undefined
}

/** The stock levels of one snapshot, and what could not be placed. */
export interface DutchieInventoryResult {
  levels: PosStockLevel[]
  /** Rows skipped in `rooms` mode because they came without `roomQuantities`. */
  rowsWithoutRooms: number
}

/**
 * Sums the per-package `ReportingInventoryItem` rows into one `PosStockLevel` per product (and room, in
 * `rooms` mode). Negative availability reads as 0. A fractional count, a sub-milligram weight or a product
 * whose packages disagree on the unit throws `POS_INVALID_RESPONSE` naming the row's field.
 */
export function mapInventory(
  rows: readonly DutchieInventoryItem[],
  options: DutchieInventoryMapping,
  ctx: DutchieCallContext,
): DutchieInventoryResult {
  const levels = new Map<string, PosStockLevel>()
  const units = new Map<string, { unit: PosUnit; field: string }>()
  const allowedRooms = options.rooms ? new Set(options.rooms) : null
  let rowsWithoutRooms = 0

  const add = (
    productId: string,
    locationId: string,
    value: number,
    kind: UnitKind | null,
    field: string,
    unitField: string,
    updatedAt: Date | null,
  ) => {
    const whole = wholeQuantity(value, kind)
    if (whole === null) {
      throw invalidResponse(
        ctx,
        [field],
        `${value} is not a whole number of ${kind === 'grams' ? 'milligrams' : 'units'}`,
      )
    }
    const known = units.get(productId)
    if (known && known.unit !== whole.unit) {
      throw invalidResponse(ctx, [unitField], `packages of product ${productId} disagree on the unit`)
    }
    units.set(productId, { unit: whole.unit, field: unitField })
    const key = `${productId}\u0000${locationId}`
    const level = levels.get(key)
    const quantity = Math.max(0, whole.quantity)
    if (level) {
      level.quantity += quantity
      if (updatedAt && (!level.updatedAt || updatedAt > level.updatedAt)) level.updatedAt = updatedAt
    } else {
      levels.set(key, {
        externalProductId: productId,
        externalLocationId: locationId,
        quantity,
        unit: whole.unit,
        updatedAt,
      })
    }
  }

  rows.forEach((row, index) => {
    const productId = String(row.productId)
    const kind = unitKind(row.quantityUnits)
    const updatedAt = row.lastModifiedDateUtc ?? null
    const unitField = `${index}.quantityUnits`
    if (options.mode === 'location') {
      add(
        productId,
        options.locationId,
        row.quantityAvailable,
        kind,
        `${index}.quantityAvailable`,
        unitField,
        updatedAt,
      )
      return
    }
    if (!row.roomQuantities) {
      rowsWithoutRooms += 1
      return
    }
    row.roomQuantities.forEach((room, roomIndex) => {
      const location = options.roomKey === 'id' ? String(room.roomId) : (room.room ?? String(room.roomId))
      if (allowedRooms && !allowedRooms.has(location)) return
      add(
        productId,
        location,
        room.quantityAvailable,
        kind,
        `${index}.roomQuantities.${roomIndex}.quantityAvailable`,
        unitField,
        updatedAt,
      )
    })
  })
  return { levels: [...levels.values()], rowsWithoutRooms }
}

const STATUS: Record<string, PosOrderStatus> = {
  submitted: 'submitted',
  pending: 'submitted',
  processing: 'in_progress',
  filled: 'ready',
  complete: 'completed',
  completed: 'completed',
  cancelled: 'cancelled',
  canceled: 'cancelled',
  rejected: 'rejected',
}

/** Dutchie pre-order status word to core's; null for a word the spec does not know. */
export function mapOrderStatus(raw: string): PosOrderStatus | null {
  return STATUS[raw.trim().toLowerCase()] ?? null
}

/** A `PreOrderStatus` as a `PosOrderRef`; an unknown status is `POS_INVALID_RESPONSE` at `field`. */
export function mapPreOrderRef(
  status: DutchiePreOrderStatus,
  ctx: DutchieCallContext,
  field = 'status',
): PosOrderRef {
  const mapped = mapOrderStatus(status.status)
  if (mapped === null) throw invalidResponse(ctx, [field], 'unknown pre-order status')
  return { externalId: String(status.preOrderId), externalNumber: null, status: mapped, raw: status.status }
}

/** The ref of a pre-order just submitted: Dutchie starts every pre-order as `Submitted`. */
export const submittedRef = (preOrderId: number): PosOrderRef => ({
  externalId: String(preOrderId),
  externalNumber: null,
  status: 'submitted',
  raw: 'Submitted',
})

/** The pre-order `notes`: our marker and order number first, then the order's own notes. */
export function orderNotes(prefix: string, orderNumber: string, notes: string | null): string {
  const marker = `${prefix} ${orderNumber}`
  return notes && notes.trim() !== '' ? `${marker}\n${notes}` : marker
}

const escapeRegExp = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** True when `notes` carries the marker for exactly `orderNumber` (not a longer number it prefixes). */
export function notesMatch(prefix: string, orderNumber: string, notes: string | null | undefined): boolean {
  if (!notes) return false
  return new RegExp(`(?:^|\\s)${escapeRegExp(prefix)} ${escapeRegExp(orderNumber)}(?![\\w-])`).test(notes)
}

/** Dutchie's `idempotencyKey` holds at most 36 characters [3P]. */
export const DUTCHIE_IDEMPOTENCY_KEY_MAX = 36

/**
 * Our idempotency key as Dutchie accepts it: unchanged when it fits in 36 characters, else a UUID-shaped
 * SHA-256 digest of it (deterministic, so a retry or a restart sends the same key).
 */
export function dutchieIdempotencyKey(key: string): string {
  if (key.length > 0 && key.length <= DUTCHIE_IDEMPOTENCY_KEY_MAX) return key
  const hex = createHash('sha256').update(key, 'utf8').digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}

const INT32_MAX = 2_147_483_647

/** A Dutchie int32 id from our string form, or null when it is not one. */
export function parseDutchieId(value: string | null | undefined): number | null {
  if (typeof value !== 'string' || !/^\d{1,10}$/.test(value.trim())) return null
  const id = Number(value.trim())
  return id > 0 && id <= INT32_MAX ? id : null
}

/**
 * Pre-order items from our lines. Quantities are in the product's core unit: a count for `each`, whole
 * milligrams for products sold by weight, which Dutchie takes in grams. `unitOf` says which (unknown
 * products read as counts). Problems come back as field issues, never as a partial list.
 */
export function preOrderItems(
  lines: PosOrderInput['lines'],
  unitOf: (productId: number) => PosUnit | undefined,
): { items: Array<{ productId: number; quantity: number }>; issues: FieldIssue[] } {
  const issues: FieldIssue[] = []
  const items: Array<{ productId: number; quantity: number }> = []
  if (lines.length === 0) issues.push({ path: 'lines', message: 'a pre-order needs at least one line' })
  lines.forEach((line, index) => {
    const productId = parseDutchieId(line.externalProductId)
    if (productId === null) {
      issues.push({
        path: `lines.${index}.externalProductId`,
        message: 'must be a Dutchie productId (int32)',
      })
      return
    }
    if (!Number.isInteger(line.quantity) || line.quantity <= 0) {
      issues.push({ path: `lines.${index}.quantity`, message: 'must be a positive whole number' })
      return
    }
    const unit = unitOf(productId) ?? 'each'
    items.push({ productId, quantity: unit === 'mg' ? line.quantity / 1000 : line.quantity })
  })
  return { items, issues }
}
