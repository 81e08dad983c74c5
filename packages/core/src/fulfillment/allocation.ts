import type { LocationKind, OrderFlow } from '../domain/enums'
import { availableOf, type Location } from '../domain/schemas'
import { InsufficientStockError, type StockShortfall, ValidationError } from '../errors/oms-error'
import { giveBack, type HoldRequest } from '../inventory/holds'
import type { StorageTx } from '../ports/storage'

/** One (item, location) an order could be held at, with what is available there now (never below 0). */
export interface AllocationCandidate {
  itemId: string
  locationId: string
  storeId: string
  kind: LocationKind
  available: number
}

/** What to allocate: the order's lines, where it would rather be held, and every candidate row. */
export interface AllocationRequest {
  storeId: string
  /** A pickup order is collected at its store; a delivery order can ship from anywhere. */
  flow: OrderFlow
  /** The store's default location (its sales floor, say): what an order is held at when it all fits there. */
  preferredLocationId: string
  lines: ReadonlyArray<{ orderLineId: string; itemId: string; quantity: number }>
  candidates: readonly AllocationCandidate[]
}

/** One part of a line, held at one location. */
export interface Allocation {
  orderLineId: string
  itemId: string
  locationId: string
  quantity: number
}

/**
 * Decides where an order's lines are held. A line may be split over several locations. Return null when
 * the order cannot be held in full (the order is then refused with INSUFFICIENT_STOCK); never more at a
 * row than its candidate has available. Runs inside the order's transaction: keep it pure and quick.
 */
export interface AllocationStrategy {
  allocate(request: AllocationRequest): Allocation[] | null
}

/**
 * The default: everything at one location when one has it all (the preferred location, then the order's
 * store, then the most stock); otherwise the preferred location first, then the order's store's other
 * locations, then (delivery orders only) other stores', each time the location that covers most of what is
 * still missing (fewest locations), then the one with the most stock. A pickup order is held only in its
 * own store: the customer collects it there.
 */
export const defaultAllocationStrategy: AllocationStrategy = {
  allocate({ storeId, flow, preferredLocationId, lines, candidates: all }) {
    const candidates = flow === 'pickup' ? all.filter((c) => c.storeId === storeId) : all
    const tier = (locationId: string, store: string) =>
      locationId === preferredLocationId ? 0 : store === storeId ? 1 : 2
    const locations = new Map<string, { tier: number; stock: Map<string, number>; total: number }>()
    for (const c of candidates) {
      const loc = locations.get(c.locationId) ?? {
        tier: tier(c.locationId, c.storeId),
        stock: new Map(),
        total: 0,
      }
      loc.stock.set(c.itemId, (loc.stock.get(c.itemId) ?? 0) + Math.max(0, c.available))
      loc.total += Math.max(0, c.available)
      locations.set(c.locationId, loc)
    }
    const need = new Map<string, number>()
    for (const l of lines) need.set(l.itemId, (need.get(l.itemId) ?? 0) + l.quantity)
    const covers = (stock: Map<string, number>) =>
      [...need].reduce((sum, [itemId, q]) => sum + Math.min(q, stock.get(itemId) ?? 0), 0)
    const wanted = [...need.values()].reduce((a, b) => a + b, 0)
    const rank = [...locations].sort(
      ([a, x], [b, y]) => x.tier - y.tier || y.total - x.total || (a < b ? -1 : a > b ? 1 : 0),
    )
    // One location with everything.
    const whole = rank.find(([, loc]) => covers(loc.stock) === wanted)
    const taken = new Map<string, Map<string, number>>() // itemId → locationId → quantity
    if (whole) {
      for (const [itemId, q] of need) taken.set(itemId, new Map([[whole[0], q]]))
    } else {
      const left = new Map(need)
      const pool = [...rank]
      while ([...left.values()].some((q) => q > 0)) {
        const helps = (stock: Map<string, number>) =>
          [...left].reduce((sum, [itemId, q]) => sum + Math.min(q, stock.get(itemId) ?? 0), 0)
        const best = pool
          .filter(([, loc]) => helps(loc.stock) > 0)
          .sort(([, x], [, y]) => x.tier - y.tier || helps(y.stock) - helps(x.stock) || y.total - x.total)[0]
        if (!best) return null
        pool.splice(pool.indexOf(best), 1)
        for (const [itemId, q] of left) {
          const part = Math.min(q, best[1].stock.get(itemId) ?? 0)
          if (part <= 0) continue
          const at = taken.get(itemId) ?? new Map<string, number>()
          at.set(best[0], part)
          taken.set(itemId, at)
          left.set(itemId, q - part)
        }
      }
    }
    // Hand each item's parts to its lines in order.
    const result: Allocation[] = []
    for (const line of lines) {
      let q = line.quantity
      for (const [locationId, avail] of taken.get(line.itemId) ?? []) {
        if (q === 0) break
        const part = Math.min(q, avail)
        if (part === 0) continue
        result.push({ orderLineId: line.orderLineId, itemId: line.itemId, locationId, quantity: part })
        taken.get(line.itemId)?.set(locationId, avail - part)
        q -= part
      }
    }
    return result
  },
}

interface AllocatedLine {
  orderLineId: string
  itemId: string
  quantity: number
  lineIndex: number
  sku: string | null
}

/**
 * Where an order's lines are held. At `preferred` when it has everything (the one location an order was
 * always held at; the hold writes themselves release expired holds in the way); otherwise due holds on
 * the candidate rows are expired first, so availability is what it really is, and `strategy` decides.
 * A plan the strategy cannot make (or one that does not add up) is INSUFFICIENT_STOCK / VALIDATION; the
 * holds are then taken as always (one conditional write per row, all or nothing).
 */
export async function allocate(
  tx: StorageTx,
  now: Date,
  strategy: AllocationStrategy,
  order: { storeId: string; flow: OrderFlow; preferred: Location },
  lines: readonly AllocatedLine[],
  locationsOf: (ids: readonly string[]) => Promise<Location[]>,
): Promise<HoldRequest[]> {
  const at = (locationId: string) => lines.map((l) => ({ ...l, locationId }))
  const itemIds = [...new Set(lines.map((l) => l.itemId))]
  const need = new Map<string, number>()
  for (const l of lines) need.set(l.itemId, (need.get(l.itemId) ?? 0) + l.quantity)
  const preferredId = order.preferred.id
  let levels = await tx.inventory.listLevels({ itemIds })
  const fitsPreferred = () =>
    [...need].every(([itemId, q]) => {
      const level = levels.find((l) => l.itemId === itemId && l.locationId === preferredId)
      return level !== undefined && availableOf(level) >= q
    })
  if (fitsPreferred()) return at(preferredId)
  // Expired holds still counted in `reserved` would hide stock: release them on these rows first.
  let freed = false
  for (const level of levels.filter((l) => l.reserved > 0)) {
    const expired = await tx.reservations.expireDue(now, Number.MAX_SAFE_INTEGER, level)
    if (expired.length) {
      await giveBack(tx, now, expired)
      freed = true
    }
  }
  if (freed) levels = await tx.inventory.listLevels({ itemIds })
  if (fitsPreferred()) return at(preferredId)
  const locations = new Map(
    (await locationsOf([...new Set(levels.map((l) => l.locationId))])).map((l) => [l.id, l]),
  )
  const candidates: AllocationCandidate[] = levels.flatMap((l) => {
    const loc = locations.get(l.locationId)
    return loc
      ? [
          {
            itemId: l.itemId,
            locationId: l.locationId,
            storeId: loc.storeId,
            kind: loc.kind,
            available: availableOf(l),
          },
        ]
      : []
  })
  const plan = strategy.allocate({
    storeId: order.storeId,
    flow: order.flow,
    preferredLocationId: preferredId,
    lines: lines.map(({ orderLineId, itemId, quantity }) => ({ orderLineId, itemId, quantity })),
    candidates,
  })
  if (!plan) {
    const short = (all: boolean) =>
      [...need].flatMap(([itemId, q]): StockShortfall[] => {
        // what the order could have been held at (a pickup order: its own store)
        const available = candidates
          .filter((c) => c.itemId === itemId && (order.flow !== 'pickup' || c.storeId === order.storeId))
          .reduce((s, c) => s + c.available, 0)
        if (available >= q && !all) return []
        const asking = lines.filter((l) => l.itemId === itemId)
        return [
          {
            itemId,
            locationId: preferredId,
            sku: asking.find((l) => l.sku)?.sku ?? null,
            requested: q,
            available,
            lineIndexes: asking.map((l) => l.lineIndex),
          },
        ]
      })
    // Enough of every item in total, yet the strategy found no plan: name every item.
    const [first, ...rest] = short(false).length ? short(false) : short(true)
    if (first) throw new InsufficientStockError([first, ...rest])
  }
  return checkPlan(plan ?? [], lines, candidates)
}

/** A host strategy's plan must cover each line exactly, at candidate rows, in whole positive units. */
function checkPlan(
  plan: readonly Allocation[],
  lines: readonly AllocatedLine[],
  candidates: readonly AllocationCandidate[],
): HoldRequest[] {
  const rows = new Set(candidates.map((c) => `${c.itemId}\u001f${c.locationId}`))
  const problems: Array<{ path: string; message: string }> = []
  const requests: HoldRequest[] = []
  for (const line of lines) {
    const parts = plan.filter((p) => p.orderLineId === line.orderLineId)
    const sum = parts.reduce((s, p) => s + p.quantity, 0)
    if (sum !== line.quantity)
      problems.push({ path: `lines.${line.lineIndex}`, message: `allocated ${sum} of ${line.quantity}` })
    for (const p of parts) {
      if (!Number.isSafeInteger(p.quantity) || p.quantity <= 0 || p.itemId !== line.itemId)
        problems.push({
          path: `lines.${line.lineIndex}`,
          message: 'allocation part is not a positive quantity of the line item',
        })
      else if (!rows.has(`${p.itemId}\u001f${p.locationId}`))
        problems.push({
          path: `lines.${line.lineIndex}`,
          message: `location ${p.locationId} is not a candidate`,
        })
      else requests.push({ ...line, locationId: p.locationId, quantity: p.quantity })
    }
  }
  if (problems.length) throw new ValidationError('allocation', problems)
  return requests
}
