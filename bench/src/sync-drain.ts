import { performance } from 'node:perf_hooks'
import { type Actor, createOms } from '@peak-oms/core'
import { FakePos } from '@peak-oms/core/testing'
import type { Backend } from './backends'

const actor: Actor = { id: 'bench', roles: ['system_admin'] }
const JOBS = Number(process.env.BENCH_SYNC_JOBS ?? 2000)

/**
 * Drain throughput: `JOBS` orders are created (each queues one push job in its transaction), then 1 or 4
 * workers (each its own `Oms` on the storage, as separate instances would be) drain the queue against an
 * in-process fake POS that answers at once, so the figure is the engine's own cost per job: claim under a
 * lease, read the order, push, store the external id with its audit row, record the outcome.
 */
export async function benchSyncDrain(backend: Backend, lines: string[]): Promise<void> {
  for (const workers of [1, 4]) {
    const pos = new FakePos('bench')
    const name = `bench${workers}`
    const sync = { connections: [{ pos: name, adapter: pos }], batchSize: 50 }
    const omses = Array.from({ length: workers }, () => createOms({ storage: backend.storage, sync }))
    const oms = omses[0] as (typeof omses)[number]
    const store = `sync-store-${workers}`
    const location = `sync-floor-${workers}`
    const item = `sync-item-${workers}`
    await oms.inventory.defineLocation({
      actor,
      location: { id: location, storeId: store, name: 'Floor', kind: 'sales_floor' },
    })
    await oms.inventory.defineItem({
      actor,
      item: { id: item, sku: item.toUpperCase(), name: item, unit: 'each', externalIds: { [name]: 'p1' } },
    })
    await oms.inventory.receive({ actor, itemId: item, locationId: location, quantity: JOBS })
    for (let i = 0; i < JOBS; i++) {
      await oms.orders.create({
        actor,
        channel: 'kiosk',
        flow: 'pickup',
        storeId: store,
        locationId: location,
        currency: 'USD',
        lines: [{ itemId: item, quantity: 1, unitPriceMinor: 1000 }],
      })
    }
    const t0 = performance.now()
    const results = await Promise.all(omses.map((o) => o.sync.drain({ pos: [name], batchSize: 50 })))
    const seconds = (performance.now() - t0) / 1000
    const succeeded = results.reduce((sum, r) => sum + r.succeeded, 0)
    const perSecond = succeeded / seconds
    const lost = results.reduce((sum, r) => sum + r.lost, 0)
    console.log(
      `  drain ${JOBS} push jobs, ${workers} worker(s): ${succeeded} done in ${seconds.toFixed(2)} s = ${perSecond.toFixed(0)} jobs/s; ${pos.tickets.length} tickets, ${pos.creates} creates, ${lost} leases lost`,
    )
    lines.push(
      `| ${backend.name} | ${workers} | ${JOBS} | ${succeeded} | ${seconds.toFixed(2)} s | ${perSecond.toFixed(0)} | ${pos.tickets.length} |`,
    )
  }
}
