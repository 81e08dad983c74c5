import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { actors, createWorld, type World } from '../fixtures'
import { checkInvariants } from '../invariants'
import type { Suite } from './suite'
import { codeOf, useStorage } from './use-storage'

const ITEMS = ['flower', 'vape'] as const
type ItemName = (typeof ITEMS)[number]
const HOLD_MS = 15 * 60_000

interface ModelHold {
  id: string
  item: ItemName
  reserved: number
  fulfilled: number
  released: number
  expiresAt: number | null
  status: 'active' | 'committed' | 'released'
}
interface ModelOrder {
  id: string
  status: string
  holds: ModelHold[]
  /** Cancelled by the sweeper because its hold expired. */
  expired: boolean
}
interface ModelTransfer {
  id: string
  item: ItemName
  quantity: number
  received: number
  closed: boolean
}
interface Model {
  now: number
  onHand: Record<ItemName, number>
  /** Set aside into quarantine on the sales floor. */
  aside: Record<ItemName, number>
  /** The back room: where transfers go and come from. */
  back: Record<ItemName, { onHand: number; incoming: number }>
  transfers: ModelTransfer[]
  orders: ModelOrder[]
}
interface Real {
  w: World
}

const remaining = (h: ModelHold) => h.reserved - h.fulfilled - h.released
const due = (m: Model, h: ModelHold) => h.status === 'active' && h.expiresAt !== null && h.expiresAt <= m.now
const live = (m: Model, h: ModelHold) => h.status === 'active' && !due(m, h)
const available = (m: Model, item: ItemName) =>
  Math.max(
    0,
    m.onHand[item] -
      m.aside[item] -
      m.orders
        .flatMap((o) => o.holds)
        .filter((h) => h.item === item && live(m, h))
        .reduce((s, h) => s + remaining(h), 0),
  )
const held = (o: ModelOrder) =>
  o.holds.filter((h) => h.status === 'active').reduce((s, h) => s + remaining(h), 0)
const sold = (o: ModelOrder) => o.holds.reduce((s, h) => s + h.fulfilled, 0)
/** Statuses in which the order could be cancelled: where a hold may also be partly released. */
const CANCELLABLE = ['pending', 'payment_pending', 'confirmed', 'processing']
const releaseAll = (o: ModelOrder) => {
  for (const h of o.holds) {
    if (h.status === 'active') {
      h.released += remaining(h)
      h.status = 'released'
    }
  }
}

/** After every command the real system must agree with the model on stock and statuses. */
async function compare(m: Model, r: Real): Promise<void> {
  for (const item of ITEMS) {
    const level = await r.w.oms.inventory.level({
      actor: actors.manager,
      itemId: r.w.items[item] as string,
      locationId: r.w.locationId,
    })
    const back = await r.w.oms.inventory.level({
      actor: actors.manager,
      itemId: r.w.items[item] as string,
      locationId: r.w.backroomId,
    })
    expect({
      item,
      onHand: level.onHand,
      available: level.available,
      quarantine: level.quarantine,
      back: { onHand: back.onHand, incoming: back.incoming },
    }).toEqual({
      item,
      onHand: m.onHand[item],
      available: available(m, item),
      quarantine: m.aside[item],
      back: m.back[item],
    })
  }
  for (const o of m.orders) {
    expect((await r.w.oms.orders.get({ actor: actors.manager, orderId: o.id })).status).toBe(o.status)
  }
}

type Cmd = fc.AsyncCommand<Model, Real>
const pick = <T>(list: readonly T[], i: number): T | undefined =>
  list.length ? list[i % list.length] : undefined

class CreateOrder implements Cmd {
  constructor(readonly lines: ReadonlyArray<readonly [ItemName, number]>) {}
  check = () => true
  async run(m: Model, r: Real) {
    const expectOk = this.lines.every(([item, q]) => available(m, item) >= q)
    let id = ''
    const code = await codeOf(
      r.w.oms.orders
        .create({
          actor: actors.manager,
          channel: 'kiosk',
          flow: 'pickup',
          storeId: r.w.storeId,
          currency: 'USD',
          lines: this.lines.map(([item, quantity]) => ({
            itemId: r.w.items[item] as string,
            quantity,
            unitPriceMinor: 1000,
          })),
        })
        .then(async (o) => {
          id = o.id
          const holds = await r.w.oms.reservations.listByOrder({ actor: actors.manager, orderId: o.id })
          m.orders.push({
            id: o.id,
            status: o.status,
            expired: false,
            holds: this.lines.map(([item, quantity]) => ({
              id: holds.find((h) => h.itemId === r.w.items[item])?.id as string,
              item,
              reserved: quantity,
              fulfilled: 0,
              released: 0,
              expiresAt: m.now + HOLD_MS,
              status: 'active' as const,
            })),
          })
        }),
    )
    expect(code).toBe(expectOk ? 'OK' : 'INSUFFICIENT_STOCK')
    if (expectOk) expect(id).not.toBe('')
    await compare(m, r)
  }
  toString = () => `create(${this.lines.map(([i, q]) => `${i} × ${q}`).join(', ')})`
}

class Confirm implements Cmd {
  constructor(readonly i: number) {}
  check = (m: Readonly<Model>) => m.orders.length > 0
  async run(m: Model, r: Real) {
    const o = pick(m.orders, this.i) as ModelOrder
    const expected =
      o.status === 'cancelled' && o.expired
        ? 'RESERVATION_EXPIRED'
        : o.status !== 'payment_pending'
          ? 'INVALID_TRANSITION'
          : o.holds.some((h) => due(m, h))
            ? 'RESERVATION_EXPIRED'
            : 'OK'
    expect(await codeOf(r.w.oms.orders.confirmPayment({ actor: actors.payments, orderId: o.id }))).toBe(
      expected,
    )
    if (expected === 'OK') {
      o.status = 'confirmed'
      for (const h of o.holds) if (h.status === 'active') h.expiresAt = null
    }
    await compare(m, r)
  }
  toString = () => `confirm(${this.i})`
}

class Cancel implements Cmd {
  constructor(readonly i: number) {}
  check = (m: Readonly<Model>) => m.orders.length > 0
  async run(m: Model, r: Real) {
    const o = pick(m.orders, this.i) as ModelOrder
    const ok = CANCELLABLE.includes(o.status)
    expect(
      await codeOf(r.w.oms.orders.cancel({ actor: actors.manager, orderId: o.id, reason: 'model' })),
    ).toBe(ok ? 'OK' : 'INVALID_TRANSITION')
    if (ok) {
      o.status = 'cancelled'
      releaseAll(o)
    }
    await compare(m, r)
  }
  toString = () => `cancel(${this.i})`
}

class StartProcessing implements Cmd {
  constructor(readonly i: number) {}
  check = (m: Readonly<Model>) => m.orders.length > 0
  async run(m: Model, r: Real) {
    const o = pick(m.orders, this.i) as ModelOrder
    const ok = o.status === 'confirmed'
    expect(
      await codeOf(
        r.w.oms.orders.send({ actor: actors.manager, orderId: o.id, type: 'order.start_processing' }),
      ),
    ).toBe(ok ? 'OK' : 'INVALID_TRANSITION')
    if (ok) o.status = 'processing'
    await compare(m, r)
  }
  toString = () => `startProcessing(${this.i})`
}

/** ready_for_pickup from processing, picked_up (commits what is held) or no-show from there. */
class Send implements Cmd {
  constructor(
    readonly i: number,
    readonly type: 'order.ready' | 'order.pick_up' | 'order.no_show',
  ) {}
  check = (m: Readonly<Model>) => m.orders.length > 0
  async run(m: Model, r: Real) {
    const o = pick(m.orders, this.i) as ModelOrder
    const from = this.type === 'order.ready' ? 'processing' : 'ready_for_pickup'
    let expected = o.status === from ? 'OK' : 'INVALID_TRANSITION'
    if (expected === 'OK' && this.type === 'order.no_show' && sold(o) > 0) expected = 'INVALID_TRANSITION'
    if (
      expected === 'OK' &&
      this.type === 'order.pick_up' &&
      ITEMS.some(
        (item) =>
          m.onHand[item] <
          o.holds
            .filter((h) => h.item === item && h.status === 'active')
            .reduce((s, h) => s + remaining(h), 0),
      )
    )
      expected = 'INSUFFICIENT_STOCK'
    const code = await codeOf(r.w.oms.orders.send({ actor: actors.manager, orderId: o.id, type: this.type }))
    expect(code).toBe(expected)
    if (code === 'OK') {
      if (this.type === 'order.ready') o.status = 'ready_for_pickup'
      if (this.type === 'order.no_show') {
        o.status = 'cancelled'
        releaseAll(o)
      }
      if (this.type === 'order.pick_up') {
        o.status = 'picked_up'
        for (const h of o.holds.filter((x) => x.status === 'active')) {
          m.onHand[h.item] -= remaining(h)
          h.fulfilled += remaining(h)
          h.status = 'committed'
        }
      }
    }
    await compare(m, r)
  }
  toString = () => `send(${this.i}, ${this.type})`
}

/** The hold of line `j` of order `i`, as the model and the database both know it. */
const holdOf = (m: Model, i: number, j: number) => {
  const o = pick(m.orders, i) as ModelOrder
  return { o, h: o.holds[j % o.holds.length] as ModelHold }
}

class Release implements Cmd {
  constructor(
    readonly i: number,
    readonly j: number,
    readonly qty: number | undefined,
  ) {}
  check = (m: Readonly<Model>) => m.orders.length > 0
  async run(m: Model, r: Real) {
    const { o, h } = holdOf(m, this.i, this.j)
    const code = await codeOf(
      r.w.oms.reservations.release({
        actor: actors.manager,
        reservationId: h.id,
        ...(this.qty ? { quantity: this.qty } : {}),
      }),
    )
    const q = this.qty ?? remaining(h)
    // A due hold of this order may already have been expired lazily by a reserve on its row.
    const uncertain = o.holds.some((x) => due(m, x))
    if (h.status !== 'active') expect(code).toBe('INVALID_TRANSITION')
    else if (uncertain) {
      expect(['OK', 'VALIDATION', 'INVALID_TRANSITION']).toContain(code)
      if (code === 'OK') {
        h.released += q
        if (remaining(h) === 0) h.status = 'released'
      }
    } else if (q > remaining(h)) expect(code).toBe('VALIDATION')
    else if (!CANCELLABLE.includes(o.status) || held(o) - q <= 0) expect(code).toBe('INVALID_TRANSITION')
    else {
      expect(code).toBe('OK')
      h.released += q
      if (remaining(h) === 0) h.status = 'released'
    }
    await compare(m, r)
  }
  toString = () => `release(${this.i}/${this.j}, ${this.qty ?? 'all'})`
}

class Commit implements Cmd {
  constructor(
    readonly i: number,
    readonly j: number,
    readonly qty: number | undefined,
  ) {}
  check = (m: Readonly<Model>) => m.orders.length > 0
  async run(m: Model, r: Real) {
    const { o, h } = holdOf(m, this.i, this.j)
    const code = await codeOf(
      r.w.oms.reservations.commit({
        actor: actors.manager,
        reservationId: h.id,
        ...(this.qty ? { quantity: this.qty } : {}),
      }),
    )
    const q = this.qty ?? remaining(h)
    if (h.status !== 'active') expect(code).toBe('INVALID_TRANSITION')
    else if (due(m, h)) expect(['VALIDATION', 'INVALID_TRANSITION']).toContain(code)
    else if (q > remaining(h)) expect(code).toBe('VALIDATION')
    else if (o.status !== 'ready_for_pickup') {
      // only a hand-over sells: a due hold of an order not handed over may also be gone already
      expect(code).toBe('INVALID_TRANSITION')
    } else if (m.onHand[h.item] < q) {
      // a count found less than is held (a shortage): what is not there cannot be sold
      expect(code).toBe('INSUFFICIENT_STOCK')
    } else {
      expect(code).toBe('OK')
      h.fulfilled += q
      m.onHand[h.item] -= q
      if (remaining(h) === 0) h.status = 'committed'
    }
    await compare(m, r)
  }
  toString = () => `commit(${this.i}/${this.j}, ${this.qty ?? 'all'})`
}

class Advance implements Cmd {
  constructor(readonly minutes: number) {}
  check = () => true
  async run(m: Model, r: Real) {
    m.now += this.minutes * 60_000
    r.w.clock.advance(this.minutes * 60_000)
    await compare(m, r)
  }
  toString = () => `advance(${this.minutes}m)`
}

class Expire implements Cmd {
  check = () => true
  async run(m: Model, r: Real) {
    await r.w.oms.reservations.expireDue()
    for (const o of m.orders) {
      if (o.status === 'payment_pending' && o.holds.some((h) => due(m, h))) {
        o.status = 'cancelled'
        o.expired = true
        releaseAll(o)
      }
    }
    for (const o of m.orders)
      for (const h of o.holds)
        if (due(m, h)) {
          h.released += remaining(h)
          h.status = 'released'
        }
    await compare(m, r)
  }
  toString = () => 'expireDue()'
}

class Adjust implements Cmd {
  constructor(
    readonly item: ItemName,
    readonly delta: number,
  ) {}
  check = () => true
  async run(m: Model, r: Real) {
    const ok = m.onHand[this.item] + this.delta >= 0
    const code = await codeOf(
      r.w.oms.inventory.adjust({
        actor: actors.manager,
        itemId: r.w.items[this.item] as string,
        locationId: r.w.locationId,
        delta: this.delta,
        reason: 'adjust_correction',
      }),
    )
    expect(code).toBe(ok ? 'OK' : 'INSUFFICIENT_STOCK')
    if (ok) m.onHand[this.item] += this.delta
    await compare(m, r)
  }
  toString = () => `adjust(${this.item}, ${this.delta})`
}

class SetQuantity implements Cmd {
  constructor(
    readonly item: ItemName,
    readonly quantity: number,
    readonly stale: boolean,
  ) {}
  check = () => true
  async run(m: Model, r: Real) {
    const expected = m.onHand[this.item] + (this.stale ? 1 : 0)
    const code = await codeOf(
      r.w.oms.inventory.set({
        actor: actors.manager,
        itemId: r.w.items[this.item] as string,
        locationId: r.w.locationId,
        expected,
        quantity: this.quantity,
      }),
    )
    expect(code).toBe(this.stale ? 'CONFLICT' : 'OK')
    if (!this.stale) m.onHand[this.item] = this.quantity
    await compare(m, r)
  }
  toString = () => `set(${this.item}, ${this.quantity}${this.stale ? ', stale' : ''})`
}

/** A transfer from the sales floor to the back room, shipped at once: only available stock ships. */
class ShipToBack implements Cmd {
  constructor(
    readonly item: ItemName,
    readonly quantity: number,
  ) {}
  check = () => true
  async run(m: Model, r: Real) {
    const ok = available(m, this.item) >= this.quantity
    const t = await r.w.oms.transfers.create({
      actor: actors.manager,
      fromLocationId: r.w.locationId,
      toLocationId: r.w.backroomId,
      lines: [{ itemId: r.w.items[this.item] as string, quantity: this.quantity }],
    })
    const code = await codeOf(r.w.oms.transfers.ship({ actor: actors.manager, transferId: t.id }))
    expect(code).toBe(ok ? 'OK' : 'INSUFFICIENT_STOCK')
    if (ok) {
      m.onHand[this.item] -= this.quantity
      m.back[this.item].incoming += this.quantity
      m.transfers.push({ id: t.id, item: this.item, quantity: this.quantity, received: 0, closed: false })
    } else await r.w.oms.transfers.cancel({ actor: actors.manager, transferId: t.id })
    await compare(m, r)
  }
  toString = () => `shipToBack(${this.item}, ${this.quantity})`
}

/** Receives part (or all that is outstanding) of a shipped transfer into the back room. */
class ReceiveTransfer implements Cmd {
  constructor(
    readonly i: number,
    readonly qty: number | undefined,
  ) {}
  check = (m: Readonly<Model>) => m.transfers.length > 0
  async run(m: Model, r: Real) {
    const t = pick(m.transfers, this.i) as ModelTransfer
    const open = t.quantity - t.received
    const q = this.qty ?? open
    const code = await codeOf(
      r.w.oms.transfers.receive({
        actor: actors.manager,
        transferId: t.id,
        ...(this.qty ? { lines: [{ itemId: r.w.items[t.item] as string, quantity: this.qty }] } : {}),
      }),
    )
    const expected = t.closed || open === 0 ? 'INVALID_TRANSITION' : q > open ? 'VALIDATION' : 'OK'
    expect(code).toBe(expected)
    if (expected === 'OK') {
      t.received += q
      m.back[t.item].incoming -= q
      m.back[t.item].onHand += q
    }
    await compare(m, r)
  }
  toString = () => `receiveTransfer(${this.i}, ${this.qty ?? 'rest'})`
}

/** Closes a transfer: what never arrived is written off. */
class CloseTransfer implements Cmd {
  constructor(readonly i: number) {}
  check = (m: Readonly<Model>) => m.transfers.length > 0
  async run(m: Model, r: Real) {
    const t = pick(m.transfers, this.i) as ModelTransfer
    const code = await codeOf(
      r.w.oms.transfers.close({ actor: actors.manager, transferId: t.id, lossReason: 'model loss' }),
    )
    expect(code).toBe(t.closed ? 'INVALID_TRANSITION' : 'OK')
    if (!t.closed) {
      m.back[t.item].incoming -= t.quantity - t.received
      t.closed = true
    }
    await compare(m, r)
  }
  toString = () => `closeTransfer(${this.i})`
}

/** Back-room stock moved to the floor: shipped and received in one go. */
class BringToFloor implements Cmd {
  constructor(
    readonly item: ItemName,
    readonly quantity: number,
  ) {}
  check = (m: Readonly<Model>) => m.back[this.item].onHand >= this.quantity
  async run(m: Model, r: Real) {
    const t = await r.w.oms.transfers.create({
      actor: actors.manager,
      fromLocationId: r.w.backroomId,
      toLocationId: r.w.locationId,
      lines: [{ itemId: r.w.items[this.item] as string, quantity: this.quantity }],
    })
    await r.w.oms.transfers.ship({ actor: actors.manager, transferId: t.id })
    await r.w.oms.transfers.receive({ actor: actors.manager, transferId: t.id })
    m.back[this.item].onHand -= this.quantity
    m.onHand[this.item] += this.quantity
    await compare(m, r)
  }
  toString = () => `bringToFloor(${this.item}, ${this.quantity})`
}

/** A cycle count of one item on the floor, approved at once: on-hand becomes what was counted. */
class CountItem implements Cmd {
  constructor(
    readonly item: ItemName,
    readonly counted: number,
  ) {}
  check = () => true
  async run(m: Model, r: Real) {
    const itemId = r.w.items[this.item] as string
    const count = await r.w.oms.counts.open({
      actor: actors.manager,
      locationId: r.w.locationId,
      itemIds: [itemId],
    })
    await r.w.oms.counts.record({
      actor: actors.manager,
      countId: count.id,
      lines: [{ itemId, quantity: this.counted }],
    })
    const report = await r.w.oms.counts.report({ actor: actors.manager, countId: count.id })
    expect(report.lines[0]).toMatchObject({ expected: m.onHand[this.item], counted: this.counted })
    await r.w.oms.counts.approve({ actor: actors.manager, countId: count.id })
    m.onHand[this.item] = this.counted
    await compare(m, r)
  }
  toString = () => `count(${this.item}, ${this.counted})`
}

/** Stock set aside into quarantine (only what is available), or released: restocked or written off. */
class Quarantine implements Cmd {
  constructor(
    readonly item: ItemName,
    readonly quantity: number,
    readonly release: 'no' | 'restock' | 'write_off',
  ) {}
  check = () => true
  async run(m: Model, r: Real) {
    const at = {
      actor: actors.manager,
      itemId: r.w.items[this.item] as string,
      locationId: r.w.locationId,
      bucket: 'quarantine' as const,
      quantity: this.quantity,
      reason: 'model qc',
    }
    if (this.release === 'no') {
      const ok = available(m, this.item) >= this.quantity
      expect(await codeOf(r.w.oms.inventory.setAside(at))).toBe(ok ? 'OK' : 'INSUFFICIENT_STOCK')
      if (ok) m.aside[this.item] += this.quantity
    } else {
      const ok =
        m.aside[this.item] >= this.quantity &&
        (this.release === 'restock' || m.onHand[this.item] >= this.quantity)
      expect(await codeOf(r.w.oms.inventory.releaseFromBucket({ ...at, disposition: this.release }))).toBe(
        ok ? 'OK' : 'INSUFFICIENT_STOCK',
      )
      if (ok) {
        m.aside[this.item] -= this.quantity
        if (this.release === 'write_off') m.onHand[this.item] -= this.quantity
      }
    }
    await compare(m, r)
  }
  toString = () => `quarantine(${this.item}, ${this.quantity}, ${this.release})`
}

class AddNote implements Cmd {
  constructor(readonly i: number) {}
  check = (m: Readonly<Model>) => m.orders.length > 0
  async run(m: Model, r: Real) {
    const o = pick(m.orders, this.i) as ModelOrder
    const note = await r.w.oms.notes.add({ actor: actors.manager, orderId: o.id, text: 'model note' })
    expect(note.orderId).toBe(o.id)
  }
  toString = () => `note(${this.i})`
}

const item = fc.constantFrom(...ITEMS)
const idx = fc.nat({ max: 50 })
const qty = fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined })
const line = fc.tuple(item, fc.integer({ min: 1, max: 4 }))
const commands = [
  line.map((l) => new CreateOrder([l])),
  fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 })).map(
    ([f, v]) =>
      new CreateOrder([
        ['flower', f],
        ['vape', v],
      ]),
  ),
  idx.map((i) => new Confirm(i)),
  idx.map((i) => new Cancel(i)),
  idx.map((i) => new StartProcessing(i)),
  fc
    .tuple(idx, fc.constantFrom('order.ready', 'order.pick_up', 'order.no_show'))
    .map(([i, t]) => new Send(i, t)),
  fc.tuple(idx, fc.nat(1), qty).map(([i, j, q]) => new Release(i, j, q)),
  fc.tuple(idx, fc.nat(1), qty).map(([i, j, q]) => new Commit(i, j, q)),
  fc.integer({ min: 1, max: 20 }).map((n) => new Advance(n)),
  fc.constant(new Expire()),
  fc
    .tuple(
      item,
      fc.integer({ min: -4, max: 5 }).filter((d) => d !== 0),
    )
    .map(([i, d]) => new Adjust(i, d)),
  fc.tuple(item, fc.integer({ min: 0, max: 12 }), fc.boolean()).map(([i, q, s]) => new SetQuantity(i, q, s)),
  idx.map((i) => new AddNote(i)),
  fc.tuple(item, fc.integer({ min: 1, max: 4 })).map(([i, q]) => new ShipToBack(i, q)),
  fc.tuple(idx, qty).map(([i, q]) => new ReceiveTransfer(i, q)),
  idx.map((i) => new CloseTransfer(i)),
  fc.tuple(item, fc.integer({ min: 1, max: 3 })).map(([i, q]) => new BringToFloor(i, q)),
  fc.tuple(item, fc.integer({ min: 0, max: 8 })).map(([i, c]) => new CountItem(i, c)),
  fc
    .tuple(item, fc.integer({ min: 1, max: 3 }), fc.constantFrom('no', 'restock', 'write_off'))
    .map(([i, q, rel]) => new Quarantine(i, q, rel as 'no' | 'restock' | 'write_off')),
]

/**
 * Model-based: random command sequences run against the real services and a tiny reference model, compared
 * after every step; each run ends with the invariants (zero drift included).
 */
export const modelSuite: Suite = (target, options) =>
  describe('model-based command sequences', () => {
    const storage = useStorage(target)

    test(`random sequences agree with the reference model (${options.numRuns} runs)`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.commands(commands, { maxCommands: 30 }), async (cmds) => {
          const w = await createWorld(storage(), { flower: 6, vape: 3 })
          const model: Model = {
            now: w.clock.now().getTime(),
            onHand: { flower: 6, vape: 3 },
            aside: { flower: 0, vape: 0 },
            back: { flower: { onHand: 0, incoming: 0 }, vape: { onHand: 0, incoming: 0 } },
            transfers: [],
            orders: [],
          }
          await fc.asyncModelRun(() => ({ model, real: { w } }), cmds)
          const problems = await checkInvariants(w.storage, w.oms.machines.orderMachines, w.clock.now(), {
            orderIds: model.orders.map((o) => o.id),
          })
          expect(problems).toEqual([])
        }),
        { numRuns: options.numRuns },
      )
    }, 600_000)
  })
