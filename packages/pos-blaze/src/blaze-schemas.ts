import { z } from 'zod'

/** A BLAZE id: a 24-hex Mongo ObjectId. */
export const objectIdSchema = z.string().regex(/^[0-9a-f]{24}$/i, 'is not a 24-hex ObjectId')

/** Epoch milliseconds. */
const epochMs = z.number().int().nonnegative()

/** One `quantities[]` entry of a product: the on-hand quantity in one inventory (stock location). */
export const blazeProductQuantitySchema = z.object({
  inventoryId: z.string().min(1),
  quantity: z.number().finite(),
})

/** `category` of a product. `unitType` is `units` (counted) or `grams` (weighed). */
export const blazeCategorySchema = z.object({
  id: z.string().nullish(),
  name: z.string().nullish(),
  unitType: z.string().nullish(),
  cannabis: z.boolean().nullish(),
})

/** The fields of a BLAZE product the adapter reads. Unknown fields are ignored. */
export const blazeProductSchema = z
  .object({
    id: z.string().min(1),
    name: z.string(),
    sku: z.string().nullish(),
    active: z.boolean().nullish(),
    deleted: z.boolean().nullish(),
    modified: epochMs.nullish(),
    unitPrice: z.number().finite().nullish(),
    category: blazeCategorySchema.nullish(),
    flowerType: z.string().nullish(),
    thc: z.number().finite().nullish(),
    cbd: z.number().finite().nullish(),
    quantities: z.array(blazeProductQuantitySchema).nullish(),
    sellableQuantities: z.record(z.string(), z.number().finite()).nullish(),
  })
  .superRefine((product, ctx) => {
    // A counted item in fractional units cannot be mapped to whole units without guessing.
    if (isWeighed(product.category?.unitType)) return
    for (const [index, entry] of (product.quantities ?? []).entries()) {
      if (!Number.isInteger(entry.quantity)) {
        ctx.addIssue({
          code: 'custom',
          path: ['quantities', index, 'quantity'],
          message: 'is fractional for a counted (units) product',
        })
      }
    }
    for (const [inventoryId, quantity] of Object.entries(product.sellableQuantities ?? {})) {
      if (!Number.isInteger(quantity)) {
        ctx.addIssue({
          code: 'custom',
          path: ['sellableQuantities', inventoryId],
          message: 'is fractional for a counted (units) product',
        })
      }
    }
  })

/** A parsed BLAZE product. */
export type BlazeProduct = z.infer<typeof blazeProductSchema>

/** True when a category `unitType` means the product is sold by weight (quantities are grams). */
export function isWeighed(unitType: string | null | undefined): boolean {
  return typeof unitType === 'string' && /^gram/i.test(unitType)
}

/**
 * A BLAZE list response. The wrapper the clients read is `{values, skip, limit, total}`; the docs also
 * describe `{count, total, searchResult}` and `{count, cursor, results}`. All three are accepted.
 */
export function blazeListSchema<T extends z.ZodType>(item: T) {
  return z
    .object({
      values: z.array(item).optional(),
      searchResult: z.array(item).optional(),
      results: z.array(item).optional(),
      skip: z.number().int().nonnegative().nullish(),
      start: z.number().int().nonnegative().nullish(),
      limit: z.number().int().nonnegative().nullish(),
      total: z.number().int().nonnegative().nullish(),
      count: z.number().int().nonnegative().nullish(),
    })
    .superRefine((list, ctx) => {
      if (!list.values && !list.searchResult && !list.results) {
        ctx.addIssue({
          code: 'custom',
          path: ['values'],
          message: 'list has no values, searchResult or results',
        })
      }
    })
    .transform((list) => ({
      items: (list.values ?? list.searchResult ?? list.results ?? []) as z.output<T>[],
      total: list.total ?? null,
      limit: list.limit ?? null,
    }))
}

/** `ConsumerCart.cartStatus` values. */
export const BLAZE_CART_STATUSES = [
  'InProgress',
  'Placed',
  'Accepted',
  'Completed',
  'Declined',
  'CanceledByConsumer',
  'CanceledByDispensary',
] as const

/** One of `BLAZE_CART_STATUSES`. */
export type BlazeCartStatus = (typeof BLAZE_CART_STATUSES)[number]

/** One cart line. Unknown fields are kept, because the cart goes back to BLAZE as a whole. */
export const blazeCartItemSchema = z.looseObject({
  productId: z.string().min(1),
  quantity: z.number().finite().positive(),
  unitPrice: z.number().finite().nullish(),
  finalPrice: z.number().finite().nullish(),
})

/**
 * A `ConsumerCart`: the cart and, once submitted, the consumer order. Unknown fields are kept (loose) and
 * nothing is transformed, because `prepare`, `submitCart` and `updateCart` take the whole cart back.
 */
export const blazeConsumerCartSchema = z.looseObject({
  id: objectIdSchema,
  consumerId: z.string().nullish(),
  cartStatus: z.enum(BLAZE_CART_STATUSES),
  orderNo: z.union([z.string(), z.number().int()]).nullish(),
  memo: z.string().nullish(),
  externalId: z.string().nullish(),
  accepted: z.boolean().nullish(),
  packaged: z.boolean().nullish(),
  onTheWay: z.boolean().nullish(),
  completed: z.boolean().nullish(),
  transactionId: z.string().nullish(),
  modified: epochMs.nullish(),
  cart: z
    .looseObject({
      id: z.string().nullish(),
      items: z.array(blazeCartItemSchema).nullish(),
      subTotal: z.number().finite().nullish(),
      total: z.number().finite().nullish(),
    })
    .nullish(),
})

/** A parsed `ConsumerCart`, unknown fields included. */
export type BlazeConsumerCart = z.infer<typeof blazeConsumerCartSchema>

/** The BLAZE error body: `{"error":"Invalid argument","message":"…","status":400}`. */
export const blazeErrorSchema = z.object({
  error: z.string().nullish(),
  message: z.string().nullish(),
  status: z.number().int().nullish(),
})

/** A parsed BLAZE error body. */
export type BlazeErrorBody = z.infer<typeof blazeErrorSchema>

/**
 * A BLAZE transaction (a sale) as `GET /transactions` lists it. No public schema exists: the fields are
 * those third-party clients read (`transType`, `status`, `cart.items[]`, `processedTime` in epoch ms).
 */
export const blazeTransactionSchema = z.looseObject({
  id: z.string().min(1),
  transNo: z.string().nullish(),
  transType: z.string(),
  status: z.string(),
  consumerCartId: z.string().nullish(),
  processedTime: z.number().nullish(),
  cart: z
    .looseObject({
      items: z
        .array(
          z.looseObject({
            productId: z.string().min(1),
            quantity: z.number().nonnegative(),
            inventoryId: z.string().nullish(),
          }),
        )
        .nullish(),
    })
    .nullish(),
})
export type BlazeTransaction = z.output<typeof blazeTransactionSchema>
