/** A message for a customer about their order (email, SMS…). The host delivers it. */
export interface CustomerNotification {
  kind: 'order_note'
  orderId: string
  orderNumber: string
  customerId: string | null
  noteId: string
  text: string
}

/**
 * Sends notifications. Called by the outbox relay after the change committed, never inside a storage
 * transaction. Must be safe to call twice for the same `noteId` (delivery is at least once).
 */
export interface Notifier {
  notify(notification: CustomerNotification): Promise<void>
}
