// Type-checked (not run) from ESM with `module: nodenext`: the published `.d.ts` files must resolve and
// type-check on their own (`skipLibCheck: false`), with only what a consumer installs.
import { createOms, isOmsError, type Oms, type PosAdapter } from '@peak-oms/core'
import { createFakeClock, type FakeClock } from '@peak-oms/core/testing'
import { type PosContractHarness, runStorageConformance } from '@peak-oms/core/testing/vitest'
import { createBlazeAdapter } from '@peak-oms/pos-blaze'
import { createDutchieAdapter } from '@peak-oms/pos-dutchie'
import { createTreezAdapter } from '@peak-oms/pos-treez'
import { createPgStorage } from '@peak-oms/storage-pg'
import { createSqliteStorage } from '@peak-oms/storage-sqlite'

const clock: FakeClock = createFakeClock()
const oms: Oms = createOms({ storage: createSqliteStorage({ filename: ':memory:' }), clock })
const adapters: PosAdapter[] = [
  createTreezAdapter({ privateKey: 'pem', certificateId: 'c', organizationId: 'o', dispensary: 'd' }),
  createDutchieAdapter({ locationKey: 'k' }),
  createBlazeAdapter({ partnerKey: 'p', developerKey: 'd' }),
]
const pg: typeof createPgStorage = createPgStorage
const suite: typeof runStorageConformance = runStorageConformance
const harness: PosContractHarness | null = null
const failed = (error: unknown): string | null => (isOmsError(error) ? error.code : null)

export { adapters, failed, harness, oms, pg, suite }
