import { type ChildProcess, spawn } from 'node:child_process'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createOms } from '../create-oms'
import type { Order } from '../domain/schemas'
import { PosError } from '../errors/pos-error'
import type { PosAdapter, PosOrderInput, PosOrderRef } from '../ports/pos-adapter'
import type { Storage } from '../ports/storage'
import { actors, uid } from './fixtures'

/**
 * The sync engine's multi-process proof: worker processes, each with its own storage connection, drain one
 * job table while the parent kills some of them in the middle of a push (the POS has the request, the
 * worker never records the answer) and starts replacements. The POS is an HTTP server in the parent that
 * dedupes creates by idempotency key, as the real adapters make every POS do, and watches for two
 * requests of the same job in flight at once. At the end every order must have exactly one ticket, every
 * job must have succeeded, the ticket ids must be the ones stored on the orders, and no job may ever have
 * been run by two workers at the same time.
 *
 * Nothing here imports vitest, so a worker process can load it directly.
 */

const CONFIG_ENV = 'PEAK_OMS_SYNC_HAMMER'
const POS = 'counting'

export interface SyncHammerWorkerConfig {
  /** Backend-specific: a PostgreSQL schema, a SQLite file. */
  target: string
  worker: number
  posUrl: string
  leaseMs: number
}

export interface SyncHammerOptions {
  storage: Storage
  /** A module that calls `runSyncHammerWorker` with a way to open `target`. */
  workerPath: string
  target: string
  /** Worker processes alive at any time. */
  workers: number
  orders: number
  /** Workers killed in the middle of a push (each replaced by a new one). */
  kills: number
  /** Lease of a claimed job: a killed worker's job is taken again after it. */
  leaseMs?: number
  timeoutMs: number
}

export interface SyncHammerOutcome {
  problems: string[]
  figures: { orders: number; tickets: number; pushRequests: number; kills: number; workersStarted: number }
}

/** A POS over HTTP for the proof: `POST /orders` creates (deduped by idempotency key). */
function startCountingPos(onRequest: (worker: number) => 'kill' | 'go'): Promise<{
  server: Server
  url: string
  tickets: Map<string, { id: string; orderNumber: string }>
  overlaps: string[]
  requests: () => number
}> {
  const tickets = new Map<string, { id: string; orderNumber: string }>()
  const inFlight = new Set<string>()
  const overlaps: string[] = []
  let requests = 0
  let next = 1
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = ''
    req.on('data', (c: Buffer) => {
      body += c.toString()
    })
    req.on('end', () => {
      requests += 1
      const { idempotencyKey, orderNumber } = JSON.parse(body) as {
        idempotencyKey: string
        orderNumber: string
      }
      if (inFlight.has(idempotencyKey)) overlaps.push(`${orderNumber} pushed by two workers at once`)
      inFlight.add(idempotencyKey)
      const worker = Number(req.headers['x-worker'])
      const verdict = onRequest(worker)
      // The POS does the work either way; a killed worker just never hears of it.
      let ticket = tickets.get(idempotencyKey)
      if (!ticket) {
        ticket = { id: `ticket-${next++}`, orderNumber }
        tickets.set(idempotencyKey, ticket)
      }
      const answer = JSON.stringify(ticket)
      // A little latency, so pushes of different workers overlap in time.
      setTimeout(
        () => {
          inFlight.delete(idempotencyKey)
          if (verdict === 'kill') {
            res.destroy()
            return
          }
          res.writeHead(200, { 'content-type': 'application/json' }).end(answer)
        },
        verdict === 'kill' ? 200 : 5,
      )
    })
  })
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      resolve({ server, url: `http://127.0.0.1:${port}`, tickets, overlaps, requests: () => requests })
    }),
  )
}

/** The proof's POS adapter: pushes over HTTP; the engine calls nothing else in it. */
function countingAdapter(url: string, worker: number): PosAdapter {
  const unsupported = (
    operation:
      | 'pullProducts'
      | 'pullInventory'
      | 'updateOrder'
      | 'cancelOrder'
      | 'getOrderStatus'
      | 'findOrder',
  ) => Promise.reject(new PosError('POS_REJECTED', 'not used by the proof', { vendor: POS, operation }))
  return {
    vendor: POS,
    capabilities: {
      incrementalProducts: false,
      incrementalInventory: false,
      idempotentCreate: true,
      updateOrder: false,
    },
    async pushOrder(order: PosOrderInput): Promise<PosOrderRef> {
      let res: Response
      try {
        res = await fetch(`${url}/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-worker': String(worker) },
          body: JSON.stringify({ idempotencyKey: order.idempotencyKey, orderNumber: order.orderNumber }),
        })
      } catch {
        throw new PosError('POS_UNAVAILABLE', 'connection failed', { vendor: POS, operation: 'pushOrder' })
      }
      const ticket = (await res.json()) as { id: string }
      return { externalId: ticket.id, externalNumber: null, status: 'submitted', raw: 'SUBMITTED' }
    },
    pullProducts: () => unsupported('pullProducts'),
    pullInventory: () => unsupported('pullInventory'),
    updateOrder: () => unsupported('updateOrder'),
    cancelOrder: () => unsupported('cancelOrder'),
    getOrderStatus: () => unsupported('getOrderStatus'),
    findOrder: () => unsupported('findOrder'),
  }
}

/** Runs in each worker process: drains the job table until the parent kills it or says STOP. */
export async function runSyncHammerWorker(
  open: (target: string) => Storage | Promise<Storage>,
): Promise<void> {
  const raw = process.env[CONFIG_ENV]
  if (!raw) throw new Error(`${CONFIG_ENV} is not set: this file is started by the sync multi-process test`)
  const config = JSON.parse(raw) as SyncHammerWorkerConfig
  const storage = await open(config.target)
  const oms = createOms({
    storage,
    sync: {
      connections: [{ pos: POS, adapter: countingAdapter(config.posUrl, config.worker) }],
      leaseMs: config.leaseMs,
      batchSize: 2,
      retryBaseMs: 20,
      retryMaxMs: 200,
    },
  })
  let stop = false
  process.stdin.on('data', (chunk: Buffer) => {
    if (chunk.toString().includes('STOP')) stop = true
  })
  process.stdin.on('end', () => {
    stop = true
  })
  try {
    while (!stop) {
      const run = await oms.sync.runOnce()
      if (run.claimed === 0) await new Promise((resolve) => setTimeout(resolve, 20))
    }
  } finally {
    await storage.close()
    process.stdin.destroy()
  }
}

/** Seeds the orders (their push jobs are queued with them), runs the workers, and checks the outcome. */
export async function runSyncHammer(options: SyncHammerOptions): Promise<SyncHammerOutcome> {
  const problems: string[] = []
  const leaseMs = options.leaseMs ?? 1500
  let kills = 0
  let started = 0
  const children = new Map<number, ChildProcess>()
  const pos = await startCountingPos((worker) => {
    if (kills >= options.kills || !children.has(worker)) return 'go'
    // Every few pushes, the worker that sent this one dies before it hears the answer.
    if (pos.requests() % 7 !== 3) return 'go'
    kills += 1
    const child = children.get(worker)
    children.delete(worker)
    child?.kill('SIGKILL')
    spawnWorker()
    return 'kill'
  })
  const spawnWorker = () => {
    const worker = started++
    const config: SyncHammerWorkerConfig = { target: options.target, worker, posUrl: pos.url, leaseMs }
    const child = spawn(
      process.execPath,
      ['--conditions=@peak-oms/source', '--import', 'tsx', options.workerPath],
      {
        env: { ...process.env, [CONFIG_ENV]: JSON.stringify(config) },
        stdio: ['pipe', 'ignore', 'pipe'],
      },
    )
    let stderr = ''
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString()
    })
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL' && code !== 0)
        problems.push(`worker ${worker} exited with ${code}: ${stderr.slice(0, 2000)}`)
    })
    children.set(worker, child)
  }

  const oms = createOms({
    storage: options.storage,
    sync: { connections: [{ pos: POS, adapter: countingAdapter(pos.url, -1) }] },
  })
  const storeId = uid('sync-store')
  const locationId = uid('sync-floor')
  const itemId = uid('sync-item')
  await oms.inventory.defineLocation({
    actor: actors.manager,
    location: { id: locationId, storeId, name: 'Floor', kind: 'sales_floor' },
  })
  await oms.inventory.defineItem({
    actor: actors.manager,
    item: { id: itemId, sku: itemId.toUpperCase(), name: 'Item', unit: 'each', externalIds: { [POS]: 'p1' } },
  })
  await oms.inventory.receive({ actor: actors.manager, itemId, locationId, quantity: options.orders })
  const orders: Order[] = []
  for (let i = 0; i < options.orders; i++) {
    orders.push(
      await oms.orders.create({
        actor: actors.manager,
        channel: 'kiosk',
        flow: 'pickup',
        storeId,
        currency: 'USD',
        lines: [{ itemId, quantity: 1, unitPriceMinor: 100 }],
      }),
    )
  }

  for (let i = 0; i < options.workers; i++) spawnWorker()
  const deadline = Date.now() + options.timeoutMs
  let open = Number.POSITIVE_INFINITY
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    const jobs = await options.storage.transaction((tx) => tx.syncJobs.list({ pos: POS }), { readOnly: true })
    open = jobs.filter((j) => j.status !== 'succeeded').length
    if (open === 0 && kills >= Math.min(options.kills, 1)) break
  }
  for (const child of children.values()) child.stdin?.end('STOP\n')
  await Promise.all(
    [...children.values()].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) resolve()
          else child.on('exit', () => resolve())
          setTimeout(() => {
            child.kill('SIGKILL')
            resolve()
          }, 10_000)
        }),
    ),
  )
  await new Promise<void>((resolve) => pos.server.close(() => resolve()))

  if (open !== 0) problems.push(`${open} job(s) not succeeded within ${options.timeoutMs} ms`)
  problems.push(...pos.overlaps)
  const byNumber = new Map<string, string[]>()
  for (const t of pos.tickets.values())
    byNumber.set(t.orderNumber, [...(byNumber.get(t.orderNumber) ?? []), t.id])
  const stored = await options.storage.transaction((tx) => tx.orders.getMany(orders.map((o) => o.id)), {
    readOnly: true,
  })
  for (const o of stored) {
    const tickets = byNumber.get(o.number) ?? []
    if (tickets.length !== 1) problems.push(`${o.number} has ${tickets.length} tickets`)
    else if (o.externalIds[POS] !== tickets[0])
      problems.push(`${o.number} stores ${o.externalIds[POS]}, the POS has ${tickets[0]}`)
  }
  if (kills === 0 && options.kills > 0) problems.push('no worker was killed mid-push')
  return {
    problems,
    figures: {
      orders: orders.length,
      tickets: pos.tickets.size,
      pushRequests: pos.requests(),
      kills,
      workersStarted: started,
    },
  }
}
