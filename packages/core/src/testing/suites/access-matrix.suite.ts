import { describe, expect, test } from 'vitest'
import { createOms, type Oms } from '../../create-oms'
import { CALLER_ROLES, type CallerRole } from '../../domain/enums'
import type { CallerActor, Order } from '../../domain/schemas'
import { isOmsError, OmsError } from '../../errors/oms-error'
import type { OrderBulkItemResult, OrderBulkResult } from '../../order/bulk-operations'
import type { Storage } from '../../ports/storage'
import { createFakeClock } from '../fake-clock'
import { actors, uid } from '../fixtures'
import type { Suite } from './suite'
import { useStorage } from './use-storage'

/**
 * The access model, written down once as the test's own table (not read from the library): which role holds
 * which permission. A `customer` reaches the orders whose customer it is; every other role reaches the stores
 * in `storeIds` (every store when absent, none when empty). Global permissions need a role that reaches every
 * store.
 */
const ALL = [
  'order.view',
  'order.create',
  'order.edit',
  'order.fulfil',
  'order.cancel',
  'order.payment',
  'order.return',
  'order.refund',
  'note.view_internal',
  'note.write',
  'note.manage',
  'history.view',
  'history.write',
  'dashboard.view',
  'inventory.view',
  'inventory.write',
  'catalog.write',
  'reservation.manage',
  'maintenance.run',
  'fulfillment.manage',
  'sync.manage',
  'payment.manage',
] as const
type Perm = (typeof ALL)[number]

const GRANTS: Record<CallerRole, readonly Perm[]> = {
  system_admin: ALL,
  order_manager: ALL,
  store_manager: ALL,
  warehouse_staff: ['order.view', 'order.fulfil', 'fulfillment.manage', 'inventory.view'],
  customer_service: ['order.view', 'note.view_internal', 'note.write', 'history.view'],
  customer: ['order.view', 'order.create', 'order.cancel', 'order.return'],
  payment_service: ['order.view', 'order.payment'],
}

const OWN_STORE = 's1'
const OTHER_STORE = 's2'
const OWN_CUSTOMER = 'c1'
const OTHER_CUSTOMER = 'c2'

/** Every kind of caller: each role unscoped and limited to the own store, plus the awkward cases. */
const ACTORS: ReadonlyArray<[string, CallerActor]> = [
  ...CALLER_ROLES.flatMap(
    (role): Array<[string, CallerActor]> =>
      role === 'customer'
        ? [['customer', { id: 'a-customer', roles: ['customer'], customerId: OWN_CUSTOMER }]]
        : [
            [role, { id: `a-${role}`, roles: [role] }],
            [`${role} of s1`, { id: `a-${role}-s1`, roles: [role], storeIds: [OWN_STORE] }],
          ],
  ),
  [
    'customer and warehouse staff of s1',
    {
      id: 'a-mixed',
      roles: ['customer', 'warehouse_staff'],
      storeIds: [OWN_STORE],
      customerId: OWN_CUSTOMER,
    },
  ],
  ['store manager of no store', { id: 'a-nowhere', roles: ['store_manager'], storeIds: [] }],
]

interface Target {
  storeId: string
  customerId: string
}
const ORDER_TARGETS: readonly Target[] = [
  { storeId: OWN_STORE, customerId: OWN_CUSTOMER },
  { storeId: OWN_STORE, customerId: OTHER_CUSTOMER },
  { storeId: OTHER_STORE, customerId: OWN_CUSTOMER },
  { storeId: OTHER_STORE, customerId: OTHER_CUSTOMER },
]

const grants = (actor: CallerActor, perm: Perm) => actor.roles.filter((r) => GRANTS[r].includes(perm))

/** Whether `perm` reaches this order (or, with no customer, this store's stock) for the actor. */
function reaches(actor: CallerActor, perm: Perm, target: Partial<Target> & { storeId: string }): boolean {
  return grants(actor, perm).some((role) =>
    role === 'customer'
      ? target.customerId !== undefined && actor.customerId === target.customerId
      : actor.storeIds === undefined || actor.storeIds.includes(target.storeId),
  )
}
/** Whether `perm` reaches every store (global operations; a miss may say NOT_FOUND). */
const everywhere = (actor: CallerActor, perm: Perm) =>
  grants(actor, perm).some((role) => role !== 'customer') && actor.storeIds === undefined

type Outcome = 'OK' | 'FORBIDDEN' | 'NOT_FOUND'
const expectedFor = (
  actor: CallerActor,
  perms: readonly Perm[],
  target: (Target & { missing?: boolean }) | null,
): Outcome => {
  if (target === null) return perms.every((p) => everywhere(actor, p)) ? 'OK' : 'FORBIDDEN'
  // A miss is decided by the permission the method is entered with (the first one).
  if (target.missing) return everywhere(actor, perms[0] as Perm) ? 'NOT_FOUND' : 'FORBIDDEN'
  return perms.every((p) => reaches(actor, p, target)) ? 'OK' : 'FORBIDDEN'
}

/** The world every case runs in: two stores with a sales floor each, one item stocked in both. */
interface World {
  oms: Oms
  storage: Storage
  item: string
  floors: Record<string, string>
  stores: Record<string, string>
  customers: Record<string, string>
}

async function world(storage: Storage): Promise<World> {
  const oms = createOms({ storage, clock: createFakeClock() })
  const tag = uid('m')
  const stores = { [OWN_STORE]: `${tag}-s1`, [OTHER_STORE]: `${tag}-s2` }
  const customers = { [OWN_CUSTOMER]: `${tag}-c1`, [OTHER_CUSTOMER]: `${tag}-c2` }
  const floors: Record<string, string> = {}
  const item = `${tag}-item`
  await oms.inventory.defineItem({
    actor: actors.manager,
    item: { id: item, sku: item, name: 'Item', unit: 'each' },
  })
  for (const [key, storeId] of Object.entries(stores)) {
    const id = `${tag}-${key}-floor`
    floors[key] = id
    await oms.inventory.defineLocation({
      actor: actors.manager,
      location: { id, storeId, name: 'Floor', kind: 'sales_floor' },
    })
    await oms.inventory.receive({ actor: actors.manager, itemId: item, locationId: id, quantity: 10_000 })
  }
  return { oms, storage, item, floors, stores, customers }
}

/** The same caller, with the world's store and customer ids in place of s1/s2/c1/c2. */
function inWorld(w: World, actor: CallerActor): CallerActor {
  return {
    ...actor,
    ...(actor.storeIds ? { storeIds: actor.storeIds.map((s) => w.stores[s] as string) } : {}),
    ...(actor.customerId ? { customerId: w.customers[actor.customerId] as string } : {}),
  }
}

type FulfillmentState = 'pending' | 'picking' | 'packing' | 'ready_to_ship' | 'shipped'
type OrderState =
  | 'payment_pending'
  | 'confirmed'
  | 'ready_for_pickup'
  | `fulfillment ${FulfillmentState}`
  /** Paid, with a refund operation the provider declined (left for an operator). */
  | 'payment dead'

interface Arranged {
  order: Order
  holdId: string
  noteId: string
  /** With a `fulfillment …` state: the order's fulfillment, in that status. */
  fulfillmentId: string | null
  /** With `payment dead`: the dead payment operation. */
  paymentId: string | null
}

/** A dead refund of the whole order, as the relay leaves one the provider declined. */
async function deadPayment(w: World, order: Order): Promise<string> {
  const id = `${order.id}-refund`
  const now = new Date('2026-11-22T12:00:00.000Z')
  await w.storage.transaction((tx) =>
    tx.payments.insert([
      {
        id,
        orderId: order.id,
        storeId: order.storeId,
        customerId: order.customerId,
        kind: 'refund',
        sequence: 1,
        idempotencyKey: `${order.id}:refund:1`,
        status: 'dead',
        amountMinor: order.totals.totalMinor,
        currency: order.totals.currency,
        lines: [],
        attempts: 1,
        lastError: { code: 'card_declined', message: 'declined' },
        providerReference: null,
        createdAt: now,
        updatedAt: now,
        completedAt: now,
        version: 2,
      },
    ]),
  )
  return id
}

/** A paid order's fulfillment, driven to `state` by the manager (3 units: scanned in full from picking on). */
async function arrangeFulfillment(w: World, order: Order, state: FulfillmentState): Promise<string> {
  const m = actors.manager
  const [f] = await w.oms.fulfillments.create({ actor: m, orderId: order.id })
  const fulfillmentId = f?.id as string
  if (state === 'pending') return fulfillmentId
  await w.oms.fulfillments.scan({ actor: m, fulfillmentId, code: w.item, quantity: 3 })
  if (state === 'picking') return fulfillmentId
  await w.oms.fulfillments.completePicking({ actor: m, fulfillmentId })
  if (state === 'packing') return fulfillmentId
  await w.oms.fulfillments.pack({ actor: m, fulfillmentId, boxSize: 'S', weightGrams: 100 })
  if (state === 'ready_to_ship') return fulfillmentId
  await w.oms.fulfillments.ship({ actor: m, fulfillmentId, carrier: 'UPS', trackingNumber: 'T1' })
  return fulfillmentId
}

async function arrange(w: World, target: Target, state: OrderState): Promise<Arranged> {
  const m = actors.manager
  const order = await w.oms.orders.create({
    actor: m,
    channel: 'kiosk',
    flow: 'pickup',
    storeId: w.stores[target.storeId] as string,
    customerId: w.customers[target.customerId] as string,
    currency: 'USD',
    lines: [{ itemId: w.item, quantity: 3, unitPriceMinor: 100 }],
  })
  const send = (type: string) => w.oms.orders.send({ actor: m, orderId: order.id, type })
  if (state !== 'payment_pending')
    await w.oms.orders.confirmPayment({ actor: actors.payments, orderId: order.id })
  if (state === 'ready_for_pickup') {
    await send('order.start_processing')
    await send('order.ready')
  }
  const fulfillmentId = state.startsWith('fulfillment ')
    ? await arrangeFulfillment(w, order, state.slice('fulfillment '.length) as FulfillmentState)
    : null
  const [hold] = await w.oms.reservations.listByOrder({ actor: m, orderId: order.id })
  // written by someone else, so changing it needs note.manage as well
  const note = await w.oms.notes.add({
    actor: { id: 'another-author', roles: ['order_manager'] },
    orderId: order.id,
    text: 'note',
  })
  const paymentId = state === 'payment dead' ? await deadPayment(w, order) : null
  return { order, holdId: hold?.id as string, noteId: note.id, fulfillmentId, paymentId }
}

/** A method whose target is one order (and what it holds or notes). */
interface OrderMethod {
  kind: 'order'
  perms: readonly Perm[]
  state: OrderState
  mutates: boolean
  call(oms: Oms, actor: CallerActor, a: Arranged | null): Promise<unknown>
}
/** A method whose target is one location of a store. */
interface LocationMethod {
  kind: 'location'
  perms: readonly Perm[]
  /** What a missing location means for this method, where it is not a miss (defining one creates it). */
  missing?: (actor: CallerActor) => Outcome
  call(w: World, actor: CallerActor, locationId: string, storeId: string): Promise<unknown>
}
/** A method over everything (global operations), or creating an order for a store and customer. */
interface GlobalMethod {
  kind: 'global'
  perms: readonly Perm[]
  call(w: World, actor: CallerActor): Promise<unknown>
}
interface CreateMethod {
  kind: 'create'
  call(w: World, actor: CallerActor, target: Target): Promise<unknown>
}
/** A read of many rows: the caller sees exactly those of what it reaches. */
interface ListMethod {
  kind: 'list'
  perms: readonly Perm[]
  /** What the world's order targets look like in the result (the ids it returns for them). */
  visible(
    w: World,
    actor: CallerActor,
    orders: ReadonlyArray<{ target: Target; order: Order }>,
  ): Promise<string[]>
  /** Which of them the access model lets the actor see. */
  expected(actor: CallerActor, orders: ReadonlyArray<{ target: Target; order: Order }>, w: World): string[]
}
type MethodSpec = OrderMethod | LocationMethod | GlobalMethod | CreateMethod | ListMethod

const MISSING = 'no-such-target'
const orderId = (a: Arranged | null) => a?.order.id ?? MISSING

const event = (type: string, perm: Perm, state: OrderState): OrderMethod => ({
  kind: 'order',
  perms: [perm],
  state,
  mutates: true,
  call: (oms, actor, a) => oms.orders.send({ actor, orderId: orderId(a), type }),
})

/** A bulk call's only result, as the single call would have answered it (a refusal thrown as its error). */
function firstOf(result: OrderBulkResult): OrderBulkItemResult {
  const first = result.results[0] as OrderBulkItemResult
  if (!first.ok) throw new OmsError(first.code, first.message)
  return first
}

const fulfillmentId = (a: Arranged | null) => a?.fulfillmentId ?? MISSING
const paymentId = (a: Arranged | null) => a?.paymentId ?? MISSING

/** A fulfillment method: entered with `perm` on the fulfillment's order. */
const onFulfillment = (
  state: FulfillmentState,
  perm: Perm,
  mutates: boolean,
  call: (oms: Oms, actor: CallerActor, fulfillmentId: string) => Promise<unknown>,
): OrderMethod => ({
  kind: 'order',
  perms: [perm],
  state: `fulfillment ${state}`,
  mutates,
  call: (oms, actor, a) => call(oms, actor, fulfillmentId(a)),
})

/** The world's orders' fulfillments exist (each order paid, its fulfillment created), once per world. */
const withFulfillments = new WeakMap<World, Promise<void>>()
function fulfilOrders(w: World, orders: ReadonlyArray<{ order: Order }>): Promise<void> {
  let done = withFulfillments.get(w)
  if (!done) {
    done = (async () => {
      for (const { order } of orders) {
        await w.oms.orders.confirmPayment({ actor: actors.payments, orderId: order.id })
        await w.oms.fulfillments.create({ actor: actors.manager, orderId: order.id })
      }
    })()
    withFulfillments.set(w, done)
  }
  return done
}

const ordersVisible = (
  orders: ReadonlyArray<{ target: Target; order: Order }>,
  actor: CallerActor,
  perm: Perm,
) => orders.filter((o) => reaches(actor, perm, o.target)).map((o) => o.order.id)

/** A location in a third store that no scoped actor of the matrix reaches: the far end of transfers. */
async function elsewhere(w: World): Promise<string> {
  const id = `${w.item}-elsewhere`
  await w.oms.inventory.defineLocation({
    actor: actors.manager,
    location: { id, storeId: `${w.item}-s3`, name: 'Elsewhere', kind: 'warehouse' },
  })
  await w.oms.inventory.receive({ actor: actors.manager, itemId: w.item, locationId: id, quantity: 100 })
  return id
}

/** A transfer the manager arranged (out of or into `locationId`), or a missing id when it cannot be. */
async function arrangedTransfer(
  w: World,
  locationId: string,
  side: 'from' | 'to',
  shipped: boolean,
): Promise<string> {
  const far = await elsewhere(w)
  try {
    const t = await w.oms.transfers.create({
      actor: actors.manager,
      fromLocationId: side === 'from' ? locationId : far,
      toLocationId: side === 'from' ? far : locationId,
      lines: [{ itemId: w.item, quantity: 1 }],
    })
    if (shipped) await w.oms.transfers.ship({ actor: actors.manager, transferId: t.id })
    return t.id
  } catch {
    return MISSING
  }
}

/** An open count the manager arranged at `locationId`, with one line counted, or a missing id. */
async function arrangedCount(w: World, locationId: string): Promise<string> {
  try {
    // one open count per location and item at a time: the previous caller's goes first
    for (const open of await w.oms.counts.list({ actor: actors.manager, locationId, status: 'open' }))
      await w.oms.counts.cancel({ actor: actors.manager, countId: open.id })
    const c = await w.oms.counts.open({ actor: actors.manager, locationId })
    await w.oms.counts.record({
      actor: actors.manager,
      countId: c.id,
      lines: [{ itemId: w.item, quantity: 1 }],
    })
    return c.id
  } catch {
    return MISSING
  }
}

/** Arranges something once per world for list methods (each actor's call then reads it). */
const arrangedOnce = new WeakMap<World, Map<string, Promise<unknown>>>()
function once(w: World, key: string, arrange: () => Promise<unknown>): Promise<unknown> {
  const done = arrangedOnce.get(w) ?? new Map<string, Promise<unknown>>()
  arrangedOnce.set(w, done)
  const p = done.get(key) ?? arrange()
  done.set(key, p)
  return p
}

const floorsReached = (actor: CallerActor, w: World) =>
  [OWN_STORE, OTHER_STORE]
    .filter((s) => reaches(actor, 'inventory.view', { storeId: s }))
    .map((s) => w.floors[s] as string)
    .sort()

/**
 * Every public method of `createOms` and how its access is decided. The coverage test fails when a service
 * gains a method that is not listed here.
 */
export const ACCESS_MATRIX: Readonly<Record<string, MethodSpec>> = {
  'orders.create': {
    kind: 'create',
    call: (w, actor, t) =>
      w.oms.orders.create({
        actor,
        channel: 'ecommerce',
        flow: 'pickup',
        storeId: w.stores[t.storeId] as string,
        customerId: w.customers[t.customerId] as string,
        currency: 'USD',
        lines: [{ itemId: w.item, quantity: 1, unitPriceMinor: 100 }],
      }),
  },
  'orders.send': event('order.start_processing', 'order.fulfil', 'confirmed'),
  'orders.send (no-show)': event('order.no_show', 'order.fulfil', 'ready_for_pickup'),
  'orders.confirmPayment': {
    kind: 'order',
    perms: ['order.payment'],
    state: 'payment_pending',
    mutates: true,
    call: (oms, actor, a) => oms.orders.confirmPayment({ actor, orderId: orderId(a) }),
  },
  'orders.failPayment': {
    kind: 'order',
    perms: ['order.payment'],
    state: 'payment_pending',
    mutates: true,
    call: (oms, actor, a) => oms.orders.failPayment({ actor, orderId: orderId(a) }),
  },
  'orders.cancel': {
    kind: 'order',
    perms: ['order.cancel'],
    state: 'payment_pending',
    mutates: true,
    call: (oms, actor, a) => oms.orders.cancel({ actor, orderId: orderId(a) }),
  },
  'orders.edit': {
    kind: 'order',
    perms: ['order.edit'],
    state: 'payment_pending',
    mutates: true,
    call: (oms, actor, a) =>
      oms.orders.edit({
        actor,
        orderId: orderId(a),
        set: [{ lineId: a?.order.lines[0]?.id ?? MISSING, quantity: 2 }],
      }),
  },
  'orders.assign': {
    kind: 'order',
    perms: ['fulfillment.manage'],
    state: 'confirmed',
    mutates: true,
    call: (oms, actor, a) => oms.orders.assign({ actor, orderId: orderId(a), assigneeId: 'staff-9' }),
  },
  'orders.bulkAssign': {
    kind: 'order',
    perms: ['fulfillment.manage'],
    state: 'confirmed',
    mutates: true,
    call: async (oms, actor, a) =>
      firstOf(await oms.orders.bulkAssign({ actor, orderIds: [orderId(a)], assigneeId: 'staff-9' })),
  },
  'orders.bulkStatus': {
    kind: 'order',
    perms: ['order.fulfil'],
    state: 'confirmed',
    mutates: true,
    call: async (oms, actor, a) =>
      firstOf(await oms.orders.bulkStatus({ actor, orderIds: [orderId(a)], type: 'order.start_processing' })),
  },
  'orders.get': {
    kind: 'order',
    perms: ['order.view'],
    state: 'payment_pending',
    mutates: false,
    call: (oms, actor, a) => oms.orders.get({ actor, orderId: orderId(a) }),
  },
  'orders.allowedEvents': {
    kind: 'order',
    perms: ['order.view'],
    state: 'payment_pending',
    mutates: false,
    call: (oms, actor, a) => oms.orders.allowedEvents({ actor, orderId: orderId(a) }),
  },
  'orders.list': {
    kind: 'list',
    perms: ['order.view'],
    visible: async (w, actor) => (await w.oms.orders.list({ actor, limit: 500 })).map((o) => o.id).sort(),
    expected: (actor, orders) => ordersVisible(orders, actor, 'order.view').sort(),
  },
  'orders.search': {
    kind: 'list',
    perms: ['order.view'],
    visible: async (w, actor) =>
      (await w.oms.orders.search({ actor, limit: 200 })).orders.map((o) => o.id).sort(),
    expected: (actor, orders) => ordersVisible(orders, actor, 'order.view').sort(),
  },
  'orders.getByNumber': {
    kind: 'order',
    perms: ['order.view'],
    state: 'payment_pending',
    mutates: false,
    call: (oms, actor, a) => oms.orders.getByNumber({ actor, number: a?.order.number ?? MISSING }),
  },
  'reservations.get': {
    kind: 'order',
    perms: ['order.view'],
    state: 'payment_pending',
    mutates: false,
    call: (oms, actor, a) => oms.reservations.get({ actor, reservationId: a?.holdId ?? MISSING }),
  },
  'reservations.list': {
    kind: 'list',
    perms: ['order.view'],
    visible: async (w, actor) =>
      [
        ...new Set(
          (await w.oms.reservations.list({ actor, limit: 1000 })).reservations.map((r) => r.orderId),
        ),
      ].sort(),
    expected: (actor, orders) => ordersVisible(orders, actor, 'order.view').sort(),
  },
  'reservations.extend': {
    kind: 'order',
    perms: ['reservation.manage'],
    state: 'payment_pending',
    mutates: true,
    call: (oms, actor, a) =>
      oms.reservations.extend({ actor, reservationId: a?.holdId ?? MISSING, seconds: 1800 }),
  },
  'reservations.listByOrder': {
    kind: 'order',
    perms: ['order.view'],
    state: 'payment_pending',
    mutates: false,
    call: (oms, actor, a) => oms.reservations.listByOrder({ actor, orderId: orderId(a) }),
  },
  'reservations.release': {
    kind: 'order',
    perms: ['reservation.manage'],
    state: 'confirmed',
    mutates: true,
    call: (oms, actor, a) =>
      oms.reservations.release({ actor, reservationId: a?.holdId ?? MISSING, quantity: 1 }),
  },
  'reservations.commit': {
    kind: 'order',
    perms: ['reservation.manage'],
    state: 'ready_for_pickup',
    mutates: true,
    call: (oms, actor, a) =>
      oms.reservations.commit({ actor, reservationId: a?.holdId ?? MISSING, quantity: 1 }),
  },
  'reservations.expireDue': {
    kind: 'global',
    perms: ['maintenance.run'],
    call: (w, actor) => w.oms.reservations.expireDue({ actor }),
  },
  'inventory.defineLocation': {
    kind: 'location',
    perms: ['inventory.write'],
    // an unknown id in the own store is a new location there
    missing: (actor) => (reaches(actor, 'inventory.write', { storeId: OWN_STORE }) ? 'OK' : 'FORBIDDEN'),
    call: (w, actor, locationId, storeId) =>
      w.oms.inventory.defineLocation({
        actor,
        location: { id: locationId, storeId, name: 'Renamed', kind: 'sales_floor' },
      }),
  },
  'inventory.defineItem': {
    kind: 'global',
    perms: ['catalog.write'],
    call: (w, actor) =>
      w.oms.inventory.defineItem({ actor, item: { id: w.item, sku: w.item, name: 'Item', unit: 'each' } }),
  },
  'inventory.receive': {
    kind: 'location',
    perms: ['inventory.write'],
    call: (w, actor, locationId) =>
      w.oms.inventory.receive({ actor, itemId: w.item, locationId, quantity: 1 }),
  },
  'inventory.adjust': {
    kind: 'location',
    perms: ['inventory.write'],
    call: (w, actor, locationId) =>
      w.oms.inventory.adjust({ actor, itemId: w.item, locationId, delta: 1, reason: 'adjust_correction' }),
  },
  'inventory.set': {
    kind: 'location',
    perms: ['inventory.write'],
    call: async (w, actor, locationId) => {
      const level = await w.oms.inventory
        .level({ actor: actors.manager, itemId: w.item, locationId })
        .catch(() => null)
      return w.oms.inventory.set({
        actor,
        itemId: w.item,
        locationId,
        expected: level?.onHand ?? 0,
        quantity: (level?.onHand ?? 0) + 1,
      })
    },
  },
  'inventory.setSafetyStock': {
    kind: 'location',
    perms: ['inventory.write'],
    call: (w, actor, locationId) =>
      w.oms.inventory.setSafetyStock({ actor, itemId: w.item, locationId, safetyStock: 1 }),
  },
  'inventory.level': {
    kind: 'location',
    perms: ['inventory.view'],
    call: (w, actor, locationId) => w.oms.inventory.level({ actor, itemId: w.item, locationId }),
  },
  'inventory.levels': {
    kind: 'list',
    perms: ['inventory.view'],
    visible: async (w, actor) =>
      (await w.oms.inventory.levels({ actor, itemId: w.item })).map((l) => l.locationId),
    expected: (actor, _orders, w) =>
      [OWN_STORE, OTHER_STORE]
        .filter((s) => reaches(actor, 'inventory.view', { storeId: s }))
        .map((s) => w.floors[s] as string),
  },
  'inventory.availableAcross': {
    kind: 'list',
    perms: ['inventory.view'],
    // what it sums is what the caller reaches: each floor here has a distinct, known availability
    visible: async (w, actor) => [String(await w.oms.inventory.availableAcross({ actor, itemId: w.item }))],
    expected: () => [],
  },
  'inventory.movements': {
    kind: 'list',
    perms: ['inventory.view'],
    visible: async (w, actor) =>
      [
        ...new Set(
          (await w.oms.inventory.movements({ actor, itemId: w.item, limit: 1000 })).map((m) => m.locationId),
        ),
      ].sort(),
    expected: (actor, _orders, w) =>
      [OWN_STORE, OTHER_STORE]
        .filter((s) => reaches(actor, 'inventory.view', { storeId: s }))
        .map((s) => w.floors[s] as string)
        .sort(),
  },
  'inventory.reconcileProjections': {
    kind: 'global',
    perms: ['maintenance.run'],
    call: (w, actor) => w.oms.inventory.reconcileProjections({ actor }),
  },
  'inventory.reconcileProjections (repair)': {
    kind: 'global',
    perms: ['maintenance.run'],
    call: (w, actor) => w.oms.inventory.reconcileProjections({ actor, repair: true }),
  },
  'inventory.setAside': {
    kind: 'location',
    perms: ['inventory.write'],
    call: (w, actor, locationId) =>
      w.oms.inventory.setAside({
        actor,
        itemId: w.item,
        locationId,
        bucket: 'quarantine',
        quantity: 1,
        reason: 'qc hold',
      }),
  },
  'inventory.releaseFromBucket': {
    kind: 'location',
    perms: ['inventory.write'],
    call: async (w, actor, locationId) => {
      const at = { itemId: w.item, locationId, bucket: 'damaged' as const, quantity: 1 }
      await w.oms.inventory.setAside({ actor: actors.manager, ...at, reason: 'dropped' }).catch(() => null)
      return w.oms.inventory.releaseFromBucket({ actor, ...at, disposition: 'restock', reason: 'fine' })
    },
  },
  'inventory.bulkUpdate': {
    kind: 'location',
    perms: ['inventory.write'],
    // a row's refusal is its result, not a throw: the row's code is the outcome here
    call: async (w, actor, locationId) => {
      const result = await w.oms.inventory.bulkUpdate({
        actor,
        rows: [{ op: 'receive', itemId: w.item, locationId, quantity: 1 }],
      })
      const [row] = result.rows
      if (row && !row.ok) throw new OmsError(row.code, row.message)
      return result
    },
  },
  'inventory.setReorderPoint': {
    kind: 'location',
    perms: ['inventory.write'],
    call: (w, actor, locationId) =>
      w.oms.inventory.setReorderPoint({ actor, itemId: w.item, locationId, reorderPoint: 5 }),
  },
  'inventory.lowStock': {
    kind: 'list',
    perms: ['inventory.view'],
    visible: async (w, actor) => {
      await once(w, 'low', async () => {
        for (const locationId of Object.values(w.floors))
          await w.oms.inventory.setReorderPoint({
            actor: actors.manager,
            itemId: w.item,
            locationId,
            reorderPoint: 1_000_000,
          })
      })
      return (await w.oms.inventory.lowStock({ actor })).map((l) => l.locationId).sort()
    },
    expected: (actor, _orders, w) => floorsReached(actor, w),
  },
  'inventory.packages': {
    kind: 'location',
    perms: ['inventory.view'],
    call: (w, actor, locationId) => w.oms.inventory.packages({ actor, itemId: w.item, locationId }),
  },
  'inventory.packageHistory': {
    kind: 'list',
    perms: ['inventory.view'],
    visible: async (w, actor) => {
      const packageId = `${w.item}-pkg`
      await once(w, 'pkg', async () => {
        for (const locationId of Object.values(w.floors))
          await w.oms.inventory.receive({
            actor: actors.manager,
            itemId: w.item,
            locationId,
            quantity: 1,
            packageId,
          })
      })
      const history = await w.oms.inventory.packageHistory({ actor, packageId })
      return [...new Set([...history.levels, ...history.movements].map((r) => r.locationId))].sort()
    },
    expected: (actor, _orders, w) => floorsReached(actor, w),
  },
  'transfers.create': {
    kind: 'location',
    perms: ['inventory.write'],
    call: async (w, actor, locationId) =>
      w.oms.transfers.create({
        actor,
        fromLocationId: locationId,
        toLocationId: await elsewhere(w),
        lines: [{ itemId: w.item, quantity: 1 }],
      }),
  },
  'transfers.ship': {
    kind: 'location',
    perms: ['inventory.write'],
    call: async (w, actor, locationId) =>
      w.oms.transfers.ship({ actor, transferId: await arrangedTransfer(w, locationId, 'from', false) }),
  },
  'transfers.cancel': {
    kind: 'location',
    perms: ['inventory.write'],
    call: async (w, actor, locationId) =>
      w.oms.transfers.cancel({ actor, transferId: await arrangedTransfer(w, locationId, 'from', false) }),
  },
  'transfers.receive': {
    kind: 'location',
    perms: ['inventory.write'],
    call: async (w, actor, locationId) =>
      w.oms.transfers.receive({ actor, transferId: await arrangedTransfer(w, locationId, 'to', true) }),
  },
  'transfers.close': {
    kind: 'location',
    perms: ['inventory.write'],
    call: async (w, actor, locationId) =>
      w.oms.transfers.close({
        actor,
        transferId: await arrangedTransfer(w, locationId, 'to', true),
        lossReason: 'never arrived',
      }),
  },
  'transfers.get': {
    kind: 'location',
    perms: ['inventory.view'],
    call: async (w, actor, locationId) =>
      w.oms.transfers.get({ actor, transferId: await arrangedTransfer(w, locationId, 'from', false) }),
  },
  'transfers.list': {
    kind: 'list',
    perms: ['inventory.view'],
    visible: async (w, actor) => {
      await once(w, 'transfers', async () => {
        for (const locationId of Object.values(w.floors)) await arrangedTransfer(w, locationId, 'from', false)
      })
      return (await w.oms.transfers.list({ actor })).map((t) => t.fromLocationId).sort()
    },
    expected: (actor, _orders, w) => floorsReached(actor, w),
  },
  'counts.open': {
    kind: 'location',
    perms: ['inventory.write'],
    call: async (w, actor, locationId) => {
      const opened = await w.oms.counts.open({ actor, locationId })
      await w.oms.counts.cancel({ actor: actors.manager, countId: opened.id })
      return opened
    },
  },
  'counts.list': {
    kind: 'list',
    perms: ['inventory.view'],
    visible: async (w, actor) => {
      await once(w, 'counts', async () => {
        for (const locationId of Object.values(w.floors)) await arrangedCount(w, locationId)
      })
      return (await w.oms.counts.list({ actor })).map((c) => c.locationId).sort()
    },
    expected: (actor, _orders, w) => floorsReached(actor, w),
  },
  'counts.record': {
    kind: 'location',
    perms: ['inventory.write'],
    call: async (w, actor, locationId) =>
      w.oms.counts.record({
        actor,
        countId: await arrangedCount(w, locationId),
        lines: [{ itemId: w.item, quantity: 2 }],
      }),
  },
  'counts.approve': {
    kind: 'location',
    perms: ['inventory.write'],
    call: async (w, actor, locationId) =>
      w.oms.counts.approve({ actor, countId: await arrangedCount(w, locationId) }),
  },
  'counts.cancel': {
    kind: 'location',
    perms: ['inventory.write'],
    call: async (w, actor, locationId) =>
      w.oms.counts.cancel({ actor, countId: await arrangedCount(w, locationId) }),
  },
  'counts.get': {
    kind: 'location',
    perms: ['inventory.view'],
    call: async (w, actor, locationId) =>
      w.oms.counts.get({ actor, countId: await arrangedCount(w, locationId) }),
  },
  'counts.report': {
    kind: 'location',
    perms: ['inventory.view'],
    call: async (w, actor, locationId) =>
      w.oms.counts.report({ actor, countId: await arrangedCount(w, locationId) }),
  },
  'notes.add': {
    kind: 'order',
    perms: ['note.write'],
    state: 'payment_pending',
    mutates: true,
    call: (oms, actor, a) => oms.notes.add({ actor, orderId: orderId(a), text: 'hello' }),
  },
  'notes.update': {
    kind: 'order',
    perms: ['note.write', 'note.manage'],
    state: 'payment_pending',
    mutates: true,
    call: (oms, actor, a) => oms.notes.update({ actor, noteId: a?.noteId ?? MISSING, text: 'edited' }),
  },
  'notes.delete': {
    kind: 'order',
    perms: ['note.write', 'note.manage'],
    state: 'payment_pending',
    mutates: true,
    call: (oms, actor, a) => oms.notes.delete({ actor, noteId: a?.noteId ?? MISSING }),
  },
  'notes.list': {
    kind: 'order',
    perms: ['order.view'],
    state: 'payment_pending',
    mutates: false,
    call: (oms, actor, a) => oms.notes.list({ actor, orderId: orderId(a) }),
  },
  'fulfillments.create': {
    kind: 'order',
    perms: ['fulfillment.manage'],
    state: 'confirmed',
    mutates: true,
    call: (oms, actor, a) => oms.fulfillments.create({ actor, orderId: orderId(a) }),
  },
  'fulfillments.assign': onFulfillment('pending', 'fulfillment.manage', true, (oms, actor, id) =>
    oms.fulfillments.assign({ actor, fulfillmentId: id, assignedToId: 'picker-7' }),
  ),
  'fulfillments.pickList': onFulfillment('pending', 'fulfillment.manage', false, (oms, actor, id) =>
    oms.fulfillments.pickList({ actor, fulfillmentId: id }),
  ),
  'fulfillments.startPicking': onFulfillment('pending', 'fulfillment.manage', true, (oms, actor, id) =>
    oms.fulfillments.startPicking({ actor, fulfillmentId: id }),
  ),
  'fulfillments.scan': onFulfillment('pending', 'fulfillment.manage', true, (oms, actor, id) =>
    oms.fulfillments.scan({ actor, fulfillmentId: id, code: 'no-such-code' }).catch((error: unknown) => {
      // a refused scan of a reachable fulfillment passed the access check: count it as reached
      if (isOmsError(error) && error.code === 'SCAN_REJECTED') return null
      throw error
    }),
  ),
  'fulfillments.completePicking': onFulfillment('picking', 'fulfillment.manage', true, (oms, actor, id) =>
    oms.fulfillments.completePicking({ actor, fulfillmentId: id }),
  ),
  'fulfillments.pack': onFulfillment('packing', 'fulfillment.manage', true, (oms, actor, id) =>
    oms.fulfillments.pack({ actor, fulfillmentId: id, boxSize: 'M', weightGrams: 200 }),
  ),
  'fulfillments.ship': onFulfillment('ready_to_ship', 'fulfillment.manage', true, (oms, actor, id) =>
    oms.fulfillments.ship({ actor, fulfillmentId: id, carrier: 'UPS', trackingNumber: 'T2' }),
  ),
  'fulfillments.handOver': onFulfillment('ready_to_ship', 'fulfillment.manage', true, (oms, actor, id) =>
    oms.fulfillments.handOver({ actor, fulfillmentId: id }),
  ),
  'fulfillments.deliver': onFulfillment('shipped', 'fulfillment.manage', true, (oms, actor, id) =>
    oms.fulfillments.deliver({ actor, fulfillmentId: id }),
  ),
  'fulfillments.cancel': onFulfillment('pending', 'fulfillment.manage', true, (oms, actor, id) =>
    oms.fulfillments.cancel({ actor, fulfillmentId: id }),
  ),
  'fulfillments.get': onFulfillment('pending', 'order.view', false, (oms, actor, id) =>
    oms.fulfillments.get({ actor, fulfillmentId: id }),
  ),
  'fulfillments.allowedEvents': onFulfillment('pending', 'order.view', false, (oms, actor, id) =>
    oms.fulfillments.allowedEvents({ actor, fulfillmentId: id }),
  ),
  'fulfillments.listByOrder': {
    kind: 'order',
    perms: ['order.view'],
    state: 'fulfillment pending',
    mutates: false,
    call: (oms, actor, a) => oms.fulfillments.listByOrder({ actor, orderId: orderId(a) }),
  },
  'fulfillments.list': {
    kind: 'list',
    perms: ['order.view'],
    visible: async (w, actor, orders) => {
      await fulfilOrders(w, orders)
      const ids = new Set(orders.map((o) => o.order.id))
      const rows = await w.oms.fulfillments.list({ actor, limit: 500 })
      return rows.flatMap((f) => (ids.has(f.orderId) ? [f.orderId] : [])).sort()
    },
    expected: (actor, orders) => ordersVisible(orders, actor, 'order.view').sort(),
  },
  'fulfillments.statistics': {
    kind: 'list',
    perms: ['fulfillment.manage'],
    // the fulfillments it counts are those of the stores the caller reaches (a customer's own: none)
    visible: async (w, actor, orders) => {
      await fulfilOrders(w, orders)
      const window = { from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z' }
      return [String((await w.oms.fulfillments.statistics({ actor, ...window })).overall.fulfillments)]
    },
    expected: (actor, orders) => [
      String(
        orders.filter((o) => reaches(actor, 'fulfillment.manage', { storeId: o.target.storeId })).length,
      ),
    ],
  },
  'payments.get': {
    kind: 'order',
    perms: ['order.view'],
    state: 'payment dead',
    mutates: false,
    call: (oms, actor, a) => oms.payments.get({ actor, paymentId: paymentId(a) }),
  },
  'payments.listByOrder': {
    kind: 'order',
    perms: ['order.view'],
    state: 'payment dead',
    mutates: false,
    call: (oms, actor, a) => oms.payments.listByOrder({ actor, orderId: orderId(a) }),
  },
  'payments.retry': {
    kind: 'order',
    perms: ['payment.manage'],
    state: 'payment dead',
    mutates: true,
    call: (oms, actor, a) => oms.payments.retry({ actor, paymentId: paymentId(a) }),
  },
  'history.forOrder': {
    kind: 'order',
    perms: ['history.view'],
    state: 'payment_pending',
    mutates: false,
    call: (oms, actor, a) => oms.history.forOrder({ actor, orderId: orderId(a) }),
  },
  'history.list': {
    kind: 'list',
    perms: ['history.view'],
    visible: async (w, actor, orders) => {
      const ids = new Set(orders.map((o) => o.order.id))
      const rows = await w.oms.history.list({ actor, action: 'created', limit: 1000 })
      return rows.flatMap((h) => (h.orderId && ids.has(h.orderId) ? [h.orderId] : [])).sort()
    },
    expected: (actor, orders) => ordersVisible(orders, actor, 'history.view').sort(),
  },
  // POS sync: the operator's override is for unscoped staff with sync.manage (the worker loop takes no actor)
  'sync.listJobs': {
    kind: 'global',
    perms: ['sync.manage'],
    call: (w, actor) => w.oms.sync.listJobs({ actor }),
  },
  'sync.retryJob': {
    kind: 'global',
    perms: ['sync.manage'],
    call: async (w, actor) => w.oms.sync.retryJob({ actor, jobId: await deadJob(w) }),
  },
  'sync.skipJob': {
    kind: 'global',
    perms: ['sync.manage'],
    call: async (w, actor) => w.oms.sync.skipJob({ actor, jobId: await deadJob(w), reason: 'checked' }),
  },
  'sync.rePushOrder': {
    kind: 'global',
    perms: ['sync.manage'],
    call: async (w, actor) => {
      const order = await w.oms.orders.create({
        actor: actors.manager,
        channel: 'kiosk',
        flow: 'pickup',
        storeId: w.stores[OWN_STORE] as string,
        currency: 'USD',
        lines: [{ itemId: w.item, quantity: 1, unitPriceMinor: 100 }],
      })
      return w.oms.sync.rePushOrder({ actor, orderId: order.id })
    },
  },
  'sync.requestPull': {
    kind: 'global',
    perms: ['sync.manage'],
    call: (w, actor) => w.oms.sync.requestPull({ actor, kind: 'pull_inventory_full' }),
  },
  'sync.health': {
    kind: 'global',
    perms: ['sync.manage'],
    call: (w, actor) => w.oms.sync.health({ actor }),
  },
  'history.search': {
    kind: 'list',
    perms: ['history.view'],
    visible: async (w, actor, orders) => {
      const ids = new Set(orders.map((o) => o.order.id))
      const { entries } = await w.oms.history.search({ actor, actions: ['created'], limit: 1000 })
      return entries.flatMap((h) => (h.orderId && ids.has(h.orderId) ? [h.orderId] : [])).sort()
    },
    expected: (actor, orders) => ordersVisible(orders, actor, 'history.view').sort(),
  },
  'history.record': {
    kind: 'order',
    perms: ['history.write'],
    state: 'payment_pending',
    mutates: false,
    call: (oms, actor, a) =>
      oms.history.record({
        actor,
        orderId: orderId(a),
        action: 'edited',
        description: 'changed by the host',
      }),
  },
  'dashboard.summary': {
    kind: 'list',
    perms: ['dashboard.view'],
    // the orders it counts are those of the stores the caller reaches
    visible: async (w, actor) => [
      String(
        (
          await w.oms.dashboard.summary({
            actor,
            from: '2026-11-01T00:00:00Z',
            to: '2026-12-01T00:00:00Z',
          })
        ).orders,
      ),
    ],
    expected: (actor, orders) => [String(ordersVisible(orders, actor, 'dashboard.view').length)],
  },
}

/** A dead sync job of its own, for the operator's methods. */
async function deadJob(w: World): Promise<string> {
  const id = uid('job')
  const now = new Date('2026-01-01T00:00:00.000Z')
  await w.storage.transaction(async (tx) => {
    await tx.syncJobs.enqueue([
      { id, pos: 'matrix', kind: 'pull_products', entityId: id, storeId: null, createdAt: now },
    ])
    await tx.syncJobs.update(id, ['pending'], { status: 'dead', updatedAt: now, finishedAt: now })
  })
  return id
}

/**
 * Services of `createOms` whose methods take an actor; `events` (the host's relay) takes none, and neither
 * does the worker loop of `sync` (inherited from `SyncWorker`, so not among its own methods).
 */
export const ACTOR_SERVICES = [
  'orders',
  'reservations',
  'inventory',
  'transfers',
  'counts',
  'notes',
  'fulfillments',
  'history',
  'sync',
  'dashboard',
  'payments',
] as const

async function outcome(run: () => Promise<unknown>): Promise<Outcome | string> {
  try {
    await run()
    return 'OK'
  } catch (error) {
    if (isOmsError(error)) return error.code
    throw error
  }
}

/**
 * Access as an enumerated matrix: every public method × every kind of caller (each role, unscoped and
 * limited to one store, a customer, mixed roles, no store at all) × every target (own and other store ×
 * own and other customer, and a target that does not exist), each outcome decided by the table above.
 */
export const accessMatrixSuite: Suite = (target) =>
  describe('access matrix', () => {
    const storage = useStorage(target)

    test('lists every public method of every service', async () => {
      const oms = createOms({ storage: storage() })
      const methods = ACTOR_SERVICES.flatMap((service) =>
        Object.getOwnPropertyNames(Object.getPrototypeOf(oms[service]))
          .filter((name) => name !== 'constructor')
          .map((name) => `${service}.${name}`),
      )
      const listed = new Set(Object.keys(ACCESS_MATRIX).map((key) => key.split(' ')[0]))
      expect(methods.filter((m) => !listed.has(m))).toEqual([])
      expect([...listed].filter((m) => !methods.includes(m as string))).toEqual([])
    })

    for (const [name, spec] of Object.entries(ACCESS_MATRIX)) {
      test(name, async () => {
        const w = await world(storage())
        const cells: string[] = []
        const check = (who: string, where: string, got: string, want: string) => {
          if (got !== want) cells.push(`${who} on ${where}: got ${got}, expected ${want}`)
        }
        if (spec.kind === 'order') {
          const targets = new Map<Target, Arranged>()
          for (const t of ORDER_TARGETS) targets.set(t, await arrange(w, t, spec.state))
          for (const [who, actor] of ACTORS) {
            for (const t of ORDER_TARGETS) {
              const got = await outcome(() => spec.call(w.oms, inWorld(w, actor), targets.get(t) as Arranged))
              check(who, `${t.storeId}/${t.customerId}`, got, expectedFor(actor, spec.perms, t))
              // a success changed the target: the next caller gets a fresh one
              if (got === 'OK' && spec.mutates) targets.set(t, await arrange(w, t, spec.state))
            }
            const got = await outcome(() => spec.call(w.oms, inWorld(w, actor), null))
            check(
              who,
              'a missing target',
              got,
              expectedFor(actor, spec.perms, { storeId: '', customerId: '', missing: true }),
            )
          }
        } else if (spec.kind === 'location') {
          for (const [who, actor] of ACTORS) {
            for (const store of [OWN_STORE, OTHER_STORE]) {
              const got = await outcome(() =>
                spec.call(w, inWorld(w, actor), w.floors[store] as string, w.stores[store] as string),
              )
              check(who, store, got, expectedFor(actor, spec.perms, { storeId: store, customerId: '' }))
            }
            const got = await outcome(() =>
              spec.call(w, inWorld(w, actor), `${MISSING}-location`, w.stores[OWN_STORE] as string),
            )
            const want = spec.missing
              ? spec.missing(actor)
              : expectedFor(actor, spec.perms, { storeId: '', customerId: '', missing: true })
            check(who, 'a missing location', got, want)
          }
        } else if (spec.kind === 'global') {
          for (const [who, actor] of ACTORS) {
            check(
              who,
              'everything',
              await outcome(() => spec.call(w, inWorld(w, actor))),
              expectedFor(actor, spec.perms, null),
            )
          }
        } else if (spec.kind === 'create') {
          for (const [who, actor] of ACTORS) {
            for (const t of ORDER_TARGETS) {
              // staff create in the stores they reach, for anyone; a customer creates its own orders
              const allowed =
                reaches(actor, 'order.create', { storeId: t.storeId }) ||
                (grants(actor, 'order.create').includes('customer') && actor.customerId === t.customerId)
              check(
                who,
                `${t.storeId}/${t.customerId}`,
                await outcome(() => spec.call(w, inWorld(w, actor), t)),
                allowed ? 'OK' : 'FORBIDDEN',
              )
            }
          }
        } else {
          const orders: Array<{ target: Target; order: Order }> = []
          for (const t of ORDER_TARGETS)
            orders.push({ target: t, order: (await arrange(w, t, 'payment_pending')).order })
          // distinct availability per floor, so a sum shows which floors it counted
          await w.oms.inventory.adjust({
            actor: actors.manager,
            itemId: w.item,
            locationId: w.floors[OTHER_STORE] as string,
            delta: 5000,
            reason: 'adjust_correction',
          })
          for (const [who, actor] of ACTORS) {
            const may = spec.perms.some((p) => grants(actor, p).length > 0)
            const real = inWorld(w, actor)
            let got: string
            try {
              got = JSON.stringify(await spec.visible(w, real, orders))
            } catch (error) {
              if (!isOmsError(error)) throw error
              got = error.code
            }
            let want: string
            if (!may) want = 'FORBIDDEN'
            else if (name === 'inventory.availableAcross') {
              // 10,000 on each floor, 5,000 more on the other; two orders of 3 hold on each
              const per: Record<string, number> = { [OWN_STORE]: 10_000 - 6, [OTHER_STORE]: 15_000 - 6 }
              const sum = [OWN_STORE, OTHER_STORE]
                .filter((s) => reaches(actor, 'inventory.view', { storeId: s }))
                .reduce((acc, s) => acc + (per[s] as number), 0)
              want = JSON.stringify([String(sum)])
            } else want = JSON.stringify(spec.expected(actor, orders, w))
            check(who, 'the list', got, want)
          }
        }
        expect(cells).toEqual([])
      }, 120_000)
    }
  })
