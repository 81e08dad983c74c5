import { z } from 'zod'
import { idempotencyKeySchema } from '../domain/commands'
import type { PaymentStatus } from '../domain/enums'
import { parseInput } from '../domain/parse-input'
import { type ActingActor, actorSchema, idSchema, type Order } from '../domain/schemas'
import { ConflictError, StaleStateError } from '../errors/oms-error'
import { loadOrder, recheckOrder } from '../order/order-service'
import type { OutboxRelay } from '../outbox/outbox-relay'
import type { PaymentOperation, PaymentRequest, PaymentResult, Payments } from '../ports/payments'
import type { StorageTx } from '../ports/storage'
import {
  type OmsContext,
  orderHistoryEntry,
  outboxEvent,
  retryOnStale,
  runCommand,
  SYSTEM_ACTOR,
} from '../services/oms-context'
import { capturedOf, PAYMENT_OPERATION_EVENT, paymentAggregate } from './payment-records'

export const paymentRefInputSchema = z.strictObject({ actor: actorSchema, paymentId: idSchema })
export type PaymentRefInput = z.input<typeof paymentRefInputSchema>
export const paymentOrderInputSchema = z.strictObject({ actor: actorSchema, orderId: idSchema })
export type PaymentOrderInput = z.input<typeof paymentOrderInputSchema>
export const retryPaymentInputSchema = z.strictObject({
  actor: actorSchema,
  paymentId: idSchema,
  idempotencyKey: idempotencyKeySchema.optional(),
})
export type RetryPaymentInput = z.input<typeof retryPaymentInputSchema>

/**
 * Payment operations of orders: what was captured, voided and refunded, with the state of each call to the
 * provider (attempts, last error, reference), and the operator's retry of an operation left `dead`.
 */
export class PaymentService {
  readonly #ctx: OmsContext

  constructor(ctx: OmsContext) {
    this.#ctx = ctx
  }

  /** One payment operation. Needs `order.view` on its order (a customer: its own orders). */
  async get(input: PaymentRefInput): Promise<PaymentOperation> {
    const { actor, paymentId } = parseInput(paymentRefInputSchema, input, 'payment read')
    const ctx = this.#ctx
    return ctx.storage.transaction(async (tx) => (await load(ctx, tx, actor, paymentId, 'order.view')).op, {
      readOnly: true,
    })
  }

  /** The payment operations of an order, in the order they were asked for. Needs `order.view`. */
  async listByOrder(input: PaymentOrderInput): Promise<PaymentOperation[]> {
    const { actor, orderId } = parseInput(paymentOrderInputSchema, input, 'payment read')
    const ctx = this.#ctx
    return ctx.storage.transaction(
      async (tx) => {
        const order = await loadOrder(ctx, tx, actor, orderId, 'order.view')
        return tx.payments.listByOrder(order.id)
      },
      { readOnly: true },
    )
  }

  /**
   * Tries a `dead` operation again (after a decline was sorted out with the customer or the provider, or an
   * outage ended): it is `pending` again with a fresh set of attempts and the same idempotency key, so the
   * provider never moves the money twice. Needs `payment.manage`. Any other status is CONFLICT.
   */
  async retry(input: RetryPaymentInput): Promise<PaymentOperation> {
    const cmd = parseInput(retryPaymentInputSchema, input, 'payment retry')
    const ctx = this.#ctx
    return runCommand(
      ctx,
      'payments.retry',
      cmd,
      async (tx, now) => {
        const { op, order } = await load(ctx, tx, cmd.actor, cmd.paymentId, 'payment.manage', true)
        if (op.status !== 'dead')
          throw new ConflictError(`payment ${op.id} is ${op.status}: only a dead operation can be retried`, {
            paymentId: op.id,
            status: op.status,
          })
        const next: PaymentOperation = {
          ...op,
          status: 'pending',
          attempts: 0,
          updatedAt: now,
          version: op.version + 1,
        }
        if (!(await tx.payments.update(next, op.version)))
          throw new StaleStateError(`payment ${op.id}`, { paymentId: op.id })
        await tx.append({
          history: [
            orderHistoryEntry(ctx, cmd.actor, now, order, {
              action: 'status_changed',
              description: `payment ${op.kind} retried by an operator`,
              additionalData: { paymentId: op.id, kind: op.kind, amountMinor: op.amountMinor },
            }),
          ],
          outbox: [
            outboxEvent(ctx, now, PAYMENT_OPERATION_EVENT, paymentAggregate(order.id), {
              orderId: order.id,
              paymentId: op.id,
              kind: op.kind,
            }),
          ],
        })
        return next
      },
      (tx, op) => recheckOrder(ctx, tx, cmd.actor, op.orderId, 'payment.manage'),
    )
  }
}

/** An operation and its order, for an actor: a missing one and one out of reach look the same to a limited caller. */
async function load(
  ctx: OmsContext,
  tx: StorageTx,
  actor: ActingActor,
  paymentId: string,
  permission: 'order.view' | 'payment.manage',
  lock = false,
): Promise<{ op: PaymentOperation; order: Order }> {
  const op = await tx.payments.get(paymentId)
  if (!op) return ctx.access.missing(actor, permission, 'payment', paymentId)
  const order = await loadOrder(ctx, tx, actor, op.orderId, permission, { lock })
  const fresh = lock ? await tx.payments.get(paymentId) : op
  return { op: fresh ?? op, order }
}

const failureMessage = (error: unknown) =>
  (error instanceof Error ? `${error.name}: ${error.message}` : 'the payment provider failed').slice(0, 500)

/** What an order's payment status becomes when an operation succeeds. */
function statusAfter(order: Order, ops: readonly PaymentOperation[], op: PaymentOperation): PaymentStatus {
  if (op.kind === 'capture') return 'paid'
  if (op.kind === 'void') return 'voided'
  const refunded = ops
    .filter((o) => o.kind === 'refund' && (o.status === 'succeeded' || o.id === op.id))
    .reduce((s, o) => s + o.amountMinor, 0)
  return refunded >= capturedOf(order, ops) ? 'refunded' : 'partially_refunded'
}

/**
 * Carries out recorded payment operations from the outbox, after commit: one transaction counts the attempt,
 * then the provider is called (outside any transaction, with the operation's idempotency key), then one
 * transaction records the outcome and the order's payment status. A throw (timeout, outage) leaves the
 * operation `failed` and rethrows, so the relay tries the event again later with backoff; a decline, or the
 * last attempt, leaves it `dead` with an audit row for an operator. A refund waits for its capture.
 */
export function subscribePayments(ctx: OmsContext, events: OutboxRelay, provider: Payments): () => void {
  return events.subscribe(
    async (event) => {
      const { paymentId } = event.payload as { paymentId: string }
      const started = await retryOnStale(() =>
        ctx.storage.transaction(async (tx) => {
          const op = await tx.payments.get(paymentId)
          if (!op || op.status === 'succeeded' || op.status === 'dead') return null
          const order = await tx.orders.get(op.orderId)
          if (!order) return null
          let captureReference: string | null = null
          let waiting = false
          if (op.kind === 'refund') {
            const capture = (await tx.payments.listByOrder(op.orderId)).find((o) => o.kind === 'capture')
            waiting = capture !== undefined && capture.status !== 'succeeded'
            captureReference = capture?.providerReference ?? null
          }
          const now = ctx.clock.now()
          const next: PaymentOperation = {
            ...op,
            attempts: op.attempts + 1,
            updatedAt: now,
            version: op.version + 1,
          }
          if (!(await tx.payments.update(next, op.version)))
            throw new StaleStateError(`payment ${op.id}`, { paymentId: op.id })
          return { op: next, order, captureReference, waiting }
        }),
      )
      if (!started) return
      const { op, order } = started
      let result: PaymentResult | null = null
      let failure: { code: string; message: string } | null = null
      if (started.waiting) {
        failure = {
          code: 'CAPTURE_NOT_SETTLED',
          message: 'the capture this refund pays back has not succeeded yet',
        }
      } else {
        const request: PaymentRequest = {
          operation: op.kind,
          idempotencyKey: op.idempotencyKey,
          orderId: op.orderId,
          orderNumber: order.number,
          amountMinor: op.amountMinor,
          currency: op.currency,
          captureReference: started.captureReference,
        }
        try {
          result = await provider[op.kind](request)
        } catch (error) {
          failure = { code: 'PAYMENT_UNAVAILABLE', message: failureMessage(error) }
        }
      }
      const outcome = await retryOnStale(() =>
        ctx.storage.transaction((tx) => finish(ctx, tx, op.id, result, failure)),
      )
      if (outcome === 'retry') {
        ctx.logger.warn(
          { paymentId: op.id, kind: op.kind, attempts: op.attempts, code: failure?.code },
          'payment operation failed; it will be tried again',
        )
        throw new Error(`payment ${op.kind} ${op.id} failed: ${failure?.code}`)
      }
    },
    { types: [PAYMENT_OPERATION_EVENT] },
  )
}

/** Records an attempt's outcome; 'retry' when the relay should deliver the event again later. */
async function finish(
  ctx: OmsContext,
  tx: StorageTx,
  paymentId: string,
  result: PaymentResult | null,
  failure: { code: string; message: string } | null,
): Promise<'done' | 'retry'> {
  const op = await tx.payments.get(paymentId)
  // Finished meanwhile (another relay took over after a lease ended, or an operator acted): theirs stands.
  if (!op || op.status === 'succeeded' || op.status === 'dead') return 'done'
  const now = ctx.clock.now()
  const order = await tx.orders.lock(op.orderId)
  if (!order) return 'done'
  const audit = (
    action: 'payment_received' | 'refunded' | 'payment_failed' | 'status_changed',
    description: string,
    error: { code: string; message: string } | null,
  ) =>
    orderHistoryEntry(ctx, SYSTEM_ACTOR, now, order, {
      action,
      description,
      additionalData: {
        paymentId: op.id,
        kind: op.kind,
        amountMinor: op.amountMinor,
        attempts: op.attempts,
        ...(error ? { error } : {}),
      },
    })
  let next: PaymentOperation
  if (result?.outcome === 'succeeded') {
    next = {
      ...op,
      status: 'succeeded',
      providerReference: result.providerReference,
      updatedAt: now,
      completedAt: now,
      version: op.version + 1,
    }
    if (!(await tx.payments.update(next, op.version))) throw new StaleStateError(`payment ${op.id}`)
    const ops = (await tx.payments.listByOrder(order.id)).map((o) => (o.id === next.id ? next : o))
    const paymentStatus = statusAfter(order, ops, next)
    // The status entry keeps the order's status (the chain of status changes stays unbroken).
    const entry = {
      ...audit(
        next.kind === 'capture' ? 'payment_received' : next.kind === 'refund' ? 'refunded' : 'status_changed',
        `payment ${next.kind} of ${next.amountMinor} ${next.currency} succeeded: payment ${order.paymentStatus} → ${paymentStatus}`,
        null,
      ),
      oldStatus: order.status,
      newStatus: order.status,
    }
    const updated: Order = { ...order, paymentStatus, version: order.version + 1, updatedAt: now }
    if (!(await tx.orders.update(updated, order.version))) throw new StaleStateError(`order ${order.id}`)
    await tx.append({
      history: [entry],
      outbox: [
        outboxEvent(ctx, now, 'payment.operation_succeeded', paymentAggregate(order.id), {
          orderId: order.id,
          paymentId: next.id,
          kind: next.kind,
          amountMinor: next.amountMinor,
          paymentStatus,
        }),
      ],
    })
    return 'done'
  }
  const error =
    result?.outcome === 'declined'
      ? { code: result.code.slice(0, 100), message: result.message.slice(0, 500) }
      : (failure ?? { code: 'PAYMENT_UNAVAILABLE', message: 'no answer' })
  const dead = result?.outcome === 'declined' || op.attempts >= ctx.policies.paymentAttempts
  next = {
    ...op,
    status: dead ? 'dead' : 'failed',
    lastError: error,
    updatedAt: now,
    completedAt: dead ? now : null,
    version: op.version + 1,
  }
  if (!(await tx.payments.update(next, op.version))) throw new StaleStateError(`payment ${op.id}`)
  if (!dead) return 'retry'
  await tx.append({
    history: [
      audit(
        'payment_failed',
        `payment ${op.kind} failed for good (${error.code}): an operator may retry it`,
        error,
      ),
    ],
    outbox: [
      outboxEvent(ctx, now, 'payment.operation_failed', paymentAggregate(order.id), {
        orderId: order.id,
        paymentId: op.id,
        kind: op.kind,
        code: error.code,
      }),
    ],
  })
  return 'done'
}
