import type { OutboxRelay } from '../outbox/outbox-relay'
import type { LifecycleTemplate, Notifier } from '../ports/notifier'
import type { OmsContext } from '../services/oms-context'

/** Which order statuses a customer hears about. */
const ORDER_TEMPLATES: Readonly<Record<string, LifecycleTemplate>> = {
  confirmed: 'order_confirmed',
  ready_for_pickup: 'order_ready_for_pickup',
  delivered: 'order_delivered',
  cancelled: 'order_cancelled',
  refunded: 'order_refunded',
}

/**
 * Tells customers about their order's life through the `Notifier`, after commit (from the outbox): confirmed,
 * ready for pickup, shipped (per fulfillment, with carrier and tracking), delivered, cancelled, refunded.
 * Each at most once per order and template (per fulfillment for shipments): a key is claimed before the
 * notifier is called and marked sent after it returns; a failed call is retried by the relay, one that
 * went through is never sent again. Only ids, numbers, statuses and tracking go out, never customer details.
 */
export function subscribeLifecycleNotifications(ctx: OmsContext, events: OutboxRelay, notifier: Notifier) {
  return events.subscribe(
    async (event) => {
      const p = event.payload as Record<string, unknown>
      const orderId = String(p.orderId)
      const shipped = event.type === 'fulfillment.status_changed' && p.to === 'shipped'
      const template = shipped
        ? 'order_shipped'
        : event.type === 'order.status_changed'
          ? ORDER_TEMPLATES[String(p.to)]
          : undefined
      if (!template) return
      const key = `${orderId}\u001f${template}${shipped ? `\u001f${String(p.fulfillmentId)}` : ''}`
      const found = await ctx.storage.transaction(async (tx) => {
        const earlier = await tx.idempotency.claim('notifications', key, template, ctx.clock.now())
        if (earlier?.result) return null
        return tx.orders.get(orderId)
      })
      if (!found) return
      await notifier.notify({
        kind: 'order_lifecycle',
        template,
        orderId,
        orderNumber: found.number,
        customerId: found.customerId,
        data: {
          status: found.status,
          ...(shipped
            ? {
                fulfillmentId: p.fulfillmentId,
                carrier: p.carrier ?? null,
                trackingNumber: p.trackingNumber ?? null,
              }
            : {}),
        },
      })
      await ctx.storage.transaction((tx) => tx.idempotency.complete('notifications', key, 'sent'))
    },
    { types: ['order.status_changed', 'fulfillment.status_changed'] },
  )
}
