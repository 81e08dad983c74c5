import { spawn } from 'node:child_process'
import { createOms, type Oms } from '../create-oms'
import type { CallerActor, Fulfillment, Order, Reservation } from '../domain/schemas'
import { isOmsError, type OmsError } from '../errors/oms-error'
import type { Clock } from '../ports/clock'
import type { Storage } from '../ports/storage'
import { actors, uid } from './fixtures'
import { checkInvariants } from './invariants'

/**
 * The multi-process proof (the storage invariants under real concurrency): several OS processes, each with its own
 * connection pool, hammer a few items at one location with create (pickup and delivery) / confirm / cancel /
 * advance (sell) / expire / adjust / release / fulfil (scan, pack, then ship, hand over or cancel the
 * fulfillment) for a fixed number of seeded random operations, while the parent samples
 * consistent snapshots. Afterwards everything the workers were told succeeded must be in the database,
 * and nothing else; every invariant must hold; and no error other than an expected `OmsError` may have
 * reached a caller (a raw 40001 / 40P01 / SQLITE_BUSY is a failure).
 *
 * Nothing here imports vitest, so a worker process can load it directly.
 */

/** The store, location and hot items everything runs on. */
export interface HammerWorld {
  storeId: string
  locationId: string
  /** A second location of the store: transfers go there and come back. */
  backroomId: string
  itemIds: string[]
  /** Stock each item starts with. */
  stockPerItem: number
}

/** What one worker process is told (as JSON in `PEAK_OMS_HAMMER`). */
export interface HammerWorkerConfig {
  world: HammerWorld
  /** Backend-specific: a PostgreSQL schema, a SQLite file. */
  target: string
  worker: number
  seed: number
  /** Operations this worker performs in total. */
  ops: number
  /** Concurrent operation loops inside the worker (sharing its pool). */
  lanes: number
}

const OPS = [
  'create',
  'confirm',
  'cancel',
  'advance',
  'expire',
  'adjust',
  'release',
  'commit',
  'reconcile',
  'transfer',
  'count',
  'bulk',
  'fulfil',
] as const
type Op = (typeof OPS)[number]

/** Share of each operation, in percent. */
const WEIGHTS: Readonly<Record<Op, number>> = {
  create: 27,
  confirm: 12,
  cancel: 9,
  advance: 8,
  expire: 8,
  adjust: 5,
  release: 7,
  commit: 6,
  reconcile: 3,
  transfer: 4,
  count: 3,
  bulk: 2,
  fulfil: 6,
}

/**
 * The `OmsError` codes each operation may legitimately end with under contention: a definite answer about
 * the state the command met. Anything else (another code — `CONFLICT` included, since the library retries
 * its own lost compare-and-swaps —, a raw database error, any non-`OmsError`) fails the proof.
 */
const EXPECTED: Readonly<Record<Op, ReadonlySet<string>>> = {
  create: new Set(['INSUFFICIENT_STOCK']),
  confirm: new Set(['INVALID_TRANSITION', 'RESERVATION_EXPIRED']),
  cancel: new Set(['INVALID_TRANSITION']),
  advance: new Set(['INVALID_TRANSITION', 'RESERVATION_EXPIRED']),
  expire: new Set<string>(),
  adjust: new Set<string>(),
  release: new Set(['INVALID_TRANSITION']),
  commit: new Set(['INVALID_TRANSITION', 'RESERVATION_EXPIRED']),
  reconcile: new Set<string>(),
  transfer: new Set(['INSUFFICIENT_STOCK']),
  // Another worker's count of the same item is still open: a business answer, not a lost race.
  count: new Set(['CONFLICT']),
  bulk: new Set<string>(),
  // The order moved on (cancelled, expired, handed over directly) or someone else's fulfillment has it.
  fulfil: new Set(['INVALID_TRANSITION']),
}

/**
 * Orders in these statuses may carry sold units: a partial hand-over (a bag ready for pickup, a packed
 * order that ships), the pick-up, a shipment, or some of an order's fulfillments shipped.
 */
const MAY_HAVE_SOLD: ReadonlySet<string> = new Set([
  'ready_for_pickup',
  'picked_up',
  'completed',
  'packed',
  'partially_shipped',
  'shipped',
])
/** Orders in these statuses hold nothing any more. */
const HOLDS_NOTHING: ReadonlySet<string> = new Set(['cancelled', 'picked_up', 'completed', 'shipped'])
/** Share of the orders created for delivery (their fulfillments ship; the others' are handed over). */
const DELIVERY_PERCENT = 25

/** Short holds: this share of the orders holds for one second only, so the sweepers have work. */
const SHORT_HOLD_PERCENT = 30
/**
 * The sweepers run on a clock this far ahead of the real one (clock skew between instances), so every
 * one-second hold is already due to them: expiry is exercised without any waiting.
 */
const SWEEPER_SKEW_MS = 2000

/** One worker's account of what it did. */
export interface HammerReport {
  worker: number
  /** Outcome counts per operation: `OK`, `NOOP` (nothing to act on) or the `OmsError` code. */
  outcomes: Record<string, Record<string, number>>
  /** Units asked for by every create attempt, successful or not. */
  demand: number
  /** Successful creates: the order and the units it held. */
  created: Array<{ orderId: string; held: number }>
  /** Successful order events, in the order this worker saw them succeed. */
  transitions: Array<{ orderId: string; event: string }>
  /** Orders this worker put into fulfillments (their status follows the fulfillments' steps). */
  fulfilled: string[]
  /** Fulfillments this worker shipped or handed over, and cancelled. */
  fulfillments: { dispatched: number; cancelled: number }
  /** Units added by successful adjustments, per item. */
  adjusted: Record<string, number>
  /** Units given back by successful partial releases. */
  released: number
  /**
   * Per item, what the inventory operations moved on the sales floor: shipped to the back room, brought
   * back, corrected by approved counts, received by bulk updates.
   */
  moved: Record<string, { out: number; back: number; counted: number; bulk: number }>
  /** Sums of the sweeper results. */
  swept: { expiredHolds: number; ordersMoved: number; ordersSkipped: number }
  /** Errors no caller should ever see. */
  unexpected: string[]
  durationMs: number
}

/** Small, fast, seedable PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function describeError(error: unknown): string {
  if (isOmsError(error)) {
    const cause = (error as OmsError).cause
    return `${error.code}: ${error.message}${cause ? ` (cause: ${describeError(cause)})` : ''}`
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return `${error.name}${code ? ` [${String(code)}]` : ''}: ${error.message}`
  }
  return String(error)
}

/** Performs the worker's operations on its own Oms; never throws for an operation's failure. */
async function hammer(storage: Storage, config: HammerWorkerConfig): Promise<HammerReport> {
  const started = Date.now()
  const { world } = config
  const actor: CallerActor = actors.manager
  const oms = createOms({ storage })
  const skewed: Clock = { now: () => new Date(Date.now() + SWEEPER_SKEW_MS) }
  const sweeper = createOms({ storage, clock: skewed })
  const report: HammerReport = {
    worker: config.worker,
    outcomes: Object.fromEntries(OPS.map((op) => [op, {}])),
    demand: 0,
    created: [],
    transitions: [],
    fulfilled: [],
    fulfillments: { dispatched: 0, cancelled: 0 },
    adjusted: {},
    released: 0,
    moved: {},
    swept: { expiredHolds: 0, ordersMoved: 0, ordersSkipped: 0 },
    unexpected: [],
    durationMs: 0,
  }
  const moved = (itemId: string) => {
    report.moved[itemId] ??= { out: 0, back: 0, counted: 0, bulk: 0 }
    return report.moved[itemId]
  }
  const count = (op: Op, outcome: string) => {
    const byOutcome = report.outcomes[op] as Record<string, number>
    byOutcome[outcome] = (byOutcome[outcome] ?? 0) + 1
  }

  const lane = async (laneIndex: number, ops: number) => {
    const random = prng(config.seed * 7919 + config.worker * 131 + laneIndex)
    const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1))
    const pick = <T>(xs: readonly T[]): T | undefined => xs[Math.floor(random() * xs.length)]
    const chooseOp = (): Op => {
      let roll = random() * 100
      for (const op of OPS) {
        roll -= WEIGHTS[op]
        if (roll < 0) return op
      }
      return 'create'
    }
    /** A recent order in one of `statuses`, seen by any worker: contention on orders, not only on stock. */
    const recentOrder = async (statuses: string[]): Promise<Order | undefined> =>
      pick(await oms.orders.list({ actor, storeIds: [world.storeId], statuses, limit: 8 }))
    const event = async (order: Order, type: string) => {
      await oms.orders.send({ actor, orderId: order.id, type })
      report.transitions.push({ orderId: order.id, event: type })
    }

    const run: Record<Op, () => Promise<'OK' | 'NOOP'>> = {
      async create() {
        const items = [...world.itemIds]
        for (let i = items.length - 1; i > 0; i--) {
          const j = int(0, i)
          ;[items[i], items[j]] = [items[j] as string, items[i] as string]
        }
        items.length = Math.min(items.length, int(1, 3))
        const lines = items.map((itemId) => ({ itemId, quantity: int(1, 3), unitPriceMinor: 1000 }))
        const held = lines.reduce((s, l) => s + l.quantity, 0)
        report.demand += held
        const short = random() * 100 < SHORT_HOLD_PERCENT
        const delivery = random() * 100 < DELIVERY_PERCENT
        const order = await oms.orders.create({
          actor,
          channel: delivery ? 'ecommerce' : 'kiosk',
          flow: delivery ? 'delivery' : 'pickup',
          storeId: world.storeId,
          locationId: world.locationId,
          currency: 'USD',
          lines,
          ...(short ? { holdSeconds: 1 } : {}),
        })
        report.created.push({ orderId: order.id, held })
        return 'OK'
      },
      async confirm() {
        const order = await recentOrder(['payment_pending'])
        if (!order) return 'NOOP'
        await event(order, 'payment.succeeded')
        return 'OK'
      },
      async cancel() {
        const order = await recentOrder(['payment_pending', 'confirmed', 'processing', 'ready_for_pickup'])
        if (!order) return 'NOOP'
        await event(order, 'order.cancel')
        return 'OK'
      },
      async advance() {
        const order = await recentOrder(['confirmed', 'processing', 'ready_for_pickup'])
        if (!order) return 'NOOP'
        const next =
          order.status === 'confirmed'
            ? 'order.start_processing'
            : order.status === 'processing'
              ? 'order.ready'
              : random() < 0.85
                ? 'order.pick_up'
                : 'order.no_show'
        await event(order, next)
        return 'OK'
      },
      async expire() {
        const r = await sweeper.reservations.expireDue({})
        report.swept.expiredHolds += r.expiredHolds
        report.swept.ordersMoved += r.ordersMoved
        report.swept.ordersSkipped += r.ordersSkipped
        return 'OK'
      },
      async adjust() {
        // Positive deltas only (a count that found more): with on-hand only ever lowered by sales, which
        // lower reserved by the same amount, `reserved <= onHand` must hold at every moment. A negative
        // adjustment may legitimately take on-hand below reserved (a recorded shortage), which would
        // blur the property this proof is about.
        const itemId = pick(world.itemIds) as string
        const delta = int(1, 2)
        await oms.inventory.adjust({
          actor,
          itemId,
          locationId: world.locationId,
          delta,
          reason: 'adjust_correction',
        })
        report.adjusted[itemId] = (report.adjusted[itemId] ?? 0) + delta
        return 'OK'
      },
      async release() {
        // Any status: the library decides whether a partial release is allowed there.
        const order = await recentOrder(['payment_pending', 'confirmed', 'processing', 'ready_for_pickup'])
        if (!order) return 'NOOP'
        const holds = await oms.reservations.listByOrder({ actor, orderId: order.id })
        const hold = pick(holds.filter((h) => h.status === 'active'))
        if (!hold) return 'NOOP'
        await oms.reservations.release({ actor, reservationId: hold.id, quantity: 1, reason: 'hammer' })
        report.released += 1
        return 'OK'
      },
      async commit() {
        // A partial hand-over of one unit; the library decides in which statuses that is a sale (mostly
        // bags ready for pickup, so that sales and pick-ups race on the same holds).
        const order = await recentOrder(
          random() < 0.75 ? ['ready_for_pickup'] : ['payment_pending', 'confirmed', 'processing'],
        )
        if (!order) return 'NOOP'
        const holds = await oms.reservations.listByOrder({ actor, orderId: order.id })
        const hold = pick(holds.filter((h) => h.status === 'active'))
        if (!hold) return 'NOOP'
        await oms.reservations.commit({ actor, reservationId: hold.id, quantity: 1 })
        return 'OK'
      },
      async transfer() {
        // Floor → back room (only available stock ships: never what orders hold), received there; half
        // of the time brought back to the floor at once.
        const itemId = pick(world.itemIds) as string
        const quantity = int(1, 2)
        const lines = [{ itemId, quantity }]
        const out = await oms.transfers.create({
          actor,
          fromLocationId: world.locationId,
          toLocationId: world.backroomId,
          lines,
        })
        try {
          await oms.transfers.ship({ actor, transferId: out.id })
        } catch (error) {
          await oms.transfers.cancel({ actor, transferId: out.id })
          throw error
        }
        moved(itemId).out += quantity
        await oms.transfers.receive({ actor, transferId: out.id })
        await oms.transfers.close({ actor, transferId: out.id })
        if (random() < 0.5) {
          const back = await oms.transfers.create({
            actor,
            fromLocationId: world.backroomId,
            toLocationId: world.locationId,
            lines,
          })
          await oms.transfers.ship({ actor, transferId: back.id })
          await oms.transfers.receive({ actor, transferId: back.id })
          moved(itemId).back += quantity
        }
        return 'OK'
      },
      async count() {
        // A cycle count that finds what was there or more, approved; a recount that would lower on-hand
        // (stock sold between the look and the count) is cancelled instead, so that on-hand never falls
        // below what is held (the property the samples check).
        const itemId = pick(world.itemIds) as string
        const seen = await oms.inventory.level({ actor, itemId, locationId: world.locationId })
        const count = await oms.counts.open({ actor, locationId: world.locationId, itemIds: [itemId] })
        await oms.counts.record({
          actor,
          countId: count.id,
          lines: [{ itemId, quantity: seen.onHand + int(0, 2) }],
        })
        const report = await oms.counts.report({ actor, countId: count.id })
        const difference = report.lines[0]?.difference ?? 0
        if (difference < 0) {
          await oms.counts.cancel({ actor, countId: count.id })
          return 'NOOP'
        }
        await oms.counts.approve({ actor, countId: count.id })
        moved(itemId).counted += difference
        return 'OK'
      },
      async bulk() {
        // A receipt of one unit per item, plus two rows that must be refused on their own.
        const rows = [
          ...world.itemIds.map((itemId) => ({
            op: 'receive' as const,
            itemId,
            locationId: world.locationId,
            quantity: 1,
          })),
          { op: 'receive' as const, itemId: 'no-such-item', locationId: world.locationId, quantity: 1 },
          {
            op: 'set' as const,
            itemId: world.itemIds[0] as string,
            locationId: world.locationId,
            expected: -1,
            quantity: 1,
          },
        ]
        const result = await oms.inventory.bulkUpdate({ actor, rows })
        const codes = result.rows.map((r) => (r.ok ? 'OK' : r.code))
        const want = [...world.itemIds.map(() => 'OK'), 'NOT_FOUND', 'CONFLICT']
        if (JSON.stringify(codes) !== JSON.stringify(want))
          report.unexpected.push(`worker ${config.worker} bulk: rows ended ${codes.join(',')}`)
        for (const r of result.rows) if (r.ok) moved(r.itemId).bulk += 1
        return 'OK'
      },
      async fulfil() {
        // A paid order put into its fulfillments, each scanned line by line (now and then a wrong code
        // first), picked and packed; then each shipped (delivery) or handed over (pickup) — or called off — while other
        // workers cancel, expire, release and sell on the same orders and items.
        const order = await recentOrder(['confirmed', 'processing'])
        if (!order) return 'NOOP'
        const fs = await oms.fulfillments.create({ actor, orderId: order.id })
        report.fulfilled.push(order.id)
        for (const f of fs) {
          if (random() < 0.1) {
            try {
              await oms.fulfillments.scan({ actor, fulfillmentId: f.id, code: 'NOT-A-CODE' })
              report.unexpected.push(`worker ${config.worker} fulfil: a wrong code was accepted`)
            } catch (error) {
              if (!isOmsError(error) || !['SCAN_REJECTED', 'INVALID_TRANSITION'].includes(error.code))
                throw error
            }
          }
          for (const line of f.lines)
            await oms.fulfillments.scan({
              actor,
              fulfillmentId: f.id,
              code: line.sku as string,
              quantity: line.quantity,
            })
          await oms.fulfillments.completePicking({ actor, fulfillmentId: f.id })
          await oms.fulfillments.pack({ actor, fulfillmentId: f.id, boxSize: 'S', weightGrams: 10 })
        }
        // Every box is packed before any leaves (a pickup customer collects the whole order at once).
        for (const f of fs) {
          if (random() < 0.2) {
            await oms.fulfillments.cancel({ actor, fulfillmentId: f.id, reason: 'hammer' })
            report.fulfillments.cancelled += 1
          } else {
            if (order.flow === 'delivery')
              await oms.fulfillments.ship({
                actor,
                fulfillmentId: f.id,
                carrier: 'UPS',
                trackingNumber: f.number,
              })
            else await oms.fulfillments.handOver({ actor, fulfillmentId: f.id })
            report.fulfillments.dispatched += 1
          }
        }
        return 'OK'
      },
      async reconcile() {
        // A live reconcile must never see drift, and a live repair must never write stale figures.
        const repair = random() < 0.4
        const result = await oms.inventory.reconcileProjections({ actor, repair })
        for (const d of result.drifts)
          report.unexpected.push(
            `worker ${config.worker} reconcile${repair ? ' (repair)' : ''} during traffic reported drift: ${d.field} of ${d.itemId} stored ${d.stored}, expected ${d.expected}`,
          )
        return 'OK'
      },
    }

    for (let i = 0; i < ops; i++) {
      const op = chooseOp()
      try {
        count(op, await run[op]())
      } catch (error) {
        if (isOmsError(error) && EXPECTED[op].has(error.code)) count(op, error.code)
        else {
          count(op, 'UNEXPECTED')
          report.unexpected.push(`worker ${config.worker} ${op}: ${describeError(error)}`)
        }
      }
    }
  }

  const lanes = Math.max(1, config.lanes)
  await Promise.all(
    Array.from({ length: lanes }, (_, i) =>
      lane(i, Math.floor(config.ops / lanes) + (i < config.ops % lanes ? 1 : 0)),
    ),
  )
  report.durationMs = Date.now() - started
  return report
}

const CONFIG_ENV = 'PEAK_OMS_HAMMER'
const READY = 'hammer:ready'
const GO = 'hammer:go'
const REPORT = 'hammer:report '

/**
 * The body of a worker process: reads its config from `PEAK_OMS_HAMMER`, opens its own storage with
 * `open(target)`, says it is ready, waits for the parent's go (so all workers start together), runs its
 * operations and prints its report as one line.
 */
export async function runHammerWorker(open: (target: string) => Storage | Promise<Storage>): Promise<void> {
  const raw = process.env[CONFIG_ENV]
  if (!raw) throw new Error(`${CONFIG_ENV} is not set: this file is started by the multi-process test`)
  const config = JSON.parse(raw) as HammerWorkerConfig
  const storage = await open(config.target)
  try {
    // Warm the pool up before the start line, so the hammering itself overlaps.
    await storage.transaction((tx) => tx.locations.get(config.world.locationId), { readOnly: true })
    await new Promise<void>((resolve, reject) => {
      let buffered = ''
      const onData = (chunk: Buffer) => {
        buffered += chunk.toString()
        if (buffered.includes(GO)) {
          process.stdin.off('data', onData).off('end', onEnd)
          process.stdin.pause()
          resolve()
        }
      }
      // The parent went away before the start: do not linger.
      const onEnd = () => reject(new Error('the parent closed stdin before the start line'))
      process.stdin.on('data', onData).on('end', onEnd)
      process.stdout.write(`${READY}\n`)
    })
    const report = await hammer(storage, config)
    process.stdout.write(`${REPORT}${JSON.stringify(report)}\n`)
  } finally {
    await storage.close()
    process.stdin.destroy()
  }
}

/** Defines the store, location and `items` items with `stock` each, through the services. */
export async function seedHammerWorld(
  oms: Oms,
  options: { items: number; stock: number },
): Promise<HammerWorld> {
  const actor = actors.manager
  const storeId = uid('hammer-store')
  const locationId = uid('hammer-floor')
  await oms.inventory.defineLocation({
    actor,
    location: { id: locationId, storeId, name: 'Sales floor', kind: 'sales_floor' },
  })
  const backroomId = uid('hammer-back')
  await oms.inventory.defineLocation({
    actor,
    location: { id: backroomId, storeId, name: 'Back room', kind: 'vault' },
  })
  const itemIds: string[] = []
  for (let i = 0; i < options.items; i++) {
    const id = uid(`hot-${i}`)
    await oms.inventory.defineItem({
      actor,
      item: { id, sku: id.toUpperCase(), name: `Hot ${i}`, unit: 'each' },
    })
    await oms.inventory.receive({ actor, itemId: id, locationId, quantity: options.stock })
    itemIds.push(id)
  }
  return { storeId, locationId, backroomId, itemIds, stockPerItem: options.stock }
}

export interface HammerOptions {
  /** The parent's own storage on the same database (for sampling and the final checks). */
  storage: Storage
  /** The worker script (it calls `runHammerWorker`). */
  workerPath: string
  /** What the workers pass to their `open`. */
  target: string
  world: HammerWorld
  workers: number
  opsPerWorker: number
  lanes: number
  seed: number
  /** Kills the workers (and reports it) after this long. */
  timeoutMs: number
}

/** Consistent snapshots the parent took while the workers ran. */
export interface SampleStats {
  /** Snapshot attempts. */
  taken: number
  /** Per-item snapshots known to be consistent (the level did not change while it was read). */
  consistent: number
  /** Consistent snapshots in which every unit of an item on hand was held: the stock was saturated. */
  saturated: number
  /** Smallest `onHand − held by active holds` seen (never below 0 when holds never exceed stock). */
  minHeadroom: number
}

export interface HammerOutcome {
  /** Everything that went wrong: empty when the proof holds. */
  problems: string[]
  reports: HammerReport[]
  samples: SampleStats
  figures: {
    processes: number
    opsPerWorker: number
    lanes: number
    /** Stock that ever existed: the seed plus every adjustment, count gain and bulk receipt. */
    stock: number
    demand: number
    outcomes: Record<string, Record<string, number>>
    orders: number
    soldUnits: number
    expiredHolds: number
    /** Wall time from spawning the workers to the start line (process start-up, pools warmed up). */
    startMs: number
    /** Wall time of the hammering, start line to the last report. */
    hammerMs: number
    /** Wall time of the final checks. */
    verifyMs: number
  }
}

interface WorkerExit {
  worker: number
  code: number | null
  signal: string | null
  stdout: string
  stderr: string
}

/**
 * Starts `workers` processes on the worker script, releases them together, samples consistent
 * snapshots until they are done, then checks everything. Returns the problems instead of throwing, so
 * the test shows all of them at once.
 */
export async function runHammer(options: HammerOptions): Promise<HammerOutcome> {
  const problems: string[] = []
  const spawned = Date.now()
  const samples: SampleStats = {
    taken: 0,
    consistent: 0,
    saturated: 0,
    minHeadroom: Number.POSITIVE_INFINITY,
  }
  const children = Array.from({ length: options.workers }, (_, worker) => {
    const config: HammerWorkerConfig = {
      world: options.world,
      target: options.target,
      worker,
      seed: options.seed,
      ops: options.opsPerWorker,
      lanes: options.lanes,
    }
    return spawn(process.execPath, ['--conditions=@peak-oms/source', '--import', 'tsx', options.workerPath], {
      env: { ...process.env, [CONFIG_ENV]: JSON.stringify(config) },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
  })
  let ready = 0
  let released = false
  let hammerStart = 0
  const timer = setTimeout(() => {
    problems.push(`the workers did not finish within ${options.timeoutMs} ms: killed`)
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
  }, options.timeoutMs)
  const exits = children.map(
    (child, worker) =>
      new Promise<WorkerExit>((resolve) => {
        let stdout = ''
        let stderr = ''
        child.stdout.on('data', (chunk: Buffer) => {
          const before = stdout
          stdout += chunk.toString()
          if (!before.includes(READY) && stdout.includes(READY) && ++ready === children.length && !released) {
            released = true
            hammerStart = Date.now()
            for (const c of children) c.stdin.write(`${GO}\n`)
          }
        })
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString()
        })
        child.stdin.on('error', () => {}) // a worker that died early: its exit says why
        child.on('close', (code, signal) => {
          // A worker that died before the start would leave the others waiting for it forever.
          if (!released) for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill()
          resolve({ worker, code, signal, stdout, stderr })
        })
      }),
  )
  let running = true
  const all = Promise.all(exits).finally(() => {
    running = false
  })
  try {
    while (running) {
      if (released) await sample(options, samples, problems)
      await new Promise((r) => setTimeout(r, released ? 2 : 20))
    }
  } finally {
    clearTimeout(timer)
    // Only when sampling threw: no worker outlives the test.
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
  const finished = await all
  const hammerMs = hammerStart ? Date.now() - hammerStart : 0

  const reports: HammerReport[] = []
  for (const exit of finished) {
    const line = exit.stdout.split('\n').find((l) => l.startsWith(REPORT))
    if (exit.code !== 0 || !line) {
      problems.push(
        `worker ${exit.worker} exited with ${exit.code ?? exit.signal} ${line ? '' : 'without a report'}: ${exit.stderr.slice(-2000)}`,
      )
      continue
    }
    const report = JSON.parse(line.slice(REPORT.length)) as HammerReport
    problems.push(...report.unexpected)
    reports.push(report)
  }
  // One more snapshot once everything has settled: always consistent.
  await sample(options, samples, problems)
  if (samples.consistent === 0) problems.push('no consistent snapshot was taken')

  const verifyStart = Date.now()
  const checked = await verify(createOms({ storage: options.storage }), options, reports)
  problems.push(...checked.problems)
  const verifyMs = Date.now() - verifyStart

  const outcomes: Record<string, Record<string, number>> = {}
  for (const r of reports) {
    for (const [op, byOutcome] of Object.entries(r.outcomes)) {
      const sum = outcomes[op] ?? {}
      outcomes[op] = sum
      for (const [outcome, n] of Object.entries(byOutcome)) sum[outcome] = (sum[outcome] ?? 0) + n
    }
  }
  const adjusted = reports.reduce((s, r) => s + Object.values(r.adjusted).reduce((a, b) => a + b, 0), 0)
  const added = reports.reduce(
    (s, r) => s + Object.values(r.moved).reduce((a, b) => a + b.counted + b.bulk, 0),
    0,
  )
  const stock = options.world.itemIds.length * options.world.stockPerItem + adjusted + added
  const demand = reports.reduce((s, r) => s + r.demand, 0)
  // The run must have been a real fight for stock, and both sides of it must have happened.
  if (reports.length !== options.workers)
    problems.push(`${reports.length} of ${options.workers} workers reported`)
  if (demand < 3 * stock) problems.push(`demand ${demand} is less than 3× the stock ${stock}`)
  if (!outcomes.fulfil?.OK) problems.push(`no fulfillment went through: ${JSON.stringify(outcomes.fulfil)}`)
  if (!outcomes.create?.OK || !outcomes.create.INSUFFICIENT_STOCK)
    problems.push(`creates should both succeed and run out of stock: ${JSON.stringify(outcomes.create)}`)
  return {
    problems,
    reports,
    samples,
    figures: {
      processes: options.workers,
      opsPerWorker: options.opsPerWorker,
      lanes: options.lanes,
      stock,
      demand,
      outcomes,
      orders: checked.orders,
      soldUnits: checked.soldUnits,
      expiredHolds: checked.expiredHolds,
      startMs: hammerStart ? hammerStart - spawned : 0,
      hammerMs,
      verifyMs,
    },
  }
}

/**
 * One snapshot, read without locks: the levels, what active holds hold, what the ledger sums to, and the
 * levels again. An item whose level version did not move between the two level reads is consistent
 * (every change to its holds or its ledger also bumps its level, in the same transaction), so the truth
 * tables can be compared for it even where the database gives each statement its own snapshot.
 */
async function sample(options: HammerOptions, stats: SampleStats, problems: string[]): Promise<void> {
  const itemIds = options.world.itemIds
  const snapshot = await options.storage.transaction(
    async (tx) => {
      const before = await tx.inventory.listLevels({ itemIds, locationId: options.world.locationId })
      const held = await tx.reservations.sumActive()
      const ledger = await tx.inventory.sumMovements()
      const after = await tx.inventory.listLevels({ itemIds, locationId: options.world.locationId })
      return { before, held, ledger, after }
    },
    { readOnly: true },
  )
  stats.taken += 1
  const at = `snapshot ${stats.taken}`
  for (const level of snapshot.after) {
    const where = `${level.itemId}@${level.locationId}`
    // These hold on any single read: the stored figures themselves (backed by the CHECK constraints).
    if (level.onHand < 0 || level.reserved < 0)
      problems.push(
        `${at}: ${where} has negative figures (on hand ${level.onHand}, reserved ${level.reserved})`,
      )
    if (level.reserved > level.onHand)
      problems.push(`${at}: ${where} reserves ${level.reserved} with only ${level.onHand} on hand`)
    const first = snapshot.before.find((l) => l.itemId === level.itemId && l.locationId === level.locationId)
    if (!first || first.version !== level.version) continue
    stats.consistent += 1
    const sameRow = (r: { itemId: string; locationId: string }) =>
      r.itemId === level.itemId && r.locationId === level.locationId
    const held = snapshot.held.find(sameRow)?.total ?? 0
    const onHand = snapshot.ledger
      .filter((m) => sameRow(m) && m.bucket === 'on_hand')
      .reduce((s, m) => s + m.total, 0)
    if (held > onHand) problems.push(`${at}: active holds on ${where} hold ${held}, the ledger has ${onHand}`)
    if (held !== level.reserved)
      problems.push(`${at}: ${where} reserved ${level.reserved}, holds say ${held}`)
    if (onHand !== level.onHand)
      problems.push(`${at}: ${where} on hand ${level.onHand}, ledger says ${onHand}`)
    stats.minHeadroom = Math.min(stats.minHeadroom, onHand - held)
    if (onHand > 0 && held === onHand) stats.saturated += 1
  }
}

/** The final checks: invariants, reconciliation, and the workers' accounts against the database. */
async function verify(
  oms: Oms,
  options: HammerOptions,
  reports: HammerReport[],
): Promise<{ problems: string[]; orders: number; soldUnits: number; expiredHolds: number }> {
  const problems: string[] = []
  const { storage, world } = options
  const now = new Date()
  problems.push(...(await checkInvariants(storage, oms.machines.orderMachines, now)))
  const { drifts } = await oms.inventory.reconcileProjections({ actor: actors.manager })
  for (const d of drifts)
    problems.push(
      `reconcileProjections: ${d.field} of ${d.itemId} stored ${d.stored}, expected ${d.expected}`,
    )

  const db = await storage.transaction(
    async (tx) => {
      const orders = await tx.orders.list({})
      const holds: Reservation[] = []
      const fulfillments: Fulfillment[] = []
      for (const o of orders) holds.push(...(await tx.reservations.listByOrder(o.id)))
      for (const o of orders) fulfillments.push(...(await tx.fulfillments.listByOrder(o.id)))
      return {
        orders,
        holds,
        fulfillments,
        levels: await tx.inventory.listLevels({ locationId: world.locationId }),
        movements: await tx.inventory.listMovements({ locationId: world.locationId }),
        back: await tx.inventory.listLevels({ locationId: world.backroomId }),
      }
    },
    { readOnly: true },
  )

  // Every order a worker was told it created is there, holding what it asked for, and nothing else is.
  const created = new Map(reports.flatMap((r) => r.created.map((c) => [c.orderId, c.held] as const)))
  const orders = new Map(db.orders.map((o) => [o.id, o]))
  if (created.size !== reports.reduce((s, r) => s + r.created.length, 0))
    problems.push('an order id was reported created twice')
  for (const id of created.keys()) if (!orders.has(id)) problems.push(`created order ${id} is not stored`)
  for (const id of orders.keys())
    if (!created.has(id)) problems.push(`order ${id} is stored but nobody created it`)
  const holdsOf = new Map<string, Reservation[]>()
  for (const h of db.holds) holdsOf.set(h.orderId, [...(holdsOf.get(h.orderId) ?? []), h])
  for (const [id, held] of created) {
    const reserved = (holdsOf.get(id) ?? []).reduce((s, h) => s + h.quantityReserved, 0)
    if (orders.has(id) && reserved !== held)
      problems.push(`order ${id} holds ${reserved}, its creator was told ${held}`)
  }

  // Every status change a caller was told succeeded happened exactly once, and the sweepers made the rest.
  const transitions = new Map<string, number>()
  for (const t of reports.flatMap((r) => r.transitions))
    transitions.set(t.orderId, (transitions.get(t.orderId) ?? 0) + 1)
  let sweptOrders = 0
  // An order in fulfillment also moves with its fulfillments' steps: its chain is checked by I4 instead.
  const inFulfillment = new Set(reports.flatMap((r) => r.fulfilled))
  for (const order of orders.values()) {
    const expiredBySweeper = order.cancellationReason === 'hold expired' ? 1 : 0
    sweptOrders += expiredBySweeper
    const expected = 1 + (transitions.get(order.id) ?? 0) + expiredBySweeper
    if (!inFulfillment.has(order.id) && order.version !== expected)
      problems.push(
        `order ${order.id} is at version ${order.version}; callers and sweepers account for ${expected}`,
      )
  }
  const moved = reports.reduce((s, r) => s + r.swept.ordersMoved, 0)
  if (sweptOrders !== moved)
    problems.push(`${sweptOrders} orders were expired, the sweepers reported ${moved}`)
  const expiredHolds = db.holds.filter((h) => h.status === 'expired').length
  const sweptHolds = reports.reduce((s, r) => s + r.swept.expiredHolds, 0)
  if (expiredHolds < sweptHolds)
    problems.push(`${expiredHolds} holds expired, the sweepers reported ${sweptHolds}`)

  // Goods leave only through handed-over orders, and closed orders hold nothing (no leaked hold).
  for (const h of db.holds) {
    const status = orders.get(h.orderId)?.status ?? '(missing)'
    if (h.quantityFulfilled > 0 && !MAY_HAVE_SOLD.has(status))
      problems.push(`hold ${h.id} sold ${h.quantityFulfilled} for an order that is ${status}`)
    if (h.status === 'active' && HOLDS_NOTHING.has(status))
      problems.push(
        `hold ${h.id} still holds ${h.quantityReserved - h.quantityFulfilled - h.quantityReleased} for an order that is ${status}`,
      )
  }
  // Fulfillments: none is left open on an order that is closed, and none sold more than its order's holds.
  const dispatched = reports.reduce((s, r) => s + r.fulfillments.dispatched, 0)
  const gone = db.fulfillments.filter((f) =>
    ['shipped', 'fulfilled', 'partially_fulfilled'].includes(f.status),
  )
  if (gone.length !== dispatched)
    problems.push(`${gone.length} fulfillments shipped or handed over, the workers reported ${dispatched}`)
  for (const f of db.fulfillments) {
    const status = orders.get(f.orderId)?.status ?? '(missing)'
    const open = ['pending', 'picking', 'packing', 'ready_to_ship'].includes(f.status)
    if (open && HOLDS_NOTHING.has(status))
      problems.push(`fulfillment ${f.number} is ${f.status}, its order ${status}`)
  }
  for (const order of orders.values()) {
    const fromFulfillments = db.fulfillments
      .filter((f) => f.orderId === order.id)
      .reduce((s, f) => s + f.lines.reduce((n, l) => n + l.quantityFulfilled, 0), 0)
    const fromHolds = (holdsOf.get(order.id) ?? []).reduce((s, h) => s + h.quantityFulfilled, 0)
    if (fromFulfillments > fromHolds)
      problems.push(`order ${order.id}: its fulfillments sold ${fromFulfillments}, its holds ${fromHolds}`)
  }

  let soldUnits = 0
  for (const itemId of world.itemIds) {
    const level = db.levels.find((l) => l.itemId === itemId)
    const moves = db.movements.filter((m) => m.itemId === itemId && m.bucket === 'on_hand')
    const sold = db.holds.filter((h) => h.itemId === itemId).reduce((s, h) => s + h.quantityFulfilled, 0)
    soldUnits += sold
    const adjusted = reports.reduce((s, r) => s + (r.adjusted[itemId] ?? 0), 0)
    const ops = { out: 0, back: 0, counted: 0, bulk: 0 }
    for (const r of reports)
      for (const k of Object.keys(ops) as Array<keyof typeof ops>) ops[k] += r.moved[itemId]?.[k] ?? 0
    const sum = (reason: string) => moves.filter((m) => m.reason === reason).reduce((s, m) => s + m.delta, 0)
    if (sum('sale') !== -sold)
      problems.push(`${itemId}: sale movements ${sum('sale')}, holds fulfilled ${sold}`)
    if (sum('adjust_correction') !== adjusted)
      problems.push(`${itemId}: adjustments in the ledger ${sum('adjust_correction')}, reported ${adjusted}`)
    const ledgerSays = {
      out: -sum('transfer_out'),
      back: sum('transfer_in'),
      counted: sum('count_correction'),
      bulk: sum('receive') - world.stockPerItem,
    }
    if (JSON.stringify(ledgerSays) !== JSON.stringify(ops))
      problems.push(
        `${itemId}: inventory operations in the ledger ${JSON.stringify(ledgerSays)}, reported ${JSON.stringify(ops)}`,
      )
    const backLevel = db.back.find((l) => l.itemId === itemId)
    if ((backLevel?.onHand ?? 0) !== ops.out - ops.back || (backLevel?.incoming ?? 0) !== 0)
      problems.push(
        `${itemId}: back room holds ${backLevel?.onHand} (incoming ${backLevel?.incoming}); shipped ${ops.out}, brought back ${ops.back}`,
      )
    const expectedOnHand = world.stockPerItem + adjusted - sold - ops.out + ops.back + ops.counted + ops.bulk
    const onHand = moves.reduce((s, m) => s + m.delta, 0)
    if (!level || level.onHand !== onHand || onHand !== expectedOnHand)
      problems.push(
        `${itemId}: on hand ${level?.onHand}, ledger ${onHand}, seed + adjusted + operations − sold ${expectedOnHand}`,
      )
    const active = db.holds.filter((h) => h.itemId === itemId && h.status === 'active')
    const held = active.reduce((s, h) => s + h.quantityReserved - h.quantityFulfilled - h.quantityReleased, 0)
    if (!level || level.reserved !== held)
      problems.push(`${itemId}: reserved ${level?.reserved}, active holds hold ${held}`)
    const live = active
      .filter((h) => h.expiresAt === null || h.expiresAt > now)
      .reduce((s, h) => s + h.quantityReserved - h.quantityFulfilled - h.quantityReleased, 0)
    if (held > onHand || live > onHand)
      problems.push(`${itemId}: holds (${held}, live ${live}) exceed on hand ${onHand}`)
  }
  return { problems, orders: orders.size, soldUnits, expiredHolds }
}
