import { performance } from 'node:perf_hooks'

export interface LoadResult {
  ops: number
  errors: number
  seconds: number
  perSecond: number
  p50: number
  p99: number
  firstError: string | null
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0

/** Runs `total` operations from `clients` concurrent loops; reports throughput and latency in ms. */
export async function runLoad(
  clients: number,
  total: number,
  op: (i: number) => Promise<void>,
): Promise<LoadResult> {
  const latencies: number[] = []
  let next = 0
  let errors = 0
  let firstError: string | null = null
  const started = performance.now()
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = next++; i < total; i = next++) {
        const t0 = performance.now()
        try {
          await op(i)
          latencies.push(performance.now() - t0)
        } catch (error) {
          errors += 1
          firstError ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error)
        }
      }
    }),
  )
  const seconds = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  return {
    ops: latencies.length,
    errors,
    seconds,
    perSecond: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    firstError,
  }
}
