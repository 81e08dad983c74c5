import {
  decimalToMinor,
  type FieldIssue,
  type PosOrderInput,
  type PosOrderRef,
  type PosOrderStatus,
  type PosProduct,
  type PosSale,
  type PosStockLevel,
  type PosUnit,
  ValidationError,
} from '@peak-oms/core'
import type { ResolvedTreezConfig, TreezInventoryType } from './treez-config'
import type { TreezProduct, TreezStockRow, TreezTicket, TreezTicketStatus } from './treez-schemas'

/**
 * How a Treez `order_status` reads in Peak OMS. DRAFT and PREVIEW never come back from a created ticket in
 * practice; they read as `submitted`.
 */
export const TREEZ_STATUS_MAP: Readonly<Record<TreezTicketStatus, PosOrderStatus>> = {
  DRAFT: 'submitted',
  PREVIEW: 'submitted',
  VERIFICATION_PENDING: 'submitted',
  AWAITING_PROCESSING: 'accepted',
  IN_PROCESS: 'in_progress',
  PACKED_READY: 'ready',
  OUT_FOR_DELIVERY: 'out_for_delivery',
  COMPLETED: 'completed',
  CANCELED: 'cancelled',
  REMOVED: 'cancelled',
}

/** Ticket statuses that can no longer be updated or cancelled. */
export const CLOSED_TICKET_STATUSES: ReadonlySet<TreezTicketStatus> = new Set([
  'COMPLETED',
  'CANCELED',
  'REMOVED',
])

/** A value in a Treez body that is well-typed but cannot be mapped faithfully (e.g. a fractional count). */
export class TreezMappingIssue extends Error {
  readonly field: string

  constructor(field: string, message: string) {
    super(message)
    this.name = 'TreezMappingIssue'
    this.field = field
  }
}

const toDate = (value: string | null | undefined): Date | null => {
  if (!value) return null
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? null : new Date(ms)
}

const blankToNull = (value: string | null | undefined): string | null =>
  value === null || value === undefined || value.trim() === '' ? null : value

/** Weighed goods count in whole mg; everything else in `each`. */
export function unitFor(category: string | null | undefined, config: ResolvedTreezConfig): PosUnit {
  return category && config.weighedCategories.has(category) ? 'mg' : 'each'
}

/**
 * Converts a Treez quantity to whole units of `unit`. Grams become milligrams; a count that is not a
 * whole number, or a weight finer than a milligram, is a mapping issue, never rounded away.
 */
export function toWholeUnits(
  value: number,
  unit: PosUnit,
  uom: string | null | undefined,
  field: string,
): number {
  if (unit === 'each') {
    if (!Number.isInteger(value)) {
      throw new TreezMappingIssue(field, `expected a whole count for an 'each' product, got a fraction`)
    }
    return value
  }
  const mg = uom === 'MILLIGRAMS' ? value : value * 1000
  const whole = Math.round(mg)
  if (Math.abs(mg - whole) > 1e-6) {
    throw new TreezMappingIssue(field, 'expected a weight in whole milligrams, got a finer fraction')
  }
  return whole
}

/** A `product_list` entry as a `PosProduct`. */
export function toPosProduct(product: TreezProduct, config: ResolvedTreezConfig): PosProduct {
  const fields = product.product_configurable_fields
  const price = product.pricing?.price_sell
  const thc = fields.total_mg_thc ?? null
  const cbd = fields.total_mg_cbd ?? null
  const barcode = product.product_barcodes?.find((entry): entry is string => typeof entry === 'string')
  return {
    externalId: product.product_id,
    sku: blankToNull(barcode),
    name: blankToNull(fields.name) ?? blankToNull(product.e_commerce?.menu_title) ?? product.product_id,
    category: blankToNull(product.category_type),
    unit: unitFor(product.category_type, config),
    priceMinor: price === null || price === undefined ? null : decimalToMinor(price),
    currency: config.currency,
    active: product.product_status === 'ACTIVE',
    cannabis: {
      thc,
      cbd,
      potencyUnit: thc === null && cbd === null ? null : 'mg',
      strain: blankToNull(fields.strain_name),
      netWeightMg: netWeightMg(fields),
    },
    updatedAt: toDate(product.last_updated_at),
  }
}

function netWeightMg(fields: TreezProduct['product_configurable_fields']): number | null {
  const grams = (fields.total_flower_weight_g ?? 0) + (fields.total_concentrate_weight_g ?? 0)
  if (grams > 0) return Math.round(grams * 1000)
  if (fields.uom === 'GRAMS' && typeof fields.amount === 'number' && fields.amount > 0) {
    return Math.round(fields.amount * 1000)
  }
  return null
}

/**
 * Stock rows as levels: one per product and sellable location, for the configured inventory type (with
 * `ALL`, ADULT and MEDICAL are summed per location). `fieldPrefix` is the dotted path of `rows` in the body.
 */
export function toStockLevels(
  rows: readonly TreezStockRow[],
  config: ResolvedTreezConfig,
  fieldPrefix: string,
): PosStockLevel[] {
  const levels = new Map<string, PosStockLevel>()
  rows.forEach((row, rowIndex) => {
    const unit = unitFor(row.product_type, config)
    row.inventory_details.forEach((detail, detailIndex) => {
      if (config.inventoryType !== 'ALL' && detail.inventory_type !== config.inventoryType) return
      if (config.sellableLocations && !config.sellableLocations.has(detail.location_name)) return
      const field = `${fieldPrefix}.${rowIndex}.inventory_details.${detailIndex}.sellable_quantity`
      // Negative sellable stock (oversold) is nothing to sell.
      const quantity = Math.max(0, toWholeUnits(detail.sellable_quantity, unit, row.product_uom, field))
      const updatedAt = toDate(detail.last_updated_at)
      const key = `${row.product_id}\u0000${detail.location_name}`
      const previous = levels.get(key)
      if (previous) {
        previous.quantity += quantity
        if (updatedAt && (!previous.updatedAt || updatedAt > previous.updatedAt))
          previous.updatedAt = updatedAt
      } else {
        levels.set(key, {
          externalProductId: row.product_id,
          externalLocationId: detail.location_name,
          quantity,
          unit,
          updatedAt,
        })
      }
    })
  })
  return [...levels.values()]
}

/** A ticket as our order reference. */
export function toOrderRef(ticket: TreezTicket): PosOrderRef {
  return {
    externalId: ticket.ticket_id,
    externalNumber: blankToNull(ticket.order_number),
    status: TREEZ_STATUS_MAP[ticket.order_status],
    raw: ticket.order_status,
  }
}

/** The body of `POST /ticket/detailticket` and `PUT /ticket/update/{id}` that the adapter sends. */
export interface TreezTicketBody {
  type: string
  order_source: string
  order_status: string
  revenue_source: string
  external_order_number?: string
  customer_id?: string
  ticket_note?: string
  delivery_address?: Record<string, unknown>
  schedule_start_date?: string
  scheduled_date?: string
  items: Array<{ size_id: string; quantity: number; inventory_type: string; location_name: string }>
}

/** Checks what Treez cannot take (no lines, fractional quantities, no location) before any request. */
function orderItems(order: PosOrderInput, config: ResolvedTreezConfig): TreezTicketBody['items'] {
  const issues: FieldIssue[] = []
  if (order.orderNumber.trim() === '') issues.push({ path: 'orderNumber', message: 'must not be empty' })
  if (order.lines.length === 0) issues.push({ path: 'lines', message: 'must have at least one line' })
  const items = order.lines.map((line, index) => {
    if (line.externalProductId.trim() === '') {
      issues.push({ path: `lines.${index}.externalProductId`, message: 'must not be empty' })
    }
    if (!Number.isInteger(line.quantity) || line.quantity <= 0) {
      issues.push({ path: `lines.${index}.quantity`, message: 'must be a positive whole number' })
    }
    const location = line.externalLocationId ?? config.defaultLocationName
    if (!location) {
      issues.push({
        path: `lines.${index}.externalLocationId`,
        message:
          'is required (Treez needs a location_name per line) unless defaultLocationName is configured',
      })
    }
    return {
      size_id: line.externalProductId,
      quantity: line.quantity,
      inventory_type: config.orderInventoryType,
      location_name: location ?? '',
    }
  })
  if (issues.length > 0) throw new ValidationError('Treez order', issues)
  return items
}

/** The create-ticket body for an order; `external_order_number` is our order number. */
export function toCreateTicketBody(order: PosOrderInput, config: ResolvedTreezConfig): TreezTicketBody {
  return {
    type: config.ticketTypes[order.fulfillment],
    order_source: config.orderSources[order.channel],
    order_status: config.initialOrderStatus,
    revenue_source: config.revenueSource,
    external_order_number: order.orderNumber,
    ...(order.externalCustomerId ? { customer_id: order.externalCustomerId } : {}),
    ...(order.notes ? { ticket_note: order.notes } : {}),
    items: orderItems(order, config),
  }
}

/** What a full-body PUT must resend of the current ticket so that nothing else changes. */
function keptFields(ticket: TreezTicket, config: ResolvedTreezConfig) {
  const customerId = ticket.customer_id
  return {
    type: ticket.type,
    order_source: ticket.order_source,
    revenue_source: blankToNull(ticket.revenue_source) ?? config.revenueSource,
    ...(customerId === null || customerId === undefined ? {} : { customer_id: String(customerId) }),
    ...(ticket.delivery_address ? { delivery_address: ticket.delivery_address } : {}),
    ...(ticket.scheduled_start_date ? { schedule_start_date: ticket.scheduled_start_date } : {}),
    ...(ticket.scheduled_date ? { scheduled_date: ticket.scheduled_date } : {}),
  }
}

/** The update body: the order's lines and notes on the current ticket, keeping its status. */
export function toUpdateTicketBody(
  ticket: TreezTicket,
  order: PosOrderInput,
  config: ResolvedTreezConfig,
): TreezTicketBody {
  const kept = keptFields(ticket, config)
  return {
    ...kept,
    type: config.ticketTypes[order.fulfillment],
    order_source: config.orderSources[order.channel],
    order_status: ticket.order_status,
    external_order_number: order.orderNumber,
    ...(order.externalCustomerId ? { customer_id: order.externalCustomerId } : {}),
    ...(order.notes ? { ticket_note: order.notes } : {}),
    items: orderItems(order, config),
  }
}

/** `ticket_patient_type` such as `MEDICAL-MMID` tells which inventory the ticket sells from. */
function inventoryTypeOf(ticket: TreezTicket, config: ResolvedTreezConfig): TreezInventoryType {
  const patientType = ticket.ticket_patient_type ?? ''
  if (patientType.startsWith('MEDICAL')) return 'MEDICAL'
  if (patientType.startsWith('ADULT')) return 'ADULT'
  return config.orderInventoryType
}

/** The cancel body: the ticket as it is, with `order_status: CANCELED` and the reason added to the note. */
export function toCancelTicketBody(
  ticket: TreezTicket,
  reason: string,
  config: ResolvedTreezConfig,
): TreezTicketBody {
  const fallbackType = inventoryTypeOf(ticket, config)
  const note = [
    blankToNull(ticket.ticket_note),
    reason.trim() ? `Cancelled: ${reason.trim().slice(0, 500)}` : null,
  ]
    .filter((part): part is string => part !== null)
    .join('\n')
  return {
    ...keptFields(ticket, config),
    order_status: 'CANCELED',
    ...(ticket.external_order_number ? { external_order_number: ticket.external_order_number } : {}),
    ...(note ? { ticket_note: note } : {}),
    items: (ticket.items ?? []).map((item) => ({
      size_id: item.size_id ?? item.product_id ?? '',
      quantity: item.quantity,
      inventory_type: item.inventory_type ?? fallbackType,
      location_name: item.location_name ?? config.defaultLocationName ?? '',
    })),
  }
}

/**
 * A ticket as a completed sale, or null when it is none: only COMPLETED tickets count, and neither a refund
 * ticket nor a refunded one (the stock came back; the next inventory pull settles any difference). A ticket
 * we pushed carries our order number (`external_order_number`), so the engine leaves it out.
 */
export function toPosSale(
  ticket: TreezTicket,
  config: ResolvedTreezConfig,
  fieldPrefix: string,
): PosSale | null {
  if (ticket.order_status !== 'COMPLETED') return null
  if (blankToNull(ticket.original_ticket_id) || (ticket.refund_ticket_ids?.length ?? 0) > 0) return null
  const lines = (ticket.items ?? []).map((item, index) => {
    const field = `${fieldPrefix}.items.${index}`
    const externalProductId = blankToNull(item.size_id) ?? blankToNull(item.product_id)
    const externalLocationId = blankToNull(item.location_name)
    if (!externalProductId) throw new TreezMappingIssue(`${field}.size_id`, 'missing product id')
    if (!externalLocationId) throw new TreezMappingIssue(`${field}.location_name`, 'missing location')
    const unit = unitFor(item.product_type, config)
    return {
      externalProductId,
      externalLocationId,
      quantity: toWholeUnits(item.quantity, unit, null, `${field}.quantity`),
      unit,
    }
  })
  return {
    externalId: ticket.ticket_id,
    orderNumber: blankToNull(ticket.external_order_number),
    lines,
    at: toDate(ticket.date_closed ?? ticket.last_updated_at),
  }
}
