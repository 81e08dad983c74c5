import { z } from 'zod'
import { SYNC_JOB_KINDS, SYNC_JOB_STATUSES, type SyncJobKind } from '../sync/sync-job'
import { COUNT_STATUSES, SET_ASIDE_BUCKETS, TRANSFER_STATUSES } from './enums'
import {
  actorSchema,
  channelSchema,
  currencySchema,
  fulfillmentStatusSchema,
  historyActionSchema,
  idSchema,
  itemSchema,
  jsonRecordSchema,
  locationSchema,
  minorUnitsSchema,
  movementReasonSchema,
  noteTextSchema,
  orderFlowSchema,
  paymentStatusSchema,
  positiveQuantitySchema,
  quantityDeltaSchema,
  quantitySchema,
  reservationStatusSchema,
} from './schemas'

/** Sent with every mutating command: the same key with the same payload returns the first result. */
export const idempotencyKeySchema = z.string().trim().min(1).max(200)

/** Host data on an order or an event: plain JSON, at most 16 KiB and 8 levels deep. */
export const hostDataSchema = jsonRecordSchema({ maxBytes: 16_384, maxDepth: 8 })

/** A point in time: a `Date`, or an ISO 8601 string with its offset (`2026-12-01T10:00:00Z`). */
export const instantSchema = z
  .union([z.date(), z.iso.datetime({ offset: true })], {
    error: 'must be a Date or an ISO 8601 date-time with offset',
  })
  .transform((value) => (value instanceof Date ? value : new Date(value)))
  .refine((date) => !Number.isNaN(date.getTime()), 'is not a valid date')

/** A page size: `fallback` when absent, never above `max`. */
export const pageLimitSchema = (fallback: number, max: number) =>
  z.number().int().min(1).max(max, `must be at most ${max}`).default(fallback)
export const pageOffsetSchema = z.number().int().min(0).max(1_000_000).default(0)

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
  attributes: hostDataSchema.default({}),
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
  type: z
    .string()
    .max(64)
    .regex(/^[a-z_]+\.[a-z_]+$/, 'must be an event name such as order.cancel'),
  reason: z.string().trim().max(1000).optional(),
  data: hostDataSchema.optional(),
})
export type OrderEventInput = z.input<typeof orderEventInputSchema>

/** confirmPayment, failPayment, cancel: an order event whose type the method names. */
export const orderCommandInputSchema = orderEventInputSchema.omit({ type: true })
export type OrderCommandInput = z.input<typeof orderCommandInputSchema>

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

export const commitReservationInputSchema = z.strictObject({
  ...reservationQuantityInputSchema.shape,
  /** Sell from this package (traceability tag); absent: packages oldest first, then untagged stock. */
  packageId: idSchema.optional(),
})
export type CommitReservationInput = z.input<typeof commitReservationInputSchema>

export const expireDueInputSchema = z.strictObject({
  actor: actorSchema.optional(),
  /** Holds per transaction. */
  batchSize: z.number().int().min(1).max(10_000).optional(),
  /** Stop after this many holds (default: all that are due). */
  maxHolds: z.number().int().min(1).optional(),
})
export type ExpireDueInput = z.input<typeof expireDueInputSchema>

/** A read of one order (get, allowed events, holds, notes). */
export const orderRefInputSchema = z.strictObject({ actor: actorSchema, orderId: idSchema })
export type OrderRefInput = z.input<typeof orderRefInputSchema>

export const listOrdersInputSchema = z.strictObject({
  actor: actorSchema,
  /** Narrows to these stores (never beyond the actor's own reach). */
  storeIds: z.array(idSchema).max(1000).optional(),
  statuses: z.array(z.string().trim().min(1).max(64)).max(50).optional(),
  channel: channelSchema.optional(),
  customerId: idSchema.optional(),
  createdFrom: instantSchema.optional(),
  createdTo: instantSchema.optional(),
  /** @default 50 (at most 500) */
  limit: pageLimitSchema(50, 500),
  offset: pageOffsetSchema,
})
export type ListOrdersInput = z.input<typeof listOrdersInputSchema>

export const defineLocationInputSchema = z.strictObject({ ...commandBase, location: locationSchema })
export type DefineLocationInput = z.input<typeof defineLocationInputSchema>

export const defineItemInputSchema = z.strictObject({ ...commandBase, item: itemSchema })
export type DefineItemInput = z.input<typeof defineItemInputSchema>

export const setSafetyStockInputSchema = z.strictObject({
  ...commandBase,
  itemId: idSchema,
  locationId: idSchema,
  safetyStock: quantitySchema,
})
export type SetSafetyStockInput = z.input<typeof setSafetyStockInputSchema>

export const levelInputSchema = z.strictObject({ actor: actorSchema, itemId: idSchema, locationId: idSchema })
export type LevelInput = z.input<typeof levelInputSchema>

export const levelsInputSchema = z.strictObject({
  actor: actorSchema,
  itemId: idSchema.optional(),
  locationId: idSchema.optional(),
  /** @default 200 (at most 2000) */
  limit: pageLimitSchema(200, 2000),
  offset: pageOffsetSchema,
})
export type LevelsInput = z.input<typeof levelsInputSchema>

export const availableAcrossInputSchema = z.strictObject({
  actor: actorSchema,
  itemId: idSchema,
  locationIds: z.array(idSchema).max(1000).optional(),
})
export type AvailableAcrossInput = z.input<typeof availableAcrossInputSchema>

export const movementsInputSchema = z.strictObject({
  actor: actorSchema,
  itemId: idSchema.optional(),
  locationId: idSchema.optional(),
  referenceId: idSchema.optional(),
  /** The most recent this many, oldest first. @default 100 (at most 1000) */
  limit: pageLimitSchema(100, 1000),
})
export type MovementsInput = z.input<typeof movementsInputSchema>

export const reconcileInputSchema = z.strictObject({
  actor: actorSchema,
  /** Write the recomputed figures back (each drifted row under its lock). @default false */
  repair: z.boolean().default(false),
})
export type ReconcileInput = z.input<typeof reconcileInputSchema>

export const deleteNoteInputSchema = z.strictObject({ ...commandBase, noteId: idSchema })
export type DeleteNoteInput = z.input<typeof deleteNoteInputSchema>

export const historyForOrderInputSchema = z.strictObject({
  actor: actorSchema,
  orderId: idSchema,
  /** @default 500 (at most 5000) */
  limit: pageLimitSchema(500, 5000),
})
export type HistoryForOrderInput = z.input<typeof historyForOrderInputSchema>

export const listHistoryInputSchema = z.strictObject({
  actor: actorSchema,
  entityId: idSchema.optional(),
  action: historyActionSchema.optional(),
  /** @default 100 (at most 1000) */
  limit: pageLimitSchema(100, 1000),
})
export type ListHistoryInput = z.input<typeof listHistoryInputSchema>

// POS sync (operator commands; the worker loop takes no actor).
type PullKind = Extract<SyncJobKind, `pull_${string}`>
const syncJobStatusSchema = z.enum(SYNC_JOB_STATUSES)
const syncJobKindSchema = z.enum(SYNC_JOB_KINDS)
const posNameSchema = z.string().trim().min(1).max(32)

export const listSyncJobsInputSchema = z.strictObject({
  actor: actorSchema,
  statuses: z.array(syncJobStatusSchema).max(5).optional(),
  pos: posNameSchema.optional(),
  kind: syncJobKindSchema.optional(),
  /** An order id, or what a pull is about (`inventory`, `products`, `sales`, `order-status`). */
  entityId: idSchema.optional(),
  /** @default 100 (at most 1000) */
  limit: z.number().int().min(1).max(1000).default(100),
  offset: z.number().int().min(0).max(1_000_000).default(0),
})
export type ListSyncJobsInput = z.input<typeof listSyncJobsInputSchema>

export const syncJobCommandInputSchema = z.strictObject({
  actor: actorSchema,
  jobId: idSchema,
  /** Why: kept on the job and in the audit trail. */
  reason: z.string().trim().min(1).max(500).optional(),
})
export type SyncJobCommandInput = z.input<typeof syncJobCommandInputSchema>

export const skipSyncJobInputSchema = syncJobCommandInputSchema.extend({
  reason: z.string().trim().min(1).max(500),
})
export type SkipSyncJobInput = z.input<typeof skipSyncJobInputSchema>

export const rePushOrderInputSchema = z.strictObject({
  actor: actorSchema,
  orderId: idSchema,
  /** Only to these POS connections. @default every POS the order goes to */
  pos: z.array(posNameSchema).min(1).max(32).optional(),
})
export type RePushOrderInput = z.input<typeof rePushOrderInputSchema>

export const requestPullInputSchema = z.strictObject({
  actor: actorSchema,
  kind: z.enum(SYNC_JOB_KINDS.filter((k) => k.startsWith('pull_')) as [PullKind, ...PullKind[]]),
  /** @default every POS connection */
  pos: z.array(posNameSchema).min(1).max(32).optional(),
})
export type RequestPullInput = z.input<typeof requestPullInputSchema>

export const syncHealthInputSchema = z.strictObject({ actor: actorSchema })
export type SyncHealthInput = z.input<typeof syncHealthInputSchema>
const statusNameSchema = z.string().trim().min(1).max(64)
const someOf = <T extends z.ZodType>(schema: T, max = 50) => z.array(schema).max(max)

export const orderSortSchema = z.strictObject({
  field: z.enum(['created', 'updated', 'total', 'number']),
  direction: z.enum(['asc', 'desc']).default('desc'),
})

export const searchOrdersInputSchema = z.strictObject({
  actor: actorSchema,
  /**
   * Words (at most 8) each of which must begin one of the order's terms: its number, customer reference,
   * a line's sku or item name (or a word of it), an external POS id. Case-insensitive.
   */
  text: z.string().trim().max(200).optional(),
  statuses: someOf(statusNameSchema).optional(),
  channels: someOf(channelSchema).optional(),
  flows: someOf(orderFlowSchema).optional(),
  /** Narrows to these stores (never beyond the actor's own reach). */
  storeIds: someOf(idSchema, 1000).optional(),
  locationIds: someOf(idSchema, 1000).optional(),
  customerId: idSchema.optional(),
  createdFrom: instantSchema.optional(),
  createdTo: instantSchema.optional(),
  updatedFrom: instantSchema.optional(),
  updatedTo: instantSchema.optional(),
  /** Inclusive bounds of the order total, in minor units. */
  totalMin: minorUnitsSchema.optional(),
  totalMax: minorUnitsSchema.optional(),
  paymentStatuses: someOf(paymentStatusSchema).optional(),
  /** Orders with at least one fulfillment in one of these statuses. */
  fulfillmentStatuses: someOf(fulfillmentStatusSchema).optional(),
  /** The assignee's id; null: orders nobody is assigned to. */
  assigneeId: idSchema.nullable().optional(),
  hasNotes: z.boolean().optional(),
  /** POS sync states; null matches orders no sync has touched. */
  posSyncStates: someOf(z.string().trim().min(1).max(32).nullable()).optional(),
  /** @default newest first: `{ field: 'created', direction: 'desc' }` */
  sort: orderSortSchema.default({ field: 'created', direction: 'desc' }),
  /** The `nextCursor` of the previous page (with the same sort). */
  cursor: z.string().max(1000).optional(),
  /** @default 50 (at most 200) */
  limit: pageLimitSchema(50, 200),
  /** Also count every order that matches (one more query). @default false */
  includeTotal: z.boolean().default(false),
})
export type SearchOrdersInput = z.input<typeof searchOrdersInputSchema>

export const orderByNumberInputSchema = z.strictObject({
  actor: actorSchema,
  number: z.string().trim().min(1).max(64),
})
export type OrderByNumberInput = z.input<typeof orderByNumberInputSchema>

/** The actions a host may write with `history.record` (the library's own actions are written by it). */
export const HOST_HISTORY_ACTIONS = [
  'edited',
  'assigned',
  'note_added',
  'status_changed',
  'pos_synced',
] as const

export const searchHistoryInputSchema = z.strictObject({
  actor: actorSchema,
  orderId: idSchema.optional(),
  entityType: z
    .enum(['order', 'fulfillment', 'inventory', 'reservation', 'note', 'transfer', 'count'])
    .optional(),
  entityId: idSchema.optional(),
  actions: someOf(historyActionSchema).optional(),
  /** Rows written by this actor id. */
  actorId: idSchema.optional(),
  /** Inclusive lower and exclusive upper bound of when the row was written. */
  from: instantSchema.optional(),
  to: instantSchema.optional(),
  /** The `nextCursor` of the previous page. */
  cursor: z.string().max(100).optional(),
  /** @default 100 (at most 1000) */
  limit: pageLimitSchema(100, 1000),
})
export type SearchHistoryInput = z.input<typeof searchHistoryInputSchema>

export const recordHistoryInputSchema = z.strictObject({
  ...commandBase,
  orderId: idSchema,
  action: z.enum(HOST_HISTORY_ACTIONS),
  description: z.string().trim().min(1).max(2000),
  /** Free host data kept with the row (plain JSON, at most 16 KiB). */
  data: hostDataSchema.default({}),
})
export type RecordHistoryInput = z.input<typeof recordHistoryInputSchema>

export const reservationRefInputSchema = z.strictObject({ actor: actorSchema, reservationId: idSchema })
export type ReservationRefInput = z.input<typeof reservationRefInputSchema>

export const listReservationsInputSchema = z.strictObject({
  actor: actorSchema,
  /** `active`, `expired`, `committed`, `released`. */
  statuses: someOf(reservationStatusSchema).optional(),
  itemId: idSchema.optional(),
  locationId: idSchema.optional(),
  orderId: idSchema.optional(),
  /** The `nextCursor` of the previous page. */
  cursor: z.string().max(400).optional(),
  /** @default 100 (at most 1000) */
  limit: pageLimitSchema(100, 1000),
})
export type ListReservationsInput = z.input<typeof listReservationsInputSchema>

export const extendReservationInputSchema = z.strictObject({
  ...commandBase,
  reservationId: idSchema,
  /** The hold then expires this many seconds from now (within the policy's limits). */
  seconds: z
    .number()
    .int()
    .min(1)
    .max(30 * 24 * 3600),
})
export type ExtendReservationInput = z.input<typeof extendReservationInputSchema>

const orderIdsSchema = z
  .array(idSchema)
  .min(1, 'must name at least one order')
  .max(1000, 'at most 1000 orders per call')
  .refine((ids) => new Set(ids).size === ids.length, 'must not name an order twice')

export const assignOrderInputSchema = z.strictObject({
  ...commandBase,
  orderId: idSchema,
  /** The staff member's id; null takes the assignment away. */
  assigneeId: idSchema.nullable(),
})
export type AssignOrderInput = z.input<typeof assignOrderInputSchema>

export const bulkAssignInputSchema = z.strictObject({
  ...commandBase,
  orderIds: orderIdsSchema,
  assigneeId: idSchema.nullable(),
})
export type BulkAssignInput = z.input<typeof bulkAssignInputSchema>

export const bulkStatusInputSchema = z.strictObject({
  ...commandBase,
  orderIds: orderIdsSchema,
  /** The event sent to each order, e.g. `order.start_processing` or `order.cancel`. */
  type: z
    .string()
    .max(64)
    .regex(/^[a-z_]+\.[a-z_]+$/, 'must be an event name such as order.cancel'),
  reason: z.string().trim().max(1000).optional(),
})
export type BulkStatusInput = z.input<typeof bulkStatusInputSchema>

export const editOrderInputSchema = z
  .strictObject({
    ...commandBase,
    orderId: idSchema,
    /** New quantities of existing lines; 0 removes the line. */
    set: z
      .array(z.strictObject({ lineId: idSchema, quantity: quantitySchema }))
      .max(500)
      .default([]),
    /** New lines, as at creation. */
    add: z.array(createOrderLineInputSchema).max(500).default([]),
    reason: z.string().trim().max(1000).optional(),
  })
  .refine((cmd) => cmd.set.length + cmd.add.length > 0, {
    message: 'must change at least one line',
    path: ['set'],
  })
  .refine((cmd) => new Set(cmd.set.map((s) => s.lineId)).size === cmd.set.length, {
    message: 'must not name a line twice',
    path: ['set'],
  })
export type EditOrderInput = z.input<typeof editOrderInputSchema>

// Fulfillment -----------------------------------------------------------------------------------------

const fulfillmentRef = { ...commandBase, fulfillmentId: idSchema }
const staffText = (max: number) => z.string().trim().min(1).max(max)

export const createFulfillmentsInputSchema = z.strictObject({
  ...commandBase,
  orderId: idSchema,
  /** Only the goods held at this location; absent: one fulfillment per location the order holds stock at. */
  locationId: idSchema.optional(),
  /** Staff member to assign the new fulfillment(s) to. */
  assignedToId: idSchema.optional(),
})
export type CreateFulfillmentsInput = z.input<typeof createFulfillmentsInputSchema>

export const fulfillmentRefInputSchema = z.strictObject({ actor: actorSchema, fulfillmentId: idSchema })
export type FulfillmentRefInput = z.input<typeof fulfillmentRefInputSchema>

/** start picking, deliver, hand over: a transition with nothing to add. */
export const fulfillmentCommandInputSchema = z.strictObject(fulfillmentRef)
export type FulfillmentCommandInput = z.input<typeof fulfillmentCommandInputSchema>

export const assignFulfillmentInputSchema = z.strictObject({
  ...fulfillmentRef,
  /** The staff member; null unassigns. */
  assignedToId: idSchema.nullable(),
})
export type AssignFulfillmentInput = z.input<typeof assignFulfillmentInputSchema>

export const scanInputSchema = z.strictObject({
  ...fulfillmentRef,
  /** What the scanner read: an item's sku or barcode. */
  code: z.string().trim().min(1, 'must not be empty').max(128),
  quantity: positiveQuantitySchema.default(1),
})
export type ScanInput = z.input<typeof scanInputSchema>

export const completePickingInputSchema = z.strictObject({
  ...fulfillmentRef,
  /**
   * Finish with fewer units than planned: the fulfillment becomes partial and what was not picked is
   * released from the order's holds. Without it, every line must be scanned in full.
   */
  shortPick: z.boolean().default(false),
  notes: staffText(5000).optional(),
})
export type CompletePickingInput = z.input<typeof completePickingInputSchema>

export const packFulfillmentInputSchema = z.strictObject({
  ...fulfillmentRef,
  boxSize: staffText(64),
  /** Package weight in grams. */
  weightGrams: positiveQuantitySchema,
  packingMaterials: z.array(staffText(128)).max(50).default([]),
  notes: staffText(5000).optional(),
})
export type PackFulfillmentInput = z.input<typeof packFulfillmentInputSchema>

export const shipFulfillmentInputSchema = z.strictObject({
  ...fulfillmentRef,
  carrier: staffText(128),
  trackingNumber: staffText(128),
})
export type ShipFulfillmentInput = z.input<typeof shipFulfillmentInputSchema>

export const cancelFulfillmentInputSchema = z.strictObject({
  ...fulfillmentRef,
  reason: z.string().trim().max(1000).optional(),
})
export type CancelFulfillmentInput = z.input<typeof cancelFulfillmentInputSchema>

export const listFulfillmentsInputSchema = z.strictObject({
  actor: actorSchema,
  statuses: z.array(fulfillmentStatusSchema).max(8).optional(),
  assignedToId: idSchema.optional(),
  locationId: idSchema.optional(),
  /** @default 50 (at most 500) */
  limit: pageLimitSchema(50, 500),
  offset: pageOffsetSchema,
})
export type ListFulfillmentsInput = z.input<typeof listFulfillmentsInputSchema>

const noteInputSchema = z.string().trim().max(1000)
/** Why stock was set aside, lost or written off: required, shown in the audit trail. */
const reasonTextSchema = z.string().trim().min(1, 'must say why').max(1000)

export const transferLineInputSchema = z.strictObject({
  itemId: idSchema,
  quantity: positiveQuantitySchema,
  /** Ship this package (traceability tag); absent: untagged stock. */
  packageId: idSchema.optional(),
})

export const createTransferInputSchema = z.strictObject({
  ...commandBase,
  fromLocationId: idSchema,
  toLocationId: idSchema,
  lines: z.array(transferLineInputSchema).min(1, 'a transfer needs at least one line').max(1000),
  note: noteInputSchema.optional(),
})
export type CreateTransferInput = z.input<typeof createTransferInputSchema>

/** ship, cancel: a step of one transfer. */
export const transferStepInputSchema = z.strictObject({
  ...commandBase,
  transferId: idSchema,
  note: noteInputSchema.optional(),
})
export type TransferStepInput = z.input<typeof transferStepInputSchema>

export const receiveTransferInputSchema = z.strictObject({
  ...commandBase,
  transferId: idSchema,
  /** What arrived, per line (item and package). Absent: everything still outstanding. */
  lines: z
    .array(z.strictObject({ itemId: idSchema, packageId: idSchema.optional(), quantity: quantitySchema }))
    .min(1)
    .max(1000)
    .optional(),
  note: noteInputSchema.optional(),
})
export type ReceiveTransferInput = z.input<typeof receiveTransferInputSchema>

export const closeTransferInputSchema = z.strictObject({
  ...commandBase,
  transferId: idSchema,
  /** Required when something shipped never arrived: it is written off as lost with this reason. */
  lossReason: reasonTextSchema.optional(),
})
export type CloseTransferInput = z.input<typeof closeTransferInputSchema>

export const transferRefInputSchema = z.strictObject({ actor: actorSchema, transferId: idSchema })
export type TransferRefInput = z.input<typeof transferRefInputSchema>

export const listTransfersInputSchema = z.strictObject({
  actor: actorSchema,
  /** Transfers out of or into this location. */
  locationId: idSchema.optional(),
  status: z.enum(TRANSFER_STATUSES).optional(),
  /** @default 50 (at most 500) */
  limit: pageLimitSchema(50, 500),
  offset: pageOffsetSchema,
})
export type ListTransfersInput = z.input<typeof listTransfersInputSchema>

export const openCountInputSchema = z.strictObject({
  ...commandBase,
  locationId: idSchema,
  /** A cycle count of these items; absent: a full count of the location. */
  itemIds: z.array(idSchema).min(1).max(10_000).optional(),
  note: noteInputSchema.optional(),
})
export type OpenCountInput = z.input<typeof openCountInputSchema>

export const recordCountInputSchema = z.strictObject({
  ...commandBase,
  countId: idSchema,
  /**
   * Counted quantities; counting an item (or package) again replaces its earlier count. With `packageId`
   * the line counts that package only; an item is counted either as a whole or per package in one count.
   */
  lines: z
    .array(z.strictObject({ itemId: idSchema, packageId: idSchema.optional(), quantity: quantitySchema }))
    .min(1)
    .max(10_000),
})
export type RecordCountInput = z.input<typeof recordCountInputSchema>

/** approve, cancel: a step of one count. */
export const countStepInputSchema = z.strictObject({ ...commandBase, countId: idSchema })
export type CountStepInput = z.input<typeof countStepInputSchema>

export const countRefInputSchema = z.strictObject({ actor: actorSchema, countId: idSchema })
export type CountRefInput = z.input<typeof countRefInputSchema>

export const listCountsInputSchema = z.strictObject({
  actor: actorSchema,
  locationId: idSchema.optional(),
  status: z.enum(COUNT_STATUSES).optional(),
  /** @default 50 (at most 500) */
  limit: pageLimitSchema(50, 500),
  offset: pageOffsetSchema,
})
export type ListCountsInput = z.input<typeof listCountsInputSchema>

export const countReportInputSchema = z.strictObject({
  actor: actorSchema,
  countId: idSchema,
  /** Unit cost per item id, in minor units, to value each discrepancy. Items left out get a null value. */
  unitCostsMinor: z.record(idSchema, minorUnitsSchema).optional(),
})
export type CountReportInput = z.input<typeof countReportInputSchema>

export const setAsideInputSchema = z.strictObject({
  ...commandBase,
  itemId: idSchema,
  locationId: idSchema,
  bucket: z.enum(SET_ASIDE_BUCKETS),
  quantity: positiveQuantitySchema,
  reason: reasonTextSchema,
})
export type SetAsideInput = z.input<typeof setAsideInputSchema>

export const releaseFromBucketInputSchema = z.strictObject({
  ...commandBase,
  itemId: idSchema,
  locationId: idSchema,
  bucket: z.enum(SET_ASIDE_BUCKETS),
  quantity: positiveQuantitySchema,
  /** `restock`: back to sellable stock; `write_off`: destroyed (on-hand goes down too). */
  disposition: z.enum(['restock', 'write_off']),
  reason: reasonTextSchema,
})
export type ReleaseFromBucketInput = z.input<typeof releaseFromBucketInputSchema>

const bulkRowBase = {
  itemId: idSchema,
  locationId: idSchema,
  note: noteInputSchema.optional(),
}
/** One row of a bulk update: a receive, an adjustment or a compare-and-swap set. */
export const bulkRowSchema = z.discriminatedUnion('op', [
  z.strictObject({
    op: z.literal('receive'),
    ...bulkRowBase,
    quantity: positiveQuantitySchema,
    packageId: idSchema.optional(),
  }),
  z.strictObject({
    op: z.literal('adjust'),
    ...bulkRowBase,
    delta: quantityDeltaSchema,
    reason: movementReasonSchema.default('adjust_correction'),
    packageId: idSchema.optional(),
  }),
  z.strictObject({
    op: z.literal('set'),
    ...bulkRowBase,
    quantity: quantitySchema,
    expected: z.number().int(),
  }),
])
export type BulkRow = z.input<typeof bulkRowSchema>

export const bulkUpdateInputSchema = z.strictObject({
  ...commandBase,
  /** Each row is checked and applied on its own: a bad row is reported, the others still apply. */
  rows: z.array(z.unknown()).min(1, 'needs at least one row').max(10_000, 'at most 10,000 rows per call'),
})
export type BulkUpdateInput = Omit<z.input<typeof bulkUpdateInputSchema>, 'rows'> & { rows: BulkRow[] }

export const setReorderPointInputSchema = z.strictObject({
  ...commandBase,
  itemId: idSchema,
  locationId: idSchema,
  /** Low stock when available is at or below this; null stops watching the row. */
  reorderPoint: quantitySchema.nullable(),
})
export type SetReorderPointInput = z.input<typeof setReorderPointInputSchema>

export const lowStockInputSchema = z.strictObject({
  actor: actorSchema,
  locationId: idSchema.optional(),
  /** @default 200 (at most 2000) */
  limit: pageLimitSchema(200, 2000),
  offset: pageOffsetSchema,
})
export type LowStockInput = z.input<typeof lowStockInputSchema>

export const packagesInputSchema = z.strictObject({
  actor: actorSchema,
  itemId: idSchema,
  locationId: idSchema,
})
export type PackagesInput = z.input<typeof packagesInputSchema>

export const packageHistoryInputSchema = z.strictObject({
  actor: actorSchema,
  packageId: idSchema,
  /** @default 1000 (at most 10000) */
  limit: pageLimitSchema(1000, 10_000),
})
export type PackageHistoryInput = z.input<typeof packageHistoryInputSchema>
