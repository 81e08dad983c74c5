import type { Role } from '../domain/enums'
import type { Actor, Order } from '../domain/schemas'
import { ForbiddenError } from '../errors/oms-error'

/** What an actor may do. Store scoping and customer ownership are checked on top (see `AccessPolicy`). */
export const PERMISSIONS = [
  'order.view',
  'order.create',
  /** Operational transitions: processing, packing, shipping, pickup. */
  'order.fulfil',
  'order.cancel',
  /** payment.* events: normally the payment webhook (the `system` role). */
  'order.payment',
  'order.return',
  'order.refund',
  'note.view_internal',
  'note.write',
  'note.manage',
  'history.view',
  'inventory.view',
  'inventory.write',
  'reservation.manage',
  'fulfillment.manage',
  'sync.manage',
] as const
export type Permission = (typeof PERMISSIONS)[number]

const ALL = new Set<Permission>(PERMISSIONS)

/** Default permissions per role (see "Access" in docs/ARCHITECTURE.md). */
export const DEFAULT_ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  system_admin: ALL,
  system: ALL,
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
}

/** Which permission an order event needs. Host events default to `order.fulfil`. */
export function permissionForEvent(type: string): Permission {
  if (type === 'order.cancel' || type === 'order.no_show') return 'order.cancel'
  if (type.startsWith('payment.') || type === 'order.confirm') return 'order.payment'
  if (type === 'return.request') return 'order.return'
  if (type.startsWith('return.') || type.startsWith('refund.')) return 'order.refund'
  if (type === 'order.checkout' || type === 'reservation.expired') return 'reservation.manage'
  return 'order.fulfil'
}

/**
 * Decides what an actor may do. Roles grant permissions; `storeIds` limits staff to their stores;
 * the `customer` role reaches only orders whose `customerId` is its own.
 */
export class AccessPolicy {
  readonly #roles: Readonly<Record<Role, ReadonlySet<Permission>>>

  constructor(roles: Partial<Record<Role, Iterable<Permission>>> = {}) {
    const merged = { ...DEFAULT_ROLE_PERMISSIONS } as Record<Role, ReadonlySet<Permission>>
    for (const [role, perms] of Object.entries(roles) as Array<[Role, Iterable<Permission>]>)
      merged[role] = new Set(perms)
    this.#roles = merged
  }

  has(actor: Actor, permission: Permission): boolean {
    return actor.roles.some((role) => this.#roles[role]?.has(permission))
  }

  /** True when the actor sees only its own orders (the `customer` role and nothing broader). */
  isCustomerOnly(actor: Actor): boolean {
    return actor.roles.every((r) => r === 'customer')
  }

  /** True when the actor's reach is limited (customer, or staff with `storeIds`). */
  isScoped(actor: Actor): boolean {
    return this.isCustomerOnly(actor) || actor.storeIds !== undefined
  }

  canReachStore(actor: Actor, storeId: string): boolean {
    return actor.storeIds === undefined || actor.storeIds.includes(storeId)
  }

  canReachOrder(actor: Actor, order: Pick<Order, 'storeId' | 'customerId'>): boolean {
    if (this.isCustomerOnly(actor))
      return actor.customerId !== undefined && order.customerId === actor.customerId
    return this.canReachStore(actor, order.storeId)
  }

  /** Throws FORBIDDEN unless the actor has `permission`. */
  require(actor: Actor, permission: Permission, action: string = permission): void {
    if (!this.has(actor, permission)) throw new ForbiddenError(action, { permission })
  }

  /**
   * Throws FORBIDDEN unless the actor has `permission` on this order. The error says nothing about the
   * order (not its status, store or customer), so it reveals nothing outside the actor's reach.
   */
  requireOrder(
    actor: Actor,
    permission: Permission,
    order: Pick<Order, 'id' | 'storeId' | 'customerId'>,
  ): void {
    if (!this.has(actor, permission) || !this.canReachOrder(actor, order)) {
      throw new ForbiddenError(`${permission} on order ${order.id}`)
    }
  }
}
