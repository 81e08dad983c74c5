import type { Order, Reservation } from '../domain/schemas'
import { reconcile } from '../inventory/inventory-service'
import type { OrderMachine } from '../order/order-machine'
import type { Storage, StorageTx } from '../ports/storage'

/**
 * Checks the storage invariants I1–I7 on everything in the storage and returns every violation (empty when healthy):
 * I1 no negative figures; I2 reserved = what active holds hold; I3 on-hand = sum of movements (both via
 * reconcile, zero drift); I4 every status is a machine state and the history chain of every order
 * leads, one entry per change, to its status; I7 every outbox event belongs to something that exists.
 */
export async function checkInvariants(
  storage: Storage,
  machines: Record<'delivery' | 'pickup', OrderMachine>,
  now: Date,
  scope: { orderIds?: readonly string[] } = {},
): Promise<string[]> {
  return storage.transaction(
    async (tx) => {
      const problems: string[] = []
      const { drifts } = await reconcile(tx, false, now)
      for (const d of drifts)
        problems.push(
          `drift ${d.field} of ${d.itemId}@${d.locationId}: stored ${d.stored}, ledger/holds say ${d.expected}`,
        )
      for (const l of await tx.inventory.listLevels()) {
        for (const f of ['onHand', 'reserved', 'damaged', 'quarantine', 'incoming', 'safetyStock'] as const) {
          if (l[f] < 0) problems.push(`I1 ${f} of ${l.itemId}@${l.locationId} is negative (${l[f]})`)
        }
      }
      const orders = scope.orderIds ? await tx.orders.getMany(scope.orderIds) : await tx.orders.list({})
      const orderIds = new Set(
        scope.orderIds ? (await tx.orders.list({})).map((o) => o.id) : orders.map((o) => o.id),
      )
      for (const order of orders) {
        if (!machines[order.flow].isState(order.status))
          problems.push(`I4 order ${order.id} has unknown status ${order.status}`)
        const chain = (await tx.history.list({ orderId: order.id })).filter(
          (h) => h.newStatus !== null && h.entityType === 'order',
        )
        // creation writes two entries (null → pending, pending → payment_pending) at version 1
        if (chain.length !== order.version + 1) {
          problems.push(`I4 order ${order.id}: ${chain.length} status entries for version ${order.version}`)
        }
        let status: string | null = null
        for (const h of chain) {
          if (h.oldStatus !== status)
            problems.push(`I4 order ${order.id}: history jumps from ${status} to ${h.oldStatus}`)
          status = h.newStatus
        }
        if (status !== order.status)
          problems.push(`I4 order ${order.id}: history ends at ${status}, order is ${order.status}`)
        const holds = await tx.reservations.listByOrder(order.id)
        for (const r of holds) checkHold(order, r, problems)
        if (closedStatuses(machines[order.flow]).has(order.status)) {
          for (const r of holds.filter((h) => h.status === 'active'))
            problems.push(`order ${order.id} is ${order.status} but hold ${r.id} is still active`)
        }
        if (order.status === 'cancelled') {
          for (const r of holds.filter((h) => h.quantityFulfilled > 0))
            problems.push(`order ${order.id} is cancelled but hold ${r.id} sold ${r.quantityFulfilled}`)
        }
      }
      for (const e of await tx.outbox.list({})) {
        if (e.type.startsWith('order.') && !orderIds.has(e.aggregateId))
          problems.push(`I7 outbox ${e.type} for missing order ${e.aggregateId}`)
        const [kind, id] = e.aggregateId.split(':') as [string, string]
        if (kind === 'transfer' && !(await tx.transfers.get(id)))
          problems.push(`I7 outbox ${e.type} for missing transfer ${id}`)
        if (kind === 'count' && !(await tx.counts.get(id)))
          problems.push(`I7 outbox ${e.type} for missing count ${id}`)
      }
      problems.push(...(await packageProblems(tx)))
      return problems
    },
    { readOnly: true },
  )
}

/**
 * Per-package stock: each package level equals the sum of the on-hand movements naming it, none is
 * negative, and the packages of an (item, location) never add up to more than its on-hand (the rest is
 * untagged stock).
 */
async function packageProblems(tx: StorageTx): Promise<string[]> {
  const problems: string[] = []
  const ledger = new Map<string, number>()
  for (const m of await tx.inventory.listMovements({})) {
    if (m.packageId === null || m.bucket !== 'on_hand') continue
    const key = `${m.itemId}@${m.locationId}#${m.packageId}`
    ledger.set(key, (ledger.get(key) ?? 0) + m.delta)
  }
  const perRow = new Map<string, number>()
  for (const p of await tx.inventory.listAllPackages()) {
    const key = `${p.itemId}@${p.locationId}#${p.packageId}`
    if (p.onHand < 0) problems.push(`package ${key} is negative (${p.onHand})`)
    if ((ledger.get(key) ?? 0) !== p.onHand)
      problems.push(`package ${key}: stored ${p.onHand}, ledger says ${ledger.get(key) ?? 0}`)
    ledger.delete(key)
    perRow.set(`${p.itemId}@${p.locationId}`, (perRow.get(`${p.itemId}@${p.locationId}`) ?? 0) + p.onHand)
  }
  for (const [key, total] of ledger)
    if (total !== 0) problems.push(`package ${key}: no level, ledger says ${total}`)
  for (const l of await tx.inventory.listLevels()) {
    const tagged = perRow.get(`${l.itemId}@${l.locationId}`) ?? 0
    if (tagged > l.onHand)
      problems.push(`packages of ${l.itemId}@${l.locationId} hold ${tagged}, more than on-hand ${l.onHand}`)
  }
  return problems
}

const closed = new WeakMap<OrderMachine, ReadonlySet<string>>()

/**
 * Statuses in which an order holds nothing any more: the targets of transitions that commit or release
 * its holds, and every status reachable from them.
 */
function closedStatuses(machine: OrderMachine): ReadonlySet<string> {
  const known = closed.get(machine)
  if (known) return known
  const edges = Object.entries(machine.definition.states).flatMap(([from, state]) =>
    Object.values(state.on ?? {}).flatMap((value) =>
      (Array.isArray(value) ? value : [value]).map((t: { target: string; actions?: readonly string[] }) => ({
        from,
        target: t.target,
        actions: t.actions ?? [],
      })),
    ),
  )
  const result = new Set(
    edges
      .filter((e) => e.actions.includes('commitHolds') || e.actions.includes('releaseHolds'))
      .map((e) => e.target),
  )
  for (let grew = true; grew; ) {
    grew = false
    for (const e of edges)
      if (result.has(e.from) && !result.has(e.target)) {
        result.add(e.target)
        grew = true
      }
  }
  closed.set(machine, result)
  return result
}

function checkHold(order: Order, r: Reservation, problems: string[]): void {
  const remaining = r.quantityReserved - r.quantityFulfilled - r.quantityReleased
  if (remaining < 0) problems.push(`hold ${r.id} of order ${order.id} has negative remaining ${remaining}`)
  if (r.status === 'active' && remaining === 0) problems.push(`hold ${r.id} is active with nothing left`)
  if (r.status !== 'active' && remaining !== 0) {
    problems.push(`hold ${r.id} is ${r.status} but still holds ${remaining}`)
  }
}

/** Everything a test can see in a storage, for "wrote nothing" comparisons. */
export async function snapshotStorage(storage: Storage): Promise<string> {
  return storage.transaction(
    async (tx) => {
      const orders = await tx.orders.list({})
      const holds: Reservation[] = []
      const notes = []
      for (const o of orders) {
        holds.push(...(await tx.reservations.listByOrder(o.id)))
        notes.push(...(await tx.notes.listByOrder(o.id, { includeInternal: true })))
      }
      const sort = <T extends { id: string }>(rows: T[]) => [...rows].sort((a, b) => a.id.localeCompare(b.id))
      return JSON.stringify({
        orders: sort(orders),
        holds: sort(holds),
        notes: sort(notes),
        levels: (await tx.inventory.listLevels()).sort((a, b) =>
          `${a.itemId}${a.locationId}`.localeCompare(`${b.itemId}${b.locationId}`),
        ),
        movements: sort(await tx.inventory.listMovements({})),
        history: sort(await tx.history.list({})),
        outbox: (await tx.outbox.list({})).map((e) => e.id).sort(),
        transfers: sort(await tx.transfers.list({})),
        packages: (await tx.inventory.listAllPackages())
          .map((p) => `${p.itemId}@${p.locationId}#${p.packageId}=${p.onHand}`)
          .sort(),
      })
    },
    { readOnly: true },
  )
}
