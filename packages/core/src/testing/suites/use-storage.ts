import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest'
import { isOmsError } from '../../errors/oms-error'
import type { Storage } from '../../ports/storage'
import type { World } from '../fixtures'
import { checkInvariants } from '../invariants'
import type { ConformanceTarget } from './suite'

const yieldingOf = new WeakMap<Storage, Storage>()

/**
 * The storage as the suites see it: each transaction first lets the event loop turn. With a synchronous
 * driver (SQLite) or in memory, a long test is otherwise one unbroken chain of resolved promises that never
 * reaches the timers and I/O phases, and the test runner's own messages time out behind it.
 */
function yielding(storage: Storage): Storage {
  let wrapped = yieldingOf.get(storage)
  if (!wrapped) {
    wrapped = new Proxy(storage, {
      get(target, property) {
        const value: unknown = Reflect.get(target, property)
        if (property === 'transaction' && typeof value === 'function') {
          return async (...args: unknown[]) => {
            await new Promise<void>((resolve) => setImmediate(resolve))
            return (value as (...a: unknown[]) => unknown).apply(target, args)
          }
        }
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    yieldingOf.set(storage, wrapped)
  }
  return wrapped
}

/** A fresh storage per test, closed after it. */
export function useStorage(target: ConformanceTarget): () => Storage {
  let storage: Storage | null = null
  beforeEach(async () => {
    storage = await target.createStorage()
  })
  afterEach(async () => {
    if (storage) await (target.destroy ? target.destroy(storage) : storage.close())
    storage = null
  })
  return () => {
    if (!storage) throw new Error('storage used outside a test')
    return yielding(storage)
  }
}

/**
 * One storage for every test of the enclosing `describe`, for suites whose tests keep to their own rows
 * (their own store, items and clock) and would otherwise spend most of their time creating storages.
 */
export function useSharedStorage(target: ConformanceTarget): () => Storage {
  let storage: Storage | null = null
  beforeAll(async () => {
    storage = await target.createStorage()
  })
  afterAll(async () => {
    if (storage) await (target.destroy ? target.destroy(storage) : storage.close())
    storage = null
  })
  return () => {
    if (!storage) throw new Error('storage used outside a test')
    return yielding(storage)
  }
}

/** Every scenario ends here: I1–I7 hold and reconcile finds no drift. */
export async function expectInvariants(world: World): Promise<void> {
  const problems = await checkInvariants(world.storage, world.oms.machines.orderMachines, world.clock.now())
  expect(problems).toEqual([])
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejectionOf(
  promise: Promise<unknown>,
): Promise<Error & { code?: string; details?: Record<string, unknown> }> {
  try {
    await promise
  } catch (error) {
    return error as Error & { code?: string }
  }
  throw new Error('expected a rejection, but the call succeeded')
}

/** The code a call ends with: 'OK', or the `OmsError` code it rejects with (any other error is rethrown). */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
    return 'OK'
  } catch (error) {
    if (isOmsError(error)) return error.code
    throw error
  }
}
