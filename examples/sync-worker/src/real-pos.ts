import { type CallerActor, createOms, type PosAdapter, type Storage } from '@peak-oms/core'

const operator: CallerActor = { id: 'sync-operator', roles: ['order_manager'] }

/**
 * One pass against a real POS: queues a product, a full inventory and a sales pull, drains what is due and
 * prints the jobs and the POS's health. Items and locations are matched to the POS through their
 * `externalIds[pos]`, which your catalogue sets up; on an empty database the pulls only count what they
 * could not map. No fake server and no outage relay is started.
 */
export async function runRealPass(
  storage: Storage,
  pos: string,
  adapter: PosAdapter,
  log: (line: string) => void,
): Promise<void> {
  const oms = createOms({ storage, sync: { connections: [{ pos, adapter }] } })
  for (const kind of ['pull_products', 'pull_inventory_full', 'pull_sales'] as const) {
    await oms.sync.requestPull({ actor: operator, kind })
  }
  const progress = await oms.sync.drain({
    onProgress: (p) =>
      log(`pass ${p.passes}: ${p.succeeded} succeeded, ${p.retried} to retry, ${p.dead} dead`),
  })
  for (const job of await oms.sync.listJobs({ actor: operator })) {
    log(
      `${job.kind} ${job.status}${job.note ? `: ${job.note}` : ''}${job.lastError ? ` (${job.lastError.code})` : ''}`,
    )
  }
  for (const health of await oms.sync.health({ actor: operator })) log(`${health.pos}: ${health.state}`)
  if (progress.remaining > 0) log(`${progress.remaining} job(s) wait for a retry; run again later`)
}
