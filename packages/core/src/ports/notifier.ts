/** The lifecycle messages: which template the host renders. */
export type LifecycleTemplate =
  | 'order_confirmed'
  | 'order_ready_for_pickup'
  | 'order_shipped'
  | 'order_delivered'
  | 'order_cancelled'
  | 'order_refunded'

/**
 * An order's lifecycle step, for the host to render with its template: `data` holds the status and, for
 * `order_shipped`, the fulfillment, carrier and tracking number. No customer details: the host looks the
 * customer up by `customerId`.
 */
export interface LifecycleNotification {
  kind: 'order_lifecycle'
  template: LifecycleTemplate
  orderId: string
  orderNumber: string
  customerId: string | null
  data: Record<string, unknown>
}

/** A message for a customer about their order (email, SMS…). The host delivers it. */
export type CustomerNotification = NoteNotification | LifecycleNotification

/** A customer-visible note the staff asked to notify about. */
export interface NoteNotification {
  kind: 'order_note'
  orderId: string
  orderNumber: string
  customerId: string | null
  noteId: string
  text: string
}

/**
 * Sends notifications. Called by the outbox relay after the change committed, never inside a storage
 * transaction. Must be safe to call twice for the same `noteId` (delivery is at least once). Lifecycle messages are sent
 * at most once per order and template once a call has returned; a call that throws is tried again.
 */
export interface Notifier {
  notify(notification: CustomerNotification): Promise<void>
}
