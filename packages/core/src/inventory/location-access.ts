import type { Permission } from '../access/access-policy'
import type { Actor, Location } from '../domain/schemas'
import { ForbiddenError } from '../errors/oms-error'
import type { StorageTx } from '../ports/storage'
import type { OmsContext } from '../services/oms-context'

/**
 * A location the actor holds `permission` at (its store in reach). Missing and out of reach answer alike
 * for a limited actor, so nothing is learnt about locations of other stores.
 */
export async function requireLocation(
  ctx: OmsContext,
  tx: StorageTx,
  actor: Actor,
  locationId: string,
  permission: Permission = 'inventory.write',
): Promise<Location> {
  const access = ctx.access
  const location = await tx.locations.get(locationId)
  if (!location) return access.missing(actor, permission, 'location', locationId)
  if (!access.canReachStore(actor, permission, location.storeId))
    throw access.denied(permission, 'location', locationId)
  return location
}

/**
 * The stores `inventory.view` reaches for this actor, as a list filter: `{}` for every store,
 * `{ storeIds }` for some. FORBIDDEN without the permission.
 */
export function viewReach(ctx: OmsContext, actor: Actor, what: string): { storeIds?: readonly string[] } {
  const reach = ctx.access.reach(actor, 'inventory.view')
  if (!reach) throw new ForbiddenError(`view ${what}`, { permission: 'inventory.view' })
  return reach.all ? {} : { storeIds: reach.storeIds }
}
