import { z } from 'zod'
import {
  CALLER_ROLES,
  CHANNELS,
  COUNT_STATUSES,
  FULFILLMENT_STATUSES,
  HISTORY_ACTIONS,
  LOCATION_KINDS,
  MOVEMENT_REASONS,
  ORDER_FLOWS,
  PAYMENT_STATUSES,
  RESERVATION_STATUSES,
  type Role,
  STOCK_BUCKETS,
  TRANSFER_STATUSES,
  UNITS,
} from './enums'

/** An opaque identifier: 1–128 characters. */
export const idSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')

/** A whole, non-negative quantity in the item's unit. */
export const quantitySchema = z
  .number({ error: 'must be a number' })
  .int('must be a whole number (quantities are integers in the item unit)')
  .min(0, 'must not be negative')
  .max(Number.MAX_SAFE_INTEGER, 'is too large')

/** A whole, positive quantity (order lines, holds, transfers). */
export const positiveQuantitySchema = quantitySchema.min(1, 'must be at least 1')

/** A whole, signed quantity change (adjustments). Zero is not a change. */
export const quantityDeltaSchema = z
  .number({ error: 'must be a number' })
  .int('must be a whole number (quantities are integers in the item unit)')
  .min(-Number.MAX_SAFE_INTEGER, 'is too small')
  .max(Number.MAX_SAFE_INTEGER, 'is too large')
  .refine((n) => n !== 0, 'must not be zero')

/** An amount in integer minor units (cents): never a float. */
export const minorUnitsSchema = z
  .number({ error: 'must be a number' })
  .int('must be an integer amount in minor units (cents), not a decimal')
  .min(0, 'must not be negative')
  .max(Number.MAX_SAFE_INTEGER, 'is too large')

export const currencySchema = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD')

export const moneySchema = z.strictObject({ amountMinor: minorUnitsSchema, currency: currencySchema })
export type Money = z.infer<typeof moneySchema>

export const channelSchema = z.enum(CHANNELS)
export const orderFlowSchema = z.enum(ORDER_FLOWS)
export const fulfillmentStatusSchema = z.enum(FULFILLMENT_STATUSES)
export const historyActionSchema = z.enum(HISTORY_ACTIONS)
export const movementReasonSchema = z.enum(MOVEMENT_REASONS)
export const stockBucketSchema = z.enum(STOCK_BUCKETS)
export const locationKindSchema = z.enum(LOCATION_KINDS)
export const unitSchema = z.enum(UNITS)
export const reservationStatusSchema = z.enum(RESERVATION_STATUSES)
export const paymentStatusSchema = z.enum(PAYMENT_STATUSES)
/** A role a caller may hold (`system` is the library's own and is refused). */
export const roleSchema = z.enum(CALLER_ROLES)

const timestampSchema = z.date()
/** Free text shown to people: trimmed, bounded. */
const textSchema = (max: number) => z.string().trim().max(max, `must be at most ${max} characters`)
const externalIdsSchema = z.record(z.string().min(1).max(64), z.string().min(1).max(256))

/** Who runs a command. Every command carries one. */
export const actorSchema = z.strictObject({
  id: idSchema,
  roles: z.array(roleSchema).min(1, 'must name at least one role').max(16),
  /** Staff limited to these stores; absent means every store, empty means none. */
  storeIds: z.array(idSchema).max(1000).optional(),
  /** For the `customer` role: the customer this actor is. */
  customerId: idSchema.optional(),
  ip: z.string().max(64).optional(),
  userAgent: z.string().max(512).optional(),
})
/** Who runs a command, as a caller passes it to any public method (`system` is not among its roles). */
export type Actor = z.infer<typeof actorSchema>
/** The same, as a caller may write it before parsing (identical today; kept for input types). */
export type CallerActor = z.input<typeof actorSchema>
/** An actor a service acts as: a caller's, or the library's own `system` actor (the sweeper, the relay). */
export type ActingActor = Omit<Actor, 'roles'> & { roles: Role[] }

/** A JSON value a caller hands over (attributes, event data): plain JSON, bounded in size and depth. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/**
 * What a JSON field accepts: only plain JSON values (strings, finite numbers, booleans, null, arrays and
 * plain objects — no BigInt, functions, class instances, undefined or cycles), nested at most `maxDepth`
 * deep and at most `maxBytes` long as JSON. Every storage keeps exactly this, so every storage returns it
 * the same way.
 */
export function jsonRecordSchema(limits: { maxBytes: number; maxDepth: number }) {
  return z.record(z.string().max(200), z.unknown()).superRefine((value, ctx) => {
    const problem = jsonProblem(value, limits.maxDepth, new Set())
    if (problem) {
      ctx.addIssue({ code: 'custom', message: problem.message, path: problem.path })
      return
    }
    const bytes = new TextEncoder().encode(JSON.stringify(value)).length
    if (bytes > limits.maxBytes)
      ctx.addIssue({
        code: 'custom',
        message: `is ${bytes} bytes as JSON; at most ${limits.maxBytes} allowed`,
      })
  }) as unknown as z.ZodType<Record<string, JsonValue>, Record<string, unknown>>
}

function jsonProblem(
  value: unknown,
  depth: number,
  seen: Set<object>,
  path: PropertyKey[] = [],
): { message: string; path: PropertyKey[] } | null {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return null
  if (typeof value === 'number')
    return Number.isFinite(value) ? null : { message: 'must be a finite number', path }
  if (typeof value !== 'object') return { message: `a ${typeof value} is not JSON`, path }
  if (depth <= 0) return { message: 'is nested too deeply', path }
  if (seen.has(value)) return { message: 'refers to itself (a cycle is not JSON)', path }
  const proto = Object.getPrototypeOf(value)
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null)
    return { message: 'must be a plain object, array or value', path }
  seen.add(value)
  for (const [key, item] of Object.entries(value)) {
    const problem = jsonProblem(item, depth - 1, seen, [...path, Array.isArray(value) ? Number(key) : key])
    if (problem) return problem
  }
  seen.delete(value)
  return null
}

export const locationSchema = z.strictObject({
  id: idSchema,
  storeId: idSchema,
  name: textSchema(200).min(1),
  kind: locationKindSchema,
  externalIds: externalIdsSchema.default({}),
})
export type Location = z.infer<typeof locationSchema>

export const cannabisAttributesSchema = z.strictObject({
  thcPercent: z.number().min(0).max(100).nullable().optional(),
  cbdPercent: z.number().min(0).max(100).nullable().optional(),
  thcMg: quantitySchema.nullable().optional(),
  cbdMg: quantitySchema.nullable().optional(),
  netWeightMg: quantitySchema.nullable().optional(),
  strain: textSchema(200).nullable().optional(),
})

export const itemSchema = z.strictObject({
  id: idSchema,
  sku: textSchema(128).min(1),
  name: textSchema(300).min(1),
  category: textSchema(128).nullable().default(null),
  unit: unitSchema,
  cannabis: cannabisAttributesSchema.nullable().default(null),
  externalIds: externalIdsSchema.default({}),
  /** The code printed on the package (UPC/EAN or a store label), accepted by fulfillment scans like the sku. */
  barcode: textSchema(128).min(1).nullable().default(null),
})
export type Item = z.infer<typeof itemSchema>

/** Per (item, location). `available` is derived, never stored. */
export const inventoryLevelSchema = z.strictObject({
  itemId: idSchema,
  locationId: idSchema,
  /** Physical stock: the sum of on-hand movements. May be below `reserved` after a shortage. */
  onHand: z.number().int(),
  reserved: quantitySchema,
  damaged: quantitySchema,
  quarantine: quantitySchema,
  incoming: quantitySchema,
  safetyStock: quantitySchema,
  /** Available at or below this is low stock (`inventory.low_stock` when crossed); null: not watched. */
  reorderPoint: quantitySchema.nullable(),
  version: z.number().int().min(0),
  updatedAt: timestampSchema,
})
export type InventoryLevel = z.infer<typeof inventoryLevelSchema>

/** The level of an (item, location) that never had stock. */
export const emptyLevel = (itemId: string, locationId: string, now: Date): InventoryLevel => ({
  itemId,
  locationId,
  onHand: 0,
  reserved: 0,
  damaged: 0,
  quarantine: 0,
  incoming: 0,
  safetyStock: 0,
  reorderPoint: null,
  version: 0,
  updatedAt: now,
})

/** `onHand − reserved − damaged − quarantine − safetyStock`, clamped at 0. */
export const availableOf = (
  level: Pick<InventoryLevel, 'onHand' | 'reserved' | 'damaged' | 'quarantine' | 'safetyStock'>,
) => Math.max(0, level.onHand - level.reserved - level.damaged - level.quarantine - level.safetyStock)

export const movementSchema = z.strictObject({
  id: idSchema,
  itemId: idSchema,
  locationId: idSchema,
  bucket: stockBucketSchema,
  /** Signed change of the bucket. */
  delta: z.number().int(),
  reason: movementReasonSchema,
  /** Package / lot tag (e.g. METRC) where the store tracks stock per package. */
  packageId: idSchema.nullable(),
  actorId: idSchema,
  reference: z
    .strictObject({
      kind: z.enum(['order', 'transfer', 'count', 'pos_document', 'adjustment', 'reservation', 'other']),
      id: idSchema,
    })
    .nullable(),
  note: textSchema(1000).nullable(),
  createdAt: timestampSchema,
})
export type Movement = z.infer<typeof movementSchema>

/** A hold on stock for one order line at one location. */
export const reservationSchema = z.strictObject({
  id: idSchema,
  itemId: idSchema,
  locationId: idSchema,
  orderId: idSchema,
  orderLineId: idSchema,
  quantityReserved: positiveQuantitySchema,
  quantityFulfilled: quantitySchema,
  /** Released by a partial release (the hold still holds `reserved − fulfilled − released`). */
  quantityReleased: quantitySchema,
  status: reservationStatusSchema,
  /** Null once the order is confirmed: the hold no longer expires. */
  expiresAt: timestampSchema.nullable(),
  reservedAt: timestampSchema,
  releasedAt: timestampSchema.nullable(),
  fulfilledAt: timestampSchema.nullable(),
  notes: textSchema(1000).nullable(),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
})
export type Reservation = z.infer<typeof reservationSchema>

/** What a hold still holds. */
export const remainingOf = (
  r: Pick<Reservation, 'quantityReserved' | 'quantityFulfilled' | 'quantityReleased'>,
) => r.quantityReserved - r.quantityFulfilled - r.quantityReleased

export const orderLineSchema = z.strictObject({
  id: idSchema,
  itemId: idSchema,
  sku: textSchema(128).nullable(),
  name: textSchema(300).nullable(),
  quantity: positiveQuantitySchema,
  unitPriceMinor: minorUnitsSchema,
  discountMinor: minorUnitsSchema,
  taxMinor: minorUnitsSchema,
  /** `quantity × unitPrice − discount + tax`. */
  totalMinor: minorUnitsSchema,
})
export type OrderLine = z.infer<typeof orderLineSchema>

export const orderTotalsSchema = z.strictObject({
  subtotalMinor: minorUnitsSchema,
  discountMinor: minorUnitsSchema,
  taxMinor: minorUnitsSchema,
  shippingMinor: minorUnitsSchema,
  totalMinor: minorUnitsSchema,
  currency: currencySchema,
})
export type OrderTotals = z.infer<typeof orderTotalsSchema>

export const orderSchema = z.strictObject({
  id: idSchema,
  /** `ORD-YYYYMMDD-NNNN`. */
  number: z.string().regex(/^ORD-\d{8}-\d{4,}$/),
  channel: channelSchema,
  flow: orderFlowSchema,
  storeId: idSchema,
  /** Where stock is held by default (the store's sales floor, say). */
  locationId: idSchema,
  customerId: idSchema.nullable(),
  lines: z.array(orderLineSchema).min(1),
  totals: orderTotalsSchema,
  paymentStatus: paymentStatusSchema,
  /** The state of the order's machine, stored as its name. */
  status: z.string().min(1),
  cancellationReason: textSchema(1000).nullable(),
  /** Units packed so far (gates cancellation while processing). */
  packedQuantity: quantitySchema,
  /** The staff member the order is assigned to (`orders.assign`, `orders.bulkAssign`); null: nobody. */
  assigneeId: idSchema.nullable(),
  /**
   * Where the order stands with the point-of-sale system, written by a POS sync (e.g. `pending`,
   * `synced`, `failed`); null while no sync has touched it. Searchable with `posSyncStates`.
   */
  posSyncState: z.string().min(1).max(32).nullable(),
  version: z.number().int().min(1),
  externalIds: externalIdsSchema,
  /** Free host data (compliance flags, delivery window…), read by host guards. */
  attributes: z.record(z.string(), z.unknown()),
  idempotencyKey: z.string().nullable(),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
})
export type Order = z.infer<typeof orderSchema>

export const fulfillmentLineSchema = z.strictObject({
  orderLineId: idSchema,
  itemId: idSchema,
  /** The item's sku when the fulfillment was created (what the picker looks for). */
  sku: textSchema(128).nullable(),
  /** Planned: what the order's holds at this location set aside for the line. */
  quantity: positiveQuantitySchema,
  /** Scanned into the tote so far. */
  quantityPicked: quantitySchema,
  /** Sold from the holds (on ship or hand-over). */
  quantityFulfilled: quantitySchema,
})
export type FulfillmentLine = z.infer<typeof fulfillmentLineSchema>

export const fulfillmentSchema = z.strictObject({
  id: idSchema,
  /** `FUL-YYYYMMDD-NNNN`, from a sequence (never count+1). */
  number: z.string().regex(/^FUL-\d{8}-\d{4,}$/),
  orderId: idSchema,
  /** The order's store and customer, so reads can be limited to what a caller reaches. */
  storeId: idSchema,
  customerId: idSchema.nullable(),
  locationId: idSchema,
  assignedToId: idSchema.nullable(),
  lines: z.array(fulfillmentLineSchema).min(1),
  status: fulfillmentStatusSchema,
  /** Picking was completed with fewer units than planned; the rest was released. */
  shortPicked: z.boolean(),
  /** Scans accepted and refused (wrong item, over-scan): picking accuracy. */
  scansAccepted: quantitySchema,
  scansRejected: quantitySchema,
  carrier: textSchema(128).nullable(),
  boxSize: textSchema(64).nullable(),
  /** Package weight in grams. */
  weightGrams: quantitySchema.nullable(),
  packingMaterials: z.array(textSchema(128)),
  pickingNotes: textSchema(5000).nullable(),
  packingNotes: textSchema(5000).nullable(),
  trackingNumber: textSchema(128).nullable(),
  assignedAt: timestampSchema.nullable(),
  pickingStartedAt: timestampSchema.nullable(),
  pickingCompletedAt: timestampSchema.nullable(),
  packingStartedAt: timestampSchema.nullable(),
  packingCompletedAt: timestampSchema.nullable(),
  shippedAt: timestampSchema.nullable(),
  fulfilledAt: timestampSchema.nullable(),
  cancelledAt: timestampSchema.nullable(),
  version: z.number().int().min(1),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
})
export type Fulfillment = z.infer<typeof fulfillmentSchema>

/**
 * When a fulfillment's goods left: shipped with a carrier, or handed over at the counter (a hand-over
 * skips shipping, so its completion is the moment); null while they have not. The end of its cycle time.
 */
export const fulfillmentDispatchedAt = (f: Pick<Fulfillment, 'shippedAt' | 'fulfilledAt'>): Date | null =>
  f.shippedAt ?? f.fulfilledAt

/** One audit row. Append-only. */
export const historyEntrySchema = z.strictObject({
  id: idSchema,
  /** The order, or for inventory actions the entity the action is about. */
  entityType: z.enum(['order', 'fulfillment', 'inventory', 'reservation', 'note', 'transfer', 'count']),
  entityId: idSchema,
  orderId: idSchema.nullable(),
  /** The store the entry belongs to, for store-scoped readers; null for global entries (the catalog). */
  storeId: idSchema.nullable(),
  action: historyActionSchema,
  oldStatus: z.string().nullable(),
  newStatus: z.string().nullable(),
  description: textSchema(2000),
  actorId: idSchema,
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  additionalData: z.record(z.string(), z.unknown()),
  createdAt: timestampSchema,
})
export type HistoryEntry = z.infer<typeof historyEntrySchema>

export const noteTextSchema = z
  .string({ error: 'must be text' })
  .trim()
  .min(1, 'must not be empty')
  .max(5000, 'must be at most 5000 characters')

export const noteSchema = z.strictObject({
  id: idSchema,
  orderId: idSchema,
  text: noteTextSchema,
  isInternal: z.boolean(),
  notifyCustomer: z.boolean(),
  notifiedAt: timestampSchema.nullable(),
  authorId: idSchema,
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
})
export type Note = z.infer<typeof noteSchema>

export const transferLineSchema = z.strictObject({
  itemId: idSchema,
  /** The package (traceability tag) shipped; null: untagged stock. */
  packageId: idSchema.nullable(),
  quantity: positiveQuantitySchema,
  quantityReceived: quantitySchema,
  /** Written off as lost when the transfer closed. */
  quantityLost: quantitySchema,
})
export type TransferLine = z.infer<typeof transferLineSchema>

/** Stock moving from one location to another (possibly in another store). */
export const transferSchema = z.strictObject({
  id: idSchema,
  fromLocationId: idSchema,
  toLocationId: idSchema,
  fromStoreId: idSchema,
  toStoreId: idSchema,
  status: z.enum(TRANSFER_STATUSES),
  lines: z.array(transferLineSchema).min(1),
  note: textSchema(1000).nullable(),
  /** Why what never arrived was lost (set when closing with a difference). */
  lossReason: textSchema(1000).nullable(),
  version: z.number().int().min(1),
  createdBy: idSchema,
  createdAt: timestampSchema,
  shippedAt: timestampSchema.nullable(),
  receivedAt: timestampSchema.nullable(),
  closedAt: timestampSchema.nullable(),
  cancelledAt: timestampSchema.nullable(),
  updatedAt: timestampSchema,
})
export type Transfer = z.infer<typeof transferSchema>

/** A physical count of one location: every item (`full`) or a list of items (`cycle`). */
export const stockCountSchema = z.strictObject({
  id: idSchema,
  locationId: idSchema,
  storeId: idSchema,
  kind: z.enum(['full', 'cycle']),
  /** The items a cycle count covers; null for a full count. */
  itemIds: z.array(idSchema).nullable(),
  status: z.enum(COUNT_STATUSES),
  note: textSchema(1000).nullable(),
  version: z.number().int().min(1),
  openedBy: idSchema,
  approvedBy: idSchema.nullable(),
  createdAt: timestampSchema,
  approvedAt: timestampSchema.nullable(),
  cancelledAt: timestampSchema.nullable(),
  updatedAt: timestampSchema,
})
export type StockCount = z.infer<typeof stockCountSchema>

/** One counted item (or package) of a count. `expected` is its on-hand at the moment it was counted. */
export const countLineSchema = z.strictObject({
  countId: idSchema,
  itemId: idSchema,
  /** The package counted (its own stock); null: the item as a whole. */
  packageId: idSchema.nullable(),
  expected: z.number().int(),
  counted: quantitySchema,
  countedBy: idSchema,
  countedAt: timestampSchema,
})
export type CountLine = z.infer<typeof countLineSchema>

/** Stock of one package (traceability tag) of an item at a location. */
export const packageLevelSchema = z.strictObject({
  packageId: idSchema,
  itemId: idSchema,
  locationId: idSchema,
  onHand: quantitySchema,
  /** When the package first arrived here: sales consume packages oldest first. */
  receivedAt: timestampSchema,
  updatedAt: timestampSchema,
})
export type PackageLevel = z.infer<typeof packageLevelSchema>
