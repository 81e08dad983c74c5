import {
  type AddNoteInput,
  addNoteInputSchema,
  type DeleteNoteInput,
  deleteNoteInputSchema,
  type OrderRefInput,
  orderRefInputSchema,
  type UpdateNoteInput,
  updateNoteInputSchema,
} from '../domain/commands'
import { parseInput } from '../domain/parse-input'
import type { Actor, Note, Order } from '../domain/schemas'
import { ForbiddenError } from '../errors/oms-error'
import { loadOrder } from '../order/order-service'
import type { StorageTx } from '../ports/storage'
import { historyEntry, type OmsContext, outboxEvent, runCommand } from '../services/oms-context'

/** Order notes: internal or customer-visible, with an optional customer notification. */
export class NoteService {
  readonly #ctx: OmsContext

  constructor(ctx: OmsContext) {
    this.#ctx = ctx
  }

  /** Adds a note. With `notifyCustomer`, the customer is notified after commit and `notifiedAt` set. */
  async add(input: AddNoteInput): Promise<Note> {
    const cmd = parseInput(addNoteInputSchema, input, 'note')
    const ctx = this.#ctx
    return runCommand(
      ctx,
      'notes.add',
      cmd,
      async (tx, now) => {
        const order = await loadOrder(ctx, tx, cmd.actor, cmd.orderId, 'note.write')
        if (cmd.notifyCustomer && cmd.isInternal) {
          throw new ForbiddenError('notify a customer about an internal note')
        }
        const note: Note = {
          id: ctx.ids(),
          orderId: order.id,
          text: cmd.text,
          isInternal: cmd.isInternal,
          notifyCustomer: cmd.notifyCustomer,
          notifiedAt: null,
          authorId: cmd.actor.id,
          createdAt: now,
          updatedAt: now,
        }
        await tx.notes.insert(note)
        await this.#audit(tx, cmd.actor, now, note, order, 'note_added', {
          description: `${note.isInternal ? 'internal' : 'customer-visible'} note added`,
          isInternal: note.isInternal,
          notifyCustomer: note.notifyCustomer,
        })
        await tx.outbox.append([
          outboxEvent(ctx, now, 'note.added', order.id, {
            orderId: order.id,
            noteId: note.id,
            isInternal: note.isInternal,
            notifyCustomer: note.notifyCustomer,
          }),
        ])
        return note
      },
      async (tx, note) => {
        await loadOrder(ctx, tx, cmd.actor, note.orderId, 'note.write')
      },
    )
  }

  /** Edits a note: its author, or a role with `note.manage`. */
  async update(input: UpdateNoteInput): Promise<Note> {
    const cmd = parseInput(updateNoteInputSchema, input, 'note update')
    const ctx = this.#ctx
    return runCommand(
      ctx,
      'notes.update',
      cmd,
      async (tx, now) => {
        const { note, order } = await this.#loadForChange(tx, cmd.actor, cmd.noteId)
        const next: Note = {
          ...note,
          ...(cmd.text !== undefined ? { text: cmd.text } : {}),
          ...(cmd.isInternal !== undefined ? { isInternal: cmd.isInternal } : {}),
          ...(cmd.notifyCustomer !== undefined ? { notifyCustomer: cmd.notifyCustomer } : {}),
          updatedAt: now,
        }
        if (next.notifyCustomer && next.isInternal)
          throw new ForbiddenError('notify a customer about an internal note')
        await tx.notes.update(next)
        await this.#audit(tx, cmd.actor, now, note, order, 'note_updated', { description: 'note updated' })
        return next
      },
      async (tx) => {
        await this.#loadForChange(tx, cmd.actor, cmd.noteId)
      },
    )
  }

  /** Deletes a note: its author, or a role with `note.manage`. */
  async delete(input: DeleteNoteInput): Promise<{ deleted: true; noteId: string }> {
    const cmd = parseInput(deleteNoteInputSchema, input, 'note delete')
    const ctx = this.#ctx
    return runCommand(
      ctx,
      'notes.delete',
      cmd,
      async (tx, now) => {
        const { note, order } = await this.#loadForChange(tx, cmd.actor, cmd.noteId)
        await tx.notes.delete(note.id)
        await this.#audit(tx, cmd.actor, now, note, order, 'note_deleted', { description: 'note deleted' })
        return { deleted: true as const, noteId: note.id }
      },
      // The note is gone; a replay answers only if the actor may still write notes on orders at all.
      async () => ctx.access.require(cmd.actor, 'note.write', 'change notes'),
    )
  }

  /**
   * The notes of an order the actor may read. Internal notes only for a role that may see them in this
   * order's store (a customer never sees them, whatever other roles it holds).
   */
  async list(input: OrderRefInput): Promise<Note[]> {
    const { actor, orderId } = parseInput(orderRefInputSchema, input, 'note list')
    const ctx = this.#ctx
    return ctx.storage.transaction(
      async (tx) => {
        const order = await loadOrder(ctx, tx, actor, orderId, 'order.view')
        const includeInternal = ctx.access.canReachOrder(actor, 'note.view_internal', order)
        return tx.notes.listByOrder(orderId, { includeInternal })
      },
      { readOnly: true },
    )
  }

  /**
   * A note the actor may change: on an order it may write notes on, its own or with `note.manage` there.
   * A missing note and one out of reach answer alike for a limited actor, naming only the note asked about.
   */
  async #loadForChange(tx: StorageTx, actor: Actor, noteId: string): Promise<{ note: Note; order: Order }> {
    const access = this.#ctx.access
    const note = await tx.notes.get(noteId)
    if (!note) return access.missing(actor, 'note.write', 'note', noteId)
    const order = await tx.orders.get(note.orderId)
    if (!order || !access.canReachOrder(actor, 'note.write', order))
      throw access.denied('note.write', 'note', noteId)
    if (note.authorId !== actor.id && !access.canReachOrder(actor, 'note.manage', order))
      throw access.denied('note.manage', 'note', noteId)
    return { note, order }
  }

  /** The history row of a note change, in the store of the note's order. */
  async #audit(
    tx: StorageTx,
    actor: Actor,
    now: Date,
    note: Note,
    order: Order,
    action: 'note_added' | 'note_updated' | 'note_deleted',
    { description, ...data }: { description: string; isInternal?: boolean; notifyCustomer?: boolean },
  ): Promise<void> {
    await tx.history.appendMany([
      historyEntry(this.#ctx, actor, now, {
        entityType: 'note',
        entityId: note.id,
        orderId: order.id,
        storeId: order.storeId,
        action,
        description,
        additionalData: { noteId: note.id, ...data },
      }),
    ])
  }
}
