import {
  type AddNoteInput,
  addNoteInputSchema,
  type UpdateNoteInput,
  updateNoteInputSchema,
} from '../domain/commands'
import { parseInput } from '../domain/parse-input'
import { type Actor, actorSchema, idSchema, type Note } from '../domain/schemas'
import { ForbiddenError, NotFoundError } from '../errors/oms-error'
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
    return runCommand(this.#ctx, 'notes.add', cmd, async (tx, now) => {
      const order = await loadOrder(this.#ctx, tx, cmd.actor, cmd.orderId, 'note.write')
      if (cmd.notifyCustomer && cmd.isInternal) {
        throw new ForbiddenError('notify a customer about an internal note')
      }
      const note: Note = {
        id: this.#ctx.ids(),
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
      await tx.history.appendMany([
        historyEntry(this.#ctx, cmd.actor, now, {
          entityType: 'note',
          entityId: note.id,
          orderId: order.id,
          action: 'note_added',
          description: `${note.isInternal ? 'internal' : 'customer-visible'} note added`,
          additionalData: {
            noteId: note.id,
            isInternal: note.isInternal,
            notifyCustomer: note.notifyCustomer,
          },
        }),
      ])
      await tx.outbox.append([
        outboxEvent(this.#ctx, now, 'note.added', order.id, {
          orderId: order.id,
          noteId: note.id,
          isInternal: note.isInternal,
          notifyCustomer: note.notifyCustomer,
        }),
      ])
      return note
    })
  }

  /** Edits a note: its author, or a role with `note.manage`. */
  async update(input: UpdateNoteInput): Promise<Note> {
    const cmd = parseInput(updateNoteInputSchema, input, 'note update')
    return runCommand(this.#ctx, 'notes.update', cmd, async (tx, now) => {
      const note = await this.#loadForChange(tx, cmd.actor, cmd.noteId)
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
      await tx.history.appendMany([
        historyEntry(this.#ctx, cmd.actor, now, {
          entityType: 'note',
          entityId: note.id,
          orderId: note.orderId,
          action: 'note_updated',
          description: 'note updated',
          additionalData: { noteId: note.id },
        }),
      ])
      return next
    })
  }

  /** Deletes a note: its author, or a role with `note.manage`. */
  async delete(input: {
    actor: Actor
    noteId: string
    idempotencyKey?: string
  }): Promise<{ deleted: true; noteId: string }> {
    const actor = parseInput(actorSchema, input.actor, 'actor')
    const noteId = parseInput(idSchema, input.noteId, 'note id')
    return runCommand(this.#ctx, 'notes.delete', { ...input, actor, noteId }, async (tx, now) => {
      const note = await this.#loadForChange(tx, actor, noteId)
      await tx.notes.delete(note.id)
      await tx.history.appendMany([
        historyEntry(this.#ctx, actor, now, {
          entityType: 'note',
          entityId: note.id,
          orderId: note.orderId,
          action: 'note_deleted',
          description: 'note deleted',
          additionalData: { noteId: note.id },
        }),
      ])
      return { deleted: true as const, noteId: note.id }
    })
  }

  /** The notes of an order the actor may read; a customer never sees internal notes. */
  async list(input: { actor: Actor; orderId: string }): Promise<Note[]> {
    const actor = parseInput(actorSchema, input.actor, 'actor')
    const orderId = parseInput(idSchema, input.orderId, 'order id')
    return this.#ctx.storage.transaction(
      async (tx) => {
        await loadOrder(this.#ctx, tx, actor, orderId, 'order.view')
        const includeInternal =
          this.#ctx.access.has(actor, 'note.view_internal') && !this.#ctx.access.isCustomerOnly(actor)
        return tx.notes.listByOrder(orderId, { includeInternal })
      },
      { readOnly: true },
    )
  }

  async #loadForChange(tx: StorageTx, actor: Actor, noteId: string): Promise<Note> {
    const note = await tx.notes.get(noteId)
    if (!note) {
      if (this.#ctx.access.isScoped(actor)) throw new ForbiddenError(`change note ${noteId}`)
      throw new NotFoundError('note', noteId)
    }
    await loadOrder(this.#ctx, tx, actor, note.orderId, 'note.write')
    if (note.authorId !== actor.id && !this.#ctx.access.has(actor, 'note.manage')) {
      throw new ForbiddenError(`change note ${noteId}`)
    }
    return note
  }
}
