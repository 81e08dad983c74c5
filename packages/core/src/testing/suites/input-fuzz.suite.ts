import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { createOms, type Oms } from '../../create-oms'
import { isOmsError } from '../../errors/oms-error'
import { actors, createWorld, placeOrder } from '../fixtures'
import { snapshotStorage } from '../invariants'
import { ACCESS_MATRIX, type ACTOR_SERVICES } from './access-matrix.suite'
import type { Suite } from './suite'
import { useStorage } from './use-storage'

type Method = (input: unknown) => Promise<unknown>

/** Every public method of the services that take an actor, by `service.method`. */
function publicMethods(oms: Oms): Array<[string, Method]> {
  const names = [...new Set(Object.keys(ACCESS_MATRIX).map((key) => key.split(' ')[0] as string))]
  return names.map((name) => {
    const [service, method] = name.split('.') as [(typeof ACTOR_SERVICES)[number], string]
    const target = oms[service] as unknown as Record<string, Method>
    return [name, (input: unknown) => (target[method] as Method).call(target, input)]
  })
}

/**
 * Anything a caller could send that is not a valid call: JSON of any shape, and objects that carry at
 * least one field no method knows (strict inputs refuse unknown fields), with arbitrary JSON in the known
 * ones.
 */
const garbage = fc.oneof(
  fc.jsonValue().filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)),
  fc
    .record({
      known: fc.dictionary(
        fc.constantFrom(
          'actor',
          'orderId',
          'itemId',
          'locationId',
          'limit',
          'lines',
          'quantity',
          'noteId',
          'reservationId',
          'repair',
          'statuses',
          'createdFrom',
          'paymentId',
        ),
        fc.jsonValue(),
      ),
      junk: fc.jsonValue(),
    })
    .map(({ known, junk }) => ({ ...known, __fuzz: junk })),
)

/**
 * Arbitrary JSON fed to every public method: each answers with a typed `VALIDATION` error naming at least
 * one field path, and nothing is written.
 */
export const inputFuzzSuite: Suite = (target, options) =>
  describe('arbitrary input', () => {
    const storage = useStorage(target)

    test(`every public method refuses arbitrary JSON with a typed VALIDATION error and writes nothing (${Math.max(20, Math.round(options.numRuns / 4))} inputs each)`, async () => {
      const w = await createWorld(storage(), { flower: 10 })
      await placeOrder(w, { flower: 2 })
      const oms = createOms({ storage: w.storage, clock: w.clock })
      const before = await snapshotStorage(w.storage)
      for (const [name, call] of publicMethods(oms)) {
        await fc.assert(
          fc.asyncProperty(garbage, async (input) => {
            let error: unknown = null
            try {
              await call(input)
            } catch (e) {
              error = e
            }
            expect(isOmsError(error), `${name}(${JSON.stringify(input)}) should fail typed`).toBe(true)
            const typed = error as { code: string; details: { issues?: Array<{ path: unknown }> } }
            expect(typed.code, name).toBe('VALIDATION')
            expect(typed.details.issues?.length, name).toBeGreaterThan(0)
            for (const issue of typed.details.issues ?? []) expect(typeof issue.path).toBe('string')
          }),
          { numRuns: Math.max(20, Math.round(options.numRuns / 4)) },
        )
      }
      expect(await snapshotStorage(w.storage)).toBe(before)
      // and the world still works
      expect((await w.oms.orders.list({ actor: actors.manager })).length).toBe(1)
    }, 300_000)
  })
