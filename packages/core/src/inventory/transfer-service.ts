import type { Permission } from '../access/access-policy'
import {
  type CloseTransferInput,
  type CreateTransferInput,
  closeTransferInputSchema,
  createTransferInputSchema,
  type ListTransfersInput,
  listTransfersInputSchema,
  type ReceiveTransferInput,
  receiveTransferInputSchema,
  type TransferRefInput,
  type TransferStepInput,
  transferRefInputSchema,
  transferStepInputSchema,
} from '../domain/commands'
import type { HistoryAction, TransferStatus } from '../domain/enums'
import { parseInput } from '../domain/parse-input'
import type { ActingActor, Actor, Transfer, TransferLine } from '../domain/schemas'
import { InvalidTransitionError, NotFoundError, StaleStateError, ValidationError } from '../errors/oms-error'
import type { StorageTx } from '../ports/storage'
import { historyEntry, type OmsContext, outboxEvent, runCommand } from '../services/oms-context'
import { requireLocation, viewReach } from './location-access'
import { type LedgerEntry, recordMovements } from './stock-ledger'

/** Which steps each status allows (what a UI shows as buttons). */
const NEXT_STEPS: Readonly<Record<TransferStatus, readonly string[]>> = {
  draft: ['ship', 'cancel'],
  shipped: ['receive', 'close'],
  partially_received: ['receive', 'close'],
  received: ['close'],
  closed: [],
  cancelled: [],
}

/** The steps a transfer's status allows now (what a UI shows as buttons). */
export const allowedTransferSteps = (transfer: Pick<Transfer, 'status'>): readonly string[] =>
  NEXT_STEPS[transfer.status]

const outstanding = (l: TransferLine) => l.quantity - l.quantityReceived - l.quantityLost
const lineKey = (itemId: string, packageId: string | null | undefined) => `${itemId}\u0000${packageId ?? ''}`

/**
 * Transfers of stock between locations, in one store or between stores: `create` (a draft) → `ship` (the
 * source's on-hand goes down by the same conditional write as a hold, so held, set-aside or missing stock
 * never ships; the destination shows it as `incoming`) → `receive` (once or in parts: the destination's
 * on-hand goes up) → `close` (what never arrived is written off as a loss, with a reason). A draft can be
 * cancelled. Every step writes its movements (referencing the transfer), history and events in one
 * transaction, and takes an idempotency key.
 *
 * Access: staff limited to some stores create, ship and cancel only transfers out of locations they
 * reach, and receive and close only those into them; they see transfers out of or into their stores.
 */
export class TransferService {
  readonly #ctx: OmsContext

  constructor(ctx: OmsContext) {
    this.#ctx = ctx
  }

  /** Creates a draft transfer. Nothing moves until it ships. */
  async create(input: CreateTransferInput): Promise<Transfer> {
    const cmd = parseInput(createTransferInputSchema, input, 'transfer')
    const ctx = this.#ctx
    if (cmd.fromLocationId === cmd.toLocationId)
      throw new ValidationError('transfer', [
        { path: 'toLocationId', message: 'must differ from fromLocationId' },
      ])
    const keys = new Set<string>()
    for (const [i, l] of cmd.lines.entries()) {
      const key = lineKey(l.itemId, l.packageId)
      if (keys.has(key))
        throw new ValidationError('transfer', [
          { path: `lines.${i}`, message: 'repeats an item (and package) of an earlier line' },
        ])
      keys.add(key)
    }
    return runCommand(
      ctx,
      'transfers.create',
      cmd,
      async (tx, now) => {
        const from = await requireLocation(this.#ctx, tx, cmd.actor, cmd.fromLocationId)
        const to = await tx.locations.get(cmd.toLocationId)
        if (!to) throw new NotFoundError('location', cmd.toLocationId)
        const itemIds = [...new Set(cmd.lines.map((l) => l.itemId))]
        const found = new Set((await ctx.catalog.items(tx, itemIds)).map((i) => i.id))
        const missing = itemIds.find((id) => !found.has(id))
        if (missing) throw new NotFoundError('item', missing)
        const transfer: Transfer = {
          id: ctx.ids(),
          fromLocationId: from.id,
          toLocationId: to.id,
          fromStoreId: from.storeId,
          toStoreId: to.storeId,
          status: 'draft',
          lines: cmd.lines.map((l) => ({
            itemId: l.itemId,
            packageId: l.packageId ?? null,
            quantity: l.quantity,
            quantityReceived: 0,
            quantityLost: 0,
          })),
          note: cmd.note ?? null,
          lossReason: null,
          version: 1,
          createdBy: cmd.actor.id,
          createdAt: now,
          shippedAt: null,
          receivedAt: null,
          closedAt: null,
          cancelledAt: null,
          updatedAt: now,
        }
        await tx.transfers.insert(transfer)
        await this.#audit(tx, cmd.actor, now, transfer, null, 'transfer_created', 'created')
        return transfer
      },
      async (tx, result) => {
        await this.#requireTransfer(tx, cmd.actor, result.id, 'from', false)
      },
    )
  }

  /**
   * Ships a draft: each line's quantity leaves the source's on-hand only if that much is available (not
   * held, set aside or safety stock), else INSUFFICIENT_STOCK and nothing moves; the destination's
   * `incoming` goes up by the same. An untagged line takes tagged packages oldest first, and the transfer
   * then lists the packages that actually left.
   */
  async ship(input: TransferStepInput): Promise<Transfer> {
    const cmd = parseInput(transferStepInputSchema, input, 'transfer shipment')
    return this.#step('ship', cmd, 'from', async (tx, now, t) => {
      const shipped: TransferLine[] = []
      const entries: LedgerEntry[] = []
      const ref = { kind: 'transfer' as const, id: t.id }
      for (const line of t.lines) {
        entries.push({
          itemId: line.itemId,
          locationId: t.fromLocationId,
          bucket: 'on_hand',
          delta: -line.quantity,
          requireAvailable: line.quantity,
          reason: 'transfer_out',
          packageId: line.packageId,
          reference: ref,
          onSplit: (parts) => {
            for (const part of parts)
              shipped.push({ ...line, packageId: part.packageId, quantity: -part.delta })
          },
        })
        entries.push({
          itemId: line.itemId,
          locationId: t.toLocationId,
          bucket: 'incoming',
          delta: line.quantity,
          reason: 'transfer_out',
          packageId: line.packageId,
          reference: ref,
        })
      }
      await recordMovements(this.#ctx, tx, now, cmd.actor, entries, {
        storeId: t.fromStoreId,
        action: 'inventory_transferred',
        description: `shipped transfer ${t.id} from ${t.fromLocationId} to ${t.toLocationId}`,
      })
      return { ...t, status: 'shipped', lines: mergeLines(shipped), shippedAt: now }
    })
  }

  /**
   * Receives what arrived (`lines`, or everything outstanding): the destination's `incoming` goes down
   * and its on-hand up, per package where the line has one. Receiving more than is outstanding on a line
   * is VALIDATION. The transfer is `received` once nothing is outstanding, else `partially_received`.
   */
  async receive(input: ReceiveTransferInput): Promise<Transfer> {
    const cmd = parseInput(receiveTransferInputSchema, input, 'transfer receipt')
    return this.#step('receive', cmd, 'to', async (tx, now, t) => {
      const lines = t.lines.map((l) => ({ ...l }))
      const wanted = cmd.lines ?? lines.map((l) => ({ ...l, quantity: outstanding(l) }))
      const issues = []
      const entries: LedgerEntry[] = []
      const ref = { kind: 'transfer' as const, id: t.id }
      for (const [i, w] of wanted.entries()) {
        const line = lines.find((l) => lineKey(l.itemId, l.packageId) === lineKey(w.itemId, w.packageId))
        if (!line) {
          issues.push({ path: `lines.${i}`, message: 'is not a line of this transfer (item and package)' })
          continue
        }
        if (w.quantity > outstanding(line)) {
          issues.push({
            path: `lines.${i}.quantity`,
            message: `is more than the ${outstanding(line)} still outstanding on this line`,
          })
          continue
        }
        if (w.quantity === 0) continue
        line.quantityReceived += w.quantity
        for (const [bucket, delta] of [
          ['incoming', -w.quantity],
          ['on_hand', w.quantity],
        ] as const)
          entries.push({
            itemId: line.itemId,
            locationId: t.toLocationId,
            bucket,
            delta,
            reason: 'transfer_in',
            packageId: line.packageId,
            reference: ref,
            note: cmd.note ?? null,
          })
      }
      if (issues.length) throw new ValidationError('transfer receipt', issues)
      if (entries.length)
        await recordMovements(this.#ctx, tx, now, cmd.actor, entries, {
          storeId: t.toStoreId,
          action: 'inventory_transferred',
          description: `received transfer ${t.id} at ${t.toLocationId}`,
        })
      const done = lines.every((l) => outstanding(l) === 0)
      return {
        ...t,
        lines,
        status: done ? 'received' : 'partially_received',
        receivedAt: now,
      }
    })
  }

  /**
   * Closes a shipped or (partly) received transfer. What is still outstanding never arrived: it leaves
   * the destination's `incoming` as a `transfer_loss` movement with `lossReason` (required then).
   */
  async close(input: CloseTransferInput): Promise<Transfer> {
    const cmd = parseInput(closeTransferInputSchema, input, 'transfer close')
    return this.#step('close', cmd, 'to', async (tx, now, t) => {
      const lost = t.lines.filter((l) => outstanding(l) > 0)
      if (lost.length && !cmd.lossReason)
        throw new ValidationError('transfer close', [
          {
            path: 'lossReason',
            message: `is required: ${lost.reduce((s, l) => s + outstanding(l), 0)} unit(s) never arrived and are written off`,
          },
        ])
      if (lost.length)
        await recordMovements(
          this.#ctx,
          tx,
          now,
          cmd.actor,
          lost.map((l) => ({
            itemId: l.itemId,
            locationId: t.toLocationId,
            bucket: 'incoming' as const,
            delta: -outstanding(l),
            reason: 'transfer_loss' as const,
            packageId: l.packageId,
            reference: { kind: 'transfer' as const, id: t.id },
            note: cmd.lossReason ?? null,
          })),
          {
            storeId: t.toStoreId,
            action: 'inventory_transferred',
            description: `closed transfer ${t.id}: ${lost.reduce((s, l) => s + outstanding(l), 0)} unit(s) lost (${cmd.lossReason})`,
          },
        )
      return {
        ...t,
        lines: t.lines.map((l) => ({ ...l, quantityLost: l.quantityLost + outstanding(l) })),
        status: 'closed',
        lossReason: lost.length ? (cmd.lossReason ?? null) : null,
        closedAt: now,
      }
    })
  }

  /** Cancels a draft (nothing has moved yet). A shipped transfer is received or closed instead. */
  async cancel(input: TransferStepInput): Promise<Transfer> {
    const cmd = parseInput(transferStepInputSchema, input, 'transfer cancellation')
    return this.#step('cancel', cmd, 'from', async (_tx, now, t) => ({
      ...t,
      status: 'cancelled',
      cancelledAt: now,
      note: cmd.note ?? t.note,
    }))
  }

  /** One transfer, if the actor reaches its source or destination store. */
  async get(input: TransferRefInput): Promise<Transfer> {
    const { actor, transferId } = parseInput(transferRefInputSchema, input, 'transfer read')
    return this.#ctx.storage.transaction(
      (tx) => this.#requireTransfer(tx, actor, transferId, 'either', false),
      { readOnly: true },
    )
  }

  /** Transfers out of or into the stores the actor reaches, newest first. */
  async list(input: ListTransfersInput): Promise<Transfer[]> {
    const { actor, ...filter } = parseInput(listTransfersInputSchema, input, 'transfers read')
    const reach = viewReach(this.#ctx, actor, 'transfers')
    return this.#ctx.storage.transaction(
      (tx) =>
        tx.transfers.list({
          ...reach,
          ...(filter.locationId ? { locationId: filter.locationId } : {}),
          ...(filter.status ? { status: filter.status } : {}),
          limit: filter.limit,
          offset: filter.offset,
        }),
      { readOnly: true },
    )
  }

  /** One step of a transfer: claim it, check the step is allowed, apply it, write it back (compare-and-swap). */
  #step(
    step: 'ship' | 'receive' | 'close' | 'cancel',
    cmd: { actor: Actor; idempotencyKey?: string | undefined; transferId: string },
    side: 'from' | 'to',
    apply: (tx: StorageTx, now: Date, t: Transfer) => Promise<Transfer>,
  ): Promise<Transfer> {
    return runCommand(
      this.#ctx,
      `transfers.${step}`,
      cmd,
      async (tx, now) => {
        const t = await this.#requireTransfer(tx, cmd.actor, cmd.transferId, side, true)
        if (!NEXT_STEPS[t.status].includes(step))
          throw new InvalidTransitionError('transfer', t.status, step, { allowed: NEXT_STEPS[t.status] })
        const next = await apply(tx, now, t)
        const written = { ...next, version: t.version + 1, updatedAt: now }
        if (!(await tx.transfers.update(written, t.version))) throw new StaleStateError(`transfer ${t.id}`)
        await this.#audit(tx, cmd.actor, now, written, t.status, HISTORY[step], step)
        return written
      },
      async (tx) => {
        await this.#requireTransfer(tx, cmd.actor, cmd.transferId, side, false)
      },
    )
  }

  /** History in each store the transfer touches, and a `transfer.status_changed` event. */
  async #audit(
    tx: StorageTx,
    actor: ActingActor,
    now: Date,
    t: Transfer,
    from: TransferStatus | null,
    action: HistoryAction,
    step: string,
  ): Promise<void> {
    const stores = [...new Set([t.fromStoreId, t.toStoreId])]
    const units = t.lines.reduce((s, l) => s + l.quantity, 0)
    await tx.append({
      history: stores.map((storeId) =>
        historyEntry(this.#ctx, actor, now, {
          entityType: 'transfer',
          entityId: t.id,
          storeId,
          action,
          oldStatus: from,
          newStatus: t.status,
          description: `transfer ${t.id} (${units} unit(s), ${t.fromLocationId} → ${t.toLocationId}): ${step}`,
          additionalData: { fromLocationId: t.fromLocationId, toLocationId: t.toLocationId },
        }),
      ),
      outbox: [
        outboxEvent(this.#ctx, now, 'transfer.status_changed', `transfer:${t.id}`, {
          transferId: t.id,
          from,
          to: t.status,
          fromLocationId: t.fromLocationId,
          toLocationId: t.toLocationId,
        }),
      ],
    })
  }

  /**
   * The transfer, if the actor reaches the side a step acts on (`from`: the source, `to`: the
   * destination, with `inventory.write`; `either`, with `inventory.view`). Missing and out of reach
   * answer alike for a limited actor.
   */
  async #requireTransfer(
    tx: StorageTx,
    actor: Actor,
    id: string,
    side: 'from' | 'to' | 'either',
    lock: boolean,
  ): Promise<Transfer> {
    const access = this.#ctx.access
    const permission: Permission = side === 'either' ? 'inventory.view' : 'inventory.write'
    const t = lock ? await tx.transfers.lock(id) : await tx.transfers.get(id)
    if (!t) return access.missing(actor, permission, 'transfer', id)
    const stores =
      side === 'from' ? [t.fromStoreId] : side === 'to' ? [t.toStoreId] : [t.fromStoreId, t.toStoreId]
    if (!stores.some((s) => access.canReachStore(actor, permission, s)))
      throw access.denied(permission, 'transfer', id)
    return t
  }
}

const HISTORY: Record<'ship' | 'receive' | 'close' | 'cancel', HistoryAction> = {
  ship: 'transfer_shipped',
  receive: 'transfer_received',
  close: 'transfer_closed',
  cancel: 'transfer_cancelled',
}

/** Lines of the same item and package (after a split across packages) as one. */
function mergeLines(lines: readonly TransferLine[]): TransferLine[] {
  const merged = new Map<string, TransferLine>()
  for (const l of lines) {
    const key = lineKey(l.itemId, l.packageId)
    const seen = merged.get(key)
    if (seen) seen.quantity += l.quantity
    else merged.set(key, { ...l })
  }
  return [...merged.values()]
}
