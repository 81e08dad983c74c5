import { z } from 'zod'

/**
 * Parses a Dutchie timestamp. Dutchie dates are UTC; a value without an offset (`2026-03-04T12:00:00`,
 * as .NET often writes them) is read as UTC rather than local time. Returns null when it is no date.
 */
export function parseDutchieDate(value: string): Date | null {
  const hasZone = /(?:[zZ]|[+-]\d{2}:?\d{2})$/.test(value)
  const looksLikeDateTime = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?/.test(value)
  if (!looksLikeDateTime) return null
  const date = new Date(hasZone || value.length === 10 ? value : `${value}Z`)
  return Number.isNaN(date.getTime()) ? null : date
}

const dutchieDate = z.string().transform((value, ctx) => {
  const date = parseDutchieDate(value)
  if (date === null) {
    ctx.addIssue({ code: 'custom', message: 'expected an ISO-8601 date-time' })
    return z.NEVER
  }
  return date
})

const int32 = z.number().int()
const text = z.string().nullish()
const decimal = z.number().nullish()

/** `ProductDetail` [SPEC], only the fields the mapper reads (others are dropped). */
export const productDetailSchema = z.object({
  productId: int32,
  sku: text,
  productName: text,
  internalName: text,
  onlineTitle: text,
  category: text,
  masterCategory: text,
  strain: text,
  netWeight: decimal,
  netWeightUnit: text,
  productGrams: decimal,
  isActive: z.boolean().optional(),
  thcContent: decimal,
  thcContentUnit: text,
  cbdContent: decimal,
  cbdContentUnit: text,
  price: decimal,
  recPrice: decimal,
  medPrice: decimal,
  unitType: text,
  lastModifiedDateUTC: dutchieDate.nullish(),
})
/** A validated `ProductDetail`. */
export type DutchieProduct = z.output<typeof productDetailSchema>

/** `GET /products` answers a bare array, never paged [SPEC]. */
export const productListSchema = z.array(productDetailSchema)

/** `InventoryRoomQuantity` [SPEC]. */
export const roomQuantitySchema = z.object({
  roomId: int32,
  room: text,
  quantityAvailable: z.number(),
})

/** `ReportingInventoryItem` [SPEC]: one row per package, several per product. */
export const reportingInventoryItemSchema = z.object({
  inventoryId: int32.optional(),
  productId: int32,
  quantityAvailable: z.number(),
  quantityUnits: text,
  lastModifiedDateUtc: dutchieDate.nullish(),
  roomQuantities: z.array(roomQuantitySchema).nullish(),
})
/** A validated `ReportingInventoryItem`. */
export type DutchieInventoryItem = z.output<typeof reportingInventoryItemSchema>

/** `GET /reporting/inventory` answers a bare array: the full snapshot, never paged [SPEC]. */
export const reportingInventorySchema = z.array(reportingInventoryItemSchema)

/** `TransactionItem` [SPEC], the fields a sale needs. */
export const transactionItemSchema = z.object({
  productId: int32,
  quantity: z.number(),
  isReturned: z.boolean().nullish(),
})

/** `Transaction` [SPEC], the fields a sale needs. Customer fields are deliberately not parsed. */
export const transactionSchema = z.object({
  transactionId: int32,
  transactionDate: dutchieDate.nullish(),
  lastModifiedDateUTC: dutchieDate.nullish(),
  isVoid: z.boolean().nullish(),
  isReturn: z.boolean().nullish(),
  transactionType: text,
  wasPreOrdered: z.boolean().nullish(),
  orderIds: z.array(z.number()).nullish(),
  items: z.array(transactionItemSchema).nullish(),
})
/** A validated `Transaction`. */
export type DutchieTransaction = z.output<typeof transactionSchema>

/** `GET /reporting/transactions` answers a bare array, never paged [SPEC]. */
export const transactionListSchema = z.array(transactionSchema)

/**
 * `PreOrderStatus` [SPEC]. Customer names are deliberately not parsed, so they never travel further.
 * `notes` is not in the spec; our fake returns it ([FAKE]) and `findOrder` needs it (see the README).
 */
export const preOrderStatusSchema = z.object({
  preOrderId: int32,
  status: z.string().min(1),
  transactionId: int32.nullish(),
  isCancellable: z.boolean().optional(),
  isUpdateable: z.boolean().optional(),
  total: decimal,
  notes: text,
})
/** A validated `PreOrderStatus`. */
export type DutchiePreOrderStatus = z.output<typeof preOrderStatusSchema>

/** `GET /preorder/Status?PreOrderId=` answers one object [SPEC]; an array of it is tolerated. */
export const preOrderStatusByIdSchema = z.union([preOrderStatusSchema, z.array(preOrderStatusSchema)])

/** `GET /preorder/Status` with no id: the open orders of the last 14 days, as an array [FAKE]. */
export const openPreOrdersSchema = z.array(preOrderStatusSchema)

/**
 * `POST /preorder/submit` 200: an int32 pre-order id [SPEC schema]. The prose mentions "orderId and
 * transactionId", so `{ orderId }` is accepted too.
 */
export const submitResponseSchema = z.union([
  int32.positive(),
  z.object({ orderId: int32.positive() }).transform((body) => body.orderId),
])

/** `POST /preorder/cancel` 200: an int32 [SPEC]. */
export const cancelResponseSchema = int32

/** `BadRequestResponse` [SPEC], the 400 body of submit. Only property names are ever reported. */
export const badRequestSchema = z.object({
  message: text,
  propertyErrors: z.array(z.object({ propertyName: text, propertyError: text })).nullish(),
})

const lowerFirst = (key: string) => key.charAt(0).toLowerCase() + key.slice(1)

/** `LocationIdentity` [SPEC camelCase]; PascalCase keys ([3P]) are accepted too. */
export const locationIdentitySchema = z.preprocess(
  (body) =>
    typeof body === 'object' && body !== null && !Array.isArray(body)
      ? Object.fromEntries(Object.entries(body).map(([key, value]) => [lowerFirst(key), value]))
      : body,
  z.object({ locationId: int32, locationName: text }),
)

/** `CreatePreOrderRequest` [SPEC], the fields the adapter sends. */
export interface DutchieCreatePreOrderRequest extends DutchieDeliveryFields {
  customerId: number
  items: Array<{ productId: number; quantity: number }>
  isDelivery: boolean
  idempotencyKey: string
  notes: string
}

/** The delivery address fields of `CreatePreOrderRequest` / `UpdatePreOrderRequest` [SPEC]. */
export interface DutchieDeliveryFields {
  deliveryStreet?: string
  deliveryStreet2?: string
  deliveryCity?: string
  deliveryState?: string
  deliveryPostalCode?: string
}

/** `UpdatePreOrderRequest` [SPEC], the fields the adapter sends (items replace all). */
export interface DutchieUpdatePreOrderRequest extends DutchieDeliveryFields {
  orderId: number
  items: Array<{ productId: number; quantity: number }>
  isDelivery: boolean
  notes: string
}

/** `CancelPreorderRequest` [SPEC]. */
export interface DutchieCancelPreOrderRequest {
  orderId: number
  cancellationReason: string
}
