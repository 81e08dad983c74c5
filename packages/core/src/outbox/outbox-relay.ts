import { z } from 'zod'
import { parseInput } from '../domain/parse-input'
import type { Logger } from '../ports/logger'
import type { OutboxEvent } from '../ports/storage'
import type { OmsContext } from '../services/oms-context'

/** A delivered event, as handlers see it. */
export type DomainEvent = Pick<
  OutboxEvent,
  'id' | 'seq' | 'type' | 'aggregateId' | 'payload' | 'createdAt' | 'attempts'
>

export type EventHandler = (event: DomainEvent) => Promise<void> | void

export interface RelayOptions {
  /** Events leased per claim. @default 100 */
  batchSize?: number
  /** How long a claim holds an event before another relay may take it. @default 30000 */
  leaseMs?: number
  /** First retry delay after a handler fails; doubles each attempt, with jitter, up to 5 minutes. @default 1000 */
  retryBaseMs?: number
}

const relayOptionsSchema = z.strictObject({
  batchSize: z.number().int().min(1).max(10_000).optional(),
  leaseMs: z.number().int().min(100).max(3_600_000).optional(),
  retryBaseMs: z.number().int().min(1).max(3_600_000).optional(),
})
const drainOptionsSchema = relayOptionsSchema.extend({
  onProgress: z
    .custom<(total: RelayResult) => void>((v) => typeof v === 'function', 'must be a function')
    .optional(),
  maxPasses: z.number().int().min(1).max(1_000_000).optional(),
})
const startOptionsSchema = relayOptionsSchema.extend({
  intervalMs: z.number().int().min(10).max(86_400_000).optional(),
})
const subscribeSchema = z.strictObject({
  handler: z.custom<EventHandler>((v) => typeof v === 'function', 'must be a function'),
  options: z.strictObject({ types: z.array(z.string().min(1).max(128)).max(200).optional() }),
})

export interface RelayResult {
  delivered: number
  failed: number
}

/**
 * Delivers outbox events to subscribers at least once, in order per aggregate (order), claiming with a
 * lease so several instances can relay at once and a crashed relay's events are taken up again when its
 * lease ends. Handlers must be idempotent.
 */
export class OutboxRelay {
  readonly #ctx: OmsContext
  readonly #handlers = new Set<{ handler: EventHandler; types: ReadonlySet<string> | null }>()
  readonly #owner: string
  readonly #logger: Logger
  #timer: ReturnType<typeof setTimeout> | null = null
  #running: Promise<unknown> | null = null

  constructor(ctx: OmsContext) {
    this.#ctx = ctx
    this.#owner = `relay-${ctx.ids()}`
    this.#logger = ctx.logger
  }

  /** Calls `handler` for every event (or only `types`). Returns a function that unsubscribes. */
  subscribe(handler: EventHandler, options: { types?: readonly string[] } = {}): () => void {
    const parsed = parseInput(subscribeSchema, { handler, options }, 'subscription')
    const entry = { handler, types: parsed.options.types ? new Set(parsed.options.types) : null }
    this.#handlers.add(entry)
    return () => {
      this.#handlers.delete(entry)
    }
  }

  /** One claim-and-deliver pass. */
  async relayOnce(input: RelayOptions = {}): Promise<RelayResult> {
    const options = parseInput(relayOptionsSchema, input, 'relay options')
    const leaseMs = options.leaseMs ?? 30_000
    const claimed = await this.#ctx.storage.transaction((tx) =>
      tx.outbox.claim({
        owner: this.#owner,
        limit: options.batchSize ?? 100,
        leaseMs,
        now: this.#ctx.clock.now(),
      }),
    )
    const result: RelayResult = { delivered: 0, failed: 0 }
    for (const event of claimed) {
      try {
        for (const { handler, types } of this.#handlers) {
          if (!types || types.has(event.type)) await handler(toDomainEvent(event))
        }
        await this.#ctx.storage.transaction((tx) =>
          tx.outbox.markDelivered([event.seq], this.#owner, this.#ctx.clock.now()),
        )
        result.delivered += 1
      } catch (error) {
        result.failed += 1
        const base = options.retryBaseMs ?? 1000
        const delay =
          Math.min(300_000, base * 2 ** Math.min(event.attempts - 1, 16)) * (0.5 + Math.random() / 2)
        const message = error instanceof Error ? `${error.name}: ${error.message}` : 'handler failed'
        this.#logger.warn(
          { eventId: event.id, type: event.type, attempts: event.attempts, retryInMs: Math.round(delay) },
          'outbox handler failed',
        )
        await this.#ctx.storage.transaction((tx) =>
          tx.outbox.markFailed(
            event.seq,
            this.#owner,
            message.slice(0, 500),
            new Date(this.#ctx.clock.now().getTime() + delay),
          ),
        )
      }
    }
    return result
  }

  /** Relays until a pass finds nothing deliverable now; reports progress after each pass. */
  async drain(
    input: RelayOptions & { onProgress?: (total: RelayResult) => void; maxPasses?: number } = {},
  ): Promise<RelayResult> {
    const { onProgress, maxPasses, ...relay } = parseInput(drainOptionsSchema, input, 'drain options')
    const options = { ...relay, onProgress, maxPasses }
    const total: RelayResult = { delivered: 0, failed: 0 }
    for (let pass = 0; pass < (options.maxPasses ?? 10_000); pass++) {
      const r = await this.relayOnce(relay)
      total.delivered += r.delivered
      total.failed += r.failed
      options.onProgress?.({ ...total })
      if (r.delivered === 0) break
    }
    return total
  }

  /** Relays in the background every `intervalMs` until `stop()`. */
  start(input: RelayOptions & { intervalMs?: number } = {}): void {
    const { intervalMs, ...options } = parseInput(startOptionsSchema, input, 'relay options')
    if (this.#timer) return
    const tick = () => {
      this.#running = this.drain(options)
        .catch((error: unknown) =>
          this.#logger.error(
            { err: error instanceof Error ? error.message : String(error) },
            'outbox relay pass failed',
          ),
        )
        .finally(() => {
          if (this.#timer) this.#timer = setTimeout(tick, intervalMs ?? 1000)
        })
    }
    this.#timer = setTimeout(tick, 0)
  }

  async stop(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    await this.#running
  }
}

const toDomainEvent = (e: OutboxEvent): DomainEvent => ({
  id: e.id,
  seq: e.seq,
  type: e.type,
  aggregateId: e.aggregateId,
  payload: e.payload,
  createdAt: e.createdAt,
  attempts: e.attempts,
})
