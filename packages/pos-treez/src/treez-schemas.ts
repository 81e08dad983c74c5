import { z } from 'zod'

/** Ticket statuses Treez reports [SPEC]; DRAFT is accepted on input and may come back. */
export const TREEZ_TICKET_STATUSES = [
  'DRAFT',
  'PREVIEW',
  'VERIFICATION_PENDING',
  'AWAITING_PROCESSING',
  'IN_PROCESS',
  'PACKED_READY',
  'OUT_FOR_DELIVERY',
  'COMPLETED',
  'CANCELED',
  'REMOVED',
] as const

/** A Treez ticket `order_status`. */
export type TreezTicketStatus = (typeof TREEZ_TICKET_STATUSES)[number]

/** `YYYY-MM-DDThh:mm:ss.sss±hh:mm` as Treez sends it (local offset); anything `Date` can read is accepted. */
const treezDateTime = z
  .string()
  .refine((value) => !Number.isNaN(Date.parse(value)), { message: 'expected an ISO 8601 date-time' })

const optionalText = z.string().nullable().optional()
const optionalNumber = z.number().nullable().optional()

/** The envelope of every dispensary response except `/packages`. Discriminate on `resultCode`. */
export const treezEnvelopeSchema = z.object({
  resultCode: z.enum(['SUCCESS', 'FAIL']),
  resultReason: optionalText,
  resultDetail: optionalText,
})

/** The fields of a `product_list` entry the adapter reads; the rest is ignored. */
export const treezProductSchema = z.object({
  product_id: z.string().min(1),
  product_status: z.string(),
  last_updated_at: treezDateTime.nullable().optional(),
  category_type: optionalText,
  product_configurable_fields: z.object({
    name: optionalText,
    uom: optionalText,
    amount: optionalNumber,
    total_mg_thc: optionalNumber,
    total_mg_cbd: optionalNumber,
    strain_name: optionalText,
    total_flower_weight_g: optionalNumber,
    total_concentrate_weight_g: optionalNumber,
  }),
  pricing: z.object({ price_sell: optionalNumber }).nullable().optional(),
  product_barcodes: z.array(z.unknown()).nullable().optional(),
  e_commerce: z.object({ menu_title: optionalText }).nullable().optional(),
})
export type TreezProduct = z.infer<typeof treezProductSchema>

/** `GET /product/product_list` and `/product/product_list/lastUpdated/after/{iso}`. */
export const treezProductPageSchema = treezEnvelopeSchema.extend({
  data: z.object({
    /** Records in this page, not the number of pages. */
    page_count: z.number().int().nullable().optional(),
    total_count: z.number().int().nullable().optional(),
    product_list: z.array(treezProductSchema),
  }),
})

export const treezInventoryDetailSchema = z.object({
  location_name: z.string().min(1),
  inventory_type: z.string(),
  sellable_quantity: z.number(),
  last_updated_at: treezDateTime.nullable().optional(),
})

export const treezStockRowSchema = z.object({
  product_id: z.string().min(1),
  product_type: optionalText,
  product_uom: optionalText,
  inventory_details: z.array(treezInventoryDetailSchema),
})
export type TreezStockRow = z.infer<typeof treezStockRowSchema>

/** `GET /stock/getStock`. */
export const treezStockPageSchema = treezEnvelopeSchema.extend({
  data: z.object({
    page_elements: z.number().int().nullable().optional(),
    total_elements: z.number().int().nullable().optional(),
    stock: z.array(treezStockRowSchema),
  }),
})

export const treezTicketItemSchema = z.object({
  size_id: optionalText,
  product_id: optionalText,
  quantity: z.number(),
  location_name: optionalText,
  inventory_type: optionalText,
  /** The product's category (`FLOWER`, `PILL`, ...): says whether the quantity is weighed. */
  product_type: optionalText,
})

/** A ticket as create, get-by-id and the ticket feeds return it (examples/ticket-create-response.json). */
export const treezTicketSchema = z.object({
  ticket_id: z.string().min(1),
  order_number: optionalText,
  external_order_number: optionalText,
  type: z.string(),
  order_source: z.string(),
  order_status: z.enum(TREEZ_TICKET_STATUSES),
  revenue_source: optionalText,
  /** A string in requests, an integer in responses. */
  customer_id: z.union([z.number(), z.string()]).nullable().optional(),
  ticket_note: optionalText,
  ticket_patient_type: optionalText,
  delivery_address: z.record(z.string(), z.unknown()).nullable().optional(),
  scheduled_start_date: optionalText,
  scheduled_date: optionalText,
  date_created: treezDateTime.nullable().optional(),
  last_updated_at: treezDateTime.nullable().optional(),
  date_closed: treezDateTime.nullable().optional(),
  total: optionalNumber,
  /** On a refund ticket: the ticket it refunds. */
  original_ticket_id: optionalText,
  /** On a refunded ticket: its refund tickets. */
  refund_ticket_ids: z.array(z.string()).nullable().optional(),
  items: z.array(treezTicketItemSchema).nullable().optional(),
})
export type TreezTicket = z.infer<typeof treezTicketSchema>

/** `POST /ticket/detailticket`: the ticket is in `data`. */
export const treezTicketCreatedSchema = treezEnvelopeSchema.extend({ data: treezTicketSchema })

/** `GET /ticket/{id}`: the ticket is the only element of `ticketList`, not `data` [SPEC]. */
export const treezTicketByIdSchema = treezEnvelopeSchema.extend({
  ticketList: z.array(treezTicketSchema).min(1),
})

/**
 * `GET /ticket/lastUpdated/{iso}/page/{p}/pagesize/{n}`. No 200 example is published; it is read like the
 * status listing (`pageElements`, `totalElements`, `ticketList`).
 */
export const treezTicketFeedSchema = treezEnvelopeSchema.extend({
  pageElements: z.number().int().nullable().optional(),
  totalElements: z.number().int().nullable().optional(),
  ticketList: z.array(treezTicketSchema),
})

/** `PUT /ticket/update/{id}`: the published 200 body is `{}`; an envelope, when present, is checked. */
export const treezTicketUpdatedSchema = z.object({
  resultCode: z.enum(['SUCCESS', 'FAIL']).optional(),
})
