import { type CreateOmsOptions, createOms, type Oms } from '../create-oms'
import type { CallerActor, Order } from '../domain/schemas'
import type { Storage } from '../ports/storage'
import { createFakeClock, type FakeClock } from './fake-clock'

let counter = 0
/** A unique id prefix so tests never collide, even on a shared database. */
export const uid = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`

/** Actors for tests, one per role a caller may hold. */
/** The events of the detailed return process, from the customer's request up to the quality check. */
export const RETURN_TO_QUALITY_CHECK = [
  'return.request',
  'return.approve',
  'return.ship_back',
  'return.receive',
  'return.inspect',
] as const

export const actors = {
  manager: { id: 'manager-1', roles: ['order_manager'] } satisfies CallerActor,
  /** The payment webhook: confirms and fails payments. */
  payments: { id: 'payment-webhook', roles: ['payment_service'] } satisfies CallerActor,
  warehouse: { id: 'picker-1', roles: ['warehouse_staff'] } satisfies CallerActor,
  service: { id: 'cs-1', roles: ['customer_service'] } satisfies CallerActor,
  customer: (customerId: string): CallerActor => ({
    id: `user-${customerId}`,
    roles: ['customer'],
    customerId,
  }),
  storeManager: (storeIds: string[]): CallerActor => ({
    id: `sm-${storeIds.join('-')}`,
    roles: ['store_manager'],
    storeIds,
  }),
}

export interface World {
  oms: Oms
  clock: FakeClock
  storage: Storage
  storeId: string
  locationId: string
  /** A second location of the same store. */
  backroomId: string
  /** Item ids by the names given to `createWorld`. */
  items: Record<string, string>
}

/**
 * A store with a sales floor and a back room, items with stock on the sales floor, on a fresh Oms with a
 * fake clock. Every id is unique to this call.
 */
export async function createWorld(
  storage: Storage,
  stock: Record<string, number> = { flower: 10 },
  options: Partial<Omit<CreateOmsOptions, 'storage' | 'clock'>> & { clock?: FakeClock } = {},
): Promise<World> {
  const { clock = createFakeClock(), ...rest } = options
  const oms = createOms({ storage, clock, ...rest })
  const storeId = uid('store')
  const locationId = uid('floor')
  const backroomId = uid('back')
  const a = actors.manager
  await oms.inventory.defineLocation({
    actor: a,
    location: { id: locationId, storeId, name: 'Sales floor', kind: 'sales_floor' },
  })
  await oms.inventory.defineLocation({
    actor: a,
    location: { id: backroomId, storeId, name: 'Back room', kind: 'vault' },
  })
  const items: Record<string, string> = {}
  for (const [name, quantity] of Object.entries(stock)) {
    const id = uid(name)
    items[name] = id
    await oms.inventory.defineItem({ actor: a, item: { id, sku: id.toUpperCase(), name, unit: 'each' } })
    if (quantity > 0) await oms.inventory.receive({ actor: a, itemId: id, locationId, quantity })
  }
  return { oms, clock, storage, storeId, locationId, backroomId, items }
}

/** A kiosk (pickup) order of `quantity` of each item given. */
export function placeOrder(
  world: World,
  lines: Record<string, number>,
  extra: {
    actor?: CallerActor
    flow?: 'pickup' | 'delivery'
    idempotencyKey?: string
    customerId?: string
    holdSeconds?: number
  } = {},
): Promise<Order> {
  return world.oms.orders.create({
    actor: extra.actor ?? actors.manager,
    channel: extra.flow === 'delivery' ? 'ecommerce' : 'kiosk',
    flow: extra.flow ?? 'pickup',
    storeId: world.storeId,
    currency: 'USD',
    ...(extra.customerId ? { customerId: extra.customerId } : {}),
    ...(extra.idempotencyKey ? { idempotencyKey: extra.idempotencyKey } : {}),
    ...(extra.holdSeconds ? { holdSeconds: extra.holdSeconds } : {}),
    lines: Object.entries(lines).map(([name, quantity]) => ({
      itemId: world.items[name] ?? name,
      quantity,
      unitPriceMinor: 1500,
    })),
  })
}
