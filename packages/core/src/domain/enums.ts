/** Where an order came from. */
export const CHANNELS = ['kiosk', 'pos', 'ecommerce', 'wholesale'] as const
export type Channel = (typeof CHANNELS)[number]

/** How the customer gets the goods: each flow has its own order machine. */
export const ORDER_FLOWS = ['delivery', 'pickup'] as const
export type OrderFlow = (typeof ORDER_FLOWS)[number]

/** The return process, shared by both flows. */
const RETURN_STATUSES = [
  'return_requested',
  'under_review',
  'return_approved',
  'return_rejected',
  'return_shipped',
  'return_received',
  'quality_check',
  'refund_approved',
  'refund_rejected',
  'refunded',
] as const

/** Statuses of the delivery flow, including the detailed return process. */
export const DELIVERY_ORDER_STATUSES = [
  'pending',
  'payment_pending',
  'confirmed',
  'processing',
  'packed',
  'partially_shipped',
  'shipped',
  'in_transit',
  'out_for_delivery',
  'partially_delivered',
  'delivered',
  'completed',
  'cancelled',
  ...RETURN_STATUSES,
] as const

/** Statuses of the pickup (kiosk / in-store) flow. */
export const PICKUP_ORDER_STATUSES = [
  'pending',
  'payment_pending',
  'confirmed',
  'processing',
  'ready_for_pickup',
  'picked_up',
  'completed',
  'cancelled',
  ...RETURN_STATUSES,
] as const

/** Every built-in order status of either flow. Host extensions may add more (stored as plain strings). */
export const ORDER_STATUSES = [
  ...new Set([...DELIVERY_ORDER_STATUSES, ...PICKUP_ORDER_STATUSES]),
] as readonly ((typeof DELIVERY_ORDER_STATUSES)[number] | (typeof PICKUP_ORDER_STATUSES)[number])[]
export type BuiltInOrderStatus = (typeof ORDER_STATUSES)[number]
/** A built-in status, or one a host extension added. */
export type OrderStatus = BuiltInOrderStatus | (string & {})

/** The 8 fulfillment statuses. */
export const FULFILLMENT_STATUSES = [
  'pending',
  'picking',
  'packing',
  'ready_to_ship',
  'shipped',
  'partially_fulfilled',
  'fulfilled',
  'cancelled',
] as const
export type FulfillmentStatus = (typeof FULFILLMENT_STATUSES)[number]

/** Order history actions: the order lifecycle's, plus the inventory and sync actions. */
export const HISTORY_ACTIONS = [
  'created',
  'confirmed',
  'payment_received',
  'processing_started',
  'packed',
  'shipped',
  'delivered',
  'cancelled',
  'refunded',
  'status_changed',
  'note_added',
  'payment_failed',
  'return_requested',
  'returned',
  'edited',
  'assigned',
  'inventory_reserved',
  'inventory_released',
  // beyond the seed
  'inventory_committed',
  'reservation_expired',
  'note_updated',
  'note_deleted',
  'inventory_received',
  'inventory_adjusted',
  'inventory_set',
  'inventory_transferred',
  'inventory_counted',
  'inventory_shortage',
  'pos_synced',
  'fulfillment_created',
  'item_scanned',
  'scan_rejected',
  'transfer_created',
  'transfer_shipped',
  'transfer_received',
  'transfer_closed',
  'transfer_cancelled',
  'count_opened',
  'count_recorded',
  'count_approved',
  'count_cancelled',
  'inventory_bucket_moved',
  'reorder_point_set',
] as const
export type HistoryAction = (typeof HISTORY_ACTIONS)[number]

/** Why on-hand or a bucket changed. Every movement carries one. */
export const MOVEMENT_REASONS = [
  'receive',
  'adjust_damage',
  'adjust_theft',
  'adjust_expired',
  'adjust_correction',
  'adjust_sample',
  'adjust_destruction',
  'adjust_other',
  'transfer_out',
  'transfer_in',
  'sale',
  'return_restock',
  'count_correction',
  'pos_sync',
  'quarantine',
  'quarantine_release',
  'damage',
  'damage_release',
  /** Shipped in a transfer but never received: written off at the destination when the transfer closes. */
  'transfer_loss',
] as const
export type MovementReason = (typeof MOVEMENT_REASONS)[number]

/** Which figure of a level a movement changes. */
export const STOCK_BUCKETS = ['on_hand', 'damaged', 'quarantine', 'incoming'] as const
export type StockBucket = (typeof STOCK_BUCKETS)[number]

export const LOCATION_KINDS = ['store', 'warehouse', 'vault', 'sales_floor'] as const
export type LocationKind = (typeof LOCATION_KINDS)[number]

/** The unit a quantity is counted in: whole units, or weighed goods in grams or milligrams. */
export const UNITS = ['each', 'g', 'mg'] as const
export type Unit = (typeof UNITS)[number]

export const RESERVATION_STATUSES = ['active', 'committed', 'released', 'expired'] as const
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number]

export const PAYMENT_STATUSES = [
  'unpaid',
  'authorized',
  'paid',
  'failed',
  'refunded',
  'partially_refunded',
  /** An authorisation let go without capturing (the order was cancelled before hand-over). */
  'voided',
] as const
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number]

/**
 * Roles a caller may hold: order_manager, warehouse_staff, customer_service, customer, store_manager,
 * system_admin, and payment_service (the payment webhook: confirms and fails payments).
 */
export const CALLER_ROLES = [
  'order_manager',
  'warehouse_staff',
  'customer_service',
  'customer',
  'store_manager',
  'system_admin',
  'payment_service',
] as const
export type CallerRole = (typeof CALLER_ROLES)[number]

/** Every role, including `system`: the library's own actor (sweeper, relay), which no caller can claim. */
export const ROLES = [...CALLER_ROLES, 'system'] as const
export type Role = (typeof ROLES)[number]

export const POS_VENDORS = ['treez', 'dutchie', 'blaze'] as const

/**
 * A transfer between locations: `draft` → `shipped` (source debited, destination `incoming`) →
 * `partially_received` / `received` → `closed` (what never arrived written off as a loss); `cancelled`
 * only from `draft`.
 */
export const TRANSFER_STATUSES = [
  'draft',
  'shipped',
  'partially_received',
  'received',
  'closed',
  'cancelled',
] as const
export type TransferStatus = (typeof TRANSFER_STATUSES)[number]

/** A physical count: `open` while counters record, then `approved` (corrections written) or `cancelled`. */
export const COUNT_STATUSES = ['open', 'approved', 'cancelled'] as const
export type CountStatus = (typeof COUNT_STATUSES)[number]

/** The buckets stock can be set aside into (QC hold and damage), out of what is available to sell. */
export const SET_ASIDE_BUCKETS = ['damaged', 'quarantine'] as const
export type SetAsideBucket = (typeof SET_ASIDE_BUCKETS)[number]
