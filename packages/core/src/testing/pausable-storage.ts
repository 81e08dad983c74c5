import type { Storage, StorageTx, TransactionOptions } from '../ports/storage'

/** Where in a transaction to stop: just before or just after a repository call such as `orders.update`. */
export interface PausePoint {
  when: 'before' | 'after'
  /** `repository.method` names; the first call to any of them is the point. */
  calls: readonly string[]
}

/** A transaction stopped at a chosen point, waiting for the test to let it go on. */
export interface PauseGate {
  /** Resolves when a transaction reaches the point (and is now waiting there). */
  readonly reached: Promise<void>
  /** Whether the point has been reached. */
  readonly isReached: () => boolean
  /** Lets the stopped transaction continue. */
  release(): void
}

/**
 * Wraps a storage so that a test can stop one of its transactions at a chosen repository call while other
 * commands run, then let it go on: the way to force an interleaving instead of hoping random load finds it.
 * It also counts transactions asked for and started, so a test can tell a caller that waits for the
 * single writer of a backend from one that runs. Nothing here imports a test runner.
 */
export class PausableStorage implements Storage {
  readonly #inner: Storage
  #gate: { point: PausePoint; reached: () => void; released: Promise<void>; hit: boolean } | null = null
  /** Transactions asked for (`transaction` called). */
  requested = 0
  /** Transactions whose function has started running (the backend let them in). */
  started = 0
  /** Transactions that have ended (committed or rolled back). */
  ended = 0

  constructor(inner: Storage) {
    this.#inner = inner
  }

  get name(): string {
    return this.#inner.name
  }

  get capabilities(): Storage['capabilities'] {
    return this.#inner.capabilities
  }

  /** Arms a one-shot pause: the first transaction to reach `point` stops there until `release()`. */
  pauseAt(point: PausePoint): PauseGate {
    let reached = () => {}
    let release = () => {}
    let hit = false
    const reachedPromise = new Promise<void>((resolve) => {
      reached = () => {
        hit = true
        resolve()
      }
    })
    const released = new Promise<void>((resolve) => {
      release = resolve
    })
    this.#gate = { point, reached, released, hit: false }
    return { reached: reachedPromise, isReached: () => hit, release }
  }

  async transaction<T>(fn: (tx: StorageTx) => Promise<T>, options?: TransactionOptions): Promise<T> {
    this.requested++
    try {
      return await this.#inner.transaction((tx) => {
        this.started++
        return fn(this.#wrap(tx))
      }, options)
    } finally {
      this.ended++
    }
  }

  close(): Promise<void> {
    return this.#inner.close()
  }

  async #stop(when: PausePoint['when'], call: string): Promise<void> {
    const gate = this.#gate
    if (!gate || gate.hit || gate.point.when !== when || !gate.point.calls.includes(call)) return
    gate.hit = true
    gate.reached()
    await gate.released
  }

  #wrap(tx: StorageTx): StorageTx {
    const wrapped: Record<string, unknown> = {}
    for (const [name, value] of Object.entries(tx)) {
      if (typeof value === 'function') {
        wrapped[name] = async (...args: unknown[]) => {
          await this.#stop('before', name)
          const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(tx, args)
          await this.#stop('after', name)
          return result
        }
        continue
      }
      const repository = value as Record<string, unknown>
      const methods: Record<string, unknown> = {}
      for (const method of Object.keys(repository)) {
        const original = repository[method]
        if (typeof original !== 'function') continue
        const call = `${name}.${method}`
        methods[method] = async (...args: unknown[]) => {
          await this.#stop('before', call)
          const result = await (original as (...a: unknown[]) => Promise<unknown>).apply(repository, args)
          await this.#stop('after', call)
          return result
        }
      }
      wrapped[name] = methods
    }
    return wrapped as unknown as StorageTx
  }
}
