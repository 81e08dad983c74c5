import { z } from 'zod'
import {
  actorSchema,
  channelSchema,
  currencySchema,
  idSchema,
  minorUnitsSchema,
  movementReasonSchema,
  noteTextSchema,
  orderFlowSchema,
  positiveQuantitySchema,
  quantityDeltaSchema,
  quantitySchema,
} from './schemas'

/** Sent with every mutating command: the same key with the same payload returns the first result. */
export const idempotencyKeySchema = z.string().trim().min(1).max(200)

const commandBase = {
  actor: actorSchema,
  idempotencyKey: idempotencyKeySchema.optional(),
}

export const createOrderLineInputSchema = z.strictObject({
  /** Optional caller id for the line; generated when absent. */
  id: idSchema.optional(),
  itemId: idSchema,
  quantity: positiveQuantitySchema,
  unitPriceMinor: minorUnitsSchema,
  discountMinor: minorUnitsSchema.default(0),
  taxMinor: minorUnitsSchema.default(0),
  sku: z.string().max(128).optional(),
  name: z.string().max(300).optional(),
})

export const createOrderInputSchema = z.strictObject({
  ...commandBase,
  channel: channelSchema,
  flow: orderFlowSchema,
  storeId: idSchema,
  /** Where stock is held; defaults to the allocation strategy's choice for the store. */
  locationId: idSchema.optional(),
  customerId: idSchema.optional(),
  currency: currencySchema,
  lines: z.array(createOrderLineInputSchema).min(1, 'an order needs at least one line').max(500),
  shippingMinor: minorUnitsSchema.default(0),
  attributes: z.record(z.string(), z.unknown()).default({}),
  /** Hold time in seconds; defaults to the channel's policy (15 minutes). */
  holdSeconds: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .optional(),
})
export type CreateOrderInput = z.input<typeof createOrderInputSchema>

export const orderEventInputSchema = z.strictObject({
  ...commandBase,
  orderId: idSchema,
  /** A dot-namespaced event such as `order.start_processing`. */
  type: z.string().regex(/^[a-z_]+\.[a-z_]+$/, 'must be an event name such as order.cancel'),
  reason: z.string().trim().max(1000).optional(),
  data: z.record(z.string(), z.unknown()).optional(),
})
export type OrderEventInput = z.input<typeof orderEventInputSchema>

export const addNoteInputSchema = z.strictObject({
  ...commandBase,
  orderId: idSchema,
  text: noteTextSchema,
  isInternal: z.boolean().default(true),
  notifyCustomer: z.boolean().default(false),
})
export type AddNoteInput = z.input<typeof addNoteInputSchema>

export const updateNoteInputSchema = z.strictObject({
  ...commandBase,
  noteId: idSchema,
  text: noteTextSchema.optional(),
  isInternal: z.boolean().optional(),
  notifyCustomer: z.boolean().optional(),
})
export type UpdateNoteInput = z.input<typeof updateNoteInputSchema>

export const receiveInventoryInputSchema = z.strictObject({
  ...commandBase,
  itemId: idSchema,
  locationId: idSchema,
  quantity: positiveQuantitySchema,
  packageId: idSchema.optional(),
  reference: z.strictObject({ kind: z.enum(['pos_document', 'transfer', 'other']), id: idSchema }).optional(),
  note: z.string().trim().max(1000).optional(),
})
export type ReceiveInventoryInput = z.input<typeof receiveInventoryInputSchema>

export const adjustInventoryInputSchema = z.strictObject({
  ...commandBase,
  itemId: idSchema,
  locationId: idSchema,
  delta: quantityDeltaSchema,
  reason: movementReasonSchema,
  packageId: idSchema.optional(),
  reference: z
    .strictObject({ kind: z.enum(['pos_document', 'count', 'adjustment', 'other']), id: idSchema })
    .optional(),
  note: z.string().trim().max(1000).optional(),
})
export type AdjustInventoryInput = z.input<typeof adjustInventoryInputSchema>

export const setInventoryInputSchema = z.strictObject({
  ...commandBase,
  itemId: idSchema,
  locationId: idSchema,
  quantity: quantitySchema,
  /** Compare-and-swap: the on-hand the caller saw. The set fails with CONFLICT if it changed. */
  expected: z.number().int(),
  reason: movementReasonSchema.default('count_correction'),
  note: z.string().trim().max(1000).optional(),
})
export type SetInventoryInput = z.input<typeof setInventoryInputSchema>

export const reservationQuantityInputSchema = z.strictObject({
  ...commandBase,
  reservationId: idSchema,
  /** Default: all that the hold still holds. */
  quantity: positiveQuantitySchema.optional(),
  reason: z.string().trim().max(1000).optional(),
})
export type ReservationQuantityInput = z.input<typeof reservationQuantityInputSchema>

export const expireDueInputSchema = z.strictObject({
  actor: actorSchema.optional(),
  /** Holds per transaction. */
  batchSize: z.number().int().min(1).max(10_000).optional(),
  /** Stop after this many holds (default: all that are due). */
  maxHolds: z.number().int().min(1).optional(),
})
export type ExpireDueInput = z.input<typeof expireDueInputSchema>
