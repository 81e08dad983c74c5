import type { Role } from '../domain/enums'
import type { ActingActor, Order } from '../domain/schemas'
import { ForbiddenError, NotFoundError } from '../errors/oms-error'

/** What an actor may do. Store scope and customer ownership are checked on top (see `AccessPolicy`). */
export const PERMISSIONS = [
  'order.view',
  'order.create',
  /** Changing an order's lines before it is processed (`orders.edit`). */
  'order.edit',
  /** Operational transitions: processing, packing, shipping, pickup, no-show. */
  'order.fulfil',
  'order.cancel',
  /** payment.* events: normally the payment webhook (the `payment_service` role). */
  'order.payment',
  'order.return',
  'order.refund',
  'note.view_internal',
  'note.write',
  'note.manage',
  'history.view',
  /** Writing a host's own audit rows (`history.record`). */
  'history.write',
  /** Dashboard figures and alerts over stores (`dashboard.summary`). */
  'dashboard.view',
  'inventory.view',
  'inventory.write',
  /** Items (the catalog is shared by every store): a global operation. */
  'catalog.write',
  'reservation.manage',
  /** The sweeper and reconciliation: global operations over every store. */
  'maintenance.run',
  'fulfillment.manage',
  'sync.manage',
  /** Retrying a payment operation the provider refused or that ran out of attempts (`payments.retry`). */
  'payment.manage',
] as const
export type Permission = (typeof PERMISSIONS)[number]

const ALL = new Set<Permission>(PERMISSIONS)

/**
 * Default permissions per role. A `customer` reaches only orders whose `customerId` is its own; every other
 * role reaches the stores in `actor.storeIds` (all stores when absent). `system` is the library's own actor
 * (the sweeper, the relay): callers cannot claim it.
 */
export const DEFAULT_ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  system: ALL,
  system_admin: ALL,
  order_manager: ALL,
  store_manager: ALL,
  warehouse_staff: new Set<Permission>([
    'order.view',
    'order.fulfil',
    'fulfillment.manage',
    'inventory.view',
  ]),
  customer_service: new Set<Permission>(['order.view', 'note.view_internal', 'note.write', 'history.view']),
  customer: new Set<Permission>(['order.view', 'order.create', 'order.cancel', 'order.return']),
  payment_service: new Set<Permission>(['order.view', 'order.payment']),
}

/** Which permission an order event needs. Host events default to `order.fulfil`. */
export function permissionForEvent(type: string): Permission {
  if (type === 'order.cancel') return 'order.cancel'
  if (type.startsWith('payment.') || type === 'order.confirm') return 'order.payment'
  if (type === 'return.request') return 'order.return'
  if (type.startsWith('return.') || type.startsWith('refund.')) return 'order.refund'
  if (type === 'order.checkout' || type === 'reservation.expired') return 'reservation.manage'
  return 'order.fulfil'
}

/**
 * Where a permission reaches for one actor: every store, some stores, and/or the orders of one customer.
 * With several roles, each role contributes the reach it has: a `customer` role its own orders, a staff
 * role the actor's stores (or all).
 */
export interface Reach {
  /** Every store (a staff role granting it, with no `storeIds`). */
  all: boolean
  /** The stores a staff role granting it reaches (empty when `all`). */
  storeIds: readonly string[]
  /** The customer whose orders a `customer` role granting it reaches, or null. */
  customerId: string | null
}

/**
 * Decides what an actor may do. Every permission is evaluated with the reach of the roles that grant it,
 * so an actor holding `customer` and a staff role gets the customer's reach only for what only the customer
 * role grants.
 */
export class AccessPolicy {
  readonly #roles: Readonly<Record<Role, ReadonlySet<Permission>>>

  constructor(roles: Partial<Record<Role, Iterable<Permission>>> = {}) {
    const merged = { ...DEFAULT_ROLE_PERMISSIONS } as Record<Role, ReadonlySet<Permission>>
    for (const [role, perms] of Object.entries(roles) as Array<[Role, Iterable<Permission>]>)
      merged[role] = new Set(perms)
    this.#roles = merged
  }

  has(actor: ActingActor, permission: Permission): boolean {
    return actor.roles.some((role) => this.#roles[role]?.has(permission))
  }

  /** Where `permission` reaches for this actor; null when no role of the actor grants it. */
  reach(actor: ActingActor, permission: Permission): Reach | null {
    const granting = actor.roles.filter((role) => this.#roles[role]?.has(permission))
    if (granting.length === 0) return null
    const staff = granting.some((role) => role !== 'customer')
    const all = staff && actor.storeIds === undefined
    return {
      all,
      storeIds: staff && !all ? [...new Set(actor.storeIds)] : [],
      customerId: granting.includes('customer') ? (actor.customerId ?? null) : null,
    }
  }

  /** True when `permission` does not reach everything for this actor: its misses must not reveal existence. */
  isLimited(actor: ActingActor, permission: Permission): boolean {
    return !this.reach(actor, permission)?.all
  }

  canReachStore(actor: ActingActor, permission: Permission, storeId: string): boolean {
    const reach = this.reach(actor, permission)
    return reach !== null && (reach.all || reach.storeIds.includes(storeId))
  }

  canReachOrder(
    actor: ActingActor,
    permission: Permission,
    order: Pick<Order, 'storeId' | 'customerId'>,
  ): boolean {
    const reach = this.reach(actor, permission)
    if (!reach) return false
    if (reach.all || reach.storeIds.includes(order.storeId)) return true
    return reach.customerId !== null && order.customerId === reach.customerId
  }

  /** Throws FORBIDDEN unless some role of the actor grants `permission`. */
  require(actor: ActingActor, permission: Permission, action: string = permission): void {
    if (!this.has(actor, permission)) throw new ForbiddenError(action, { permission })
  }

  /**
   * Throws FORBIDDEN unless `permission` reaches every store for this actor: operations over the whole
   * storage (the catalog, the sweeper, reconciliation, POS sync) are for unscoped staff only.
   */
  requireGlobal(actor: ActingActor, permission: Permission, action: string = permission): void {
    if (!this.reach(actor, permission)?.all) throw new ForbiddenError(action, { permission })
  }

  /**
   * Throws FORBIDDEN unless the actor has `permission` on this order. The error says nothing about the
   * order (not its status, store or customer), so it reveals nothing outside the actor's reach.
   */
  requireOrder(
    actor: ActingActor,
    permission: Permission,
    order: Pick<Order, 'id' | 'storeId' | 'customerId'>,
  ): void {
    if (!this.canReachOrder(actor, permission, order)) throw this.denied(permission, 'order', order.id)
  }

  /** Throws FORBIDDEN unless the actor has `permission` in this store. */
  requireStore(actor: ActingActor, permission: Permission, storeId: string, action: string): void {
    if (!this.canReachStore(actor, permission, storeId)) throw new ForbiddenError(action, { permission })
  }

  /**
   * The refusal for a target out of reach — and, for an actor whose reach is limited, for a target that
   * does not exist: the same error either way, so existence is never revealed. It names only what the
   * caller asked for (the permission, the kind of target and the id the caller gave).
   */
  denied(permission: Permission, entity: string, id: string): ForbiddenError {
    return new ForbiddenError(`${permission} on ${entity} ${id}`, { permission })
  }

  /** The error for a target that does not exist: `denied` for a limited actor, else NOT_FOUND. */
  missing(actor: ActingActor, permission: Permission, entity: string, id: string): never {
    if (this.isLimited(actor, permission)) throw this.denied(permission, entity, id)
    throw new NotFoundError(entity, id)
  }
}
