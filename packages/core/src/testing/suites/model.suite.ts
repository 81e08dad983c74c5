import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { actors, createWorld, type World } from '../fixtures'
import { checkInvariants } from '../invariants'
import type { Suite } from './suite'
import { codeOf, useStorage } from './use-storage'

const ITEMS = ['flower', 'vape'] as const
type ItemName = (typeof ITEMS)[number]
const HOLD_MS = 15 * 60_000

/** The sales floor (the store's default location) and the back room of the same store. */
type Loc = 'floor' | 'back'

interface ModelHold {
  id: string
  /** The order line it holds for (its index in the order). */
  line: number
  item: ItemName
  loc: Loc
  reserved: number
  fulfilled: number
  released: number
  expiresAt: number | null
  status: 'active' | 'committed' | 'released'
}
interface ModelOrder {
  id: string
  flow: 'pickup' | 'delivery'
  status: string
  holds: ModelHold[]
  /** Cancelled by the sweeper because its hold expired. */
  expired: boolean
  /** The real order line ids, by index. */
  lineIds: string[]
}
type FStatus =
  | 'pending'
  | 'picking'
  | 'packing'
  | 'ready_to_ship'
  | 'shipped'
  | 'partially_fulfilled'
  | 'fulfilled'
  | 'cancelled'
interface ModelFulfillment {
  id: string
  order: ModelOrder
  loc: Loc
  status: FStatus
  short: boolean
  lines: Array<{ line: number; item: ItemName; quantity: number; picked: number }>
  accepted: number
  rejected: number
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
  /** The back room: where transfers go and come from, and where a split order is partly held. */
  back: Record<ItemName, { onHand: number; incoming: number }>
  transfers: ModelTransfer[]
  orders: ModelOrder[]
  fulfillments: ModelFulfillment[]
}
interface Real {
  w: World
}

const remaining = (h: ModelHold) => h.reserved - h.fulfilled - h.released
const due = (m: Model, h: ModelHold) => h.status === 'active' && h.expiresAt !== null && h.expiresAt <= m.now
const live = (m: Model, h: ModelHold) => h.status === 'active' && !due(m, h)
const heldAt = (m: Model, item: ItemName, loc: Loc, counts: (h: ModelHold) => boolean) =>
  m.orders
    .flatMap((o) => o.holds)
    .filter((h) => h.item === item && h.loc === loc && counts(h))
    .reduce((s, h) => s + remaining(h), 0)
const onHandAt = (m: Model, item: ItemName, loc: Loc) =>
  loc === 'floor' ? m.onHand[item] : m.back[item].onHand
const available = (m: Model, item: ItemName, loc: Loc = 'floor') =>
  Math.max(
    0,
    onHandAt(m, item, loc) - (loc === 'floor' ? m.aside[item] : 0) - heldAt(m, item, loc, (h) => live(m, h)),
  )
const held = (o: ModelOrder) =>
  o.holds.filter((h) => h.status === 'active').reduce((s, h) => s + remaining(h), 0)
const sold = (o: ModelOrder) => o.holds.reduce((s, h) => s + h.fulfilled, 0)
const releaseAll = (o: ModelOrder) => {
  for (const h of o.holds) {
    if (h.status === 'active') {
      h.released += remaining(h)
      h.status = 'released'
    }
  }
}

const OPEN: readonly FStatus[] = ['pending', 'picking', 'packing', 'ready_to_ship']
const PACKED: readonly FStatus[] = ['ready_to_ship', 'shipped', 'partially_fulfilled', 'fulfilled']
const SHIPPED: readonly FStatus[] = ['shipped', 'partially_fulfilled', 'fulfilled']
const DONE: readonly FStatus[] = ['partially_fulfilled', 'fulfilled']
const fulfillmentsOf = (m: Model, o: ModelOrder) => m.fulfillments.filter((f) => f.order === o)
const hasOpen = (m: Model, o: ModelOrder) => fulfillmentsOf(m, o).some((f) => OPEN.includes(f.status))
/** The order's packed quantity: what its packed (or later) fulfillments picked. */
const packed = (m: Model, o: ModelOrder) =>
  fulfillmentsOf(m, o)
    .filter((f) => PACKED.includes(f.status))
    .reduce((s, f) => s + f.lines.reduce((n, l) => n + l.picked, 0), 0)

/** What the order holds per (line, location) that no open fulfillment sets aside. */
function uncovered(
  m: Model,
  o: ModelOrder,
): Array<{ line: number; item: ItemName; loc: Loc; quantity: number }> {
  const rows = new Map<string, { line: number; item: ItemName; loc: Loc; quantity: number }>()
  for (const h of o.holds) {
    if (h.status !== 'active' || remaining(h) <= 0) continue
    const key = `${h.line}/${h.loc}`
    const row = rows.get(key) ?? { line: h.line, item: h.item, loc: h.loc, quantity: 0 }
    row.quantity += remaining(h)
    rows.set(key, row)
  }
  for (const f of fulfillmentsOf(m, o))
    if (OPEN.includes(f.status))
      for (const l of f.lines) {
        const row = rows.get(`${l.line}/${f.loc}`)
        if (row) row.quantity -= f.short ? l.picked : l.quantity
      }
  return [...rows.values()].filter((r) => r.quantity > 0)
}

/**
 * Whether `order.cancel` is allowed now (also what decides a partial release): yes, no, or — for a packed
 * delivery order, allowed only while its stock is short — maybe, when a due hold elsewhere may or may not
 * have been expired lazily yet (it counts as reserved until it is).
 */
function canCancel(m: Model, o: ModelOrder): 'yes' | 'no' | 'maybe' {
  if (['pending', 'payment_pending', 'confirmed'].includes(o.status)) return 'yes'
  if (o.status === 'processing') return packed(m, o) === 0 ? 'yes' : 'no'
  if (o.flow !== 'delivery' || o.status !== 'packed' || sold(o) > 0) return 'no'
  const rows = o.holds.filter((h) => h.status === 'active' && remaining(h) > 0)
  const short = (counts: (h: ModelHold) => boolean) =>
    rows.some(
      (h) =>
        onHandAt(m, h.item, h.loc) <
        heldAt(m, h.item, h.loc, counts) + (h.loc === 'floor' ? m.aside[h.item] : 0),
    )
  const surely = short((h) => live(m, h))
  const perhaps = short((h) => h.status === 'active')
  return surely ? 'yes' : perhaps ? 'maybe' : 'no'
}

/** The order's status follows its fulfillments (as the service does after every fulfillment step). */
function follow(m: Model, o: ModelOrder) {
  const fs = fulfillmentsOf(m, o).filter((f) => f.status !== 'cancelled')
  const covered = uncovered(m, o).length === 0
  const some = (st: readonly FStatus[]) => fs.some((f) => st.includes(f.status))
  const every = (st: readonly FStatus[]) => covered && fs.length > 0 && fs.every((f) => st.includes(f.status))
  const next = (status: string): string | null => {
    if (status === 'confirmed' && fs.some((f) => f.status !== 'pending')) return 'processing'
    if (o.flow === 'pickup') {
      if (status === 'processing' && every(PACKED)) return 'ready_for_pickup'
      if (status === 'ready_for_pickup' && every(DONE)) return 'picked_up'
      return null
    }
    if ((status === 'processing' || status === 'packed') && some(SHIPPED) && (some(OPEN) || !covered))
      return 'partially_shipped'
    if (status === 'processing' && every(PACKED)) return 'packed'
    if ((status === 'packed' || status === 'partially_shipped') && every(SHIPPED)) return 'shipped'
    const onTheWay = ['shipped', 'in_transit', 'out_for_delivery'].includes(status)
    if (onTheWay && some(DONE) && !every(DONE)) return 'partially_delivered'
    if (every(DONE)) {
      if (status === 'shipped') return 'in_transit'
      if (status === 'in_transit') return 'out_for_delivery'
      if (status === 'out_for_delivery' || status === 'partially_delivered') return 'delivered'
    }
    return null
  }
  for (let step = 0, n = next(o.status); n !== null && step < 8; step++, n = next(o.status)) o.status = n
}

/** An order cancelled (by a cancel, a no-show or expiry): its holds go back, its fulfillments close. */
function cancelled(m: Model, o: ModelOrder) {
  o.status = 'cancelled'
  releaseAll(o)
  for (const f of fulfillmentsOf(m, o))
    if ([...OPEN, 'partially_fulfilled'].includes(f.status)) f.status = 'cancelled'
}

/** The hold of an order line at a location (one per line and location). */
const holdFor = (o: ModelOrder, line: number, loc: Loc) =>
  o.holds.find((h) => h.line === line && h.loc === loc) as ModelHold

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
      back: { onHand: back.onHand, incoming: back.incoming, available: back.available },
    }).toEqual({
      item,
      onHand: m.onHand[item],
      available: available(m, item),
      quarantine: m.aside[item],
      back: { ...m.back[item], available: available(m, item, 'back') },
    })
  }
  for (const o of m.orders) {
    expect((await r.w.oms.orders.get({ actor: actors.manager, orderId: o.id })).status).toBe(o.status)
  }
  for (const f of m.fulfillments) {
    const real = await r.w.oms.fulfillments.get({ actor: actors.manager, fulfillmentId: f.id })
    expect({
      status: real.status,
      picked: real.lines.map((l) => l.quantityPicked),
      scans: [real.scansAccepted, real.scansRejected],
    }).toEqual({ status: f.status, picked: f.lines.map((l) => l.picked), scans: [f.accepted, f.rejected] })
  }
}

type Cmd = fc.AsyncCommand<Model, Real>
const pick = <T>(list: readonly T[], i: number): T | undefined =>
  list.length ? list[i % list.length] : undefined

class CreateOrder implements Cmd {
  constructor(
    readonly lines: ReadonlyArray<readonly [ItemName, number]>,
    readonly flow: 'pickup' | 'delivery' = 'pickup',
  ) {}
  check = () => true
  async run(m: Model, r: Real) {
    // Held on the floor when it has it all; else (allocation) split over the floor and the back room.
    const floorFits = this.lines.every(([item, q]) => available(m, item) >= q)
    const expectOk = this.lines.every(([item, q]) => available(m, item) + available(m, item, 'back') >= q)
    const before = new Map(
      ITEMS.flatMap((item) =>
        (['floor', 'back'] as const).map((loc) => [`${item}/${loc}`, available(m, item, loc)] as const),
      ),
    )
    let id = ''
    const code = await codeOf(
      r.w.oms.orders
        .create({
          actor: actors.manager,
          channel: this.flow === 'delivery' ? 'ecommerce' : 'kiosk',
          flow: this.flow,
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
          const lineIds = o.lines.map((l) => l.id)
          const holds = await r.w.oms.reservations.listByOrder({ actor: actors.manager, orderId: o.id })
          const order: ModelOrder = {
            id: o.id,
            flow: this.flow,
            status: o.status,
            expired: false,
            lineIds,
            holds: holds.map((h) => {
              const line = lineIds.indexOf(h.orderLineId)
              return {
                id: h.id,
                line,
                item: (this.lines[line] as readonly [ItemName, number])[0],
                loc: h.locationId === r.w.locationId ? ('floor' as const) : ('back' as const),
                reserved: h.quantityReserved,
                fulfilled: 0,
                released: 0,
                expiresAt: m.now + HOLD_MS,
                status: 'active' as const,
              }
            }),
          }
          // every line held in full, never more at a row than was available there, the floor first
          this.lines.forEach(([, q], line) => {
            expect(order.holds.filter((h) => h.line === line).reduce((s, h) => s + h.reserved, 0)).toBe(q)
          })
          for (const h of order.holds) {
            if (floorFits) expect(h.loc).toBe('floor')
            expect(h.reserved).toBeLessThanOrEqual(before.get(`${h.item}/${h.loc}`) as number)
          }
          m.orders.push(order)
        }),
    )
    expect(code).toBe(expectOk ? 'OK' : 'INSUFFICIENT_STOCK')
    if (expectOk) expect(id).not.toBe('')
    await compare(m, r)
  }
  toString = () => `create(${this.flow}: ${this.lines.map(([i, q]) => `${i} × ${q}`).join(', ')})`
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
    const verdict = canCancel(m, o)
    const code = await codeOf(
      r.w.oms.orders.cancel({ actor: actors.manager, orderId: o.id, reason: 'model' }),
    )
    if (verdict === 'maybe') expect(['OK', 'INVALID_TRANSITION']).toContain(code)
    else expect(code).toBe(verdict === 'yes' ? 'OK' : 'INVALID_TRANSITION')
    if (code === 'OK') cancelled(m, o)
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
    let expected = o.flow === 'pickup' && o.status === from ? 'OK' : 'INVALID_TRANSITION'
    if (expected === 'OK' && this.type === 'order.no_show' && sold(o) > 0) expected = 'INVALID_TRANSITION'
    // an open fulfillment hands the goods over itself: the direct path is refused
    if (expected === 'OK' && this.type !== 'order.no_show' && hasOpen(m, o)) expected = 'INVALID_TRANSITION'
    const active = o.holds.filter((h) => h.status === 'active')
    if (
      expected === 'OK' &&
      this.type === 'order.pick_up' &&
      active.some(
        (h) =>
          onHandAt(m, h.item, h.loc) <
          active.filter((x) => x.item === h.item && x.loc === h.loc).reduce((s, x) => s + remaining(x), 0),
      )
    )
      expected = 'INSUFFICIENT_STOCK'
    const code = await codeOf(r.w.oms.orders.send({ actor: actors.manager, orderId: o.id, type: this.type }))
    expect(code).toBe(expected)
    if (code === 'OK') {
      if (this.type === 'order.ready') o.status = 'ready_for_pickup'
      if (this.type === 'order.no_show') cancelled(m, o)
      if (this.type === 'order.pick_up') {
        o.status = 'picked_up'
        for (const h of active) {
          if (h.loc === 'floor') m.onHand[h.item] -= remaining(h)
          else m.back[h.item].onHand -= remaining(h)
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
    const apply = () => {
      h.released += q
      if (remaining(h) === 0) h.status = 'released'
    }
    if (h.status !== 'active') expect(code).toBe('INVALID_TRANSITION')
    else if (uncertain) {
      expect(['OK', 'VALIDATION', 'INVALID_TRANSITION']).toContain(code)
      if (code === 'OK') apply()
    } else if (q > remaining(h)) expect(code).toBe('VALIDATION')
    else {
      const verdict = canCancel(m, o)
      // only what no open fulfillment covers may go, never the order's last unit
      const free = uncovered(m, o).find((g) => g.line === h.line && g.loc === h.loc)?.quantity ?? 0
      if (verdict === 'no' || q > free || held(o) - q <= 0) expect(code).toBe('INVALID_TRANSITION')
      else if (verdict === 'maybe') expect(['OK', 'INVALID_TRANSITION']).toContain(code)
      else expect(code).toBe('OK')
      if (code === 'OK') apply()
    }
    await compare(m, r)
  }
  toString = () => `release(${this.i}/${this.j}, ${this.qty ?? 'all'})`
}

/** Statuses whose next step hands the goods over (where a hold may be sold from directly). */
const handsOver = (o: ModelOrder) =>
  o.flow === 'pickup'
    ? o.status === 'ready_for_pickup'
    : o.status === 'packed' || o.status === 'partially_shipped'

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
    else if (!handsOver(o) || hasOpen(m, o)) {
      // only a hand-over sells, and not past an open fulfillment
      expect(code).toBe('INVALID_TRANSITION')
    } else if (onHandAt(m, h.item, h.loc) < q) {
      // a count found less than is held (a shortage): what is not there cannot be sold
      expect(code).toBe('INSUFFICIENT_STOCK')
    } else {
      expect(code).toBe('OK')
      h.fulfilled += q
      if (h.loc === 'floor') m.onHand[h.item] -= q
      else m.back[h.item].onHand -= q
      if (remaining(h) === 0) h.status = 'committed'
    }
    await compare(m, r)
  }
  toString = () => `commit(${this.i}/${this.j}, ${this.qty ?? 'all'})`
}

/** Stock received straight into the back room (where a split order can be held). */
class StockBack implements Cmd {
  constructor(
    readonly item: ItemName,
    readonly quantity: number,
  ) {}
  check = () => true
  async run(m: Model, r: Real) {
    await r.w.oms.inventory.receive({
      actor: actors.manager,
      itemId: r.w.items[this.item] as string,
      locationId: r.w.backroomId,
      quantity: this.quantity,
    })
    m.back[this.item].onHand += this.quantity
    await compare(m, r)
  }
  toString = () => `stockBack(${this.item}, ${this.quantity})`
}

const FULFILLABLE = ['confirmed', 'processing', 'packed', 'partially_shipped', 'ready_for_pickup']

/** Puts what the order holds outside open fulfillments into new ones, one per location. */
class CreateFulfillment implements Cmd {
  constructor(readonly i: number) {}
  check = (m: Readonly<Model>) => m.orders.length > 0
  async run(m: Model, r: Real) {
    const o = pick(m.orders, this.i) as ModelOrder
    const goods = uncovered(m, o)
    const ok = FULFILLABLE.includes(o.status) && goods.length > 0
    let created: Awaited<ReturnType<typeof r.w.oms.fulfillments.create>> = []
    const code = await codeOf(
      r.w.oms.fulfillments.create({ actor: actors.manager, orderId: o.id }).then((fs) => {
        created = fs
      }),
    )
    expect(code).toBe(ok ? 'OK' : 'INVALID_TRANSITION')
    if (ok) {
      expect(created.map((f) => f.locationId).sort()).toEqual(
        [...new Set(goods.map((g) => (g.loc === 'floor' ? r.w.locationId : r.w.backroomId)))].sort(),
      )
      for (const f of created) {
        const loc = f.locationId === r.w.locationId ? ('floor' as const) : ('back' as const)
        const lines = f.lines.map((l) => {
          const line = o.lineIds.indexOf(l.orderLineId)
          const g = goods.find((x) => x.line === line && x.loc === loc)
          expect(l.quantity).toBe(g?.quantity)
          return { line, item: g?.item as ItemName, quantity: l.quantity, picked: 0 }
        })
        expect(lines.length).toBe(goods.filter((g) => g.loc === loc).length)
        m.fulfillments.push({
          id: f.id,
          order: o,
          loc,
          status: 'pending',
          short: false,
          lines,
          accepted: 0,
          rejected: 0,
        })
      }
    }
    await compare(m, r)
  }
  toString = () => `createFulfillment(${this.i})`
}

const pickF = (m: Readonly<Model>, k: number) => pick(m.fulfillments, k) as ModelFulfillment

/** Scans `quantity` of an item (or a code of no item) into a fulfillment. */
class Scan implements Cmd {
  constructor(
    readonly k: number,
    readonly item: ItemName | 'nothing',
    readonly quantity: number,
  ) {}
  check = (m: Readonly<Model>) => m.fulfillments.length > 0
  async run(m: Model, r: Real) {
    const f = pickF(m, this.k)
    const code = await codeOf(
      r.w.oms.fulfillments.scan({
        actor: actors.warehouse,
        fulfillmentId: f.id,
        code: this.item === 'nothing' ? 'NO-SUCH-CODE' : (r.w.items[this.item] as string).toUpperCase(),
        quantity: this.quantity,
      }),
    )
    const lines = f.lines.filter((l) => l.item === this.item)
    const need = lines.reduce((s, l) => s + l.quantity - l.picked, 0)
    if (f.status !== 'pending' && f.status !== 'picking') expect(code).toBe('INVALID_TRANSITION')
    else if (lines.length === 0 || this.quantity > need) {
      // a wrong item or an over-scan: refused, and counted
      expect(code).toBe('SCAN_REJECTED')
      f.rejected += 1
    } else {
      expect(code).toBe('OK')
      f.accepted += 1
      f.status = 'picking'
      let left = this.quantity
      for (const l of lines) {
        const q = Math.min(left, l.quantity - l.picked)
        l.picked += q
        left -= q
      }
      follow(m, f.order)
    }
    await compare(m, r)
  }
  toString = () => `scan(${this.k}, ${this.item} × ${this.quantity})`
}

/** Completes picking: in full, or short (what was not found goes back to open stock). */
class CompletePicking implements Cmd {
  constructor(
    readonly k: number,
    readonly short: boolean,
  ) {}
  check = (m: Readonly<Model>) => m.fulfillments.length > 0
  async run(m: Model, r: Real) {
    const f = pickF(m, this.k)
    const code = await codeOf(
      r.w.oms.fulfillments.completePicking({
        actor: actors.warehouse,
        fulfillmentId: f.id,
        shortPick: this.short,
      }),
    )
    const missing = f.lines.filter((l) => l.picked < l.quantity)
    const picked = f.lines.reduce((s, l) => s + l.picked, 0)
    if (missing.length && !this.short) expect(code).toBe('INVALID_TRANSITION')
    else if (this.short && picked === 0) expect(code).toBe('VALIDATION')
    else if (f.status !== 'picking') expect(code).toBe('INVALID_TRANSITION')
    else {
      expect(code).toBe('OK')
      f.status = 'packing'
      f.short = missing.length > 0
      for (const l of missing) {
        const h = holdFor(f.order, l.line, f.loc)
        h.released += l.quantity - l.picked
        if (remaining(h) === 0) h.status = 'released'
      }
      follow(m, f.order)
    }
    await compare(m, r)
  }
  toString = () => `completePicking(${this.k}${this.short ? ', short' : ''})`
}

class Pack implements Cmd {
  constructor(readonly k: number) {}
  check = (m: Readonly<Model>) => m.fulfillments.length > 0
  async run(m: Model, r: Real) {
    const f = pickF(m, this.k)
    const code = await codeOf(
      r.w.oms.fulfillments.pack({
        actor: actors.warehouse,
        fulfillmentId: f.id,
        boxSize: 'S',
        weightGrams: 10,
      }),
    )
    expect(code).toBe(f.status === 'packing' ? 'OK' : 'INVALID_TRANSITION')
    if (code === 'OK') {
      f.status = 'ready_to_ship'
      follow(m, f.order)
    }
    await compare(m, r)
  }
  toString = () => `pack(${this.k})`
}

/** Ships (carrier) or hands over (counter) a packed fulfillment: exactly what it picked is sold. */
class Dispatch implements Cmd {
  constructor(
    readonly k: number,
    readonly how: 'ship' | 'handOver',
  ) {}
  check = (m: Readonly<Model>) => m.fulfillments.length > 0
  async run(m: Model, r: Real) {
    const f = pickF(m, this.k)
    const code = await codeOf(
      this.how === 'ship'
        ? r.w.oms.fulfillments.ship({
            actor: actors.warehouse,
            fulfillmentId: f.id,
            carrier: 'UPS',
            trackingNumber: '1Z',
          })
        : r.w.oms.fulfillments.handOver({ actor: actors.warehouse, fulfillmentId: f.id }),
    )
    const short = ITEMS.some(
      (item) =>
        onHandAt(m, item, f.loc) < f.lines.filter((l) => l.item === item).reduce((s, l) => s + l.picked, 0),
    )
    const early =
      this.how === 'handOver' && f.order.flow === 'pickup' && f.order.status !== 'ready_for_pickup'
    if (f.status !== 'ready_to_ship' || early) expect(code).toBe('INVALID_TRANSITION')
    else if (short) expect(code).toBe('INSUFFICIENT_STOCK')
    else {
      expect(code).toBe('OK')
      for (const l of f.lines) {
        const h = holdFor(f.order, l.line, f.loc)
        h.fulfilled += l.picked
        if (f.loc === 'floor') m.onHand[l.item] -= l.picked
        else m.back[l.item].onHand -= l.picked
        if (remaining(h) === 0) h.status = 'committed'
      }
      f.status = this.how === 'ship' ? 'shipped' : f.short ? 'partially_fulfilled' : 'fulfilled'
      follow(m, f.order)
    }
    await compare(m, r)
  }
  toString = () => `${this.how}(${this.k})`
}

class Deliver implements Cmd {
  constructor(readonly k: number) {}
  check = (m: Readonly<Model>) => m.fulfillments.length > 0
  async run(m: Model, r: Real) {
    const f = pickF(m, this.k)
    const code = await codeOf(r.w.oms.fulfillments.deliver({ actor: actors.warehouse, fulfillmentId: f.id }))
    expect(code).toBe(f.status === 'shipped' ? 'OK' : 'INVALID_TRANSITION')
    if (code === 'OK') {
      f.status = f.short ? 'partially_fulfilled' : 'fulfilled'
      follow(m, f.order)
    }
    await compare(m, r)
  }
  toString = () => `deliver(${this.k})`
}

/** Cancels a fulfillment: its goods stay held for the order (no stock moves). */
class CancelFulfillment implements Cmd {
  constructor(readonly k: number) {}
  check = (m: Readonly<Model>) => m.fulfillments.length > 0
  async run(m: Model, r: Real) {
    const f = pickF(m, this.k)
    const code = await codeOf(r.w.oms.fulfillments.cancel({ actor: actors.warehouse, fulfillmentId: f.id }))
    const ok = [...OPEN, 'partially_fulfilled'].includes(f.status)
    expect(code).toBe(ok ? 'OK' : 'INVALID_TRANSITION')
    if (ok) {
      f.status = 'cancelled'
      follow(m, f.order)
    }
    await compare(m, r)
  }
  toString = () => `cancelFulfillment(${this.k})`
}

/**
 * The next natural step of an order (pay, put into fulfillments, scan the next line in full, complete
 * picking, pack, ship or hand over, deliver), run as that step's own command: it keeps the runs going deep.
 */
class Progress implements Cmd {
  constructor(
    readonly i: number,
    readonly steps: number,
  ) {}
  check = (m: Readonly<Model>) => m.orders.length > 0
  next(m: Model): Cmd | null {
    const i = this.i % m.orders.length
    const o = m.orders[i] as ModelOrder
    if (o.status === 'payment_pending') return new Confirm(i)
    if (FULFILLABLE.includes(o.status) && uncovered(m, o).length > 0) return new CreateFulfillment(i)
    const f = fulfillmentsOf(m, o).find((x) => OPEN.includes(x.status) || x.status === 'shipped')
    if (!f) return null
    const k = m.fulfillments.indexOf(f)
    const missing = f.lines.find((l) => l.picked < l.quantity)
    if ((f.status === 'pending' || f.status === 'picking') && missing)
      return new Scan(k, missing.item, missing.quantity - missing.picked)
    if (f.status === 'picking') return new CompletePicking(k, false)
    if (f.status === 'packing') return new Pack(k)
    if (f.status === 'ready_to_ship') return new Dispatch(k, o.flow === 'delivery' ? 'ship' : 'handOver')
    return new Deliver(k)
  }
  async run(m: Model, r: Real) {
    for (let n = 0, step = this.next(m); step && n < this.steps; n++, step = this.next(m))
      await step.run(m, r)
  }
  toString = () => `progress(${this.i}, ${this.steps} steps)`
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
        cancelled(m, o)
        o.expired = true
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
  check = (m: Readonly<Model>) =>
    m.back[this.item].onHand - heldAt(m as Model, this.item, 'back', (h) => h.status === 'active') >=
    this.quantity
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
const flow = fc.constantFrom('pickup' as const, 'delivery' as const)
const fIdx = fc.nat({ max: 20 })
const progress = fc.tuple(idx, fc.integer({ min: 1, max: 6 })).map(([i, n]) => new Progress(i, n))
const commands = [
  progress,
  progress,
  progress,
  progress,
  fc.tuple(line, flow).map(([l, fl]) => new CreateOrder([l], fl)),
  fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 }), flow).map(
    ([f, v, fl]) =>
      new CreateOrder(
        [
          ['flower', f],
          ['vape', v],
        ],
        fl,
      ),
  ),
  fc.tuple(item, fc.integer({ min: 1, max: 4 })).map(([i, q]) => new StockBack(i, q)),
  idx.map((i) => new CreateFulfillment(i)),
  fc
    .tuple(
      fIdx,
      fc.constantFrom<ItemName | 'nothing'>('flower', 'vape', 'nothing'),
      fc.integer({ min: 1, max: 3 }),
    )
    .map(([k, i, q]) => new Scan(k, i, q)),
  fc.tuple(fIdx, fc.boolean()).map(([k, short]) => new CompletePicking(k, short)),
  fIdx.map((k) => new Pack(k)),
  fc
    .tuple(fIdx, fc.constantFrom('ship' as const, 'handOver' as const))
    .map(([k, how]) => new Dispatch(k, how)),
  fIdx.map((k) => new Deliver(k)),
  fIdx.map((k) => new CancelFulfillment(k)),
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
        fc.asyncProperty(fc.commands(commands, { maxCommands: 30, size: '+1' }), async (cmds) => {
          const w = await createWorld(
            storage(),
            { flower: 6, vape: 3 },
            { policies: { allocateAcrossLocations: true } },
          )
          // the back room starts with some stock too, so orders the floor cannot hold are split
          for (const [name, quantity] of [
            ['flower', 3],
            ['vape', 2],
          ] as const)
            await w.oms.inventory.receive({
              actor: actors.manager,
              itemId: w.items[name] as string,
              locationId: w.backroomId,
              quantity,
            })
          const model: Model = {
            now: w.clock.now().getTime(),
            onHand: { flower: 6, vape: 3 },
            aside: { flower: 0, vape: 0 },
            back: { flower: { onHand: 3, incoming: 0 }, vape: { onHand: 2, incoming: 0 } },
            transfers: [],
            orders: [],
            fulfillments: [],
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
